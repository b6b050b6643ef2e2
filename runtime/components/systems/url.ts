/**
 * The URL system: an HTTP(S) client built from a `system:url` config, shared by the sources,
 * sinks and transforms that name the system. It resolves relative URLs (`url_pattern` or the
 * deprecated `base_url`), adds default headers and authentication (basic, digest, JWT bearer
 * tokens, OAuth2 client credentials / refresh token with cached tokens, Tripletex session tokens),
 * applies `connect_timeout`, `read_timeout`, `verify_ssl`, `custom_ca_pem_chain` and `proxies`
 * through an undici Agent (keep-alive connections per origin), follows redirects, and retries
 * failed requests as the caller's retry policy says (the pump's retry settings, with the system's
 * `retry_strategy` per status code). Requests go out on undici's dispatcher API (http-transport.ts).
 *
 * User info in the URL (`https://user:password@host/...` in `url_pattern`, `base_url` or an absolute
 * URL) is basic authentication when the system configures no other: it is sent as an
 * Authorization header to the URL's origin and never kept in a URL the client shows.
 */
import schema from '../../../schemas/systems/url.schema.json' with { type: 'json' };
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { PlanPipe } from '../../../compiler/plan/types.js';
import type { ComponentContext } from '../types.js';
import { ConnectError } from './connect-error.js';
import { AuthError, basicAuthorization, decodeUserinfo, DigestAuth, OAuth2Tokens, TripletexTokens, withoutUserinfo, type OAuth2Config, type RawFetch, type RawRequest, type RawResponse, type TripletexConfig } from './http-auth.js';
import { ClientResponse, headerText, shown, WireExchange } from './http-transport.js';
import type { ResolvedSystem, SystemContext, SystemSpec } from './spec.js';
import { urlSystemOperations } from './operations.js';
import { systemConfigText as configText, unsetSecret, unsetSecretMessage } from './lookup.js';

export type HttpErrorCode = 'HTTP_SECRET_UNSET' | 'HTTP_STATUS' | 'HTTP_TIMEOUT' | 'HTTP_CONNECT' | 'HTTP_NETWORK' | 'HTTP_MALFORMED' | 'HTTP_AUTH' | 'HTTP_ABORTED';

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
  /** The response headers (made when first read; `header()` is cheaper for one). */
  readonly headers: Headers;
  /** One response header (repeated ones joined by ", "), or null. */
  header(name: string): string | null;
  /** The URL the response came from (after redirects). */
  url: string;
  /** The whole body as text (errors name the URL). */
  text(): Promise<string>;
  /** The body as a stream of chunks (errors name the URL). */
  chunks(): AsyncIterable<Uint8Array>;
  /** Discards the body. */
  discard(): Promise<void>;
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
  /** Idempotent requests sent on a connection before the answer to the first came (default: the system's `pipelining`, 1). */
  pipelining?: number;
  /** Connections per origin (default: the system's `max_connections`, else as many as requests under way). */
  connections?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\//i;
