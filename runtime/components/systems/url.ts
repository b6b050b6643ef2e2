/**
 * The URL system: an HTTP(S) client built from a `system:url` config, shared by the sources,
 * sinks and transforms that name the system. It resolves relative URLs (`url_pattern` or the
 * deprecated `base_url`), adds default headers and authentication (basic, digest, JWT bearer
 * tokens, OAuth2 client credentials / refresh token with cached tokens, Tripletex session tokens),
 * applies `connect_timeout`, `read_timeout`, `verify_ssl`, `custom_ca_pem_chain` and `proxies`
 * through an undici Agent, and retries failed requests as the caller's retry policy says (the
 * pump's retry settings, with the system's `retry_strategy` per status code).
 */
import schema from '../../../schemas/systems/url.schema.json' with { type: 'json' };
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici-types';
import type { PlanPipe } from '../../../compiler/plan/types.js';
import type { ComponentContext } from '../types.js';
import { ConnectError, createAgent } from './connect.js';
import { AuthError, DigestAuth, OAuth2Tokens, TripletexTokens, type OAuth2Config, type RawFetch, type TripletexConfig } from './http-auth.js';
import type { ResolvedSystem, SystemContext, SystemSpec } from './spec.js';
import { urlSystemOperations } from './operations.js';

export type HttpErrorCode = 'HTTP_STATUS' | 'HTTP_TIMEOUT' | 'HTTP_CONNECT' | 'HTTP_NETWORK' | 'HTTP_MALFORMED' | 'HTTP_AUTH' | 'HTTP_ABORTED';

/** A failed HTTP exchange: a non-2xx status, a timeout, a network error or an unreadable body. */
export class HttpError extends Error {
  constructor(
    message: string,
    readonly code: HttpErrorCode,
    readonly method: string,
    readonly url: string,
    /** The response status, 0 when there was none. */
    readonly status: number = 0,
    readonly body?: string,
  ) {
    super(message);
  }
}

/** Delay in ms before retry number `attempt` (1-based) after `failure`, or null to give up. */
export type RetryPolicy = (failure: HttpError, attempt: number) => number | null;

export interface UrlRequest {
  method?: string;
  /** Relative to the system's `url_pattern` / `base_url`, or absolute. */
  url: string;
  query?: Record<string, string | number | boolean | bigint | null | undefined>;
  /** Headers on top of the system's `headers` (component headers, content type). */
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
  /** Who is asking, for error messages, e.g. `pipe "orders": the json source`. */
  what?: string;
  retry?: RetryPolicy;
  /** Statuses handed back to the caller instead of failing (2xx always are). */
  accept?: (status: number) => boolean;
}

export interface UrlResponse {
  status: number;
  statusText: string;
  headers: Headers;
  url: string;
  /** The whole body as text (errors name the URL). */
  text(): Promise<string>;
  /** The body as a stream of chunks (errors name the URL). */
  chunks(): AsyncIterable<Uint8Array>;
  /** Discards the body. */
  discard(): Promise<void>;
}

