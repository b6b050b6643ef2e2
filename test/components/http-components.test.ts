/**
 * The HTTP components (url system, json and csv sources, json sink, http transform) against real
 * HTTP servers started here, and two Sluice runtimes talking to each other through their APIs.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { startApi } from '../../runtime/api/app.js';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';
import type { StoredEntity } from '../../runtime/store/contract.js';
import { retryStrategyFor, UrlClient } from '../../runtime/components/systems/url.js';
import { entitiesToFiles, type ConfigEntity } from '../../runtime/service/config-files.js';
import { collect, configure, openRuntime, quietLogger } from '../support/runtime.js';

// A self-signed certificate for localhost / 127.0.0.1 (valid until 2126), for the TLS tests.
const TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWixjYAYIya/q+P6v
puKNfJCCdErZ4EDhzmV4Icg/DIahRANCAAT3Plg610vSG3qt2yBNZhd9wc74Bqu2
TFHgEd/qy87Eg2lpvObYLUIpCWbEYv/qRvrp/taVTHQaSojL2+oZy93b
-----END PRIVATE KEY-----
`;
const TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBmjCCAUGgAwIBAgIUFxuaXl+dQZrm/sqBejAD2Sx4KVEwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyODA1NTEwMFoYDzIxMjYxMTA0
MDU1MTAwWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAT3Plg610vSG3qt2yBNZhd9wc74Bqu2TFHgEd/qy87Eg2lpvObYLUIp
CWbEYv/qRvrp/taVTHQaSojL2+oZy93bo28wbTAdBgNVHQ4EFgQUUacdZTZrug/X
vNjW/U0UUQv04MAwHwYDVR0jBBgwFoAUUacdZTZrug/XvNjW/U0UUQv04MAwGgYD
VR0RBBMwEYIJbG9jYWxob3N0hwR/AAABMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZI
zj0EAwIDRwAwRAIgLJQ4cHZMxEH4pdSMGSB4lr6Mayx1ZyHbd6PgA51HXLECIEGB
qCYOd6k5zjFKQFCEf1DO1x6M83nVmZmJDkuYNVMT
-----END CERTIFICATE-----
`;

// ------------------------------------------------------------------ helpers

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Handler = (req: Seen, res: http.ServerResponse) => unknown;

interface TestServer {
  base: string;
  port: number;
  seen: Seen[];
  close(): Promise<void>;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function serve(handler: Handler, opts: { tls?: boolean } = {}): Promise<TestServer> {
  const seen: Seen[] = [];
  const onRequest = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const u = new URL(req.url ?? '/', 'http://x');
    const s: Seen = { method: req.method ?? 'GET', path: u.pathname, query: u.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    seen.push(s);
    try {
      await handler(s, res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(err));
    }
  };
  const server = opts.tls ? https.createServer({ key: TLS_KEY, cert: TLS_CERT }, onRequest) : http.createServer(onRequest);
  const port = await listen(server);
  const t: TestServer = {
    base: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  cleanups.push(t.close);
  return t;
}

function reply(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

async function runtime(): Promise<SluiceRuntime> {
  const rt = await openRuntime();
  cleanups.push(() => rt.close());
  return rt;
}

const urlSystem = (id: string, base: string, extra: Record<string, unknown> = {}) => ({ _id: id, type: 'system:url', url_pattern: `${base}/%s`, ...extra });

async function latest(rt: SluiceRuntime, dataset: string): Promise<StoredEntity[]> {
  return collect(rt.store.scan(dataset, { history: false }));
}

async function ids(rt: SluiceRuntime, dataset: string): Promise<string[]> {
  return (await latest(rt, dataset)).filter((e) => !e._deleted).map((e) => e._id);
}

const letters = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ _id: String.fromCharCode(97 + from + i), _updated: from + i, n: from + i }));

// ------------------------------------------------------------------ url system

describe('url system', () => {
  it('resolves component URLs with url_pattern and base_url', () => {
    const pattern = new UrlClient({ id: 's', config: { url_pattern: 'http://h:1/api/%s/all' } });
    expect(pattern.resolve('people')).toBe('http://h:1/api/people/all');
    expect(pattern.resolve('https://other/x')).toBe('https://other/x');
    expect(new UrlClient({ id: 's', config: { url_pattern: 'http://h/api/' } }).resolve('x?y=1')).toBe('http://h/api/x?y=1');
    const base = new UrlClient({ id: 's', config: { base_url: 'http://h/files/' } });
    expect(base.resolve('a.csv')).toBe('http://h/files/a.csv');
    expect(base.resolve('/root.csv')).toBe('http://h/root.csv');
    expect(new UrlClient({ id: 's', config: { base_url: 'http://h/files' } }).resolve('a.csv')).toBe('http://h/a.csv');
  });

  it('picks retry settings per status code from retry_strategy', () => {
    const strategy = { '400-428': { max_read_retries: 0 }, '429': { read_retry_delay: 30 }, '500,502,504': { max_read_retries: 5 }, default: { max_read_retries: 1 } };
    expect(retryStrategyFor(strategy, 404)).toEqual({ max_read_retries: 0 });
    expect(retryStrategyFor(strategy, 429)).toEqual({ read_retry_delay: 30 });
    expect(retryStrategyFor(strategy, 502)).toEqual({ max_read_retries: 5 });
    expect(retryStrategyFor(strategy, 503)).toEqual({ max_read_retries: 1 });
    expect(retryStrategyFor(strategy, 0)).toEqual({ max_read_retries: 1 });
    expect(retryStrategyFor(undefined, 500)).toBeUndefined();
  });

  it('refuses settings it cannot honour with clear errors', async () => {
    const rt = await runtime();
    const pipe = (id: string, system: string) => ({ _id: id, type: 'pipe', source: { type: 'json', system, url: 'x' } });
    await configure(rt, [
      urlSystem('ntlm', 'http://127.0.0.1:9', { authentication: 'ntlm', username: 'u', password: 'p' }),
      urlSystem('both', 'http://127.0.0.1:9', { authentication: 'jwt', jwt_token: 't', oauth2: { client_id: 'a', client_secret: 'b', token_url: 'http://127.0.0.1:9/t' } }),
      urlSystem('nojwt', 'http://127.0.0.1:9', { authentication: 'jwt' }),
      pipe('p1', 'ntlm'),
      pipe('p2', 'both'),
      pipe('p3', 'nojwt'),
    ]);
    await expect(rt.runPipe('p1')).rejects.toThrow(/pipe "p1": the json source: system "ntlm": NTLM authentication is not supported/);
    await expect(rt.runPipe('p2')).rejects.toThrow(/"oauth2" cannot be combined with JWT/);
    await expect(rt.runPipe('p3')).rejects.toThrow(/JWT authentication needs "jwt_token"/);
    // A secret that is not set fails the first request, not the client (nor the pipes using it).
    const unset = new UrlClient({ id: 's', config: { url_pattern: 'http://h/%s', headers: { 'x-key': '$SECRET(missing-key)' } } });
    await expect(unset.request({ url: 'x' })).rejects.toMatchObject({ code: 'HTTP_SECRET_UNSET', message: expect.stringContaining('system "s" needs the secret "missing-key", which is not set') });
    expect(() => new UrlClient({ id: 's', config: { url_pattern: 'http://h/%s', proxies: { http: 'ftp://p:1' } } })).toThrow('system "s": the proxy for "http" has the unsupported scheme "ftp:" (use http, https or socks5)');
  });

  it('sends basic credentials, JWT bearer tokens and default headers', async () => {
    const server = await serve((_req, res) => reply(res, 200, [{ _id: 'x' }]));
    const rt = await runtime();
    await configure(rt, [
      urlSystem('basic', server.base, { authentication: 'basic', username: 'ann', password: 'pä ss', headers: { 'X-System': 'sys', 'X-Both': 'from-system' } }),
      urlSystem('jwt', server.base, { authentication: 'jwt', jwt_token: 'header.payload.sig', headers: { Authorization: 'overwritten' } }),
      urlSystem('plain', server.base, { username: 'ignored', password: 'without-authentication' }),
      { _id: 'p-basic', type: 'pipe', source: { type: 'json', system: 'basic', url: 'b', headers: { 'x-both': 'from-source' } } },
      { _id: 'p-jwt', type: 'pipe', source: { type: 'json', system: 'jwt', url: 'j' } },
      { _id: 'p-plain', type: 'pipe', source: { type: 'json', system: 'plain', url: 'p' } },
    ]);
    for (const p of ['p-basic', 'p-jwt', 'p-plain']) expect(await rt.runPipe(p)).toMatchObject({ status: 'completed', read: 1 });
    const by = (path: string) => server.seen.find((s) => s.path === path)!.headers;
    expect(by('/b').authorization).toBe(`Basic ${Buffer.from('ann:pä ss').toString('base64')}`);
    expect(by('/b')['x-system']).toBe('sys');
    expect(by('/b')['x-both']).toBe('from-source');
    expect(by('/j').authorization).toBe('Bearer header.payload.sig');
    expect(by('/p').authorization).toBeUndefined();
  });

  it('gets OAuth2 client-credentials tokens, caches them, and renews them on 401', async () => {
    let issued = 0;
    let valid = new Set<string>();
    const server = await serve((req, res) => {
      if (req.path === '/token') {
        const token = `tok-${++issued}`;
        valid = new Set([token]);
        return reply(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
      }
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!valid.has(token)) return reply(res, 401, { error: 'invalid token' });
      return reply(res, 200, [{ _id: 'x', token }]);
    });
    const rt = await runtime();
    await configure(rt, [
      urlSystem('api', server.base, { oauth2: { client_id: 'my client', client_secret: 's3cret', token_url: `${server.base}/token`, scope: ['read', 'write'], extra: { audience: 'sluice' } } }),
      { _id: 'pull', type: 'pipe', source: { type: 'json', system: 'api', url: 'things' } },
    ]);
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 1 });
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 1 });
    const tokenRequests = server.seen.filter((s) => s.path === '/token');
    expect(tokenRequests).toHaveLength(1);
    const form = new URLSearchParams(tokenRequests[0].body);
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('scope')).toBe('read write');
    expect(form.get('audience')).toBe('sluice');
    expect(tokenRequests[0].headers.authorization).toBe(`Basic ${Buffer.from('my%20client:s3cret').toString('base64')}`);
    // The provider revokes the token: the next request gets 401, a new token, and succeeds.
    valid = new Set();
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 1 });
    expect(server.seen.filter((s) => s.path === '/token')).toHaveLength(2);
    expect((await rt.store.get('pull', 'x'))!.token).toBe('tok-2');
  });

  it('renews OAuth2 tokens that expire within refresh_window, and falls back to credentials in the body', async () => {
    let issued = 0;
    const server = await serve((req, res) => {
      if (req.path === '/token') {
        // This provider only takes the client credentials as form fields.
        const form = new URLSearchParams(req.body);
        if (req.headers.authorization || form.get('client_secret') !== 'sec') return reply(res, 401, { error: 'invalid_client' });
        return reply(res, 200, { access_token: `t${++issued}`, expires_in: 20 });
      }
      return reply(res, req.headers.authorization === `Bearer t${issued}` ? 200 : 401, [{ _id: 'x' }]);
    });
    const rt = await runtime();
    await configure(rt, [
      urlSystem('api', server.base, { oauth2: { client_id: 'id', client_secret: 'sec', token_url: `${server.base}/token` } }),
      { _id: 'pull', type: 'pipe', source: { type: 'json', system: 'api', url: 'things' } },
    ]);
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed' });
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed' });
    // 20 s tokens are inside the default 30 s refresh window: every request renews.
    expect(issued).toBe(2);
  });

  it('uses the OAuth2 refresh token grant', async () => {
    const server = await serve((req, res) => {
      if (req.path === '/token') {
        const form = new URLSearchParams(req.body);
        if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== 'r1') return reply(res, 400, { error: 'invalid_grant' });
        return reply(res, 200, { access_token: 'fresh', refresh_token: 'r2', expires_in: 3600 });
      }
      return req.headers.authorization === 'Bearer fresh' ? reply(res, 200, [{ _id: 'ok' }]) : reply(res, 401, { error: 'expired' });
    });
    const rt = await runtime();
    await configure(rt, [
      urlSystem('api', server.base, { oauth2: { client_id: 'id', client_secret: 'sec', token_url: `${server.base}/token`, access_token: 'stale', refresh_token: 'r1' } }),
      { _id: 'pull', type: 'pipe', source: { type: 'json', system: 'api', url: 'things' } },
    ]);
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 1 });
    expect(server.seen.map((s) => `${s.path} ${s.headers.authorization ?? ''}`.trim())).toEqual(['/things Bearer stale', '/token Basic aWQ6c2Vj', '/things Bearer fresh']);
  });

  it('fails clearly when the OAuth2 token endpoint refuses', async () => {
    const server = await serve((req, res) => (req.path === '/token' ? reply(res, 400, { error: 'invalid_client' }) : reply(res, 200, [])));
    const rt = await runtime();
    await configure(rt, [
      urlSystem('api', server.base, { oauth2: { client_id: 'id', client_secret: 'bad', token_url: `${server.base}/token` } }),
      { _id: 'pull', type: 'pipe', source: { type: 'json', system: 'api', url: 'things' } },
    ]);
    const r = await rt.runPipe('pull');
    expect(r.status).toBe('failed');
    expect(r.error).toContain(`the OAuth2 token endpoint ${server.base}/token refused the client_credentials grant with 400`);
    expect(r.error).toContain('invalid_client');
  });

  it('answers HTTP digest challenges', async () => {
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    let challenges = 0;
    const server = await serve((req, res) => {
      const h = req.headers.authorization ?? '';
      const p = Object.fromEntries([...h.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)].map((m) => [m[1], m[2] ?? m[3]]));
      const expected = md5(`${md5('dora:test:pw')}:n0nce:${p.nc}:${p.cnonce}:auth:${md5(`${req.method}:${p.uri}`)}`);
      if (!h.startsWith('Digest ') || p.response !== expected || p.uri !== '/d?x=1' || p.opaque !== 'op') {
        challenges++;
        res.writeHead(401, { 'www-authenticate': 'Digest realm="test", nonce="n0nce", qop="auth", algorithm=MD5, opaque="op"' });
        return res.end();
      }
      reply(res, 200, [{ _id: 'd' }]);
    });
    const rt = await runtime();
    await configure(rt, [urlSystem('dig', server.base, { authentication: 'digest', username: 'dora', password: 'pw' }), { _id: 'pull', type: 'pipe', source: { type: 'json', system: 'dig', url: 'd?x=1' } }]);
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 1 });
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 1 });
    // The challenge is answered once and reused afterwards.
    expect(challenges).toBe(1);
    expect(server.seen).toHaveLength(3);
  });

  it('creates and uses Tripletex session tokens', async () => {
    const server = await serve((req, res) => {
      if (req.path === '/token') {
        expect(req.method).toBe('PUT');
        expect(req.query.get('consumerToken')).toBe('ct');
        expect(req.query.get('employeeToken')).toBe('et');
        expect(req.query.get('expirationDate')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        return reply(res, 200, { value: { token: 'session' } });
      }
      return reply(res, req.headers.authorization === `Basic ${Buffer.from('0:session').toString('base64')}` ? 200 : 401, [{ _id: 't' }]);
    });
    const rt = await runtime();
    await configure(rt, [
      urlSystem('tt', server.base, { authentication: 'tripletex', tripletex: { consumer_token: 'ct', employee_token: 'et', token_url: `${server.base}/token` } }),
      { _id: 'pull', type: 'pipe', source: { type: 'json', system: 'tt', url: 'v2/x' } },
    ]);
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 1 });
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 1 });
    expect(server.seen.filter((s) => s.path === '/token')).toHaveLength(1);
  });

  it('honours verify_ssl and custom_ca_pem_chain', async () => {
    const server = await serve((_req, res) => reply(res, 200, [{ _id: 'secure' }]), { tls: true });
    const rt = await runtime();
    await configure(rt, [
      urlSystem('lax', server.base),
      urlSystem('strict', server.base, { verify_ssl: true }),
      urlSystem('pinned', `https://localhost:${server.port}`, { verify_ssl: true, custom_ca_pem_chain: TLS_CERT }),
      { _id: 'p-lax', type: 'pipe', source: { type: 'json', system: 'lax', url: 'x' } },
      { _id: 'p-strict', type: 'pipe', source: { type: 'json', system: 'strict', url: 'x' } },
      { _id: 'p-pinned', type: 'pipe', source: { type: 'json', system: 'pinned', url: 'x' } },
    ]);
    expect(await rt.runPipe('p-lax')).toMatchObject({ status: 'completed', read: 1 });
    const strict = await rt.runPipe('p-strict');
    expect(strict.status).toBe('failed');
    expect(strict.error).toMatch(/the server's TLS certificate was not accepted .*custom_ca_pem_chain or verify_ssl=false on system "strict"/);
    expect(await rt.runPipe('p-pinned')).toMatchObject({ status: 'completed', read: 1 });
  });

  it('times out slow servers after read_timeout with a clear error', async () => {
    // The server never answers: only the client's read_timeout can end the request.
    const server = await serve(async (_req, res) => {
      await new Promise((r) => res.once('close', r));
    });
    const rt = await runtime();
    await configure(rt, [urlSystem('slow', server.base, { read_timeout: 1 }), { _id: 'pull', type: 'pipe', source: { type: 'json', system: 'slow', url: 'x' } }]);
    const r = await rt.runPipe('pull');
    expect(r.status).toBe('failed');
    expect(r.error).toBe(`pipe "pull": the json source: GET ${server.base}/x timed out: no response within 1 s (the system's read_timeout)`);
  });

  it('fails clearly when nothing listens', async () => {
    const server = await serve((_req, res) => reply(res, 200, []));
    await server.close();
    const rt = await runtime();
    await configure(rt, [urlSystem('gone', server.base), { _id: 'pull', type: 'pipe', source: { type: 'json', system: 'gone', url: 'x' } }]);
    const r = await rt.runPipe('pull');
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(new RegExp(`^pipe "pull": the json source: GET ${server.base}/x failed: .*ECONNREFUSED`));
  });

  it('goes through HTTP (CONNECT) and SOCKS5 proxies', async () => {
    const target = await serve((_req, res) => reply(res, 200, [{ _id: 'via-proxy' }]));
    // An HTTP proxy that tunnels with CONNECT and wants credentials.
    let connects = 0;
    let proxyAuth: string | undefined;
    const httpProxy = http.createServer();
    const tunnels = new Set<net.Socket>();
    httpProxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      connects++;
      tunnels.add(client);
      proxyAuth = req.headers['proxy-authorization'];
      const [host, port] = (req.url ?? '').split(':');
      const upstream = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    const httpProxyPort = await listen(httpProxy);
    cleanups.push(
      () =>
        new Promise((r) => {
          for (const t of tunnels) t.destroy();
          httpProxy.closeAllConnections();
          httpProxy.close(r);
        }),
    );
    // A SOCKS5 proxy with username/password authentication.
    let socksUser = '';
    const sockets = new Set<net.Socket>();
    const socks = net.createServer((c) => {
      sockets.add(c);
      c.on('error', () => undefined);
      c.once('data', (greeting: Buffer) => {
        c.write(Buffer.from([5, greeting.subarray(2).includes(2) ? 2 : 0xff]));
        c.once('data', (auth: Buffer) => {
          const ulen = auth[1];
          socksUser = `${auth.subarray(2, 2 + ulen).toString()}:${auth.subarray(3 + ulen, 3 + ulen + auth[2 + ulen]).toString()}`;
          c.write(Buffer.from([1, 0]));
          c.once('data', (req: Buffer) => {
            const host = req[3] === 1 ? [...req.subarray(4, 8)].join('.') : req.subarray(5, 5 + req[4]).toString();
            const port = req.readUInt16BE(req[3] === 1 ? 8 : 5 + req[4]);
            const upstream = net.connect(port, host, () => {
              c.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
              upstream.pipe(c);
              c.pipe(upstream);
            });
            sockets.add(upstream);
            upstream.on('error', () => c.destroy());
          });
        });
      });
    });
    const socksPort = await listen(socks);
    cleanups.push(
      () =>
        new Promise((r) => {
          for (const s of sockets) s.destroy();
          socks.close(r);
        }),
    );

    const rt = await runtime();
    await configure(rt, [
      urlSystem('via-http', target.base, { proxies: { http: `http://user:p%40ss@127.0.0.1:${httpProxyPort}` } }),
      urlSystem('via-socks', target.base, { proxies: { http: `socks5://sock:pw@127.0.0.1:${socksPort}` } }),
      urlSystem('bad-proxy', target.base, { proxies: { http: `socks5://127.0.0.1:${target.port}` } }),
      { _id: 'p-http', type: 'pipe', source: { type: 'json', system: 'via-http', url: 'x' } },
      { _id: 'p-socks', type: 'pipe', source: { type: 'json', system: 'via-socks', url: 'x' } },
      { _id: 'p-bad', type: 'pipe', source: { type: 'json', system: 'bad-proxy', url: 'x' } },
    ]);
    expect(await rt.runPipe('p-http')).toMatchObject({ status: 'completed', read: 1 });
    expect(connects).toBe(1);
    expect(proxyAuth).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
    expect(await rt.runPipe('p-socks')).toMatchObject({ status: 'completed', read: 1 });
    expect(socksUser).toBe('sock:pw');
    expect(target.seen).toHaveLength(2);
    // An HTTP server is no SOCKS proxy.
    const bad = await rt.runPipe('p-bad');
    expect(bad.status).toBe('failed');
    expect(bad.error).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/x failed: /);
  });
});

// ------------------------------------------------------------------ json source

/** A JSON pull endpoint over `entities` (with `_updated`), honouring since and limit. */
function pullEndpoint(data: { entities: Record<string, unknown>[]; generation?: string }): Handler {
  return (req, res) => {
    const since = req.query.get('since');
    const limit = req.query.get('limit');
    let out = data.entities.filter((e) => since === null || (e._updated as number) > Number(since));
    if (limit !== null) out = out.slice(0, Number(limit));
    const max = data.entities.reduce((m, e) => Math.max(m, e._updated as number), -1);
    reply(res, 200, out, { 'X-Dataset-Max-Updated': JSON.stringify(max), 'X-Dataset-Populated': 'true', ...(data.generation ? { 'X-Dataset-Generation': data.generation } : {}) });
  };
}