const USER_AGENT = 'Sluice';
const MAX_REDIRECTS = 20;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

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
  private agent: Promise<Dispatcher> | null = null;
  private readonly pipelining: number;
  /** The url_pattern (without user info) split at its `%s` (relative URLs go between the parts). */
  private readonly patternParts: string[] | null;
  /** The base_url without user info. */
  private readonly baseUrl: string | null;
  /** Basic credentials from the user info of url_pattern / base_url, for requests to its origin (null: any). */
  private readonly userinfo: { authorization: string; origin: string | null } | null = null;
  private readonly connections?: number;
  private readonly logger?: Logger;
  /** A secret the settings of every request need that is not set: requests fail until it is. */
  private readonly unsetSecret: string | null;

  constructor(system: { id: string; config: Record<string, unknown> }, options: ClientOptions = {}) {
    const c = system.config;
    this.id = system.id;
    this.config = c;
    this.logger = options.logger;
    this.pipelining = options.pipelining ?? (typeof c.pipelining === 'number' ? c.pipelining : 1);
    this.connections = options.connections ?? (typeof c.max_connections === 'number' ? c.max_connections : undefined);
    const fail = (msg: string): never => {
      throw new Error(`system "${this.id}": ${msg}`);
    };
    // A REST system's operations are checked when one is used (see rest/operation.ts).
    const { operations: _checkedWhenUsed, ...everyRequest } = c;
    this.unsetSecret = unsetSecret(everyRequest);
    if (typeof c.url_pattern !== 'string' && typeof c.base_url !== 'string') fail('needs "url_pattern" (or the deprecated "base_url")');
    const pattern = typeof c.url_pattern === 'string' ? withoutUserinfo(c.url_pattern) : null;
    const base = typeof c.base_url === 'string' ? withoutUserinfo(c.base_url) : null;
    this.patternParts = pattern ? pattern.url.split('%s') : null;
    this.baseUrl = base?.url ?? null;
    const fromUrl = pattern ?? base;
    if (fromUrl?.authorization) {
      let origin: string | null = null;
      try {
        origin = new URL(fromUrl.url.split('%s').join('')).origin;
      } catch {
        // a pattern that is not a URL without the relative part: its credentials go with every request
      }
      this.userinfo = { authorization: fromUrl.authorization, origin };
    }
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

  /** Requests the connection pool holds under way at once (max_connections x pipelining), or null when it opens a connection per request. */
  get capacity(): number | null {
    return this.connections === undefined ? null : this.connections * this.pipelining;
  }

  /** The absolute URL for a component's `url`: absolute URLs are kept, relative ones go into the pattern. */
  resolve(relative: string): string {
    if (ABSOLUTE.test(relative)) return relative;
    const parts = this.patternParts;
    if (parts) {
      if (parts.length === 2) return parts[0] + relative + parts[1];
      return parts.length === 1 ? parts[0] + relative : parts.join(relative);
    }
    const base = this.baseUrl as string;
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

  /** The system's dispatcher; undici loads with the first request, so a start that calls out to nothing does not pay for it. */
  private getAgent(): Promise<Dispatcher> {
    this.agent ??= import('./connect.js').then(({ createAgent }) => createAgent({ connectTimeoutMs: this.connectTimeoutMs, readTimeoutMs: this.readTimeoutMs, rejectUnauthorized: this.verify, ca: this.ca, proxies: this.proxies, pipelining: this.pipelining, connections: this.connections }));
    return this.agent;
  }

  /** One request on the wire (no redirects, authentication or retries), to start on the system's dispatcher. */
  private wire(url: URL, method: string, headers: Record<string, string>, body: string | Uint8Array | undefined, signal: AbortSignal | undefined): WireExchange {
    return new WireExchange({ origin: url.origin, path: url.pathname + url.search, method, headers, body, signal, pipelined: this.pipelining > 1 && IDEMPOTENT.has(method) });
  }

  /** A token request of the system's authentication (its dispatcher and timeouts; no retries). */
  private async rawFetch(url: string, init: RawRequest): Promise<RawResponse> {
    const x = this.wire(new URL(url), init.method, init.headers, init.body, undefined);
    await x.start(await this.getAgent());
    return { status: x.status, statusText: x.statusText, ok: x.status >= 200 && x.status < 300, text: () => x.text() };
  }

  private async authHeader(method: string, url: string): Promise<string | undefined> {
    if (this.oauth2) return `Bearer ${await this.oauth2.get()}`;
    switch (this.auth) {
      case 'basic':
        return basicAuthorization(this.config.username as string, this.config.password as string);
      case 'jwt':
        return `Bearer ${this.config.jwt_token as string}`;
      case 'tripletex':
        return this.tripletex!.authorization();
      case 'digest':
        return this.digest!.header(method, url) ?? undefined;
    }
    return undefined;
  }

  /** The HttpError for a failed exchange (for the responses of this client too). */
  networkError(err: unknown, method: string, url: string, what: string, phase: 'request' | 'body'): HttpError {
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

  /**
   * Sends a request with the system's headers and authentication. Non-2xx answers (not in
   * `accept`), timeouts and network errors throw HttpError naming the method, URL and status,
   * after the retries `retry` allows.
   */
  async request(req: UrlRequest): Promise<UrlResponse> {
    const method = (req.method ?? 'GET').toUpperCase();
    const what = req.what ?? `system "${this.id}"`;
    if (this.unsetSecret !== null) throw new HttpError(`${what}: ${unsetSecretMessage(this.id, this.unsetSecret)}`, 'HTTP_SECRET_UNSET', method, shown(this.resolve(req.url)));
    const u = new URL(this.resolve(req.url));
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined && v !== null) u.searchParams.set(k, String(v));
    const userinfo = this.userinfoAuthorization(u);
    const url = u.href;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(req, method, u, what, userinfo);
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

  /**
   * The basic Authorization of a request's user info (taken out of `target`), or of the system URL's
   * when the request goes to its origin; undefined when the system configures another authentication.
   */
  private userinfoAuthorization(target: URL): string | undefined {
    let own: string | undefined;
    if (target.username || target.password) {
      own = basicAuthorization(decodeUserinfo(target.username), decodeUserinfo(target.password));
      target.username = '';
      target.password = '';
    }
    if (this.auth !== undefined || this.oauth2) return undefined;
    if (own) return own;
    const system = this.userinfo;
    return system && (system.origin === null || system.origin === target.origin) ? system.authorization : undefined;
  }

  private async once(req: UrlRequest, method: string, target: URL, what: string, userinfo: string | undefined): Promise<UrlResponse> {
    const url = target.href;
    let renewed = false;
    for (;;) {
      // Object.assign, not a spread: V8 makes adding properties to a spread copy slow.
      const headers: Record<string, string> = Object.assign({}, this.headers);
      for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
      // What fetch sent when the caller did not say (some services refuse requests without a user agent); compressed bodies are decoded.
      headers.accept ??= '*/*';
      headers['accept-encoding'] ??= 'gzip, deflate, br';
      headers['user-agent'] ??= USER_AGENT;
      if (userinfo) headers.authorization = userinfo;
      if (this.auth !== undefined || this.oauth2) {
        let auth: string | undefined;
        try {
          auth = await this.authHeader(method, url);
        } catch (err) {
          throw this.networkError(err, method, url, what, 'request');
        }
        if (auth) headers.authorization = auth;
      }
      let res: { x: WireExchange; url: string };
      try {
        res = await this.follow(target, method, headers, req.body, req.signal, what);
      } catch (err) {
        throw this.networkError(err, method, url, what, 'request');
      }
      const { x } = res;
      if (x.status === 401 && !renewed) {
        let again = false;
        try {
          if (this.oauth2) {
            await this.oauth2.renew();
            again = true;
          } else if (this.tripletex) {
            await this.tripletex.renew();
            again = true;
          } else if (this.digest) again = this.digest.accept(headerText(x, 'www-authenticate'));
        } catch (err) {
          await x.discard();
          throw this.networkError(err, method, url, what, 'request');
        }
        if (again) {
          renewed = true;
          await x.discard();
          continue;
        }
      }
      if ((x.status >= 200 && x.status < 300) || req.accept?.(x.status)) return new ClientResponse(this, x, method, res.url, what);
      let body = '';
      try {
        body = await x.text();
      } catch {
        // the status says enough
      }
      throw new HttpError(`${what}: ${method} ${shown(res.url)} answered ${x.status}${x.statusText ? ` ${x.statusText}` : ''}${body ? `: ${snippet(body)}` : ''}`, 'HTTP_STATUS', method, res.url, x.status, body);
    }
  }

  /**
   * Sends a request and follows redirects as fetch does: 303 (and 301/302 after a POST) turn into a
   * GET without a body, credentials are not sent on to another origin, at most 20 hops.
   */
  private async follow(target: URL, method: string, headers: Record<string, string>, body: string | Uint8Array | undefined, signal: AbortSignal | undefined, what: string): Promise<{ x: WireExchange; url: string }> {
    const url = target.href;
    for (let hops = 0; ; hops++) {
      const x = this.wire(target, method, headers, body, signal);
      await x.start(await this.getAgent());
      const location = REDIRECTS.has(x.status) ? headerText(x, 'location') : null;
      if (location === null) return { x, url: target.href };
      await x.discard();
      if (hops === MAX_REDIRECTS) throw new HttpError(`${what}: ${method} ${shown(url)} was redirected more than ${MAX_REDIRECTS} times`, 'HTTP_NETWORK', method, url, x.status);
      let next: URL;
      try {
        next = new URL(location, target);
      } catch {
        throw new HttpError(`${what}: ${method} ${shown(target.href)} redirected to ${JSON.stringify(location)}, which is not a URL`, 'HTTP_NETWORK', method, url, x.status);
      }
      headers = Object.assign({}, headers);
      if (next.origin !== target.origin) for (const h of ['authorization', 'cookie', 'proxy-authorization']) delete headers[h];
      if ((x.status === 303 && method !== 'HEAD') || ((x.status === 301 || x.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        for (const h of Object.keys(headers)) if (h.startsWith('content-')) delete headers[h];
      }
      target = next;
    }
  }

  /** When the OAuth2 token expires (ms), for tests and the execution log. */
  get tokenExpiry(): number | null {
    return this.oauth2?.expiry ?? null;
  }

  async close(): Promise<void> {
    await this.agent?.then((agent) => agent.close()).catch(() => undefined);
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