/** JSON text of a config (big integers as digits), for cache keys and checks. */
function configText(config: unknown): string {
  return JSON.stringify(config, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Headers of a component's `headers` setting, lower-cased, defaulting to a JSON exchange. */
export function jsonExchangeHeaders(configured: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries((configured ?? {}) as Record<string, string>)) headers[k.toLowerCase()] = v;
  headers['content-type'] ??= 'application/json';
  headers.accept ??= 'application/json';
  return headers;
}

export function snippet(text: string, max = 300): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/** The URL without user info, for messages. */
function shown(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return url;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

function causeOf(err: unknown): { code?: string; message: string } {
  let e = err as { cause?: unknown; code?: string; message?: string; errors?: unknown[] } | undefined;
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    if (e.code && typeof e.code === 'string') return { code: e.code, message: e.message ?? String(e) };
    if (Array.isArray(e.errors) && e.errors.length) e = e.errors[0] as typeof e;
    else if (e.cause) e = e.cause as typeof e;
    else break;
  }
  return { message: (e as Error | undefined)?.message ?? String(err) };
}

interface ClientOptions {
  logger?: Logger;
}

export interface RetrySettings {
  max_read_retries?: number;
  read_retry_delay?: number;
  write_retry_delay?: number;
  max_retries_per_entity?: number;
  max_consecutive_write_errors?: number;
  max_write_errors_in_retry_dataset?: number;
  batch_retries?: number;
}

/** The `retry_strategy` entry for a status: exact codes, lists ("500,502"), ranges ("400-428"), else "default". */
export function retryStrategyFor(strategy: Record<string, RetrySettings> | undefined, status: number): RetrySettings | undefined {
  if (!strategy) return undefined;
  for (const [key, settings] of Object.entries(strategy)) {
    if (key === 'default') continue;
    for (const part of key.split(',')) {
      const [a, b] = part.split('-').map((x) => Number(x.trim()));
      if (Number.isFinite(a) && status >= a && status <= (Number.isFinite(b) ? b : a)) return settings;
    }
  }
  return strategy.default;
}

/**
 * A client for one URL system. Clients are cached per system config (see `urlClientFor`), so
 * connections and OAuth2 tokens are shared by every pipe using the system.
 */
export class UrlClient {
  readonly id: string;
  private readonly config: Record<string, unknown>;
  private readonly headers: Record<string, string>;
  private readonly connectTimeoutMs: number;
  private readonly readTimeoutMs: number;
  private readonly verify: boolean;
  private readonly ca?: string;
  private readonly proxies?: Record<string, string>;
  private readonly auth: string | undefined;
  private readonly oauth2: OAuth2Tokens | null = null;
  private readonly tripletex: TripletexTokens | null = null;
  private readonly digest: DigestAuth | null = null;
  private agent: Promise<Dispatcher | null> | null = null;
  private readonly logger?: Logger;

  constructor(system: { id: string; config: Record<string, unknown> }, options: ClientOptions = {}) {
    const c = system.config;
    this.id = system.id;
    this.config = c;
    this.logger = options.logger;
    const fail = (msg: string): never => {
      throw new Error(`system "${this.id}": ${msg}`);
    };
    const unresolved = /\$SECRET\(([^)]*)\)/.exec(configText(c));
    if (unresolved) fail(`the secret "${unresolved[1]}" is not set (set it with PUT /api/systems/${this.id}/secrets or as a global secret)`);
    if (typeof c.url_pattern !== 'string' && typeof c.base_url !== 'string') fail('needs "url_pattern" (or the deprecated "base_url")');
    this.headers = {};
    for (const [k, v] of Object.entries((c.headers ?? {}) as Record<string, unknown>)) {
      if (typeof v !== 'string') fail(`the header "${k}" must be a string`);
      this.headers[k.toLowerCase()] = v as string;
    }
    this.connectTimeoutMs = Number(c.connect_timeout ?? 60) * 1000;
    this.readTimeoutMs = Number(c.read_timeout ?? 1800) * 1000;
    this.verify = c.verify_ssl === true;
    this.ca = typeof c.custom_ca_pem_chain === 'string' && c.custom_ca_pem_chain ? c.custom_ca_pem_chain : undefined;
    const proxies = c.proxies as Record<string, string> | undefined;
    if (proxies && Object.keys(proxies).length) {
      for (const [k, v] of Object.entries(proxies)) {
        let scheme: string;
        try {
          scheme = new URL(v).protocol;
        } catch {
          return fail(`the proxy for "${k}" ("${v}") is not a URL`);
        }
        if (!['http:', 'https:', 'socks5:', 'socks5h:'].includes(scheme)) fail(`the proxy for "${k}" has the unsupported scheme "${scheme}" (use http, https or socks5)`);
      }
      this.proxies = proxies;
    }
    this.auth = typeof c.authentication === 'string' ? c.authentication : undefined;
    const username = typeof c.username === 'string' ? c.username : null;
    const password = typeof c.password === 'string' ? c.password : null;
    const send: RawFetch = (url, init) => this.rawFetch(url, init);
    if (c.oauth2) {
      if (this.auth === 'jwt' || typeof c.jwt_token === 'string') fail('"oauth2" cannot be combined with JWT authentication or "jwt_token"');
      const o = c.oauth2 as OAuth2Config;
      if (!o.client_id || !o.client_secret || !o.token_url) fail('"oauth2" needs client_id, client_secret and token_url');
      this.oauth2 = new OAuth2Tokens(o, send, this.id);
    }
    switch (this.auth) {
      case undefined:
        break;
      case 'basic':
      case 'digest':
        if (username === null || password === null) fail(`${this.auth} authentication needs "username" and "password"`);
        if (this.auth === 'digest') this.digest = new DigestAuth(username!, password!);
        break;
      case 'jwt':
        if (typeof c.jwt_token !== 'string' || !c.jwt_token) fail('JWT authentication needs "jwt_token"');
        break;
      case 'tripletex':
        if (!c.tripletex) fail('tripletex authentication needs the "tripletex" settings (consumer_token, employee_token, token_url)');
        this.tripletex = new TripletexTokens(c.tripletex as TripletexConfig, send, this.id);
        break;
      case 'ntlm':
        fail('NTLM authentication is not supported by this runtime (use basic, digest, jwt or oauth2)');
        break;
      default:
        fail(`unknown authentication "${this.auth}"`);
    }
    if (c.ignore_invalid_content_length_response_header === true) this.logger?.warn({ system: this.id }, 'ignore_invalid_content_length_response_header is not supported; responses with a wrong Content-Length still fail');
  }

  /** The absolute URL for a component's `url`: absolute URLs are kept, relative ones go into the pattern. */
  resolve(relative: string): string {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(relative)) return relative;
    const pattern = this.config.url_pattern;
    if (typeof pattern === 'string') return pattern.includes('%s') ? pattern.split('%s').join(relative) : pattern + relative;
    const base = this.config.base_url as string;
    try {
      return new URL(relative, base).href;
    } catch {
      throw new Error(`system "${this.id}": cannot join "${relative}" to the base_url "${base}"`);
    }
  }

  /** The pump setting for a failure status: set on the pump > the system's retry_strategy > the pump default. */
  retrySetting(pipe: PlanPipe, name: keyof RetrySettings, status: number): number {
    const written = (pipe.original.pump ?? {}) as Record<string, unknown>;
    const effective = pipe.pump as Record<string, unknown>;
    if (name in written && typeof effective[name] === 'number') return effective[name] as number;
    const strategy = retryStrategyFor(this.config.retry_strategy as Record<string, RetrySettings> | undefined, status)?.[name];
    if (typeof strategy === 'number') return strategy;
    return typeof effective[name] === 'number' ? (effective[name] as number) : 0;
  }

  /** Retries reads as the pump's `max_read_retries` / `read_retry_delay` say (per status via retry_strategy). */
  readRetryPolicy(pipe: PlanPipe): RetryPolicy {
    return (failure, attempt) => {
      if (failure.code === 'HTTP_ABORTED') return null;
      if (attempt > this.retrySetting(pipe, 'max_read_retries', failure.status)) return null;
      return this.retrySetting(pipe, 'read_retry_delay', failure.status) * 1000;
    };
  }

  private getAgent(): Promise<Dispatcher | null> {
    this.agent ??= createAgent({ connectTimeoutMs: this.connectTimeoutMs, readTimeoutMs: this.readTimeoutMs, rejectUnauthorized: this.verify, ca: this.ca, proxies: this.proxies });
    return this.agent;
  }

  /** One fetch through the system's dispatcher, without authentication or retries. */
  private async rawFetch(url: string, init: RequestInit): Promise<Response> {
    const agent = await this.getAgent();
    if (!agent) {
      const https = url.startsWith('https:');
      if (this.proxies) throw new Error(`system "${this.id}": "proxies" need undici's Agent, which this Node.js does not make reachable`);
      if (https && (!this.verify || this.ca)) throw new Error(`system "${this.id}": verify_ssl=false and custom_ca_pem_chain need undici's Agent, which this Node.js does not make reachable`);
      const timeout = AbortSignal.timeout(this.connectTimeoutMs + this.readTimeoutMs);
      return fetch(url, { ...init, signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
    }
    return fetch(url, { ...init, dispatcher: agent } as RequestInit);
  }

  private async authHeader(method: string, url: string): Promise<string | undefined> {
    if (this.oauth2) return `Bearer ${await this.oauth2.get()}`;
    switch (this.auth) {
      case 'basic':
        return `Basic ${Buffer.from(`${this.config.username as string}:${this.config.password as string}`).toString('base64')}`;
      case 'jwt':
        return `Bearer ${this.config.jwt_token as string}`;
      case 'tripletex':
        return this.tripletex!.authorization();
      case 'digest':
        return this.digest!.header(method, url) ?? undefined;
    }
    return undefined;
  }

  private networkError(err: unknown, method: string, url: string, what: string, phase: 'request' | 'body'): HttpError {
    if (err instanceof HttpError) return err;
    if (err instanceof AuthError) return new HttpError(`${what}: ${err.message}`, 'HTTP_AUTH', method, url);
    const { code, message } = causeOf(err);
    const name = (err as Error)?.name;
    const at = `${method} ${shown(url)}`;
    if (name === 'AbortError' && code !== 'UND_ERR_HEADERS_TIMEOUT') return new HttpError(`${what}: ${at} was aborted (the run was stopped)`, 'HTTP_ABORTED', method, url);
    if (name === 'TimeoutError') return new HttpError(`${what}: ${at} timed out after ${(this.connectTimeoutMs + this.readTimeoutMs) / 1000} s`, 'HTTP_TIMEOUT', method, url);
    switch (code) {
      case 'UND_ERR_HEADERS_TIMEOUT':
        return new HttpError(`${what}: ${at} timed out: no response within ${this.readTimeoutMs / 1000} s (the system's read_timeout)`, 'HTTP_TIMEOUT', method, url);
      case 'UND_ERR_BODY_TIMEOUT':
        return new HttpError(`${what}: ${at} timed out: the response body stalled for ${this.readTimeoutMs / 1000} s (the system's read_timeout)`, 'HTTP_TIMEOUT', method, url);
      case 'UND_ERR_CONNECT_TIMEOUT':
      case 'CONNECT_TIMEOUT':
        return new HttpError(`${what}: ${at} failed: could not connect within ${this.connectTimeoutMs / 1000} s (the system's connect_timeout)`, 'HTTP_CONNECT', method, url);
    }
    if (err instanceof ConnectError || (code && code.startsWith('PROXY_'))) return new HttpError(`${what}: ${at} failed: ${message}`, 'HTTP_CONNECT', method, url);
    if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|DEPTH_ZERO/.test(code))
      return new HttpError(`${what}: ${at} failed: the server's TLS certificate was not accepted (${code}: ${message}); set custom_ca_pem_chain or verify_ssl=false on system "${this.id}"`, 'HTTP_CONNECT', method, url);
    if (code && CONNECT_CODES.has(code)) return new HttpError(`${what}: ${at} failed: ${message} (${code})${phase === 'body' ? ' while reading the response' : ''}`, 'HTTP_NETWORK', method, url);
    return new HttpError(`${what}: ${at} failed${phase === 'body' ? ' while reading the response' : ''}: ${message}${code ? ` (${code})` : ''}`, 'HTTP_NETWORK', method, url);
  }

  private wrap(res: Response, method: string, url: string, what: string): UrlResponse {
    const client = this;
    let used = false;
    const take = () => {
      if (used) throw new Error(`${what}: the body of ${method} ${shown(url)} was already read`);
      used = true;
    };
    return {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
      url,
      async text() {
        take();
        try {
          return await res.text();
        } catch (err) {
          throw client.networkError(err, method, url, what, 'body');
        }
      },
      chunks() {
        take();
        return (async function* () {
          if (!res.body) return;
          const reader = res.body.getReader();
          try {
            for (;;) {
              let r: { done: boolean; value?: Uint8Array };
              try {
                r = await reader.read();
              } catch (err) {
                throw client.networkError(err, method, url, what, 'body');
              }
              if (r.done) return;
              if (r.value) yield r.value;
            }
          } finally {
            reader.releaseLock();
            await res.body?.cancel().catch(() => undefined);
          }
        })();
      },
      async discard() {
        if (used) return;
        used = true;
        await res.body?.cancel().catch(() => undefined);
      },
    };
  }

  /**
   * Sends a request with the system's headers and authentication. Non-2xx answers (not in
   * `accept`), timeouts and network errors throw HttpError naming the method, URL and status,
   * after the retries `retry` allows.
   */
  async request(req: UrlRequest): Promise<UrlResponse> {
    const method = (req.method ?? 'GET').toUpperCase();
    const what = req.what ?? `system "${this.id}"`;
    const u = new URL(this.resolve(req.url));
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined && v !== null) u.searchParams.set(k, String(v));
    const url = u.href;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(req, method, url, what);
      } catch (err) {
        const failure = err instanceof HttpError ? err : this.networkError(err, method, url, what, 'request');
        const delay = req.retry && !req.signal?.aborted ? req.retry(failure, attempt) : null;
        if (delay === null) throw failure;
        this.logger?.warn({ system: this.id, url: shown(url), attempt, err: failure.message }, 'retrying a failed request');
        await sleep(delay, req.signal);
        if (req.signal?.aborted) throw failure;
      }
    }
  }

  private async once(req: UrlRequest, method: string, url: string, what: string): Promise<UrlResponse> {
    let renewed = false;
    for (;;) {
      const headers: Record<string, string> = { ...this.headers };
      for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
      let auth: string | undefined;
      try {
        auth = await this.authHeader(method, url);
      } catch (err) {
        throw this.networkError(err, method, url, what, 'request');
      }
      if (auth) headers.authorization = auth;
      let res: Response;
      try {
        res = await this.rawFetch(url, { method, headers, body: req.body as RequestInit['body'], signal: req.signal, redirect: 'follow' });
      } catch (err) {
        throw this.networkError(err, method, url, what, 'request');
      }
      if (res.status === 401 && !renewed) {
        let again = false;
        try {
          if (this.oauth2) {
            await this.oauth2.renew();
            again = true;
          } else if (this.tripletex) {
            await this.tripletex.renew();
            again = true;
          } else if (this.digest) again = this.digest.accept(res.headers.get('www-authenticate'));
        } catch (err) {
          await res.body?.cancel().catch(() => undefined);
          throw this.networkError(err, method, url, what, 'request');
        }
        if (again) {
          renewed = true;
          await res.body?.cancel().catch(() => undefined);
          continue;
        }
      }
      if ((res.status >= 200 && res.status < 300) || req.accept?.(res.status)) return this.wrap(res, method, url, what);
      let body = '';
      try {
        body = await res.text();
      } catch {
        // the status says enough
      }
      throw new HttpError(`${what}: ${method} ${shown(url)} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${body ? `: ${snippet(body)}` : ''}`, 'HTTP_STATUS', method, url, res.status, body);
    }
  }

  /** When the OAuth2 token expires (ms), for tests and the execution log. */
  get tokenExpiry(): number | null {
    return this.oauth2?.expiry ?? null;
  }

  async close(): Promise<void> {
    const agent = await this.agent;
    await agent?.close().catch(() => undefined);
  }
}

