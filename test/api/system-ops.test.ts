import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { startTestApi, waitFor, type TestApi } from './support.js';

let api: TestApi;
let server: Server;
let port: number;
const seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];

beforeEach(async () => {
  seen.length = 0;
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.writeHead(req.url!.includes('missing') ? 404 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ echo: req.url, body }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterEach(async () => {
  await api?.close();
  await new Promise((r) => server.close(r));
});

const system = (headers: Record<string, string> = {}) => ({ _id: 'echo', type: 'system:url', url_pattern: `http://127.0.0.1:${port}/base/%s`, headers });

describe('system operations', () => {
  it('proxies requests with the system headers and its own secrets, and reports status and logs', async () => {
    api = await startTestApi();
    expect((await api.call('PUT', '/api/config', { body: [system()] })).status).toBe(200);
    // The system's own secret, then a config that uses it.
    expect((await api.call('PUT', '/api/systems/echo/secrets', { body: { token: 's3cret-value' } })).json).toEqual(['token']);
    expect((await api.call('PUT', '/api/config', { body: [system({ 'x-token': '$SECRET(token)' })] })).status).toBe(200);
    expect((await api.call('GET', '/api/systems/echo/secrets')).json).toEqual(['token']);

    const get = await api.call('GET', '/api/systems/echo/proxy/things/1?x=1', { headers: { authorization: 'Bearer not-for-the-system' } });
    expect(get.status).toBe(200);
    expect(get.json.echo).toBe('/base/things/1?x=1');
    expect(seen[0].headers['x-token']).toBe('s3cret-value');
    expect(seen[0].headers.authorization).toBeUndefined();

    const post = await api.call('POST', '/api/systems/echo/proxy/add', { raw: '{"a":1}', headers: { 'content-type': 'application/json' } });
    expect(post.json.body).toBe('{"a":1}');
    expect(seen[1].method).toBe('POST');
    expect((await api.call('DELETE', '/api/systems/echo/proxy/missing')).status).toBe(404);
    expect((await api.call('GET', '/api/systems/echo/proxy/http://elsewhere.example/')).status).toBe(400);

    const status = await api.call('GET', '/api/systems/echo/status');
    expect(status.json).toMatchObject({ _id: 'echo', type: 'system:url', state: 'ready', 'base-url': `http://127.0.0.1:${port}/base/`, requests: 3 });
    const logs = await api.call('GET', '/api/systems/echo/logs');
    expect(logs.headers.get('content-type')).toMatch(/text\/plain/);
    expect(logs.text).toMatch(/proxy GET \/things\/1 -> 200/);
    expect(logs.text).not.toContain('s3cret-value');
    expect((await api.call('GET', '/api/systems/echo/logs?since=not-a-date')).status).toBe(400);
    expect((await api.call('GET', `/api/systems/echo/logs?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).text).toBe('');

    const reload = await api.call('POST', '/api/systems/echo/reload');
    expect(reload.status).toBe(202);
    await waitFor(async () => (await api.call('GET', '/api/systems/echo/logs')).text.includes('reload'), 5000, 'the reload');

    expect((await api.call('POST', '/api/systems/echo/secrets', { body: { other: 'x' } })).json).toEqual(['other', 'token']);
    expect((await api.call('POST', '/api/systems/echo/secrets', { body: { bad: 1 } })).status).toBe(400);
    expect((await api.call('DELETE', '/api/systems/echo/secrets/other')).json).toEqual(['token']);
    expect((await api.call('DELETE', '/api/systems/echo/secrets/other')).status).toBe(404);

    for (const path of ['/status', '/logs', '/secrets']) expect((await api.call('GET', `/api/systems/nope${path}`)).status).toBe(404);
    expect((await api.call('POST', '/api/systems/nope/reload')).status).toBe(404);
  });
});