describe('json source', () => {
  it('continues from the _updated value of the last entity across runs', async () => {
    const data = { entities: letters(3), generation: 'g1' };
    const server = await serve(pullEndpoint(data));
    const rt = await runtime();
    await configure(rt, [urlSystem('remote', server.base), { _id: 'pull', type: 'pipe', source: { type: 'json', system: 'remote', url: 'entities', supports_since: true } }]);
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', syncType: 'full', read: 3, written: 3 });
    expect(server.seen[0].query.has('since')).toBe(false);
    expect((await rt.store.getPipeState('pull'))!.last_seen).toBe(2);
    // Nothing new.
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', syncType: 'incremental', read: 0 });
    expect(server.seen[1].query.get('since')).toBe('2');
    // Two new entities and a changed one arrive.
    data.entities.push(...letters(2, 3), { _id: 'a', _updated: 5, n: 100 });
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', syncType: 'incremental', read: 3, written: 3 });
    expect(server.seen[2].query.get('since')).toBe('2');
    expect((await rt.store.getPipeState('pull'))!.last_seen).toBe(5);
    expect((await rt.store.get('pull', 'a'))!.n).toBe(100);
    expect(await ids(rt, 'pull')).toEqual(['b', 'c', 'd', 'e', 'a']);
  });

  it('reads everything again when the remote dataset was recreated (X-Dataset-Generation)', async () => {
    const data = { entities: letters(3), generation: 'g1' };
    const server = await serve(pullEndpoint(data));
    const rt = await runtime();
    await configure(rt, [urlSystem('remote', server.base), { _id: 'pull', type: 'pipe', source: { type: 'json', system: 'remote', url: 'entities', supports_since: true } }]);
    await rt.runPipe('pull');
    data.entities = letters(2);
    data.generation = 'g2';
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 2 });
    expect(server.seen.map((s) => s.query.get('since'))).toEqual([null, '2', null]);
  });

  it('pages with limit when page_size is set on a chronological source', async () => {
    const data = { entities: letters(5) };
    const server = await serve(pullEndpoint(data));
    const rt = await runtime();
    await configure(rt, [
      urlSystem('remote', server.base),
      { _id: 'pull', type: 'pipe', batch_size: 2, source: { type: 'json', system: 'remote', url: 'entities', supports_since: true, is_chronological: true, page_size: 2 } },
    ]);
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 5, written: 5 });
    expect(server.seen.map((s) => `${s.query.get('since')}/${s.query.get('limit')}`)).toEqual(['null/2', '1/2', '3/2']);
    expect((await rt.store.getPipeState('pull'))!.last_seen).toBe(4);
    expect(await ids(rt, 'pull')).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('reads NDJSON, a single object, and keeps big integers and transit values exact', async () => {
    const server = await serve((req, res) => {
      if (req.path === '/nd') {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        return res.end('{"_id":"n1","big":12345678901234567890}\n\n{"_id":"n2","when":"~t2024-01-02T03:04:05Z"}\n');
      }
      reply(res, 200, '{"_id":"one","list":[1,{"deep":"[}\\"]"}]}');
    });
    const rt = await runtime();
    await configure(rt, [
      urlSystem('remote', server.base),
      { _id: 'nd', type: 'pipe', source: { type: 'json', system: 'remote', url: 'nd' } },
      { _id: 'single', type: 'pipe', source: { type: 'json', system: 'remote', url: 'one' } },
    ]);
    expect(await rt.runPipe('nd')).toMatchObject({ status: 'completed', read: 2 });
    expect((await rt.store.get('nd', 'n1'))!.big).toBe(12345678901234567890n);
    expect(((await rt.store.get('nd', 'n2'))!.when as object).constructor.name).toBe('DateTime');
    expect(await rt.runPipe('single')).toMatchObject({ status: 'completed', read: 1 });
    expect((await rt.store.get('single', 'one'))!.list).toEqual([1, { deep: '[}"]' }]);
  });

  it('fails with clear errors on malformed responses and error statuses', async () => {
    const server = await serve((req, res) => {
      if (req.path === '/broken') return reply(res, 200, '[{"_id":"a"},{"_id":"b",]');
      if (req.path === '/scalar') return reply(res, 200, '[{"_id":"a"}, 7]');
      if (req.path === '/cut') return reply(res, 200, '[{"_id":"a"}');
      if (req.path === '/empty') return reply(res, 200, '');
      if (req.path === '/latin') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(Buffer.from([0x5b, 0x7b, 0x22, 0x5f, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xe6, 0x22, 0x7d, 0x5d]));
      }
      reply(res, 404, { error: 'no such thing' });
    });
    const rt = await runtime();
    const paths = ['broken', 'scalar', 'cut', 'empty', 'latin', 'missing'];
    await configure(rt, [urlSystem('remote', server.base), ...paths.map((p) => ({ _id: p, type: 'pipe', source: { type: 'json', system: 'remote', url: p } }))]);
    const errors: Record<string, string | undefined> = {};
    for (const p of paths) {
      const r = await rt.runPipe(p);
      expect(r.status).toBe('failed');
      errors[p] = r.error;
    }
    expect(errors.broken).toBe(`pipe "broken": the json source: entity 2 in the response of GET ${server.base}/broken is not valid JSON: ${errors.broken!.split('is not valid JSON: ')[1]}`);
    expect(errors.scalar).toBe(`pipe "scalar": the json source: the response of GET ${server.base}/scalar is malformed: item 2 of the array is not a JSON object (an entity) (at character 15)`);
    expect(errors.cut).toContain('is malformed: the response ended before the closing "]" of the array');
    expect(errors.empty).toContain('is malformed: the response is empty; expected a JSON array of entities');
    expect(errors.latin).toBe(`pipe "latin": the json source: the response of GET ${server.base}/latin is not valid UTF-8`);
    expect(errors.missing).toBe(`pipe "missing": the json source: GET ${server.base}/missing answered 404 Not Found: {"error":"no such thing"}`);
    // Nothing was written by the failed runs.
    expect(await rt.store.datasetInfo('broken').then((i) => i?.entityCount ?? 0)).toBe(0);
  });

  it('retries reads after a 503 as the pump (or the system retry_strategy) allows', async () => {
    let failuresLeft = 0;
    const server = await serve((_req, res) => {
      if (failuresLeft > 0) {
        failuresLeft--;
        return reply(res, 503, { error: 'busy' });
      }
      reply(res, 200, [{ _id: 'x' }]);
    });
    const rt = await runtime();
    await configure(rt, [
      urlSystem('remote', server.base),
      urlSystem('strategic', server.base, { retry_strategy: { '503': { max_read_retries: 2, read_retry_delay: 0 } } }),
      { _id: 'no-retry', type: 'pipe', source: { type: 'json', system: 'remote', url: 'x' } },
      { _id: 'pump-retry', type: 'pipe', source: { type: 'json', system: 'remote', url: 'x' }, pump: { max_read_retries: 2, read_retry_delay: 0 } },
      { _id: 'strategy-retry', type: 'pipe', source: { type: 'json', system: 'strategic', url: 'x' } },
      { _id: 'pump-wins', type: 'pipe', source: { type: 'json', system: 'strategic', url: 'x' }, pump: { max_read_retries: 0 } },
    ]);
    failuresLeft = 1;
    const none = await rt.runPipe('no-retry');
    expect(none.status).toBe('failed');
    expect(none.error).toBe(`pipe "no-retry": the json source: GET ${server.base}/x answered 503 Service Unavailable: {"error":"busy"}`);
    failuresLeft = 2;
    expect(await rt.runPipe('pump-retry')).toMatchObject({ status: 'completed', read: 1 });
    failuresLeft = 2;
    expect(await rt.runPipe('strategy-retry')).toMatchObject({ status: 'completed', read: 1 });
    failuresLeft = 1;
    expect(await rt.runPipe('pump-wins')).toMatchObject({ status: 'failed' });
  });

  it('fails an empty full read when if_source_empty is "fail"', async () => {
    const server = await serve((_req, res) => reply(res, 200, []));
    const rt = await runtime();
    await configure(rt, [
      urlSystem('remote', server.base),
      { _id: 'strict', type: 'pipe', source: { type: 'json', system: 'remote', url: 'x', if_source_empty: 'fail' } },
      { _id: 'lenient', type: 'pipe', source: { type: 'json', system: 'remote', url: 'x' } },
    ]);
    const r = await rt.runPipe('strict');
    expect(r).toMatchObject({ status: 'failed', error: `pipe "strict": the json source: GET ${server.base}/x returned no entities and if_source_empty is "fail"` });
    expect(await rt.runPipe('lenient')).toMatchObject({ status: 'completed', read: 0 });
  });
});