/**
 * Other system types that components reach like a URL system (a microservice): each turns its
 * config into a URL system's config, registered by its own module.
 */
const urlLikeSystems = new Map<string, (system: ResolvedSystem) => { id: string; config: Record<string, unknown> }>();

export function registerUrlLikeSystem(type: string, asUrlSystem: (system: ResolvedSystem) => { id: string; config: Record<string, unknown> }): void {
  urlLikeSystems.set(type, asUrlSystem);
}

/** Clients per system config, so pipes share connections and tokens (and a changed config gets a new client). */
const clients = new Map<string, UrlClient>();
const MAX_CLIENTS = 200;

export function clientForSystem(system: ResolvedSystem | { id: string; type?: string; config: Record<string, unknown> }, logger?: Logger): UrlClient {
  const key = `${system.id}\u0000${configText(system.config)}`;
  let client = clients.get(key);
  if (!client) {
    client = new UrlClient(system, { logger });
    if (clients.size >= MAX_CLIENTS) clients.delete(clients.keys().next().value as string);
    clients.set(key, client);
  }
  return client;
}

/** Drops the shared clients of a system: the next request opens new connections and fetches new tokens. */
export async function forgetClients(systemId: string): Promise<number> {
  const gone = [...clients.entries()].filter(([key]) => key.startsWith(`${systemId}\u0000`));
  for (const [key, client] of gone) {
    clients.delete(key);
    await client.close();
  }
  return gone.length;
}

