import { afterEach, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './support.js';

let api: TestApi;
afterEach(async () => api?.close());

describe('environment variables', () => {
  it('replaces with PUT, merges with POST and PATCH, deletes one', async () => {
    api = await startTestApi();
    expect((await api.call('GET', '/api/env')).json).toEqual({});
    expect((await api.call('PUT', '/api/env', { body: { a: '1', b: 2 } })).json).toEqual({ a: '1', b: 2 });
    expect((await api.call('POST', '/api/env', { body: { c: true } })).json).toEqual({ a: '1', b: 2, c: true });
    expect((await api.call('PATCH', '/api/env', { body: { a: 'x' } })).json).toEqual({ a: 'x', b: 2, c: true });
    expect((await api.call('PUT', '/api/env', { body: { only: 'this' } })).json).toEqual({ only: 'this' });
    expect((await api.call('DELETE', '/api/env/only', { headers: { 'content-type': 'application/json' } })).json).toEqual({});
    expect((await api.call('DELETE', '/api/env/only')).status).toBe(404);
  });

  it('feeds $ENV references in the config', async () => {
    api = await startTestApi();
    await api.call('PUT', '/api/env', { body: { greeting: 'hello' } });
    const pipe = { _id: 'p', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'a', text: '$ENV(greeting)' }] } };
    expect((await api.call('PUT', '/api/config', { body: [pipe] })).status).toBe(200);
    const p = (await api.call('GET', '/api/pipes/p')).json;
    expect(p.config.original.source.entities[0].text).toBe('$ENV(greeting)');
    expect(p.config.effective.source.entities[0].text).toBe('hello');
    // An unknown variable is a config error.
    const bad = await api.call('PUT', '/api/config', { body: [{ ...pipe, source: { type: 'embedded', entities: [{ _id: 'a', text: '$ENV(missing)' }] } }] });
    expect(bad.status).toBe(400);
    expect(bad.json.validation_errors[0]['config-errors'][0].code).toBe('CONFIG_ENV_UNRESOLVED');
  });

  it('refuses malformed bodies and changes nothing', async () => {
    api = await startTestApi();
    await api.call('PUT', '/api/env', { body: { keep: 'me' } });
    const bad = [
      { raw: '{"a": ', type: 'application/json' },
      { raw: '"text"', type: 'application/json' },
      { raw: '[1, 2]', type: 'application/json' },
      { raw: 'a=b', type: 'text/plain' },
    ];
    for (const b of bad) {
      const r = await api.call('PUT', '/api/env', { raw: b.raw, headers: { 'content-type': b.type } });
      expect(r.status, b.raw).toBeGreaterThanOrEqual(400);
      expect(r.status, b.raw).toBeLessThan(500);
      expect(r.json.error.code, b.raw).toBeTypeOf('string');
    }
    expect((await api.call('GET', '/api/env')).json).toEqual({ keep: 'me' });
  });
});

describe('secrets', () => {
  it('returns names only; PUT replaces, POST adds, DELETE removes', async () => {
    api = await startTestApi();
    expect((await api.call('PUT', '/api/secrets?encrypt=true', { body: { password: 's3cret', token: 't' } })).json).toEqual(['password', 'token']);
    const list = await api.call('GET', '/api/secrets');
    expect(list.json).toEqual(['password', 'token']);
    expect(list.text).not.toContain('s3cret');
    expect((await api.call('POST', '/api/secrets', { body: { extra: 'x' } })).json).toEqual(['extra', 'password', 'token']);
    expect((await api.call('PUT', '/api/secrets', { body: { only: 'y' } })).json).toEqual(['only']);
    expect((await api.call('DELETE', '/api/secrets/only')).json).toEqual([]);
    expect((await api.call('DELETE', '/api/secrets/only')).status).toBe(404);
    expect((await api.call('POST', '/api/secrets', { body: { n: 5 } })).status).toBe(400);
    expect((await api.call('GET', '/api/secrets')).json).toEqual([]);
  });

  it('keeps secret values out of system views', async () => {
    api = await startTestApi();
    await api.call('PUT', '/api/secrets', { body: { pw: 'hunter2' } });
    const system = { _id: 's', type: 'system:url', url_pattern: 'http://u:$SECRET(pw)@localhost/%s' };
    expect((await api.call('PUT', '/api/config', { body: [system] })).status).toBe(200);
    const v = await api.call('GET', '/api/systems/s');
    expect(v.status).toBe(200);
    expect(v.text).not.toContain('hunter2');
    expect((await api.call('GET', '/api/config')).text).not.toContain('hunter2');
  });
});
