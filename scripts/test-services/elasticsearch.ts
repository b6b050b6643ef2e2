/**
 * A server that speaks the part of Elasticsearch's REST API the Elasticsearch sink uses, for its
 * tests (no Elasticsearch build runs on the test machines): indexes with mappings, the bulk API
 * (index, create, delete; NDJSON in, per-item results out), documents by id, delete_by_query with
 * a match query, basic authentication. Mapped numeric fields refuse values that are not numbers,
 * the way Elasticsearch answers mapper_parsing_exception. Faults can be switched on: a failing or
 * garbled bulk answer, a bulk request that never gets one, per-document statuses.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredDoc {
  source: Record<string, unknown>;
  type?: string;
}

export interface EsIndex {
  properties: Record<string, { type?: string }>;
  docs: Map<string, StoredDoc>;
}

export interface EsFaults {
  /** The next bulk requests answer this way (consumed one per request when a list). */
  bulk?: ('status500' | 'notJson' | 'hang' | 'short')[];
  /** A status for one document operation (e.g. 429), or undefined for the normal outcome. */
  itemStatus?: (op: string, id: string) => number | undefined;
}

export interface TestElasticsearch {
  url: string;
  /** host:port, as the system's `hosts` entries are usually written. */
  hostPort: string;
  indexes: Map<string, EsIndex>;
  faults: EsFaults;
  /** Every request: method, path and body text. */
  requests: { method: string; path: string; body: string; authorization?: string }[];
  docs(index: string): Record<string, Record<string, unknown>>;
  close(): Promise<void>;
}

export interface TestElasticsearchOptions {
  auth?: { user: string; pass: string };
  /** Accept `_type` in bulk actions (Elasticsearch 6); refused by default, as 7+ does. */
  types?: boolean;
}

const NUMERIC = new Set(['integer', 'long', 'short', 'byte', 'float', 'double', 'half_float', 'scaled_float']);

function error(type: string, reason: string, status: number) {
  return { error: { root_cause: [{ type, reason }], type, reason }, status };
}

