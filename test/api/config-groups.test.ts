import { afterEach, describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import { names, people, startTestApi, type TestApi } from './support.js';

let api: TestApi;
afterEach(async () => api?.close());

const orders = { _id: 'orders', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'o1' }] } };
const ids = (list: { _id: string }[]) => list.map((e) => e._id).sort();

describe('config groups', () => {
  it('keeps each group apart: PUT /config replaces the default group, PUT /config/{group} one group, PUT /config-all everything', async () => {
    api = await startTestApi();
    expect((await api.call('PUT', '/api/config', { body: [people, names] })).status).toBe(200);
    const put = await api.call('PUT', '/api/config/sales', { body: [orders] });
    expect(put.status).toBe(200);

    const sales = await api.call('GET', '/api/config/sales');
    expect(sales.json).toEqual([{ ...orders, metadata: { '$config-group': 'sales' } }]);
    expect(ids((await api.call('GET', '/api/config')).json)).toEqual(['names', 'people']);
    expect(ids((await api.call('GET', '/api/config-all')).json)).toEqual(['names', 'orders', 'people']);
    expect(ids((await api.call('GET', '/api/config/default')).json)).toEqual(['names', 'people']);
    expect((await api.call('GET', '/api/config/nothing-here')).json).toEqual([]);

    // Replacing the default group leaves the sales group running.
    expect((await api.call('PUT', '/api/config', { body: [people] })).status).toBe(200);
    expect(ids((await api.call('GET', '/api/pipes')).json)).toEqual(['orders', 'people']);

    // An id of another group cannot move silently; nothing changes.
    const clash = await api.call('PUT', '/api/config/sales', { body: [orders, { ...people, source: { type: 'embedded', entities: [] } }] });
    expect(clash.status).toBe(409);
    expect(clash.json.error.message).toMatch(/"people" already belongs to config group "default"/);
    expect(ids((await api.call('GET', '/api/config-all')).json)).toEqual(['orders', 'people']);

    // The node metadata stays in the default group.
    expect((await api.call('PUT', '/api/config/sales', { body: [{ _id: 'node', type: 'metadata' }] })).status).toBe(400);

    // A zip of one group.
    const zip = await fetch(`${api.base}/api/config/sales`, { headers: { accept: 'application/zip' } });
    expect(zip.headers.get('content-type')).toBe('application/zip');
    expect(Object.keys(unzipSync(new Uint8Array(await zip.arrayBuffer())))).toEqual(['pipes/orders.conf.json']);

    // PUT /config-all replaces every group.
    expect((await api.call('PUT', '/api/config-all', { body: [names, people] })).status).toBe(200);
    expect(ids((await api.call('GET', '/api/config-all')).json)).toEqual(['names', 'people']);
    expect((await api.call('GET', '/api/config/sales')).json).toEqual([]);
  });

  it('refuses a group upload that does not compile, with validation_errors, and keeps the running config', async () => {
    api = await startTestApi();
    expect((await api.call('PUT', '/api/config/g', { body: [orders] })).status).toBe(200);
    const bad = await api.call('PUT', '/api/config/g', { body: [{ _id: 'x', type: 'pipe', source: { type: 'datset' } }] });
    expect(bad.status).toBe(400);
    expect(bad.json.validation_errors[0]['config-errors'][0].msg).toMatch(/CONFIG_UNKNOWN_TYPE/);
    expect(ids((await api.call('GET', '/api/config/g')).json)).toEqual(['orders']);
  });
});

describe('config history', () => {
  it('keeps every version of a config entity, and a deleted version when it leaves the config', async () => {
    api = await startTestApi();
    await api.call('PUT', '/api/config', { body: [people] });
    await api.call('PUT', '/api/pipes/people/config', { body: { ...people, description: 'second' } });
    await api.call('PUT', '/api/config', { body: [names, { ...people, description: 'second' }] });
    await api.call('DELETE', '/api/pipes/names');

    const h = await api.call('GET', '/api/config-history/entity?entity_id=people');
    expect(h.status).toBe(200);
    expect(h.json.map((v: { description?: string }) => v.description ?? null)).toEqual([null, 'second']);
    expect(h.json[1]._updated).toBeGreaterThan(h.json[0]._updated);

    const n = await api.call('GET', '/api/config-history/entity?entity_id=names');
    expect(n.json.map((v: { _deleted?: boolean }) => v._deleted === true)).toEqual([false, true]);

    const newest = await api.call('GET', '/api/config-history/entity?entity_id=people&reverse=true&limit=1');
    expect(newest.json.map((v: { description?: string }) => v.description)).toEqual(['second']);
    const since = await api.call('GET', `/api/config-history/entity?entity_id=people&since=${h.json[0]._updated}`);
    expect(since.json).toHaveLength(1);

    expect((await api.call('GET', '/api/config-history/entity?entity_id=unknown')).json).toEqual([]);
    expect((await api.call('GET', '/api/config-history/entity')).status).toBe(400);
  });
});

describe('service metadata and namespaces', () => {
  it('reads, replaces and deletes the metadata entity; namespaces add the configured ones to the built-in ones', async () => {
    api = await startTestApi();
    await api.call('PUT', '/api/config', { body: [people] });
    expect((await api.call('GET', '/api/metadata')).json).toEqual([]);

    const put = await api.call('PUT', '/api/metadata', { body: { namespaces: { default: { ex: 'http://example.com/' } } } });
    expect(put.status).toBe(200);
    expect(put.json).toEqual([{ _id: 'node', type: 'metadata', namespaces: { default: { ex: 'http://example.com/' } } }]);
    expect((await api.call('GET', '/api/config')).json.map((e: { _id: string }) => e._id).sort()).toEqual(['node', 'people']);

    const ns = await api.call('GET', '/api/namespaces');
    expect(ns.json.ex).toBe('http://example.com/');
    expect(ns.json.rdf).toBe('http://www.w3.org/1999/02/22-rdf-syntax-ns#');

    expect((await api.call('PUT', '/api/metadata', { body: { _id: 'other' } })).status).toBe(400);
    expect((await api.call('PUT', '/api/metadata', { raw: '{not json', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await api.call('PUT', '/api/metadata', { body: { global_defaults: { use_signalling_internally: 'yes' } } })).status).toBe(400);
    expect((await api.call('GET', '/api/metadata')).json[0].namespaces).toBeDefined();

    const del = await api.call('DELETE', '/api/metadata');
    expect(del.status).toBe(200);
    expect(del.json).toEqual([]);
    expect((await api.call('GET', '/api/namespaces')).json.ex).toBeUndefined();
    expect((await api.call('GET', '/api/pipes/people')).status).toBe(200);
  });
});
