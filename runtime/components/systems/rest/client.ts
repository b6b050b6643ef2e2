/**
 * The client of a `system:rest`: the URL system's client (url_pattern, authentication, TLS, proxies,
 * timeouts, retries) plus the REST system's named operations, templated default headers,
 * `json_content_types`, rate limiting (429 answers retried after `Retry-After` or
 * `rate_limiting_delay`) and `custom_auth` tokens.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { stringifyValue } from '../../../../compiler/values/json.js';
import { toJsonText } from '../../../../compiler/dtl/functions/text.js';
import { Bytes, type Value } from '../../../../compiler/values/types.js';
import { HttpError, sleep, snippet, UrlClient, type RetryPolicy, type UrlResponse } from '../url.js';
import { CustomAuth } from './custom-auth.js';
import { renderText } from '../../jinja/jinja.js';
import type { Operation } from './operation.js';
import { fieldText } from './values.js';
import { unsetSecretMessage } from '../lookup.js';

/** One request of an operation, after its templates were rendered. */
export interface RestRequest {
  method: string;
  url: string;
  params: Record<string, unknown>;
  headers: Record<string, string>;
  /** The rendered payload (undefined: no body). */
  payload: unknown;
}

export interface SendOptions {
  signal?: AbortSignal;
  what: string;
  retry?: RetryPolicy;
  /** Statuses other than 2xx handed back to the caller. */
  accept?: (status: number) => boolean;
}

/** What went on the wire (for `trace`). */
export type SentRequest = { method: string; url: string; headers: Record<string, string>; body?: string };

/** Seconds a `Retry-After` header asks for (delta seconds or an HTTP date), or null. */
export function retryAfterSeconds(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, (at - now) / 1000);
}

/** The body and content type for a payload, by the operation's `payload-type`. */
export function encodePayload(payload: unknown, type: Operation['payloadType']): { body: string | Uint8Array; contentType: string } {
  switch (type) {
    case 'json':
      return { body: toJsonText(payload as Value, false), contentType: 'application/json' };
    case 'json-transit':
      return { body: stringifyValue(payload as Value), contentType: 'application/json' };
    case 'form': {
      const form = new URLSearchParams();
      for (const [k, v] of formFields(payload)) form.append(k, v);
      return { body: form.toString(), contentType: 'application/x-www-form-urlencoded' };
    }
    case 'multipart-form': {
      const boundary = `----sluice${randomBytes(12).toString('hex')}`;
      let text = '';
      for (const [k, v] of formFields(payload)) text += `--${boundary}\r\nContent-Disposition: form-data; name="${k.replace(/["\r\n]/g, (c) => encodeURIComponent(c))}"\r\n\r\n${v}\r\n`;
      return { body: `${text}--${boundary}--\r\n`, contentType: `multipart/form-data; boundary=${boundary}` };
    }
    case 'text':
      if (payload instanceof Bytes) return { body: payload.data, contentType: 'application/octet-stream' };
      return { body: typeof payload === 'string' ? payload : toJsonText(payload as Value, false), contentType: 'text/plain' };
  }
}

/** Form fields of a payload dict; values are transit encoded, lists repeat the field. */
function formFields(payload: unknown): [string, string][] {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new Error(`a form payload must be a dict of field names and values, not ${Array.isArray(payload) ? 'a list' : payload === null ? 'null' : typeof payload}`);
  }
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(payload as Record<string, unknown>)) {
    if (Array.isArray(v)) for (const x of v) out.push([k, fieldText(x, true)]);
    else out.push([k, fieldText(v, true)]);
  }
  return out;
}

/** The URL with the query parameters set (lists repeat the parameter). */
function withParams(url: string, params: Record<string, unknown>): string {
  let u: URL | null = null;
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    u ??= new URL(url);
    if (Array.isArray(v)) {
      u.searchParams.delete(k);
      for (const x of v) u.searchParams.append(k, fieldText(x, false));
    } else u.searchParams.set(k, fieldText(v, false));
  }
  return u ? u.href : url;
}

export class RestClient {
  readonly id: string;
  readonly url: UrlClient;
  readonly config: Record<string, unknown>;
  readonly operations: Record<string, Record<string, unknown>>;
  private readonly jsonTypes: Set<string>;
  private readonly headerTemplates: [string, string][];
  readonly customAuth: CustomAuth | null;
  private readonly acceptByOperation = new WeakMap<Operation, (status: number) => boolean>();
  private readonly logger?: Logger;

