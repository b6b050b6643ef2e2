/**
 * A small HTTP client for a node's API, making the calls Sesam's client makes (same paths,
 * parameters and bodies), with `Authorization: Bearer <jwt>` and `Accept: application/json,*\/*`.
 */
import type { NodeConnection } from './connection.js';

export class NodeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly url: string,
    readonly body: string,
  ) {
    super(`${method} ${url} answered ${status}: ${body.slice(0, 1000)}`);
  }

  /** The parsed JSON body, if it is JSON. */
  json(): unknown {
    try {
      return JSON.parse(this.body);
    } catch {
      return undefined;
    }
  }
}

export interface NodeResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

type Query = Record<string, string | number | boolean | undefined>;

/** Percent-encodes an id with no safe characters (`a:b` → `a%3Ab`). */
export function quoteId(id: string): string {
  return encodeURIComponent(id).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Python's requests sends booleans as True/False. */
function queryText(query: Query | undefined): string {
  if (!query) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    q.append(k, typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export interface PipeSummary {
  _id: string;
  config: { original?: Record<string, unknown>; effective?: Record<string, unknown> };
  runtime: Record<string, unknown>;
}

/** A TLS handshake with a server that answers plain HTTP fails with an SSL error: say what to do instead. */
export function tlsHint(url: string, cause: { message?: string; code?: string } | undefined): string {
  if (!url.startsWith('https://') || !cause) return '';
  const tls = /^ERR_SSL_|^EPROTO$/.test(cause.code ?? '') || /wrong version number|packet length too long|ssl3_get_record|tls/i.test(cause.message ?? '');
  if (!tls) return '';
  const plain = url.replace(/^https:/, 'http:').replace(/\/api\/.*$/, '');
  return `\nhint: the node does not answer TLS; a node address without a scheme gets https://. If it serves plain HTTP, use --node ${plain}`;
}

export class NodeClient {
  constructor(readonly conn: NodeConnection) {}

  url(path: string, query?: Query): string {
    return `${this.conn.nodeUrl}/${path.replace(/^\//, '')}${queryText(query)}`;
  }

  async request(method: string, path: string, init: { query?: Query; body?: NonNullable<RequestInit['body']>; headers?: Record<string, string>; ok?: number[] } = {}): Promise<NodeResponse> {
    const url = this.url(path, init.query);
    const headers: Record<string, string> = { accept: 'application/json,*/*', ...init.headers };
    if (this.conn.jwt) headers.authorization = `Bearer ${this.conn.jwt}`;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: init.body });
    } catch (err) {
      const cause = (err as { cause?: { message?: string; code?: string } }).cause;
      throw new Error(`cannot reach ${url}: ${cause?.message ?? (err as Error).message}${tlsHint(url, cause)}`);
    }
    const body = Buffer.from(await res.arrayBuffer());
    if (!(init.ok ?? []).includes(res.status) && (res.status < 200 || res.status >= 300)) throw new NodeHttpError(res.status, method, url, body.toString('utf8'));
    return { status: res.status, headers: res.headers, body };
  }

  async json<T = unknown>(method: string, path: string, init: Parameters<NodeClient['request']>[2] = {}): Promise<T> {
    const r = await this.request(method, path, init);
    const text = r.body.toString('utf8');
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new Error(`${method} ${this.url(path, init.query)}: the answer is not JSON: ${text.slice(0, 200)}`);
    }
  }

  private jsonBody(value: unknown): { body: string; headers: Record<string, string> } {
    return { body: JSON.stringify(value), headers: { 'content-type': 'application/json' } };
  }

  // ------------------------------------------------------------------------------ service

  apiInfo(): Promise<{ status?: { developer_mode?: unknown } }> {
    return this.json('GET', '');
  }

  status(): Promise<Record<string, unknown>> {
    return this.json('GET', 'status');
  }

  async admin(operation: 'restart' | 'reset' | 'load_config'): Promise<unknown> {
    return this.json('POST', 'admin', { body: new URLSearchParams({ operation }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }

  // ------------------------------------------------------------------------------ config and env

  getEnv(): Promise<Record<string, unknown>> {
    return this.json('GET', 'env');
  }

  /** The env as the node's JSON text (numbers as written). */
  async envText(): Promise<string> {
    return (await this.request('GET', 'env')).body.toString('utf8');
  }

  putEnv(envText: string): Promise<unknown> {
    return this.json('PUT', 'env', { body: envText, headers: { 'content-type': 'application/json' } });
  }

  /** `PUT /api/config?force=...` with a multipart field `file` (a zip or a JSON document). 400 answers with `validation_errors` are returned, not thrown. */
  async putConfig(data: Buffer, force: boolean): Promise<{ status: number; body: { validation_errors?: unknown[] } & Record<string, unknown> }> {
    const isZip = data.length >= 4 && data[0] === 0x50 && data[1] === 0x4b;
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(data)], { type: isZip ? 'application/zip' : 'application/json' }), 'config');
    const r = await this.request('PUT', 'config', { query: { force: force ? 'true' : 'false' }, body: form, ok: [400] });
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      // not JSON
    }
    return { status: r.status, body };
  }

  putConfigJson(value: unknown, force: boolean): ReturnType<NodeClient['putConfig']> {
    return this.putConfig(Buffer.from(JSON.stringify(value)), force);
  }

  async configZip(): Promise<Buffer> {
    return (await this.request('GET', 'config', { headers: { accept: 'application/zip' } })).body;
  }

  // ------------------------------------------------------------------------------ pipes

  pipes(): Promise<PipeSummary[]> {
    return this.json('GET', 'pipes');
  }

  async pipe(id: string): Promise<PipeSummary | null> {
    const r = await this.request('GET', `pipes/${quoteId(id)}`, { ok: [404] });
    return r.status === 404 ? null : (JSON.parse(r.body.toString('utf8')) as PipeSummary);
  }

  pump(id: string): Promise<{ runtime: Record<string, unknown> }> {
    return this.json('GET', `pipes/${quoteId(id)}/pump`);
  }

  pumpOperation(id: string, operation: string): Promise<{ runtime: Record<string, unknown> }> {
    return this.json('POST', `pipes/${quoteId(id)}/pump`, { body: new URLSearchParams({ operation }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }

  async pipeEntities(id: string, stage?: string): Promise<string> {
    return (await this.request('GET', `pipes/${quoteId(id)}/entities`, { query: { stage } })).body.toString('utf8');
  }

  /** `GET /api/publishers/<id>/<endpoint><query>`, after enabling the pump if it is disabled (as the client does). */
  async published(id: string, endpoint: string, query: string): Promise<Buffer> {
    const pump = await this.pump(id);
    if (pump.runtime?.['is-disabled'] === true) await this.pumpOperation(id, 'enable');
    return (await this.request('GET', `publishers/${quoteId(id)}/${endpoint}${query}`)).body;
  }

  postReceiver(id: string, body: string): Promise<unknown> {
    return this.json('POST', `receivers/${quoteId(id)}/entities`, { body, headers: { 'content-type': 'application/json' } });
  }

  deleteAllSinkDatasets(): Promise<unknown> {
    return this.json('POST', 'pipes/delete-all-sink-datasets');
  }

  // ------------------------------------------------------------------------------ pipe runner

  stopRunner(terminateTimeout = 30): Promise<unknown> {
    return this.json('POST', 'pipes/stop-run-all-pipes', { query: { terminate_timeout: terminateTimeout } });
  }

  runAllPipes(params: Query): Promise<{ status?: string; additional_info?: string; token?: string }> {
    return this.json('POST', 'pipes/run-all-pipes', { query: params });
  }

  runnerLog(since?: string, token?: string): Promise<unknown[]> {
    return this.json('GET', 'pipes/get-run-all-pipes-log', { query: { since: since || undefined, token: token || undefined } });
  }

  runnerStatus(token: string): Promise<{ status?: string; additional_info?: string }> {
    return this.json('GET', 'pipes/get-pipe-runner-status', { query: { token } });
  }
}