// ------------------------------------------------------------------ csv source

function csvServer(files: Record<string, string | Buffer>) {
  return serve((req, res) => {
    const f = files[req.path.slice(1)];
    if (f === undefined) return reply(res, 404, { error: 'no file' });
    res.writeHead(200, { 'content-type': 'text/csv' });
    res.end(f);
  });
}

describe('csv source', () => {
  it('parses quotes, embedded newlines, doubled quotes and empty values', async () => {
    const server = await csvServer({
      'people.csv': 'id,name,note,empty\r\n1,Ann,"likes ""quotes"", commas",\r\n2,"Bob\nSmith","multi\r\nline",\r\n\r\n3,Cy,,x\r\n4,Dee,"trailing',
    });
    const rt = await runtime();
    await configure(rt, [
      urlSystem('files', server.base),
      { _id: 'people', type: 'pipe', source: { type: 'csv', system: 'files', url: 'people.csv', primary_key: 'id' } },
      { _id: 'kept', type: 'pipe', source: { type: 'csv', system: 'files', url: 'people.csv', primary_key: 'id', preserve_empty_strings: true, whitelist: ['id', 'note', 'empty'], blacklist: ['note'] } },
    ]);
    // The last row's quote never closes: a clear error, nothing written.
    const failed = await rt.runPipe('people');
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe(`pipe "people": the csv source: ${server.base}/people.csv: a quoted field that starts on line 8 is never closed (the data ends inside it)`);
    const fixed = await csvServer({ 'people.csv': 'id,name,note,empty\r\n1,Ann,"likes ""quotes"", commas",\r\n2,"Bob\nSmith","multi\r\nline",\r\n\r\n3,Cy,,x\r\n' });
    await configure(rt, [
      urlSystem('files', fixed.base),
      { _id: 'people', type: 'pipe', source: { type: 'csv', system: 'files', url: 'people.csv', primary_key: 'id' } },
      { _id: 'kept', type: 'pipe', source: { type: 'csv', system: 'files', url: 'people.csv', primary_key: 'id', preserve_empty_strings: true, whitelist: ['id', 'note', 'empty'], blacklist: ['note'] } },
    ]);
    expect(await rt.runPipe('people')).toMatchObject({ status: 'completed', read: 3 });
    const people = (await latest(rt, 'people')).map(({ _id, id, name, note, empty }) => ({ _id, id, name, note, empty }));
    expect(people).toEqual([
      { _id: '1', id: '1', name: 'Ann', note: 'likes "quotes", commas', empty: undefined },
      { _id: '2', id: '2', name: 'Bob\nSmith', note: 'multi\r\nline', empty: undefined },
      { _id: '3', id: '3', name: 'Cy', note: undefined, empty: 'x' },
    ]);
    expect(await rt.runPipe('kept')).toMatchObject({ status: 'completed', read: 3 });
    const kept = (await latest(rt, 'kept')).map(({ _id, id, name, note, empty }) => ({ _id, id, name, note, empty }));
    expect(kept).toEqual([
      { _id: '1', id: '1', name: undefined, note: undefined, empty: '' },
      { _id: '2', id: '2', name: undefined, note: undefined, empty: '' },
      { _id: '3', id: '3', name: undefined, note: undefined, empty: 'x' },
    ]);
  });

  it('guesses the dialect, honours delimiter, dialect, field_names and compound keys', async () => {
    const server = await csvServer({
      'semi.csv': 'country;code;region\nNorway;NO;"Europe; North"\nKenya;KE;Africa\n',
      'tabs.tsv': 'a\tb\n1\tx y\n',
      'pipes.txt': 'k|v\n1|one\n',
      'nohead.csv': '1,2,x\n1,3,y\n',
    });
    const rt = await runtime();
    await configure(rt, [
      urlSystem('files', server.base),
      { _id: 'semi', type: 'pipe', source: { type: 'csv', system: 'files', url: 'semi.csv', primary_key: 'code' } },
      { _id: 'tabs', type: 'pipe', source: { type: 'csv', system: 'files', url: 'tabs.tsv', primary_key: 'a', dialect: 'excel_tab' } },
      { _id: 'pipes', type: 'pipe', source: { type: 'csv', system: 'files', url: 'pipes.txt', primary_key: 'k', delimiter: '|', auto_dialect: false } },
      { _id: 'nohead', type: 'pipe', source: { type: 'csv', system: 'files', url: 'nohead.csv', has_header: false, field_names: ['a', 'b', 'c'], primary_key: ['a', 'b'] } },
    ]);
    for (const p of ['semi', 'tabs', 'pipes', 'nohead']) expect(await rt.runPipe(p)).toMatchObject({ status: 'completed' });
    expect((await rt.store.get('semi', 'NO'))).toMatchObject({ country: 'Norway', region: 'Europe; North' });
    expect((await rt.store.get('tabs', '1'))).toMatchObject({ b: 'x y' });
    expect((await rt.store.get('pipes', '1'))).toMatchObject({ v: 'one' });
    expect(await ids(rt, 'nohead')).toEqual(['1-2', '1-3']);
    expect((await rt.store.get('nohead', '1-3'))).toMatchObject({ a: '1', b: '3', c: 'y' });
  });

  it('decodes the encoding and reports undecodable data', async () => {
    const latin = Buffer.from('id,name\n1,Bj\xf8rn\n', 'latin1');
    const server = await csvServer({ 'latin.csv': latin, 'bom.csv': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('id,navn\n1,Åse\n')]) });
    const rt = await runtime();
    await configure(rt, [
      urlSystem('files', server.base),
      { _id: 'latin', type: 'pipe', source: { type: 'csv', system: 'files', url: 'latin.csv', primary_key: 'id', encoding: 'iso-8859-1' } },
      { _id: 'as-utf8', type: 'pipe', source: { type: 'csv', system: 'files', url: 'latin.csv', primary_key: 'id' } },
      { _id: 'replaced', type: 'pipe', source: { type: 'csv', system: 'files', url: 'latin.csv', primary_key: 'id', decode_error_strategy: 'replace' } },
      { _id: 'bom', type: 'pipe', source: { type: 'csv', system: 'files', url: 'bom.csv', primary_key: 'id' } },
      { _id: 'cp', type: 'pipe', source: { type: 'csv', system: 'files', url: 'latin.csv', primary_key: 'id', encoding: 'cp1252' } },
    ]);
    expect(await rt.runPipe('latin')).toMatchObject({ status: 'completed' });
    expect((await rt.store.get('latin', '1'))!.name).toBe('Bjørn');
    const strict = await rt.runPipe('as-utf8');
    expect(strict.status).toBe('failed');
    expect(strict.error).toBe(`pipe "as-utf8": the csv source: ${server.base}/latin.csv: the data is not valid UTF-8 (near byte 0); fix the data or the "encoding", or set decode_error_strategy to "replace"`);
    expect(await rt.runPipe('replaced')).toMatchObject({ status: 'completed' });
    expect((await rt.store.get('replaced', '1'))!.name).toBe('Bj\ufffdrn');
    expect(await rt.runPipe('bom')).toMatchObject({ status: 'completed' });
    expect((await rt.store.get('bom', '1'))!.navn).toBe('Åse');
    expect(await rt.runPipe('cp')).toMatchObject({ status: 'completed' });
    expect((await rt.store.get('cp', '1'))!.name).toBe('Bjørn');
  });

  it('reports missing key columns and values and unknown encodings', async () => {
    const server = await csvServer({ 'a.csv': 'id,name\n1,a\n,b\n' });
    const rt = await runtime();
    await configure(rt, [
      urlSystem('files', server.base),
      { _id: 'no-column', type: 'pipe', source: { type: 'csv', system: 'files', url: 'a.csv', primary_key: ['id', 'code'] } },
      { _id: 'no-value', type: 'pipe', source: { type: 'csv', system: 'files', url: 'a.csv', primary_key: 'id' } },
      { _id: 'bad-encoding', type: 'pipe', source: { type: 'csv', system: 'files', url: 'a.csv', primary_key: 'id', encoding: 'klingon' } },
      { _id: 'no-names', type: 'pipe', source: { type: 'csv', system: 'files', url: 'a.csv', primary_key: 'id', has_header: false } },
    ]);
    expect((await rt.runPipe('no-column')).error).toBe(`pipe "no-column": the csv source: ${server.base}/a.csv: the primary key column "code" is not among the columns ("id", "name")`);
    expect((await rt.runPipe('no-value')).error).toBe(`pipe "no-value": the csv source: ${server.base}/a.csv: the row on line 3 has no value in the primary key column "id"`);
    await expect(rt.runPipe('bad-encoding')).rejects.toThrow('pipe "bad-encoding": the csv source: unknown encoding "klingon"');
    await expect(rt.runPipe('no-names')).rejects.toThrow('pipe "no-names": the csv source has has_header set to false, so it needs "field_names"');
  });
});

