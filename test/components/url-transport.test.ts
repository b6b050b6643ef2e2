/**
 * The URL client's transport (undici's dispatcher API) against real HTTP servers: redirects,
 * compressed bodies, bodies streamed, discarded and aborted, keep-alive connections and
 * pipelining.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError, UrlClient } from '../../runtime/components/systems/url.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  socket: number;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

/** An HTTP server on a free port; each request is recorded with a number for its connection. */
async function serve(handler: (req: Seen, res: http.ServerResponse) => unknown): Promise<{ base: string; seen: Seen[]; closed: () => number }> {
  const seen: Seen[] = [];
  let closed = 0;
  const sockets = new WeakMap<object, number>();
  let connections = 0;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (!sockets.has(req.socket)) sockets.set(req.socket, ++connections);
    const s: Seen = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), socket: sockets.get(req.socket)! };
    seen.push(s);
    await handler(s, res);
  });
  server.on('connection', (socket) => socket.on('close', () => closed++));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, closed: () => closed };
}

function client(base: string, extra: Record<string, unknown> = {}, options: { pipelining?: number; connections?: number } = {}): UrlClient {
  const c = new UrlClient({ id: 'api', config: { type: 'system:url', url_pattern: `${base}/%s`, ...extra } }, options);
  cleanups.push(() => c.close());
  return c;
}

describe('url client transport', () => {
  it('follows redirects as fetch did: 303 turns into a GET, credentials stay with their origin', async () => {
    const other = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`other ${req.method} ${req.headers.authorization ?? 'no-auth'}`);
    });
    const api = await serve((req, res) => {
      if (req.url === '/moved') {
        res.writeHead(307, { location: '/here' });
        return res.end('see /here');
      }
      if (req.url === '/created') {
        res.writeHead(303, { location: '/here' });
        return res.end();
      }
      if (req.url === '/away') {
        res.writeHead(302, { location: `${other.base}/there` });
        return res.end();
      }
      if (req.url === '/loop') {
        res.writeHead(302, { location: '/loop' });
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${req.method} ${req.body} ${req.headers['content-type'] ?? 'no-type'} ${req.headers.authorization ?? 'no-auth'}`);
    });
    const c = client(api.base, { authentication: 'basic', username: 'u', password: 'p' });
    const auth = `Basic ${Buffer.from('u:p').toString('base64')}`;

    const kept = await c.request({ method: 'PUT', url: 'moved', body: 'x=1', headers: { 'content-type': 'text/plain' } });
    expect(await kept.text()).toBe(`PUT x=1 text/plain ${auth}`);
    expect(kept.url).toBe(`${api.base}/here`);

    const changed = await c.request({ method: 'POST', url: 'created', body: 'x=1', headers: { 'content-type': 'text/plain' } });
    expect(await changed.text()).toBe(`GET  no-type ${auth}`);

    const away = await c.request({ url: 'away' });
    expect(await away.text()).toBe('other GET no-auth');
    expect(away.url).toBe(`${other.base}/there`);

    const loop = await c.request({ url: 'loop' }).catch((e: unknown) => e);
    expect(loop).toBeInstanceOf(HttpError);
    expect((loop as HttpError).message).toMatch(/redirected more than 20 times/);
  });

  it('decodes gzip, deflate and br bodies and leaves unknown encodings as they came', async () => {
    const text = JSON.stringify({ words: Array.from({ length: 500 }, (_, i) => `word ${i}`) });
    const encoded: Record<string, Buffer> = { gzip: gzipSync(text), deflate: deflateSync(text), 'raw-deflate': deflateRawSync(text), br: brotliCompressSync(text), unknown: Buffer.from(text) };
    const api = await serve((req, res) => {
      const kind = req.url.slice(1);
      const encoding: Record<string, string> = { gzip: 'gzip', deflate: 'deflate', 'raw-deflate': 'deflate', br: 'br', unknown: 'x-mine', error: 'gzip' };
      res.writeHead(kind === 'error' ? 500 : 200, { 'content-type': 'application/json', 'content-encoding': encoding[kind] });
      res.end(kind === 'error' ? gzipSync('it broke') : encoded[kind]);
    });
    const c = client(api.base);
    for (const kind of ['gzip', 'deflate', 'raw-deflate', 'br', 'unknown']) {
      const res = await c.request({ url: kind });
      expect(await res.text(), kind).toBe(text);
    }
    expect(api.seen[0].headers).toMatchObject({ 'accept-encoding': 'gzip, deflate, br', accept: '*/*', 'user-agent': 'Sluice' });
    const failed = await c.request({ url: 'error' }).catch((e: unknown) => e);
    expect((failed as HttpError).status).toBe(500);
    expect((failed as HttpError).body).toBe('it broke');
  });

  it('streams large bodies in chunks; discarding keeps the connection of a small body and closes that of a large one', async () => {
    const big = Buffer.alloc(5 << 20, 'a');
    const api = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(req.url === '/big' ? big : 'small');
    });
    const c = client(api.base);
    const res = await c.request({ url: 'big' });
    let length = 0;
    let chunks = 0;
    for await (const chunk of res.chunks()) {
      length += chunk.length;
      chunks++;
    }
    expect(length).toBe(big.length);
    expect(chunks).toBeGreaterThan(1);

    for (let i = 0; i < 3; i++) await (await c.request({ url: 'small' })).discard();
    expect(await (await c.request({ url: 'small' })).text()).toBe('small');
    expect(api.closed()).toBe(0);

    await (await c.request({ url: 'big' })).discard();
    while (api.closed() === 0) await new Promise((r) => setImmediate(r));
    expect(await (await c.request({ url: 'small' })).text()).toBe('small');
  });

  it('aborts requests under way when the run stops, with HTTP_ABORTED', async () => {
    let answered = 0;
    const api = await serve(() => {
      answered++;
      // never answers
    });
    const c = client(api.base);
    const stop = new AbortController();
    const pending = Array.from({ length: 30 }, (_, i) => c.request({ url: `slow/${i}`, signal: stop.signal }).catch((e: unknown) => e));
    while (answered < 5) await new Promise((r) => setImmediate(r));
    stop.abort();
    const outcomes = await Promise.all(pending);
    for (const o of outcomes) expect((o as HttpError).code).toBe('HTTP_ABORTED');
    const late = await c.request({ url: 'slow/late', signal: stop.signal }).catch((e: unknown) => e);
    expect((late as HttpError).code).toBe('HTTP_ABORTED');
  });

  it('sends idempotent requests pipelined on a few connections when the client is asked to', async () => {
    const api = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ echo: req.url }));
    });
    const c = client(api.base, {}, { pipelining: 8, connections: 4 });
    const answers = await Promise.all(Array.from({ length: 64 }, async (_, i) => (await c.request({ method: 'PUT', url: `r/${i}`, body: String(i) })).text()));
    expect(answers.map((a) => (JSON.parse(a) as { echo: string }).echo)).toEqual(Array.from({ length: 64 }, (_, i) => `/r/${i}`));
    expect(new Set(api.seen.map((s) => s.socket)).size).toBeLessThanOrEqual(4);
  });
});
