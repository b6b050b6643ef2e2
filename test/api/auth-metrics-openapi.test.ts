import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import { documented } from '../../runtime/api/openapi.js';
import { names, people, runViaApi, startTestApi, type TestApi } from './support.js';

let api: TestApi;
let other: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  await other?.close();
  other = undefined;
});

const secret = 'a-test-secret-that-is-long-enough-for-hs256';

async function hsToken(key: string, claims: Record<string, unknown> = { sub: 'tester' }, expires = '1h'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(expires).sign(new TextEncoder().encode(key));
}

describe('JWT authentication', () => {
  it('answers 401 without a token or with a wrong one, and 200 with a valid one', async () => {
    api = await startTestApi({ auth: { jwtSecret: secret } });
    const none = await api.call('GET', '/api/pipes');
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('UNAUTHORIZED');
    expect((await api.call('GET', '/api/pipes', { headers: { authorization: `Bearer ${await hsToken('some-other-secret-of-enough-length!!')}` } })).status).toBe(401);
    expect((await api.call('GET', '/api/pipes', { headers: { authorization: 'Bearer not.a.jwt' } })).status).toBe(401);
    expect((await api.call('GET', '/api/pipes', { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } })).status).toBe(401);
    const expired = await hsToken(secret, { sub: 'x' }, '-1m');
    expect((await api.call('GET', '/api/pipes', { headers: { authorization: `Bearer ${expired}` } })).json.error.message).toMatch(/expired/);

    const token = await hsToken(secret);
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const ok = await api.call('GET', '/api/pipes', { headers: { authorization: `${scheme} ${token}` } });
      expect(ok.status, scheme).toBe(200);
    }
    // Writes are protected as well, and nothing happens without a token.
    expect((await api.call('PUT', '/api/config', { body: [people] })).status).toBe(401);
    expect((await api.call('GET', '/api/config', { headers: { authorization: `Bearer ${token}` } })).json).toEqual([]);
    // Metrics need a token too.
    expect((await fetch(`${api.base}/metrics`)).status).toBe(401);
    expect((await fetch(`${api.base}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    // Health and ping stay open.
    expect((await api.call('GET', '/api/health')).status).toBe(200);
    expect((await api.call('GET', '/api/ping')).status).toBe(200);
  });

  it('verifies RS256 and ES256 tokens with a public key, and records the user', async () => {
    for (const [type, alg] of [
      ['rsa', 'RS256'],
      ['ec', 'ES256'],
    ] as const) {
      const pair = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const publicKeyPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const privateKey = await importPKCS8(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), alg);
      const t = await startTestApi({ auth: { publicKeyPem } });
      try {
        const token = await new SignJWT({ email: 'ada@example.com' }).setProtectedHeader({ alg }).setExpirationTime('5m').sign(privateKey);
        const auth = { authorization: `Bearer ${token}` };
        expect((await t.call('GET', '/api/', { headers: auth })).status, alg).toBe(200);
        expect((await t.call('GET', '/api/')).status, alg).toBe(401);
        // An HS256 token is not accepted when only a public key is configured.
        expect((await t.call('GET', '/api/', { headers: { authorization: `Bearer ${await hsToken(secret)}` } })).status, alg).toBe(401);
        await t.call('PUT', '/api/config', { body: [people], headers: auth });
        await t.call('POST', '/api/pipes/people/pump', { body: { operation: 'disable' }, headers: auth });
        const log = (await t.call('GET', '/api/pipes/people/log', { headers: auth })).json;
        expect(log[0]).toMatchObject({ event_type: 'pump-disabled', user: { user_id: 'ada@example.com' } });
      } finally {
        await t.close();
      }
    }
  });
});

describe('metrics', () => {
  it('counts runs and entities, and reports pump lag and dataset sizes', async () => {
    api = await startTestApi();
    await api.call('PUT', '/api/config', { body: [people, names] });
    await runViaApi(api, 'people');
    await runViaApi(api, 'names');
    // A second app over another runtime in the same process has its own registry.
    other = await startTestApi();
    const res = await fetch(`${api.base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/sluice_pipe_runs_total\{pipe="people",status="completed"\} 1/);
    expect(text).toMatch(/sluice_pipe_entities_read_total\{pipe="names"\} 3/);
    expect(text).toMatch(/sluice_pipe_entities_written_total\{pipe="people"\} 3/);
    expect(text).toMatch(/sluice_pipe_entities_failed_total\{pipe="people"\} 0/);
    expect(text).toMatch(/sluice_pump_lag_seconds\{pipe="names"\} \d/);
    expect(text).toMatch(/sluice_dataset_versions\{dataset="people"\} 3/);
    expect(text).toMatch(/sluice_http_request_duration_seconds_count\{method="GET",route="\/api\/pipes\/:id\/pump",status="200"\} \d+/);
    const otherText = await (await fetch(`${other.base}/metrics`)).text();
    expect(otherText).not.toMatch(/sluice_pipe_runs_total\{/);
  });
});

describe('OpenAPI', () => {
  it('describes the registered routes as OpenAPI 3.1, with request and response schemas for every operation', async () => {
    api = await startTestApi();
    const r = await api.call('GET', '/api/openapi.json');
    expect(r.status).toBe(200);
    const doc = r.json;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBeTypeOf('string');
    for (const path of ['/api', '/api/config', '/api/pipes', '/api/pipes/{id}', '/api/pipes/{id}/pump', '/api/pipes/{id}/entities', '/api/datasets/{id}/entities', '/api/env', '/api/secrets/{key}', '/metrics']) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    const entities = doc.paths['/api/datasets/{id}/entities'].get;
    expect(entities.summary).toBeTypeOf('string');
    const params = Object.fromEntries(entities.parameters.map((p: { name: string; in: string; schema: { type: string } }) => [p.name, p]));
    expect(params.id).toMatchObject({ in: 'path', required: true });
    expect(params.limit).toMatchObject({ in: 'query', schema: { type: 'integer' } });
    expect(params.history).toMatchObject({ in: 'query', schema: { type: 'boolean', default: true } });
    expect(doc.paths['/api/pipes/{id}/pump'].post.requestBody.content).toHaveProperty(['application/x-www-form-urlencoded']);
    // Every path parameter is declared, and every operation has responses.
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { parameters: { name: string; in: string }[]; responses: object; operationId: string }>>)) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const op of Object.values(ops)) {
        for (const n of names) expect(op.parameters.some((p) => p.name === n && p.in === 'path'), `${path} ${n}`).toBe(true);
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
      }
    }
    // Every operation's success answer has a schema (or is documented as passed through), and its errors the error object.
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }>; requestBody?: { content: Record<string, { schema: object }> } }>>)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(documented(method, path), `${method} ${path}`).toBe(true);
        const ok = Object.entries(op.responses).filter(([status]) => status.startsWith('2'));
        expect(ok.length, `${method} ${path}`).toBeGreaterThan(0);
        expect(op.responses['404'].content!['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
        if (['post', 'put', 'patch'].includes(method) && !path.includes('/proxy/') && !['/api/pipes/run-all-pipes', '/api/pipes/stop-run-all-pipes', '/api/pipes/delete-all-sink-datasets', '/api/systems/{id}/reload'].includes(path)) {
          expect(op.requestBody, `${method} ${path}`).toBeDefined();
        }
      }
    }
    expect(doc.components.schemas.PipeConfig.properties).toHaveProperty('source');
    expect(doc.paths['/api/pipes/{id}/config'].put.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/PipeConfig' });
    const ids = Object.values(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('serves an interactive reference from local files, without a token', async () => {
    api = await startTestApi({ auth: { jwtSecret: secret } });
    const page = await fetch(`${api.base}/api/reference/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)[a-z0-9.-]+\/[^"']*\.(js|css)/i);
    const script = await fetch(`${api.base}/api/reference/static/swagger-ui-bundle.js`);
    expect(script.status).toBe(200);
    const spec = await fetch(`${api.base}/api/reference/json`);
    expect(((await spec.json()) as { openapi: string }).openapi).toBe('3.1.0');
    // The API itself still needs a token.
    expect((await fetch(`${api.base}/api/pipes`)).status).toBe(401);
    // The reference's own routes are not operations of the API.
    const doc = (await (await fetch(`${api.base}/api/reference/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.includes('reference'))).toEqual([]);
  });
});