// ------------------------------------------------------------------ json sink

/** A JSON push receiver that records requests; `status` decides each answer. */
async function pushReceiver(status: (req: Seen, n: number) => number = () => 200) {
  let n = 0;
  return serve((req, res) => {
    const code = status(req, n++);
    reply(res, code, code === 200 ? {} : { error: 'refused' });
  });
}

const pushed = (server: TestServer) =>
  server.seen.map((s) => ({
    ids: (JSON.parse(s.body) as { _id: string }[]).map((e) => e._id),
    q: Object.fromEntries(s.query),
  }));

describe('json sink', () => {
  it('posts batches and runs full syncs with the push protocol parameters', async () => {
    const server = await pushReceiver();
    const rt = await runtime();
    await configure(rt, [
      urlSystem('target', server.base),
      { _id: 'push', type: 'pipe', source: { type: 'embedded', entities: letters(5).map(({ _id, n }) => ({ _id, n })) }, sink: { type: 'json', system: 'target', url: 'receivers/x/entities', batch_size: 2, headers: { 'X-Extra': 'yes' } } },
    ]);
    expect(await rt.runPipe('push')).toMatchObject({ status: 'completed', syncType: 'full', read: 5, written: 5 });
    const reqs = pushed(server);
    expect(reqs.map((r) => r.ids)).toEqual([['a', 'b'], ['c', 'd'], ['e'], []]);
    const seq = reqs[0].q.sequence_id;
    expect(seq).toMatch(/^[0-9a-f-]{36}$/);
    for (const [i, r] of reqs.entries()) {
      expect(r.q.sequence_id).toBe(seq);
      expect(r.q.is_full).toBe('true');
      expect(r.q.is_first).toBe(i === 0 ? 'true' : undefined);
      expect(r.q.is_last).toBe(i === reqs.length - 1 ? 'true' : undefined);
      expect(r.q.previous_request_id).toBe(i === 0 ? undefined : reqs[i - 1].q.request_id);
    }
    expect(server.seen[0].headers['content-type']).toBe('application/json');
    expect(server.seen[0].headers['x-extra']).toBe('yes');
    expect(server.seen[0].method).toBe('POST');
    expect(server.seen[0].path).toBe('/receivers/x/entities');
    // The next full run is a new sequence.
    await rt.runPipe('push');
    expect(pushed(server)[4].q.sequence_id).not.toBe(seq);
    expect(pushed(server)[4].q.is_first).toBe('true');
  });

  it('sends incremental runs without is_first / is_last, and deleted entities', async () => {
    const server = await pushReceiver();
    const rt = await runtime();
    const source = { _id: 'src', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'a' }, { _id: 'b' }] } };
    const push = { _id: 'push', type: 'pipe', source: { type: 'dataset', dataset: 'src' }, sink: { type: 'json', system: 'target', url: 'in' } };
    await configure(rt, [urlSystem('target', server.base), source, push]);
    await rt.runPipe('src');
    expect(await rt.runPipe('push')).toMatchObject({ status: 'completed', syncType: 'full', written: 2 });
    await configure(rt, [urlSystem('target', server.base), { ...source, source: { type: 'embedded', entities: [{ _id: 'a', v: 2 }] } }, push]);
    await rt.runPipe('src');
    expect(await rt.runPipe('push')).toMatchObject({ status: 'completed', syncType: 'incremental', written: 1, deleted: 1 });
    const last = server.seen[server.seen.length - 1];
    expect(Object.fromEntries(last.query)).toMatchObject({ is_full: 'false' });
    expect(last.query.has('is_first') || last.query.has('is_last')).toBe(false);
    const body = JSON.parse(last.body) as Record<string, unknown>[];
    expect(body.map((e) => [e._id, e._deleted ?? false])).toEqual([
      ['a', false],
      ['b', true],
    ]);
    expect(body[0].v).toBe(2);
  });

  it('retries a batch after a 503 and keeps the request chain intact', async () => {
    const server = await pushReceiver((_req, n) => (n === 1 ? 503 : 200));
    const rt = await runtime();
    await configure(rt, [
      urlSystem('target', server.base),
      { _id: 'push', type: 'pipe', source: { type: 'embedded', entities: letters(4).map(({ _id }) => ({ _id })) }, sink: { type: 'json', system: 'target', url: 'in', batch_size: 2 }, pump: { write_retry_delay: 0 } },
    ]);
    expect(await rt.runPipe('push')).toMatchObject({ status: 'completed', written: 4, failed: 0 });
    const reqs = pushed(server);
    // First batch posted twice (the sink re-sends the whole pipe batch), the 503'd request not chained.
    expect(reqs.map((r) => r.ids)).toEqual([['a', 'b'], ['c', 'd'], ['a', 'b'], ['c', 'd'], []]);
    expect(reqs[2].q.previous_request_id).toBe(reqs[0].q.request_id);
    expect(reqs[3].q.previous_request_id).toBe(reqs[2].q.request_id);
    expect(reqs[4].q.is_last).toBe('true');
  });

  it('fails with the URL and status when the receiver refuses, and retries entity by entity later', async () => {
    const server = await pushReceiver((req) => (req.body.includes('"bad"') ? 400 : 200));
    const rt = await runtime();
    const entities = [{ _id: 'ok1' }, { _id: 'bad' }, { _id: 'ok2' }];
    await configure(rt, [
      urlSystem('target', server.base),
      { _id: 'strict', type: 'pipe', source: { type: 'embedded', entities }, sink: { type: 'json', system: 'target', url: 'in' } },
      { _id: 'tolerant', type: 'pipe', source: { type: 'embedded', entities }, sink: { type: 'json', system: 'target', url: 'in' }, pump: { max_write_errors_in_retry_dataset: 10, max_consecutive_write_errors: 10 } },
    ]);
    const strict = await rt.runPipe('strict');
    expect(strict.status).toBe('failed');
    expect(strict.error).toContain(`entity "bad": pipe "strict": the json sink: POST ${server.base}/in?sequence_id=`);
    expect(strict.error).toContain('answered 400 Bad Request: {"error":"refused"}');
    server.seen.length = 0;
    const tolerant = await rt.runPipe('tolerant');
    expect(tolerant).toMatchObject({ status: 'completed', failed: 1, written: 2 });
    // Batch attempts, then one entity at a time; the good ones got through.
    expect(pushed(server).filter((r) => r.ids.length === 1).map((r) => r.ids[0])).toEqual(['ok1', 'bad', 'ok2']);
    expect((await rt.store.getPipeState('tolerant'))!.retries!.map((r) => r.entity._id)).toEqual(['bad']);
  });

  it('restarts the full sync with a new sequence after a 409 Conflict', async () => {
    let conflict = true;
    const server = await pushReceiver((req) => (conflict && req.query.get('is_first') !== 'true' ? 409 : 200));
    const rt = await runtime();
    await configure(rt, [
      urlSystem('target', server.base),
      { _id: 'push', type: 'pipe', source: { type: 'embedded', entities: letters(4).map(({ _id }) => ({ _id })) }, sink: { type: 'json', system: 'target', url: 'in', batch_size: 2 } },
    ]);
    const first = await rt.runPipe('push');
    expect(first.status).toBe('failed');
    expect(first.error).toContain(`the receiver ${server.base}/in rejected the full sync sequence`);
    expect(first.error).toContain('409 Conflict');
    conflict = false;
    const second = await rt.runPipe('push');
    if (second.status === 'failed') expect(second.error).toContain('the pipe was reset so that its next run starts a new full sync');
    const third = second.status === 'completed' ? second : await rt.runPipe('push');
    expect(third).toMatchObject({ status: 'completed', syncType: 'full', written: 4 });
    const reqs = pushed(server);
    const lastSeq = reqs[reqs.length - 1].q.sequence_id;
    expect(lastSeq).not.toBe(reqs[0].q.sequence_id);
    expect(reqs.filter((r) => r.q.sequence_id === lastSeq).map((r) => r.ids)).toEqual([['a', 'b'], ['c', 'd'], []]);
  });
});

