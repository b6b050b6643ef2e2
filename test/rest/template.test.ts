/** The template transform's built-in REST connector templates against the REST fixture service. */
import { describe, expect, it } from 'vitest';
import { makeRecords } from '../../scripts/test-services/rest-fixture.js';
import { configure } from '../support/runtime.js';
import { fixture, latest, restSystem, runtime } from './support.js';

const operations = {
  lookup: { method: 'GET', url: 'records/{{ entity.id }}' },
  insert: { method: 'POST', url: 'records' },
  update: { method: 'PUT', url: 'records/{{ entity.id }}' },
  delete: { method: 'DELETE', url: 'records/{{ entity.id }}' },
  defaults: { method: 'GET', url: 'records/defaults' },
};

describe('template transform', () => {
  it('transform-share-rest inserts, updates with optimistic locking, and deletes', async () => {
    const f = await fixture();
    f.put({ id: 'r1', updated: 1, name: 'one' }, { id: 'r2', updated: 2, name: 'two' });
    // The service answers inserts with the key it made.
    f.overrides.push((req, res) => {
      if (req.method !== 'POST' || req.path !== '/records') return false;
      f.writes.push({ method: 'POST', id: 'new', contentType: String(req.headers['content-type']), body: req.body });
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'r100' }));
      return true;
    });
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations }),
      {
        _id: 'share',
        type: 'pipe',
        source: {
          type: 'embedded',
          entities: [
            { _id: 'new-person', name: 'new', $payload: { name: 'new' } },
            { _id: 'p1', id: 'r1', name: 'one!', $based_on: { id: 'r1', updated: 1, name: 'one' } },
            { _id: 'p2', id: 'r2', name: 'two!', $based_on: { id: 'r2', updated: 2, name: 'old two' } },
            { _id: 'p3', id: 'r3', _deleted: true },
          ],
        },
        transform: { type: 'template', template: 'transform-share-rest', properties: { rest_system: 'api', primary_key: 'id' } },
      },
    ]);
    expect(await rt.runPipe('share')).toMatchObject({ status: 'completed' });
    const got = Object.fromEntries((await collectAll(rt)).map((e) => [e._id, e]));
    expect(got['new-person']).toMatchObject({ $operation: 'insert', $status: 'inserted', $generated_id: 'r100', $origin: 'new-person' });
    expect(got.p1).toMatchObject({ $operation: 'update', $status: 'updated', $response_status: 200 });
    expect(got.p2).toMatchObject({ $operation: 'none', $status: 'modified-in-system' });
    expect(f.writes.map((w) => [w.method, w.id])).toEqual([
      ['POST', 'new'],
      ['PUT', 'r1'],
      ['DELETE', 'r3'],
    ]);
    expect(JSON.parse(f.writes[0].body)).toEqual({ name: 'new' });
    expect(JSON.parse(f.writes[1].body)).toEqual({ id: 'r1', name: 'one!' });

    async function collectAll(r: typeof rt) {
      const { collect } = await import('../support/runtime.js');
      return collect(r.store.scan('share', { history: false }));
    }
  });

  it('transform-collect-rest looks entities up, verifies deletes and adds $origin from the share dataset', async () => {
    const f = await fixture();
    f.put(...makeRecords(3));
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations }),
      { _id: 'share-out', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'crm-7', $generated_id: 'r2', $origin: 'crm-7' }] } },
      {
        _id: 'collect',
        type: 'pipe',
        source: { type: 'embedded', entities: [{ _id: 'a', id: 'r1' }, { _id: 'b', id: 'r2' }, { _id: 'gone', id: 'r9' }] },
        transform: { type: 'template', template: 'transform-collect-rest', properties: { rest_system: 'api', primary_key: 'id', operation_lookup: 'lookup', original_property: 'original', share_dataset: 'share-out' } },
      },
      {
        _id: 'verify',
        type: 'pipe',
        source: { type: 'embedded', entities: [{ _id: 'still-there', id: 'r3', _deleted: true }, { _id: 'really-gone', id: 'r77', _deleted: true }] },
        transform: { type: 'template', template: 'transform-collect-rest', properties: { rest_system: 'api', primary_key: 'id', operation_lookup_delete: 'lookup', share_dataset: 'share-out' } },
      },
    ]);
    expect(await rt.runPipe('share-out')).toMatchObject({ status: 'completed' });
    expect(await rt.runPipe('collect')).toMatchObject({ status: 'completed' });
    const got = Object.fromEntries((await latest(rt, 'collect')).map((e) => [e._id, e]));
    expect(Object.keys(got).sort()).toEqual(['a', 'b']);
    expect(got.a).toMatchObject({ id: 'r1', name: 'record 1', original: { _id: 'a', id: 'r1' } });
    expect(got.a.$origin).toBeUndefined();
    expect(got.b.$origin).toBe('crm-7');
    expect(await rt.runPipe('verify')).toMatchObject({ status: 'completed' });
    expect((await latest(rt, 'verify')).map((e) => e._id)).toEqual(['still-there']);
  });

  it('transform-defaults-rest puts the entity over the defaults', async () => {
    const f = await fixture();
    f.put({ id: 'defaults', updated: 0, currency: 'NOK', country: 'NO' });
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations }),
      { _id: 'defaults', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'x', country: 'SE' }] }, transform: { type: 'template', template: 'transform-defaults-rest', properties: { rest_system: 'api', operation: 'defaults', primary_key: 'id' } } },
      { _id: 'rules', type: 'pipe', source: { type: 'embedded', entities: [] }, transform: { type: 'template', template: 'transform-share-rest', properties: { rest_system: 'api', primary_key: 'id', rules: { lookup_rewrite: [] } } } },
    ]);
    expect(await rt.runPipe('defaults')).toMatchObject({ status: 'completed' });
    expect((await latest(rt, 'defaults'))[0]).toMatchObject({ _id: 'x', currency: 'NOK', country: 'SE' });
    // The extension points run (see template-extensions.test.ts): with nothing to share, the pipe completes.
    expect(await rt.runPipe('rules')).toMatchObject({ status: 'completed', read: 0 });
  });
});
