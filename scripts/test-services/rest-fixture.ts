/**
 * A small REST service for the REST components' tests and benchmark: a collection of records
 * (`/records`) read in pages (a `next` link in the body, an RFC 5988 `Link` header, or plain
 * offsets), with `since` continuation on `updated`, writes with POST/PUT/PATCH/DELETE
 * (`/records/<id>`), and switches for what real services do wrong: 429 answers with `Retry-After`,
 * 500s, bodies that are not JSON, responses that stall, and authentication.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FixtureRecord {
  id: string;
  updated: number;
  [key: string]: unknown;
}

export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A request the test answers itself (return true when it did). */
export type Override = (req: SeenRequest, res: http.ServerResponse) => boolean | Promise<boolean>;

export interface RestFixture {
  base: string;
  records: Map<string, FixtureRecord>;
  /** Requests as they arrived (bodies included) unless `record: false`. */
  seen: SeenRequest[];
  /** Writes that reached /records/<id>: method, id, content type and body text (none kept with `countWrites`). */
  writes: { method: string; id: string; contentType: string; body: string }[];
  /** Writes answered, kept or not. */
  writeCount: number;
  /** Answers the next `times` requests to paths starting with `prefix` with `status` (and headers/body). */
  fail(prefix: string, status: number, times: number, headers?: Record<string, string>, body?: string): void;
  /** Handlers tried before the built-in routes, newest first. */
  overrides: Override[];
  /** Required `Authorization` header value, or null. */
  authorization: string | null;
  put(...records: FixtureRecord[]): void;
  /** Like put, for lists too long to spread into arguments. */
  putAll(records: FixtureRecord[]): void;
  close(): Promise<void>;
}

export interface FixtureOptions {
  record?: boolean;
  /**
   * Writes to /records/<id> are answered `{"ok":true}` and counted, without reading their URL or
   * keeping their bodies (benchmarks: the service shares the cores with the client it measures).
   */
  countWrites?: boolean;
}


const OK = Buffer.from('{"ok":true}');
const OK_HEADERS = ['content-type', 'application/json', 'content-length', String(OK.length)];

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Routes:
 * - `GET /records?style=body|link|offset&page_size=N&cursor=K&since=S`: records with `updated` > since
 *   (the `since` query parameter, or the `X-Since` header), ordered by `updated`, a page at a time.
 *   `body` answers `{"data": [...], "next": "<url>"|null}`; `link` answers the list with a `Link` header;
 *   `offset` answers `{"data": [...], "total": N}`.
 * - `GET /records/<id>`: one record, 404 when missing.
 * - `POST /records`, `PUT|PATCH|DELETE /records/<id>`: writes (JSON, form or text bodies are kept as text).
 */
export async function startRestFixture(options: FixtureOptions = {}): Promise<RestFixture> {
  const record = options.record !== false;
  const failures: { prefix: string; status: number; times: number; headers: Record<string, string>; body: string }[] = [];
  // Sorted by `updated` when first read after a change (through put(), or the map directly).
  let sorted: FixtureRecord[] | null = null;
  let sortedSize = -1;
  const fixture: RestFixture = {
    base: '',
    records: new Map(),
    seen: [],
    writes: [],
    writeCount: 0,
    overrides: [],
    authorization: null,
    fail(prefix, status, times, headers = {}, body = '') {
      failures.push({ prefix, status, times, headers, body });
    },
    put(...records) {
      fixture.putAll(records);
    },
    putAll(records) {
      sorted = null;
      for (const r of records) fixture.records.set(r.id, r);
    },
    close: async () => undefined,
  };
  const ordered = (): FixtureRecord[] => {
    if (!sorted || sortedSize !== fixture.records.size) {
      sorted = [...fixture.records.values()].sort((a, b) => a.updated - b.updated || (a.id < b.id ? -1 : 1));
      sortedSize = fixture.records.size;
    }
    return sorted;
  };

  const handle = async (req: SeenRequest, res: http.ServerResponse): Promise<void> => {
    for (const o of fixture.overrides) if (await o(req, res)) return;
    const failure = failures.find((f) => f.times > 0 && req.path.startsWith(f.prefix));
    if (failure) {
      failure.times--;
      res.writeHead(failure.status, failure.headers);
      res.end(failure.body);
      return;
    }
    if (fixture.authorization !== null && req.headers.authorization !== fixture.authorization) {
      json(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer' });
      return;
    }
    const parts = req.path.split('/').filter(Boolean);
    if (parts[0] !== 'records') return json(res, 404, { error: `no route ${req.path}` });
    if (parts.length === 1 && req.method === 'GET') {
      const style = req.query.get('style') ?? 'body';
      const size = Number(req.query.get('page_size') ?? 100);
      const sinceText = req.query.get('since') ?? (req.headers['x-since'] as string | undefined) ?? null;
      const since = sinceText === null || sinceText === '' ? -Infinity : Number(sinceText);
      const all = ordered();
      let start = 0;
      if (since !== -Infinity) {
        let lo = 0;
        let hi = all.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (all[mid].updated <= since) lo = mid + 1;
          else hi = mid;
        }
        start = lo;
      }
      const cursor = Number(req.query.get('cursor') ?? req.query.get('offset') ?? 0);
      const page = all.slice(start + cursor, start + cursor + size);
      const more = start + cursor + size < all.length;
      const next = new URL(`${fixture.base}/records`);
      for (const [k, v] of req.query) next.searchParams.set(k, v);
      next.searchParams.set('cursor', String(cursor + size));
      if (style === 'link') return json(res, 200, page, more ? { link: `<${next.pathname}${next.search}>; rel="next", <${fixture.base}/records>; rel="first"` } : {});
      if (style === 'offset') return json(res, 200, { data: page, total: all.length - start });
      return json(res, 200, { data: page, next: more ? next.href : null });
    }
    if (parts.length === 2 && req.method === 'GET') {
      const r = fixture.records.get(decodeURIComponent(parts[1]));
      return r ? json(res, 200, r) : json(res, 404, { error: 'not found' });
    }
    if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method)) {
      const id = parts[1] !== undefined ? decodeURIComponent(parts[1]) : `new-${fixture.writes.length + 1}`;
      fixture.writes.push({ method: req.method, id, contentType: String(req.headers['content-type'] ?? ''), body: req.body });
      fixture.writeCount++;
      return json(res, req.method === 'POST' ? 201 : 200, { id, ok: true });
    }
    return json(res, 405, { error: 'method not allowed' });
  };

  const server = http.createServer((request, res) => {
    if (options.countWrites && request.method !== 'GET' && request.url?.startsWith('/records/') && fixture.overrides.length === 0 && failures.length === 0 && fixture.authorization === null) {
      // Answered at once; Node reads the rest of the body before the next request on the connection.
      fixture.writeCount++;
      res.writeHead(request.method === 'POST' ? 201 : 200, OK_HEADERS);
      res.end(OK);
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const u = new URL(request.url ?? '/', 'http://fixture');
      const seen: SeenRequest = { method: request.method ?? 'GET', path: u.pathname, query: u.searchParams, headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      if (record) fixture.seen.push(seen);
      handle(seen, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fixture.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fixture.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fixture;
}

/** Records `from`..`from + n - 1` with `updated` equal to their number. */
export function makeRecords(n: number, from = 1, extra: (i: number) => Record<string, unknown> = () => ({})): FixtureRecord[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return { id: `r${i}`, updated: i, name: `record ${i}`, ...extra(i) };
  });
}