// ------------------------------------------------------------------ http transform

describe('http transform', () => {
  it('posts batches and continues with the entities the service answers', async () => {
    const server = await serve((req, res) => {
      const input = JSON.parse(req.body) as Record<string, unknown>[];
      // Uppercases names, drops "drop", adds an extra entity per request.
      const out: Record<string, unknown>[] = input.filter((e) => e._id !== 'drop').map((e) => ({ ...e, name: String(e.name).toUpperCase() }));
      out.push({ _id: `extra-${req.query.get('n') ?? server.seen.length}`, big: 'x' });
      reply(res, 200, JSON.stringify(out).replace('"x"', '98765432109876543210'));
    });
    const rt = await runtime();
    await configure(rt, [
      urlSystem('svc', server.base),
      {
        _id: 'shout',
        type: 'pipe',
        source: {
          type: 'embedded',
          entities: [
            { _id: 'a', name: 'ann', _trigger: 'go-1' },
            { _id: 'b', name: 'bob', _trigger: 'stay' },
            { _id: 'drop', name: 'x', _trigger: 'go-2' },
            { _id: 'c', name: 'cy', _trigger: 'go-3' },
          ],
        },
        transform: { type: 'http', system: 'svc', url: 'transform', batch_size: 2, headers: { 'X-T': '1' }, trigger_on: { value: 'go-*' } },
      },
    ]);
    expect(await rt.runPipe('shout')).toMatchObject({ status: 'completed', read: 4, written: 5 });
    expect(server.seen.map((s) => (JSON.parse(s.body) as { _id: string }[]).map((e) => e._id))).toEqual([['a', 'drop'], ['c']]);
    expect(server.seen[0].headers['x-t']).toBe('1');
    expect(server.seen[0].headers['content-type']).toBe('application/json');
    const out = await latest(rt, 'shout');
    expect(Object.fromEntries(out.map((e) => [e._id, e.name ?? e.big]))).toEqual({ a: 'ANN', b: 'bob', c: 'CY', 'extra-1': 98765432109876543210n, 'extra-2': 98765432109876543210n });
  });

  it('makes the entities of a failed request entity failures with a clear error', async () => {
    const server = await serve((req, res) => (req.body.includes('"boom"') ? reply(res, 500, 'kaput') : req.body.includes('"odd"') ? reply(res, 200, { not: 'a list' }) : reply(res, 200, JSON.parse(req.body))));
    const rt = await runtime();
    const entities = [{ _id: 'fine' }, { _id: 'boom' }, { _id: 'odd' }, { _id: 'also-fine' }];
    await configure(rt, [
      urlSystem('svc', server.base),
      { _id: 'strict', type: 'pipe', source: { type: 'embedded', entities }, transform: { type: 'http', system: 'svc', url: 't', batch_size: 1 } },
      { _id: 'tolerant', type: 'pipe', source: { type: 'embedded', entities }, transform: { type: 'http', system: 'svc', url: 't', batch_size: 1 }, pump: { max_write_errors_in_retry_dataset: 10, max_consecutive_write_errors: 10 } },
    ]);
    const strict = await rt.runPipe('strict');
    expect(strict.status).toBe('failed');
    expect(strict.error).toBe(`entity "boom": pipe "strict": the http transform: POST ${server.base}/t answered 500 Internal Server Error: kaput (max_consecutive_write_errors is 1)`);
    const tolerant = await rt.runPipe('tolerant');
    expect(tolerant).toMatchObject({ status: 'completed', failed: 2, written: 2 });
    const log = await rt.log.entries('tolerant');
    const messages = log.filter((e) => e.event_type === 'write-error').map((e) => e.original_error_message);
    expect(messages).toContain(`entity "odd": pipe "tolerant": the http transform: POST ${server.base}/t must answer a JSON array of entities, not an object`);
    expect(await ids(rt, 'tolerant')).toEqual(['fine', 'also-fine']);
  });
});

