/**
 * Defect 6: bodies with invalid UTF-8 are refused with 400 naming the byte, and nothing is
 * written (a replacing decoder made two different `_id`s one entity).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { invalidUtf8Offset } from '../../runtime/api/bodies.js';
import { startTestApi, type TestApi } from '../api/support.js';
import { configure } from '../support/runtime.js';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** `[{"_id":"a<0xff>"},{"_id":"a<0xfe>"}]`: two ids that differ only in an invalid byte. */
const body = Buffer.concat([Buffer.from('[{"_id":"a'), Buffer.from([0xff]), Buffer.from('"},{"_id":"a'), Buffer.from([0xfe]), Buffer.from('"}]')]);
const json = { 'content-type': 'application/json' };

describe('invalid UTF-8 in posted bodies', () => {
  it('is refused by receivers with 400 naming the byte, writing nothing', async () => {
    api = await startTestApi();
    await configure(api.rt, [{ _id: 'inbox', type: 'pipe', source: { type: 'http_endpoint' } }]);
    const r = await api.call('POST', '/api/receivers/inbox/entities', { raw: body, headers: json });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('INVALID_UTF8');
    expect(r.json.error.message).toMatch(/byte 10 \(0xff\)/);
    expect(await api.rt.store.datasetInfo('inbox')).toBeNull();
  });

  it('is refused by dataset posts, env and secrets', async () => {
    api = await startTestApi();
    const posted = await api.call('POST', '/api/datasets/people/entities', { raw: body, headers: json });
    expect(posted.status).toBe(400);
    expect(posted.json.error.message).toMatch(/byte 10/);
    expect(await api.rt.store.datasetInfo('people')).toBeNull();
    const env = await api.call('PUT', '/api/env', { raw: Buffer.concat([Buffer.from('{"x": "'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), headers: json });
    expect(env.status).toBe(400);
    expect(env.json.error.message).toMatch(/byte 7 \(0xc3\)/);
    expect((await api.call('GET', '/api/env')).json).toEqual({});
    const config = await api.call('PUT', '/api/config', { raw: Buffer.concat([Buffer.from('[{"_id": "p'), Buffer.from([0xe2, 0x82]), Buffer.from('", "type": "pipe"}]')]), headers: json });
    expect(config.status).toBe(400);
    expect(config.json.error.message).toMatch(/byte 11 \(0xe2\)/);
  });

  it('finds the first invalid byte: bad starts, cut sequences, overlong forms, surrogates', () => {
    const at = (bytes: number[]) => invalidUtf8Offset(Uint8Array.from(bytes));
    expect(at([0x61, 0xc3, 0xa6, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80])).toBe(-1);
    expect(at([0x61, 0x80])).toBe(1);
    expect(at([0x61, 0xe2, 0x82])).toBe(1);
    expect(at([0xc0, 0xaf])).toBe(0);
    expect(at([0xe0, 0x80, 0xaf])).toBe(0);
    expect(at([0x61, 0xed, 0xa0, 0x80])).toBe(1);
    expect(at([0xf4, 0x90, 0x80, 0x80])).toBe(0);
  });
});
