import { afterEach, describe, expect, it } from 'vitest';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { names, people, startTestApi, type TestApi } from './support.js';

let api: TestApi;
afterEach(async () => api?.close());

const system = { _id: 'crm', type: 'system:url', url_pattern: 'http://localhost:1/%s' };

function zipOf(files: Record<string, unknown>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, strToU8(typeof v === 'string' ? v : JSON.stringify(v, null, 2))])));
}

describe('service endpoints', () => {
  it('answers API info with developer_mode, status, health and ping', async () => {
    api = await startTestApi();
    for (const path of ['/api/', '/api']) {
      const r = await api.call('GET', path);
      expect(r.status).toBe(200);
      expect(r.json.status.developer_mode).toBe(true);
    }
    const status = await api.call('GET', '/api/status');
    expect(status.json.node_start_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    expect(status.json.node_id).toBe('sluice');
    expect(typeof status.json.node_version).toBe('string');
    expect((await api.call('GET', '/api/health')).json.status).toBe('ok');
    expect((await api.call('GET', '/api/ping')).json).toEqual({ status: 'running' });
  });

  it('answers unknown routes with a JSON 404', async () => {
    api = await startTestApi();
    const r = await api.call('GET', '/api/nothing-here');
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('NOT_FOUND');
  });
});

describe('PUT /api/config', () => {
  it('takes a JSON array and shows config.original, config.effective and runtime.state', async () => {
    api = await startTestApi();
    const put = await api.call('PUT', '/api/config', { body: [people, names] });
    expect(put.status).toBe(200);
    expect(put.headers.get('content-type')).toMatch(/application\/json/);
    expect(put.json).toEqual({ validation_errors: [] });

    const pipes = await api.call('GET', '/api/pipes');
    expect(pipes.json.map((p: { _id: string }) => p._id)).toEqual(['names', 'people']);
    const p = (await api.call('GET', '/api/pipes/names')).json;
    expect(p.config.original).toEqual(names);
    expect(p.config.original.sink).toBeUndefined();
    // The implicit dataset sink is explicit in the effective config.
    expect(p.config.effective.sink).toMatchObject({ type: 'dataset', dataset: 'names' });
    expect(p.config.effective.pump).toBeTypeOf('object');
    expect(p.runtime).toMatchObject({
      state: 'Deployed',
      'is-valid-config': true,
      'config-errors': [],
      'is-running': false,
      'is-disabled': false,
      dependencies: ['people'],
      'execution-dataset': 'system:pump_execution:names',
      'last-run': null,
      success: null,
    });
    for (const key of ['queues', 'supported-operations', 'next-run', 'last-seen', 'last-message', 'progress']) expect(p.runtime).toHaveProperty(key);
    expect(p.runtime['supported-operations']).toEqual(expect.arrayContaining(['start', 'stop', 'enable', 'disable', 'update-last-seen']));

    const config = await api.call('GET', '/api/config');
    expect(config.headers.get('content-type')).toMatch(/application\/json/);
    expect(config.json).toEqual([people, names]);
  });

  it('takes a zip archive, and gives one back with Accept: application/zip', async () => {
    api = await startTestApi();
    const zip = zipOf({ 'pipes/people.conf.json': people, 'pipes/names.conf.json': names, 'systems/crm.conf.json': system, 'node-metadata.conf.json': { _id: 'node', type: 'metadata' } });
    const put = await api.call('PUT', '/api/config', { raw: zip, headers: { 'content-type': 'application/zip' } });
    expect(put.status, put.text).toBe(200);
    expect((await api.call('GET', '/api/pipes')).json).toHaveLength(2);
    expect((await api.call('GET', '/api/systems/crm')).json.config.original).toEqual(system);

    const res = await fetch(`${api.base}/api/config`, { headers: { accept: 'application/zip' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    expect(Object.keys(files).sort()).toEqual(['node-metadata.conf.json', 'pipes/names.conf.json', 'pipes/people.conf.json', 'systems/crm.conf.json']);
    for (const bytes of Object.values(files)) expect(() => JSON.parse(new TextDecoder().decode(bytes))).not.toThrow();
    expect(JSON.parse(new TextDecoder().decode(files['pipes/names.conf.json']))).toEqual(names);
  });

  it('takes multipart/form-data with a field "file" holding a zip or JSON', async () => {
    api = await startTestApi();
    const form = new FormData();
    form.append('file', new Blob([zipOf({ 'pipes/people.conf.json': people })], { type: 'application/zip' }), 'config');
    const r1 = await fetch(`${api.base}/api/config?force=false`, { method: 'PUT', body: form });
    expect(r1.status).toBe(200);
    expect(r1.headers.get('content-type')).toMatch(/json/);
    expect((await api.call('GET', '/api/pipes')).json.map((p: { _id: string }) => p._id)).toEqual(['people']);

    const form2 = new FormData();
    form2.append('file', new Blob([JSON.stringify([people, names])], { type: 'application/json' }), 'config');
    const r2 = await fetch(`${api.base}/api/config`, { method: 'PUT', body: form2 });
    expect(r2.status).toBe(200);
    expect((await api.call('GET', '/api/pipes')).json.map((p: { _id: string }) => p._id)).toEqual(['names', 'people']);

    const form3 = new FormData();
    form3.append('other', 'x');
    const r3 = await fetch(`${api.base}/api/config`, { method: 'PUT', body: form3 });
    expect(r3.status).toBe(400);
  });

  it('refuses a config with a DTL error with validation_errors at file:line:col, keeping the running config', async () => {
    api = await startTestApi();
    await api.call('PUT', '/api/config', { body: [people] });
    const text = `[
  {"_id": "people", "type": "pipe", "source": {"type": "embedded", "entities": []}},
  {"_id": "bad", "type": "pipe",
   "source": {"type": "dataset", "dataset": "people"},
   "transform": {"type": "dtl", "rules": {"default": [["copy", "_id"], ["addd", "x", 1]]}}}
]`;
    const r = await api.call('PUT', '/api/config', { raw: text, headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/json/);
    expect(r.json.error.code).toBe('INVALID_CONFIG');
    expect(r.json.validation_errors).toHaveLength(1);
    const item = r.json.validation_errors[0];
    expect(item['posted-config']._id).toBe('bad');
    const err = item['config-errors'][0];
    const column = text.split('\n')[4].indexOf('"addd"') + 1;
    expect(err).toMatchObject({ level: 'error', file: 'config.json', line: 5, column, code: 'DTL_UNKNOWN_FUNCTION', elements: "$['transform']['rules']['default'][1][0]" });
    expect(err.msg).toMatch(new RegExp(`^config\\.json:5:${column} DTL_UNKNOWN_FUNCTION `));
    // Nothing changed.
    expect((await api.call('GET', '/api/pipes')).json.map((p: { _id: string }) => p._id)).toEqual(['people']);
    expect((await api.call('GET', '/api/config')).json).toEqual([people]);
    expect((await api.call('GET', '/api/pipes/people')).json.config.original.source.entities).toHaveLength(3);
  });

  it('with force, runs the valid entities and shows the others as invalid', async () => {
    api = await startTestApi();
    const bad = { _id: 'bad', type: 'pipe', source: { type: 'dataset', dataset: 'people' }, transform: { type: 'dtl', rules: { default: [['addd', 'x', 1]] } } };
    const r = await api.call('PUT', '/api/config?force=True', { body: [people, bad] });
    expect(r.status).toBe(200);
    expect(r.json.validation_errors[0]['config-errors'][0].level).toBe('error');
    const pipes = (await api.call('GET', '/api/pipes')).json;
    expect(pipes.map((p: { _id: string }) => p._id)).toEqual(['bad', 'people']);
    const b = (await api.call('GET', '/api/pipes/bad')).json;
    expect(b.runtime['is-valid-config']).toBe(false);
    expect(b.runtime.state).toBe('Deployed');
    expect(b.runtime['config-errors'][0]).toMatchObject({ level: 'error', code: 'DTL_UNKNOWN_FUNCTION' });
    expect(b.config.original).toEqual(bad);
  });

  it('answers 400 for malformed JSON and zip bodies and writes nothing', async () => {
    api = await startTestApi();
    await api.call('PUT', '/api/config', { body: [people] });
    const r1 = await api.call('PUT', '/api/config', { raw: '[{"_id": "x",', headers: { 'content-type': 'application/json' } });
    expect(r1.status).toBe(400);
    expect(r1.json.validation_errors[0]['posted-config']).toBeNull();
    expect(r1.json.validation_errors[0]['config-errors'][0]).toMatchObject({ code: 'CONFIG_SYNTAX', file: 'config.json', line: 1 });
    const r2 = await api.call('PUT', '/api/config', { raw: new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4, 5]), headers: { 'content-type': 'application/zip' } });
    expect(r2.status).toBe(400);
    expect(r2.json.error.code).toBe('INVALID_ZIP');
    const r3 = await api.call('PUT', '/api/config', { raw: '"just a string"', headers: { 'content-type': 'application/json' } });
    expect(r3.status).toBe(400);
    const r4 = await api.call('PUT', '/api/config', { raw: '', headers: { 'content-type': 'application/json' } });
    expect(r4.status).toBe(400);
    expect((await api.call('GET', '/api/config')).json).toEqual([people]);
    // The only dataset is the config history, holding the one accepted version.
    expect((await api.call('GET', '/api/datasets')).json.map((d: { _id: string }) => d._id)).toEqual(['system:config']);
    expect((await api.call('GET', '/api/datasets/system:config/entities')).json.map((e: { _id: string }) => e._id)).toEqual(['people']);
  });

  it('wipes the config like the client does: node metadata, then an empty list', async () => {
    api = await startTestApi();
    await api.call('PUT', '/api/config', { body: [people, names] });
    const meta = { _id: 'node', type: 'metadata', task_manager: { disable_user_pipes: true }, global_defaults: { use_signalling_internally: false, use_signalling_externally: false, enable_cpp_extensions: false } };
    expect((await api.call('PUT', '/api/config?force=true', { body: [meta] })).status).toBe(200);
    expect((await api.call('GET', '/api/pipes')).json).toEqual([]);
    expect((await api.call('GET', '/api/config')).json).toEqual([meta]);
    expect((await api.call('PUT', '/api/config?force=true', { body: [] })).status).toBe(200);
    expect((await api.call('GET', '/api/config')).json).toEqual([]);
  });

  it('rejects bad query parameters', async () => {
    api = await startTestApi();
    const r = await api.call('PUT', '/api/config?force=maybe', { body: [people] });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/force/);
    expect((await api.call('GET', '/api/config')).json).toEqual([]);
  });
});

describe('per-pipe and per-system config', () => {
  it('creates, reads, replaces and deletes pipes', async () => {
    api = await startTestApi();
    const post = await api.call('POST', '/api/pipes', { body: [people] });
    expect(post.status).toBe(200);
    expect(post.json[0]._id).toBe('people');
    expect(post.json[0].config.original).toEqual(people);
    expect((await api.call('POST', '/api/pipes', { body: [people] })).status).toBe(409);

    expect((await api.call('GET', '/api/pipes/people/config')).json).toEqual(people);
    const changed = { ...people, source: { type: 'embedded', entities: [{ _id: 'z' }] } };
    const put = await api.call('PUT', '/api/pipes/people/config', { body: changed });
    expect(put.status).toBe(200);
    expect(put.json.config.original).toEqual(changed);
    expect((await api.call('PUT', '/api/pipes/people/config', { body: { ...changed, _id: 'other' } })).status).toBe(400);

    const bad = await api.call('PUT', '/api/pipes/people/config', { body: { ...changed, transform: { type: 'dtl', rules: { default: [['nope']] } } } });
    expect(bad.status).toBe(400);
    expect(bad.json.validation_errors[0]['config-errors'][0].code).toMatch(/^DTL_/);
    expect((await api.call('GET', '/api/pipes/people/config')).json).toEqual(changed);

    const del = await api.call('DELETE', '/api/pipes/people');
    expect(del.status).toBe(200);
    expect(del.json._id).toBe('people');
    expect((await api.call('GET', '/api/pipes/people')).status).toBe(404);
    expect((await api.call('DELETE', '/api/pipes/people')).status).toBe(404);
    expect((await api.call('GET', '/api/pipes/people/config')).status).toBe(404);
  });

  it('creates, reads, replaces and deletes systems', async () => {
    api = await startTestApi();
    expect((await api.call('POST', '/api/systems', { body: [system] })).status).toBe(200);
    expect((await api.call('POST', '/api/systems?force=false', { body: [system] })).status).toBe(409);
    expect((await api.call('POST', '/api/systems', { body: [people] })).status).toBe(400);
    const s = (await api.call('GET', '/api/systems/crm')).json;
    expect(s.config.original).toEqual(system);
    expect(s.runtime['is-valid-config']).toBe(true);
    expect((await api.call('GET', '/api/systems')).json).toHaveLength(1);
    const put = await api.call('PUT', '/api/systems/crm/config', { body: { type: 'system:url', url_pattern: 'http://localhost:2/%s' } });
    expect(put.status).toBe(200);
    expect((await api.call('GET', '/api/systems/crm/config')).json).toEqual({ _id: 'crm', type: 'system:url', url_pattern: 'http://localhost:2/%s' });
    expect((await api.call('DELETE', '/api/systems/crm')).status).toBe(200);
    expect((await api.call('GET', '/api/systems/crm')).status).toBe(404);
  });

  it('replaces one entity of a file that holds several, keeping the others', async () => {
    api = await startTestApi();
    const zip = zipOf({ 'pipes/all.conf.json': [people, names] });
    expect((await api.call('PUT', '/api/config', { raw: zip, headers: { 'content-type': 'application/zip' } })).status).toBe(200);
    const changed = { ...people, source: { type: 'embedded', entities: [{ _id: 'only' }] } };
    expect((await api.call('PUT', '/api/pipes/people/config', { body: changed })).status).toBe(200);
    const config = (await api.call('GET', '/api/config')).json;
    expect(config).toHaveLength(2);
    expect(config).toEqual(expect.arrayContaining([changed, names]));
    expect((await api.call('DELETE', '/api/pipes/names')).status).toBe(200);
    expect((await api.call('GET', '/api/config')).json).toEqual([changed]);
  });

  it('accepts percent-encoded and raw ids in paths', async () => {
    api = await startTestApi();
    const p = { ...people, _id: 'a:b' };
    expect((await api.call('POST', '/api/pipes', { body: [p] })).status).toBe(200);
    expect((await api.call('GET', '/api/pipes/a%3Ab')).json._id).toBe('a:b');
    expect((await api.call('GET', '/api/pipes/a:b')).json._id).toBe('a:b');
    expect((await api.call('GET', '/api/pipes/a%3Ab/config')).json).toEqual(p);
  });
});
