import { testStoreKind } from '../support/runtime.js';
import { afterEach, describe, expect, it } from 'vitest';
import { names, people, runViaApi, startTestApi, waitFor, type TestApi } from './support.js';

let api: TestApi;
afterEach(async () => api?.close());

const form = (fields: Record<string, string>) => ({ raw: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });

/** An input dataset of `n` entities. */
async function bigInput(api: TestApi, n: number): Promise<void> {
  const batch = [];
  for (let i = 0; i < n; i++) batch.push({ _id: `e${i}`, n: i, text: 'x'.repeat(50) });
  await api.rt.store.write('big', batch);
  await api.rt.store.markPopulated('big');
}

/**
 * Holds the pipe's first run after `batches` source batches until the run is stopped: the run is
 * surely still going, with some entities committed, whenever the test looks (later runs read freely).
 */
function holdFirstRun(api: TestApi, pipe: string, batches: number): { reached: Promise<void> } {
  const source = api.rt.pump(pipe)!.inst.source;
  const read = source.read.bind(source);
  let held = false;
  let reached!: () => void;
  const promise = new Promise<void>((r) => (reached = r));
  source.read = async function* (options) {
    let n = 0;
    for await (const batch of read(options)) {
      yield batch;
      if (!held && ++n === batches) {
        held = true;
        reached();
        const signal = options.run.signal;
        if (!signal.aborted) await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
      }
    }
  };
  return { reached: promise };
}

const slow = {
  _id: 'slow',
  type: 'pipe',
  source: { type: 'dataset', dataset: 'big' },
  transform: { type: 'dtl', rules: { default: [['copy', '*'], ['add', 'twice', ['*', 2, '_S.n']]] } },
  pump: { mode: 'manual' },
};

// The MongoDB-protocol test server writes far slower than the embedded store: allow it more time.
const SLOW_STORE = testStoreKind() === 'mongodb';