  constructor(system: { id: string; config: Record<string, unknown> }, logger?: Logger) {
    this.id = system.id;
    this.config = system.config;
    this.logger = logger;
    // The URL client adds the system's headers as they are; the templated ones are rendered per request.
    const headers = (system.config.headers ?? {}) as Record<string, string>;
    this.headerTemplates = Object.entries(headers);
    const plainHeaders = Object.fromEntries(Object.entries(headers).filter(([, v]) => !/\{\{|\{%/.test(v)));
    this.url = new UrlClient({ id: system.id, config: { ...system.config, headers: plainHeaders } }, { logger });
    this.operations = (system.config.operations ?? {}) as Record<string, Record<string, unknown>>;
    const types = Array.isArray(system.config.json_content_types) ? (system.config.json_content_types as string[]) : [];
    this.jsonTypes = new Set(['application/json', ...types.map((t) => t.toLowerCase().trim())]);
    this.customAuth = system.config.custom_auth ? new CustomAuth(this, system.config.custom_auth as Record<string, unknown>) : null;
  }

  /** Statuses handed back by the URL client: 429 when rate limiting retries, 401 with custom_auth, and the caller's. */
  private acceptFor(op: Operation, also: ((status: number) => boolean) | undefined): (status: number) => boolean {
    let own = this.acceptByOperation.get(op);
    if (!own) {
      own = (s: number) => (op.rateLimitRetries > 0 && s === 429) || (s === 401 && this.customAuth !== null);
      this.acceptByOperation.set(op, own);
    }
    if (!also) return own;
    const base = own;
    return (s) => base(s) || also(s);
  }

  /** Whether the system's default headers have templates, rendered per request. */
  get hasHeaderTemplates(): boolean {
    return this.headerTemplates.length > 0;
  }

  /** Whether a response's content type is one the system treats as JSON. */
  isJson(contentType: string | null): boolean {
    if (!contentType) return false;
    return this.jsonTypes.has(contentType.split(';')[0].trim().toLowerCase());
  }

  /** The system's default headers, rendered with a request's template context. */
  async systemHeaders(context: Record<string, unknown>, what: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    if (!this.headerTemplates.length) return out;
    const ctx = this.customAuth ? { ...context, ...(await this.customAuth.context()) } : context;
    for (const [k, v] of this.headerTemplates) out[k.toLowerCase()] = renderText(v, ctx, `${what}: the system header "${k}"`);
    return out;
  }

  /** Template variables the system adds to every operation's context (custom_auth's `token`). */
  async authContext(signal?: AbortSignal): Promise<Record<string, unknown>> {
    return this.customAuth ? this.customAuth.context(signal) : {};
  }

  /**
   * Sends a rendered request. A 429 answer is retried `rate_limiting_retries` times, each after the
   * `Retry-After` the server asked for or `rate_limiting_delay` seconds; other failures follow `retry`.
   */
  async send(req: RestRequest, op: Operation, options: SendOptions, context: Record<string, unknown> = {}, sent?: (request: SentRequest) => void): Promise<UrlResponse> {
    const href = withParams(this.url.resolve(req.url), req.params);
    if (op.unsetSecret !== null) throw new HttpError(`${options.what}: operation "${op.name}": ${unsetSecretMessage(this.id, op.unsetSecret)}`, 'HTTP_SECRET_UNSET', req.method, href);
    const headers = Object.assign({}, req.headers);
    let body: string | Uint8Array | undefined;
    if (req.payload !== undefined && req.method !== 'GET' && req.method !== 'HEAD') {
      const encoded = encodePayload(req.payload, op.payloadType);
      body = encoded.body;
      headers['content-type'] ??= encoded.contentType;
    }
    sent?.({ method: req.method, url: href, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : Buffer.from(body).toString('latin1') });
    const accept = this.acceptFor(op, options.accept);
    let renewedAuth = false;
    for (let attempt = 1; ; attempt++) {
      const res = await this.url.request({ method: req.method, url: href, headers, body, signal: options.signal, what: options.what, retry: options.retry, accept });
      if (res.status === 401 && this.customAuth && !renewedAuth && !options.accept?.(401)) {
        // The token was refused before it expired: fetch a new one and send the request once more.
        renewedAuth = true;
        await res.discard();
        await this.customAuth.renew(options.signal);
        Object.assign(headers, await this.systemHeaders(context, options.what));
        attempt--;
        continue;
      }
      if (res.status === 429 && op.rateLimitRetries > 0 && !options.accept?.(429)) {
        if (attempt > op.rateLimitRetries) {
          const text = await res.text().catch(() => '');
          throw new HttpError(`${options.what}: ${req.method} ${href} answered 429 Too Many Requests ${op.rateLimitRetries} time${op.rateLimitRetries === 1 ? '' : 's'} in a row (rate_limiting_retries)${text ? `: ${snippet(text)}` : ''}`, 'HTTP_STATUS', req.method, href, 429, text);
        }
        const wait = retryAfterSeconds(res.header('retry-after')) ?? op.rateLimitDelay;
        await res.discard();
        this.logger?.warn({ system: this.id, url: href, attempt, wait }, 'rate limited (429); waiting before retrying');
        await sleep(wait * 1000, options.signal);
        if (options.signal?.aborted) throw new HttpError(`${options.what}: ${req.method} ${href} was aborted (the run was stopped)`, 'HTTP_ABORTED', req.method, href);
        continue;
      }
      if (res.status === 401 && !options.accept?.(401)) {
        const text = await res.text().catch(() => '');
        throw new HttpError(`${options.what}: ${req.method} ${href} answered 401 Unauthorized${text ? `: ${snippet(text)}` : ''}`, 'HTTP_STATUS', req.method, href, 401, text);
      }
      return res;
    }
  }

  async close(): Promise<void> {
    await this.url.close();
  }
}
