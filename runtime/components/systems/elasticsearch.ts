/**
 * The Elasticsearch system: a small JSON client over fetch for the REST calls the Elasticsearch
 * sink makes (bulk, index creation and mappings, get, delete_by_query). `hosts` are tried in
 * order: a host that cannot be reached passes the request to the next one.
 */
import schema from '../../../schemas/systems/elasticsearch.schema.json' with { type: 'json' };
import type { ComponentContext } from '../types.js';
import { snippet } from './url.js';
import type { ResolvedSystem, SystemContext, SystemSpec } from './spec.js';
import { systemClientFor, unsetSecret, unsetSecretMessage } from './lookup.js';

export type ElasticErrorCode = 'ES_CONFIG' | 'ES_SECRET_UNSET' | 'ES_CONNECT' | 'ES_TIMEOUT' | 'ES_STATUS' | 'ES_MALFORMED';

export class ElasticError extends Error {
  constructor(
    message: string,
    readonly code: ElasticErrorCode,
    /** The HTTP status, 0 when there was none. */
    readonly status = 0,
  ) {
    super(message);
  }
}

export interface ElasticResponse<T = unknown> {
  status: number;
  body: T;
}

export interface ElasticTimeouts {
  /** Milliseconds for one request (default 30 minutes, as a URL system's read_timeout). */
  requestMs?: number;
}

/** `host:port` or a URL, as an origin URL without a trailing slash. */
function baseUrl(host: string): string {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(host) ? host : `http://${host}`;
  return new URL(text).href.replace(/\/+$/, '');
}

export class ElasticClient {
  readonly id: string;
  readonly hosts: string[];
  private readonly auth?: string;
  private readonly requestMs: number;
  /** A secret the config names that is not set: requests fail until it is. */
  private readonly unsetSecret: string | null;

  constructor(system: { id: string; config: Record<string, unknown> }, timeouts: ElasticTimeouts = {}) {
    const c = system.config;
    this.id = system.id;
    const fail = (msg: string): never => {
      throw new ElasticError(`system "${this.id}": ${msg}`, 'ES_CONFIG');
    };
    this.unsetSecret = unsetSecret(c);
    const hosts = Array.isArray(c.hosts) && c.hosts.length ? (c.hosts as unknown[]) : ['localhost:9200'];
    this.hosts = hosts.map((h) => {
      try {
        return baseUrl(String(h));
      } catch {
        return fail(`the host "${String(h)}" is neither host:port nor a URL`);
      }
    });
    if (c.authentication === 'basic') {
      if (typeof c.username !== 'string' || typeof c.password !== 'string') fail('basic authentication needs "username" and "password"');
      this.auth = `Basic ${Buffer.from(`${c.username as string}:${c.password as string}`).toString('base64')}`;
    } else if (c.authentication !== undefined && c.authentication !== null) fail(`unknown authentication "${String(c.authentication)}" (the only one is "basic")`);
    else if (typeof c.username === 'string' && c.password == null) fail('"password" is required when "username" is set');
    this.requestMs = timeouts.requestMs ?? 1_800_000;
  }

  /**
   * One request, to the first host that answers. Statuses in `accept` (and 2xx) come back;
   * others fail with the server's error reason.
   */
  async request<T = unknown>(method: string, path: string, options: { body?: unknown; ndjson?: string; accept?: number[]; signal?: AbortSignal; what: string }): Promise<ElasticResponse<T>> {
    if (this.unsetSecret !== null) throw new ElasticError(`${options.what}: ${unsetSecretMessage(this.id, this.unsetSecret)}`, 'ES_SECRET_UNSET');
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.auth) headers.authorization = this.auth;
    let body: string | undefined;
    if (options.ndjson !== undefined) {
      headers['content-type'] = 'application/x-ndjson';
      body = options.ndjson;
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const unreachable: string[] = [];
    for (const host of this.hosts) {
      const url = `${host}${path}`;
      const timeout = AbortSignal.timeout(this.requestMs);
      let res: Response;
      let text: string;
      try {
        res = await fetch(url, { method, headers, body, signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout });
        text = await res.text();
      } catch (err) {
        if (timeout.aborted) throw new ElasticError(`${options.what}: ${method} ${url} did not answer within ${this.requestMs / 1000} s`, 'ES_TIMEOUT');
        if (options.signal?.aborted) throw new ElasticError(`${options.what}: ${method} ${url} was stopped`, 'ES_CONNECT');
        unreachable.push(`${host} (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message})`);
        continue;
      }
      let parsed: unknown = undefined;
      if (text.trim() !== '' && method !== 'HEAD') {
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new ElasticError(`${options.what}: ${method} ${url} answered ${res.status} with a body that is not JSON: ${snippet(text, 200)}`, 'ES_MALFORMED', res.status);
        }
      }
      if ((res.status >= 200 && res.status < 300) || options.accept?.includes(res.status)) return { status: res.status, body: parsed as T };
      throw new ElasticError(`${options.what}: ${method} ${url} answered ${res.status}: ${reasonOf(parsed) ?? snippet(text, 300)}`, 'ES_STATUS', res.status);
    }
    throw new ElasticError(`${options.what}: no Elasticsearch host of system "${this.id}" could be reached: ${unreachable.join(', ')}`, 'ES_CONNECT');
  }
}

/** The `error.reason` (and type) of an Elasticsearch error body. */
export function reasonOf(body: unknown): string | undefined {
  const e = (body as { error?: unknown } | undefined)?.error;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object') {
    const { type, reason } = e as { type?: string; reason?: string };
    if (type || reason) return [type, reason].filter(Boolean).join(': ');
  }
  return undefined;
}

export function elasticClientFor(ctx: ComponentContext, systemId: unknown, what: string): ElasticClient {
  return systemClientFor(ctx, systemId, 'system:elasticsearch', 'an Elasticsearch system', what, (system) => new ElasticClient(system));
}

export const elasticsearchSystem: SystemSpec<ElasticClient> = {
  kind: 'system',
  type: 'elasticsearch',
  doc: 'An Elasticsearch server or cluster for the Elasticsearch sink: hosts as host:port or URLs (tried in order) and optional basic authentication.',
  schema,
  create(system: ResolvedSystem, _ctx: SystemContext) {
    return new ElasticClient(system);
  },
};