describe('running pipes through the API', () => {
  it('runs pumps, then serves datasets, entities and history', async () => {
    api = await startTestApi();
    await api.call('PUT', '/api/config', { body: [people, names] });
    const p1 = await runViaApi(api, 'people');
    expect(p1.json.runtime).toMatchObject({ success: true, 'last-message': 'OK', 'is-running': false });
    expect(p1.json.runtime['last-run']).toMatch(/Z$/);
    await runViaApi(api, 'names');

    const ds = (await api.call('GET', '/api/datasets/names')).json;
    expect(ds.runtime).toMatchObject({ populated: true, 'count-index-exists': 3, 'count-log-exists': 3 });
    const all = (await api.call('GET', '/api/datasets')).json.map((d: { _id: string }) => d._id);
    expect(all).toEqual(expect.arrayContaining(['names', 'people', 'system:pump_execution:names']));
    const user = (await api.call('GET', '/api/datasets?include-internal-datasets=False')).json.map((d: { _id: string }) => d._id);
    expect(user).toEqual(['names', 'people']);

    const entities = await api.call('GET', '/api/datasets/names/entities');
    expect(entities.headers.get('x-dataset-populated')).toBe('true');
    expect(entities.headers.get('x-dataset-max-updated')).toBe('2');
    expect(entities.json.map((e: { _id: string; upper: string }) => [e._id, e.upper])).toEqual([
      ['a', 'ADA'],
      ['b', 'BOB'],
      ['c', 'CY'],
    ]);
    expect(entities.json[0]).toHaveProperty('_updated', 0);
    expect(entities.json[0]).toHaveProperty('_deleted', false);
    expect(entities.json[0]).toHaveProperty('_hash');

    const one = await api.call('GET', '/api/datasets/names/entity?entity_id=b');
    expect(one.json).toMatchObject({ _id: 'b', upper: 'BOB' });
    expect((await api.call('GET', '/api/datasets/names/entities/b')).json).toMatchObject({ _id: 'b' });
    expect((await api.call('GET', '/api/datasets/names/entity?entity_id=zz')).status).toBe(404);

    // A config change: only the entity that changed gets a new version.
    const changed = { ...people, source: { type: 'embedded', entities: [people.source.entities[0], { ...people.source.entities[1], name: 'Bobby' }, people.source.entities[2]] } };
    expect((await api.call('PUT', '/api/pipes/people/config', { body: changed })).status).toBe(200);
    await runViaApi(api, 'people');
    await runViaApi(api, 'names');
    const history = (await api.call('GET', '/api/datasets/names/entities?history=true')).json;
    expect(history.map((e: { _id: string }) => e._id)).toEqual(['a', 'b', 'c', 'b']);
    expect(history[3]).toMatchObject({ _id: 'b', upper: 'BOBBY', _previous: 1, _updated: 3 });
    const latest = (await api.call('GET', '/api/datasets/names/entities?history=False')).json;
    expect(latest.map((e: { _id: string }) => e._id)).toEqual(['a', 'c', 'b']);
    expect((await api.call('GET', '/api/datasets/names/entities?since=2')).json.map((e: { _id: string }) => e._id)).toEqual(['b']);
    expect((await api.call('GET', '/api/datasets/names/entities?reverse=TRUE&limit=2')).json.map((e: { _updated: number }) => e._updated)).toEqual([3, 2]);
    expect((await api.call('GET', '/api/datasets/names/entities?start=1&limit=2')).json.map((e: { _updated: number }) => e._updated)).toEqual([1, 2]);

    // The execution log.
    const log = (await api.call('GET', '/api/pipes/names/log')).json;
    expect(log.map((e: { event_type: string }) => e.event_type)).toEqual(['pump-started', 'pump-completed', 'pump-started', 'pump-completed']);
    const newest = (await api.call('GET', '/api/pipes/names/log?reverse=true&limit=1')).json;
    expect(newest).toHaveLength(1);
    expect(newest[0]).toMatchObject({ event_type: 'pump-completed', sync_type: 'incremental' });
  });

  it('supports the pump operations and answers the updated pump', async () => {
    api = await startTestApi();
    await api.call('PUT', '/api/config', { body: [people] });
    const pump = await api.call('GET', '/api/pipes/people/pump');
    expect(pump.json).toMatchObject({ _id: 'pump:people', runtime: { 'is-running': false, 'is-disabled': false } });

    const disabled = await api.call('POST', '/api/pipes/people/pump', form({ operation: 'disable', comment: 'maintenance' }));
    expect(disabled.status).toBe(200);
    expect(disabled.json.runtime['is-disabled']).toBe(true);
    expect(disabled.json.runtime['next-run']).toBeNull();
    expect((await api.call('GET', '/api/pipes/people')).json.runtime['is-disabled']).toBe(true);
    const enabled = await api.call('POST', '/api/pipes/people/pump', { body: { operation: 'enable' } });
    expect(enabled.json.runtime['is-disabled']).toBe(false);

    const mp = new FormData();
    mp.append('operation', 'update-last-seen');
    mp.append('last-seen', '42');
    const updated = await fetch(`${api.base}/api/pipes/people/pump`, { method: 'POST', body: mp });
    expect(updated.status).toBe(200);
    expect(((await updated.json()) as { runtime: Record<string, unknown> }).runtime['last-seen']).toBe('42');
    const reset = await api.call('POST', '/api/pipes/people/pump', form({ operation: 'reset' }));
    expect(reset.json.runtime['last-seen']).toBe('');

    const log = (await api.call('GET', '/api/pipes/people/log')).json.map((e: { event_type: string }) => e.event_type);
    expect(log).toEqual(expect.arrayContaining(['pump-disabled', 'pump-enabled', 'pump-offset-set']));
    const disabledEvent = (await api.call('GET', '/api/pipes/people/log')).json.find((e: { event_type: string }) => e.event_type === 'pump-disabled');
    expect(disabledEvent.comment).toBe('maintenance');

    const unknown = await api.call('POST', '/api/pipes/people/pump', form({ operation: 'fly' }));
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain("doesn't support the operation");
    expect((await api.call('POST', '/api/pipes/people/pump', form({}))).status).toBe(400);
    expect((await api.call('POST', '/api/pipes/nope/pump', form({ operation: 'start' }))).status).toBe(404);
    expect((await api.call('GET', '/api/pipes/nope/pump')).status).toBe(404);
  });

  it('answers 409 when starting a running pump, and stops it', async () => {
    api = await startTestApi();
    await bigInput(api, 10_000);
    await api.call('PUT', '/api/config', { body: [slow] });
    // 15 batches of 100: one commit of 1000 entities is in the dataset while the run is held.
    const hold = holdFirstRun(api, 'slow', 15);
    const first = await api.call('POST', '/api/pipes/slow/pump', form({ operation: 'start' }));
    expect(first.status).toBe(200);
    expect(first.json.runtime['is-running']).toBe(true);
    await hold.reached;
    const second = await api.call('POST', '/api/pipes/slow/pump', form({ operation: 'start' }));
    expect(second.status).toBe(409);
    expect(second.json.error.code).toBe('CONFLICT');
    expect(second.json.runtime['is-running']).toBe(true);

    const stopped = await api.call('POST', '/api/pipes/slow/pump', form({ operation: 'stop' }));
    expect(stopped.status).toBe(200);
    expect(stopped.json.runtime['is-running']).toBe(false);
    expect(stopped.json.runtime['last-run-status']).toBe('stopped');
    const written = (await api.call('GET', '/api/datasets/slow')).json.runtime['count-index-exists'];
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(10_000);

    // Start again: the run resumes and completes.
    await runViaApi(api, 'slow');
    await waitFor(async () => (await api.call('GET', '/api/datasets/slow')).json.runtime['count-index-exists'] === 10_000, SLOW_STORE ? 240_000 : 30_000, 'all entities');
  }, SLOW_STORE ? 300_000 : undefined);

  it('shows the pipe entities at every stage, writing nothing', async () => {
    api = await startTestApi();
    const ns = {
      _id: 'ns',
      type: 'pipe',
      namespaced_identifiers: true,
      add_namespaces: true,
      remove_namespaces: true,
      source: { type: 'embedded', entities: [{ _id: 'a', name: 'Ada' }, { _id: 'b', name: 'Bob' }] },
      transform: { type: 'dtl', rules: { default: [['copy', '*']] } },
    };
    await api.call('PUT', '/api/config', { body: [ns, people, names] });
    const at = async (pipe: string, stage?: string, extra = '') => (await api.call('GET', `/api/pipes/${pipe}/entities${stage ? `?stage=${stage}${extra}` : extra ? `?${extra.slice(1)}` : ''}`)).json;
    expect(await at('ns', 'source')).toEqual([{ _id: 'a', name: 'Ada' }, { _id: 'b', name: 'Bob' }]);
    expect(await at('ns', 'before-transforms')).toEqual([{ _id: 'ns:a', 'ns:name': 'Ada' }, { _id: 'ns:b', 'ns:name': 'Bob' }]);
    expect(await at('ns', 'before-transform')).toEqual([{ _id: 'ns:a', 'ns:name': 'Ada' }, { _id: 'ns:b', 'ns:name': 'Bob' }]);
    expect((await at('ns', 'after-transforms'))[0]).toMatchObject({ _id: 'ns:a', 'ns:name': 'Ada' });
    expect((await at('ns', 'sink'))[0]).toMatchObject({ _id: 'a', name: 'Ada' });
    expect(await at('ns', undefined, '&limit=1')).toHaveLength(1);

    // A dataset source: one entity per id, read from the latest versions; nothing written.
    await runViaApi(api, 'people');
    await api.call('PUT', '/api/pipes/people/config', { body: { ...people, source: { type: 'embedded', entities: [{ _id: 'a', name: 'Ann' }, ...people.source.entities.slice(1)] } } });
    await runViaApi(api, 'people');
    const sink = await at('names');
    expect(sink.map((e: { _id: string; upper: string }) => [e._id, e.upper])).toEqual([
      ['b', 'BOB'],
      ['c', 'CY'],
      ['a', 'ANN'],
    ]);
    expect((await at('names', 'sink', '&since=2')).map((e: { _id: string }) => e._id)).toEqual(['a']);
    expect((await api.call('GET', '/api/datasets/names')).status).toBe(404);
    expect((await api.call('GET', '/api/pipes/names')).json.runtime['last-seen']).toBe('');

    expect((await api.call('GET', '/api/pipes/names/entities?stage=middle')).status).toBe(400);
    expect((await api.call('GET', '/api/pipes/names/entities?limit=-1')).status).toBe(400);
    expect((await api.call('GET', '/api/pipes/nope/entities')).status).toBe(404);
  });

  it('answers 404 for unknown pipes, datasets and systems, and 400 for bad parameters', async () => {
    api = await startTestApi();
    await api.call('PUT', '/api/config', { body: [people] });
    for (const path of ['/api/pipes/nope', '/api/pipes/nope/log', '/api/pipes/nope/config', '/api/datasets/nope', '/api/datasets/nope/entities', '/api/systems/nope', '/api/systems/nope/config']) {
      const r = await api.call('GET', path);
      expect(r.status, path).toBe(404);
      expect(r.json.error.code, path).toBe('NOT_FOUND');
    }
    expect((await api.call('DELETE', '/api/datasets/nope')).status).toBe(404);
    const bad = await api.call('GET', '/api/pipes/people/log?limit=abc');
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: 'INVALID_PARAMETER' });
    expect(bad.json.error.message).toContain('limit');
    expect((await api.call('GET', '/api/pipes?include-internal-pipes=perhaps')).status).toBe(400);
    expect((await api.call('GET', '/api/pipes?fields=config')).json[0]).toEqual({ _id: 'people', config: expect.any(Object) });
    expect((await api.call('GET', '/api/pipes/people?fields=nonsense')).status).toBe(400);
  });
});