// ------------------------------------------------------------------ two instances

describe('two Sluice instances', () => {
  async function instance(): Promise<{ rt: SluiceRuntime; base: string }> {
    const rt = await runtime();
    const app: FastifyInstance = await startApi(rt, { port: 0, host: '127.0.0.1', logger: quietLogger, processMetrics: false });
    cleanups.push(() => app.close());
    return { rt, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
  }

  it('pushes from A into a receiver of B, and B pulls A\'s dataset with since', async () => {
    const a = await instance();
    const b = await instance();
    const people = (entities: Record<string, unknown>[]) => ({ _id: 'people', type: 'pipe', source: { type: 'embedded', entities } });
    const aConfig = (entities: Record<string, unknown>[]) => [
      urlSystem('sluice-b', `${b.base}/api`),
      people(entities),
      { _id: 'to-b', type: 'pipe', source: { type: 'dataset', dataset: 'people' }, sink: { type: 'json', system: 'sluice-b', url: 'receivers/inbox/entities', batch_size: 2 } },
    ];
    // A big integer in the config text (JSON.stringify cannot write one).
    const files = entitiesToFiles(aConfig([{ _id: 'a', name: 'Ann' }, { _id: 'b', name: 'Bob' }, { _id: 'c', name: 'Cy', big: 'BIG-NUMBER' }]) as ConfigEntity[]).map((f) => ({ ...f, text: f.text.replace('"BIG-NUMBER"', '12345678901234567890') }));
    expect((await a.rt.setConfigFiles(files)).ok).toBe(true);
    await configure(b.rt, [
      urlSystem('sluice-a', `${a.base}/api`),
      { _id: 'inbox', type: 'pipe', source: { type: 'http_endpoint' } },
      { _id: 'from-a', type: 'pipe', source: { type: 'json', system: 'sluice-a', url: 'datasets/people/entities', supports_since: true, is_chronological: true, page_size: 2 } },
    ]);

    expect(await a.rt.runPipe('people')).toMatchObject({ status: 'completed', written: 3 });
    expect(await a.rt.runPipe('to-b')).toMatchObject({ status: 'completed', syncType: 'full', written: 3 });
    expect(await ids(b.rt, 'inbox')).toEqual(['a', 'b', 'c']);
    expect((await b.rt.store.get('inbox', 'c'))!.big).toBe(12345678901234567890n);
    expect(await b.rt.runPipe('from-a')).toMatchObject({ status: 'completed', read: 3 });
    expect(await ids(b.rt, 'from-a')).toEqual(['a', 'b', 'c']);
    expect((await b.rt.store.getPipeState('from-a'))!.last_seen).toBe((await a.rt.store.datasetInfo('people'))!.lastOffset);

    // A changes: Bob is renamed, Cy disappears (deletion tracking), Dee arrives.
    await configure(a.rt, aConfig([{ _id: 'a', name: 'Ann' }, { _id: 'b', name: 'Bobby' }, { _id: 'd', name: 'Dee' }]));
    expect(await a.rt.runPipe('people')).toMatchObject({ status: 'completed', deleted: 1 });
    expect(await a.rt.runPipe('to-b')).toMatchObject({ status: 'completed', syncType: 'incremental', written: 2, deleted: 1 });
    expect(await ids(b.rt, 'inbox')).toEqual(['a', 'b', 'd']);
    expect((await b.rt.store.get('inbox', 'b'))!.name).toBe('Bobby');
    expect((await b.rt.store.get('inbox', 'c'))!._deleted).toBe(true);

    expect(await b.rt.runPipe('from-a')).toMatchObject({ status: 'completed', syncType: 'incremental', read: 3 });
    expect(await ids(b.rt, 'from-a')).toEqual(['a', 'b', 'd']);
    expect((await b.rt.store.get('from-a', 'c'))!._deleted).toBe(true);
    expect((await b.rt.store.getPipeState('from-a'))!.last_seen).toBe((await a.rt.store.datasetInfo('people'))!.lastOffset);

    // A full rescan of the push pipe is a full sync: B deletes what A no longer has.
    await b.rt.store.write('inbox', [{ _id: 'stray' }]);
    expect(await a.rt.runPipe('to-b', { full: true })).toMatchObject({ status: 'completed', syncType: 'full' });
    expect(await ids(b.rt, 'inbox')).toEqual(['a', 'b', 'd']);
    expect((await b.rt.store.get('inbox', 'stray'))!._deleted).toBe(true);
  });
});
