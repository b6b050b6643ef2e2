import { testStoreKind } from '../support/runtime.js';
import { afterEach, describe, expect, it } from 'vitest';
import { readWithOnePause, startTestApi, type TestApi } from './support.js';

let api: TestApi;
afterEach(async () => api?.close());

// The MongoDB-protocol test server writes far slower than the embedded store: allow it more time.
const SLOW_STORE = testStoreKind() === 'mongodb';

describe('dataset entities', () => {
  it('streams a dataset of 50k entities as complete, valid JSON', async () => {
    api = await startTestApi();
    const n = 50_000;
    for (let start = 0; start < n; start += 10_000) {
      const batch = [];
      for (let i = start; i < start + 10_000; i++) batch.push({ _id: `e${i}`, i, label: `entity number ${i}`, tags: ['a', 'b'] });
      await api.rt.store.write('big', batch);
    }
    const res = await fetch(`${api.base}/api/datasets/big/entities`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.headers.get('x-dataset-max-updated')).toBe(String(n - 1));
    expect(res.headers.get('x-dataset-populated')).toBe('false');
    // Streamed: no length known in advance.
    expect(res.headers.get('content-length')).toBeNull();
    const body = (await res.json()) as { _id: string; i: number; _updated: number }[];
    expect(body).toHaveLength(n);
    expect(body[0]).toMatchObject({ _id: 'e0', i: 0, _updated: 0, _deleted: false });
    expect(body[n - 1]).toMatchObject({ _id: `e${n - 1}`, i: n - 1, _updated: n - 1 });
    expect(new Set(body.map((e) => e._id)).size).toBe(n);

    const limited = (await (await fetch(`${api.base}/api/datasets/big/entities?since=49990&limit=5`)).json()) as { _updated: number }[];
    expect(limited.map((e) => e._updated)).toEqual([49991, 49992, 49993, 49994, 49995]);
  }, SLOW_STORE ? 300_000 : undefined);

  it('produces the stream only as fast as the client reads it (backpressure)', async () => {
    api = await startTestApi();
    const total = 20_000;
    for (let start = 0; start < total; start += 10_000) {
      const batch = [];
      for (let i = start; i < start + 10_000; i++) batch.push({ _id: `e${i}`, pad: 'y'.repeat(1000) });
      await api.rt.store.write('wide', batch);
    }
    // Count the versions the server has pulled from the store.
    let pulled = 0;
    const store = api.rt.store;
    const scanJson = store.scanJson.bind(store);
    store.scanJson = async function* (dataset, options) {
      for await (const text of scanJson(dataset, options)) {
        pulled++;
        yield text;
      }
    };
    let pulledWhilePaused = -1;
    const text = await readWithOnePause(`${api.base}/api/datasets/wide/entities`, () => (pulledWhilePaused = pulled));
    // About 20 MB in all; while the client did not read, the server stopped well short of the end.
    expect(pulledWhilePaused).toBeGreaterThan(0);
    expect(pulledWhilePaused).toBeLessThan(total);
    const parsed = JSON.parse(text) as { _id: string }[];
    expect(parsed).toHaveLength(total);
    expect(parsed[total - 1]._id).toBe(`e${total - 1}`);
  }, SLOW_STORE ? 300_000 : undefined);

  it('filters with history, deleted, reverse, since and start, and serves single entities', async () => {
    api = await startTestApi();
    await api.rt.store.write('d', [{ _id: 'a', v: 1 }, { _id: 'b', v: 1 }]);
    await api.rt.store.write('d', [{ _id: 'a', v: 2 }, { _id: 'b', _deleted: true }]);
    const ids = async (q: string) => ((await api.call('GET', `/api/datasets/d/entities${q}`)).json as { _id: string; _updated: number }[]).map((e) => `${e._id}${e._updated}`);
    // Offsets start at 0, as in the documented entity model.
    expect(await ids('')).toEqual(['a0', 'b1', 'a2', 'b3']);
    expect(await ids('?history=false')).toEqual(['a2', 'b3']);
    expect(await ids('?history=False&deleted=False')).toEqual(['a2']);
    expect(await ids('?history=0&deleted=0')).toEqual(['a2']);
    expect(await ids('?reverse=True')).toEqual(['b3', 'a2', 'b1', 'a0']);
    expect(await ids('?since=1')).toEqual(['a2', 'b3']);
    expect(await ids('?start=1&limit=2')).toEqual(['b1', 'a2']);
    expect((await api.call('GET', '/api/datasets/d/entity?entity_id=a')).json).toMatchObject({ _id: 'a', v: 2, _previous: 0 });
    expect((await api.call('GET', '/api/datasets/d/entity?entity_id=a&offset=2')).status).toBe(200);
    expect((await api.call('GET', '/api/datasets/d/entity?entity_id=a&offset=1')).status).toBe(404);
    expect((await api.call('GET', '/api/datasets/d/entity')).status).toBe(400);
    expect((await api.call('GET', '/api/datasets/d/entities?populated=true')).status).toBe(404);

    for (const q of ['?limit=abc', '?since=x', '?history=maybe', '?reverse=2', '?start=-1']) {
      const r = await api.call('GET', `/api/datasets/d/entities${q}`);
      expect(r.status, q).toBe(400);
      expect(r.json.error.message, q).toContain(q.slice(1).split('=')[0]);
    }
  });

  it('accepts posted entities, keeps unchanged ones, and refuses malformed bodies', async () => {
    api = await startTestApi();
    const post = (body: string, q = '') => api.call('POST', `/api/datasets/p/entities${q}`, { raw: body, headers: { 'content-type': 'application/json' } });
    const r1 = await post(JSON.stringify([{ _id: 'x', when: '~t2024-01-01T00:00:00Z', big: 1 }, { _id: 'y' }]));
    expect(r1.status).toBe(200);
    expect(r1.json).toMatchObject({ written: 2, unchanged: 0 });
    expect((await post(JSON.stringify([{ _id: 'x', when: '~t2024-01-01T00:00:00Z', big: 1 }]))).json).toMatchObject({ written: 0, unchanged: 1 });
    expect((await post(JSON.stringify([{ _id: 'x', when: '~t2024-01-01T00:00:00Z', big: 1 }]), '?force=true')).json).toMatchObject({ written: 1 });
    // Big integers stay exact.
    await post('[{"_id": "z", "n": 12345678901234567890}]');
    expect((await api.call('GET', '/api/datasets/p/entity?entity_id=z')).text).toContain('"n":12345678901234567890');
    expect((await api.call('GET', '/api/datasets/p/entity?entity_id=x')).json.when).toBe('~t2024-01-01T00:00:00Z');

    const before = (await api.call('GET', '/api/datasets/p')).json.runtime['count-log-exists'];
    for (const body of ['[{"_id": "q",', '[{"_id": 1}]', '[{"_id": "ok"}, 5]', '', '{"no_id": true}']) {
      const r = await post(body);
      expect(r.status, body).toBe(400);
      expect(r.json.error.code, body).toMatch(/INVALID|EMPTY/);
    }
    expect((await api.call('GET', '/api/datasets/p')).json.runtime['count-log-exists']).toBe(before);
    expect((await api.call('GET', '/api/datasets/p/entity?entity_id=ok')).status).toBe(404);
  });

  it('deletes datasets', async () => {
    api = await startTestApi();
    await api.rt.store.write('gone', [{ _id: 'a' }]);
    const r = await api.call('DELETE', '/api/datasets/gone');
    expect(r.status).toBe(200);
    expect(r.json._id).toBe('gone');
    expect((await api.call('GET', '/api/datasets/gone')).status).toBe(404);
  });

  it('accepts percent-encoded and raw dataset ids', async () => {
    api = await startTestApi();
    await api.rt.store.write('ns:set', [{ _id: 'a:1' }]);
    expect((await api.call('GET', '/api/datasets/ns%3Aset')).json._id).toBe('ns:set');
    expect((await api.call('GET', '/api/datasets/ns:set/entities')).json[0]._id).toBe('a:1');
    expect((await api.call('GET', '/api/datasets/ns%3Aset/entities/a%3A1')).json._id).toBe('a:1');
    await api.rt.store.write('with/slash', [{ _id: 'a' }]);
    expect((await api.call('GET', '/api/datasets/with%2Fslash')).json._id).toBe('with/slash');
  });
});