export async function startTestElasticsearch(options: TestElasticsearchOptions = {}): Promise<TestElasticsearch> {
  const indexes = new Map<string, EsIndex>();
  const faults: EsFaults = {};
  const requests: TestElasticsearch['requests'] = [];
  const hanging = new Set<http.ServerResponse>();

  const index = (name: string, create: boolean): EsIndex | undefined => {
    let i = indexes.get(name);
    if (!i && create) indexes.set(name, (i = { properties: {}, docs: new Map() }));
    return i;
  };

  const mappingError = (idx: EsIndex, source: Record<string, unknown>): string | null => {
    for (const [field, m] of Object.entries(idx.properties)) {
      const v = source[field];
      if (v !== undefined && v !== null && m.type && NUMERIC.has(m.type) && typeof v !== 'number' && !(typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)))) {
        return `failed to parse field [${field}] of type [${m.type}]`;
      }
    }
    return null;
  };

  const bulk = (text: string): { status: number; body: unknown } => {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const items: Record<string, unknown>[] = [];
    let errors = false;
    for (let i = 0; i < lines.length; i++) {
      let action: Record<string, Record<string, unknown>>;
      try {
        action = JSON.parse(lines[i]) as typeof action;
      } catch {
        return { status: 400, body: error('x_content_parse_exception', `[${i + 1}:1] malformed action/metadata line`, 400) };
      }
      const [op, meta] = Object.entries(action)[0] ?? [];
      if (!op || !meta || !['index', 'create', 'delete'].includes(op)) return { status: 400, body: error('illegal_argument_exception', `Malformed action/metadata line [${i + 1}]`, 400) };
      if ('_type' in meta && !options.types) return { status: 400, body: error('illegal_argument_exception', `Action/metadata line [${i + 1}] contains an unknown parameter [_type]`, 400) };
      const name = String(meta._index);
      const id = String(meta._id);
      let source: Record<string, unknown> | undefined;
      if (op !== 'delete') {
        try {
          source = JSON.parse(lines[++i] ?? '') as Record<string, unknown>;
        } catch {
          return { status: 400, body: error('x_content_parse_exception', `the document after line [${i}] is not JSON`, 400) };
        }
      }
      const forced = faults.itemStatus?.(op, id);
      const result = (status: number, extra: Record<string, unknown> = {}) => {
        if (status >= 300 && !(op === 'delete' && status === 404)) errors = true;
        items.push({ [op]: { _index: name, _id: id, status, ...extra } });
      };
      if (forced !== undefined) {
        result(forced, forced >= 300 ? error(forced === 429 ? 'es_rejected_execution_exception' : 'forced_failure', `forced status ${forced}`, forced) : { result: 'updated' });
        continue;
      }
      if (op === 'delete') {
        const existed = index(name, false)?.docs.delete(id) ?? false;
        result(existed ? 200 : 404, { result: existed ? 'deleted' : 'not_found' });
        continue;
      }
      const idx = index(name, true)!;
      const bad = mappingError(idx, source!);
      if (bad) {
        result(400, error('document_parsing_exception', bad, 400));
        continue;
      }
      if (op === 'create' && idx.docs.has(id)) {
        result(409, error('version_conflict_engine_exception', `[${id}]: version conflict, document already exists`, 409));
        continue;
      }
      const existed = idx.docs.has(id);
      idx.docs.set(id, { source: source!, ...(typeof meta._type === 'string' ? { type: meta._type } : {}) });
      result(existed ? 200 : 201, { result: existed ? 'updated' : 'created' });
    }
    return { status: 200, body: { took: 1, errors, items } };
  };

  const handle = (method: string, url: URL, body: string): { status: number; body?: unknown; raw?: string } | 'hang' => {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts.length === 0) return { status: 200, body: { name: 'sluice-test', version: { number: '8.15.0' }, tagline: 'You Know, for Search' } };
    if (parts[0] === '_bulk' && method === 'POST') {
      const fault = faults.bulk?.shift();
      if (fault === 'hang') return 'hang';
      if (fault === 'status500') return { status: 500, body: error('internal_server_error', 'the node failed', 500) };
      if (fault === 'notJson') return { status: 200, raw: '<html>gateway says hello</html>' };
      const r = bulk(body);
      if (fault === 'short' && r.status === 200) (r.body as { items: unknown[] }).items.pop();
      return r;
    }
    const [name, op, id] = parts;
    if (parts.length === 1) {
      if (method === 'HEAD') return { status: indexes.has(name) ? 200 : 404 };
      if (method === 'PUT') {
        if (indexes.has(name)) return { status: 400, body: error('resource_already_exists_exception', `index [${name}] already exists`, 400) };
        const props = (JSON.parse(body || '{}') as { mappings?: { properties?: EsIndex['properties'] } }).mappings?.properties ?? {};
        indexes.set(name, { properties: props, docs: new Map() });
        return { status: 200, body: { acknowledged: true, index: name } };
      }
    }
    const idx = indexes.get(name);
    const missing = { status: 404, body: error('index_not_found_exception', `no such index [${name}]`, 404) };
    if (op === '_mapping') {
      if (!idx) return missing;
      if (method === 'PUT') {
        Object.assign(idx.properties, (JSON.parse(body) as { properties?: EsIndex['properties'] }).properties ?? {});
        return { status: 200, body: { acknowledged: true } };
      }
      return { status: 200, body: { [name]: { mappings: { properties: idx.properties } } } };
    }
    if (op === '_doc' && id !== undefined) {
      if (method === 'GET') {
        const doc = idx?.docs.get(id);
        if (!idx) return missing;
        return doc ? { status: 200, body: { _index: name, _id: id, found: true, _source: doc.source } } : { status: 404, body: { _index: name, _id: id, found: false } };
      }
      if (method === 'PUT') {
        const existed = index(name, true)!.docs.has(id);
        indexes.get(name)!.docs.set(id, { source: JSON.parse(body) as Record<string, unknown> });
        return { status: existed ? 200 : 201, body: { _index: name, _id: id, result: existed ? 'updated' : 'created' } };
      }
    }
    if (op === '_delete_by_query' && method === 'POST') {
      if (!idx) return missing;
      const match = (JSON.parse(body) as { query?: { match?: Record<string, unknown> } }).query?.match ?? {};
      let deleted = 0;
      for (const [docId, doc] of idx.docs) {
        if (Object.entries(match).every(([f, v]) => String(doc.source[f]) === String((v as { query?: unknown })?.query ?? v))) {
          idx.docs.delete(docId);
          deleted++;
        }
      }
      return { status: 200, body: { took: 1, deleted, total: deleted, failures: [] } };
    }
    return { status: 400, body: error('illegal_argument_exception', `no handler for ${method} ${url.pathname}`, 400) };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, body, authorization: req.headers.authorization });
      if (options.auth) {
        const expected = `Basic ${Buffer.from(`${options.auth.user}:${options.auth.pass}`).toString('base64')}`;
        if (req.headers.authorization !== expected) {
          res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="security"' });
          return res.end(JSON.stringify(error('security_exception', 'missing authentication credentials for REST request', 401)));
        }
      }
      let out: ReturnType<typeof handle>;
      try {
        out = handle(req.method ?? 'GET', url, body);
      } catch (err) {
        out = { status: 400, body: error('parse_exception', (err as Error).message, 400) };
      }
      if (out === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(out.status, { 'content-type': out.raw !== undefined ? 'text/html' : 'application/json' });
      res.end(req.method === 'HEAD' ? undefined : (out.raw ?? (out.body === undefined ? '' : JSON.stringify(out.body))));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    hostPort: `127.0.0.1:${port}`,
    indexes,
    faults,
    requests,
    docs: (name) => Object.fromEntries([...(indexes.get(name)?.docs ?? new Map<string, StoredDoc>())].map(([k, v]) => [k, v.source])),
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hanging) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