/** The shared client of the URL system `systemId` for a component of the pipe in `ctx`. */
export function urlClientFor(ctx: ComponentContext, systemId: unknown, what = 'the component'): UrlClient {
  const at = `pipe "${ctx.pipe.id}": ${what}`;
  if (typeof systemId !== 'string' || systemId === '') throw new Error(`${at} needs a "system" (the id of a URL system)`);
  const system = ctx.systems.get(systemId);
  if (!system) throw new Error(`${at} refers to system "${systemId}", which is not defined`);
  const adapt = urlLikeSystems.get(system.type);
  // A REST system is a URL system with more settings: components of the URL system can use it too.
  if (system.type !== 'system:url' && system.type !== 'system:rest' && !adapt) throw new Error(`${at} needs a URL system (type "system:url"), but system "${systemId}" has type "${system.type}"`);
  try {
    return clientForSystem(adapt ? adapt(system) : system, ctx.logger);
  } catch (err) {
    throw new Error(`${at}: ${(err as Error).message}`);
  }
}

export const urlSystem: SystemSpec<UrlClient> = {
  kind: 'system',
  type: 'url',
  doc: 'An HTTP(S) server reached through a URL pattern: sources, sinks and transforms that name it share its connection pool, default headers, authentication (basic, digest, JWT, OAuth2, Tripletex), timeouts, TLS and proxy settings, and its retry strategy per status code.',
  schema,
  create(system: ResolvedSystem, ctx: SystemContext) {
    return clientForSystem(system, ctx.logger);
  },
  operations: (system, ctx) => urlSystemOperations(system, ctx),
};
