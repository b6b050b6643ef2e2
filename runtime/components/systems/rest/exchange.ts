/**
 * One use of a REST operation: its templates rendered into requests, the responses read and parsed,
 * and, when the operation has a `next_page_link`, the pages followed until a
 * `next_page_termination_strategy` says the sequence ended.
 */
import { parseJsonText } from '../../../../compiler/dtl/functions/json.js';
import { SKIP } from '../../../../compiler/dtl/functions/util.js';
import { snippet, type UrlResponse } from '../url.js';
import type { RestClient, RestRequest, SendOptions, SentRequest } from './client.js';
import { traceEntry, type Tracer } from './trace.js';
import { evaluate, mentionsVariable, renderText, renderTree } from '../../jinja/jinja.js';
import type { Operation } from './operation.js';
import { bigintAsNumber, plainValue, valueAtPath } from './values.js';

/** A run's trace keeps the first requests only (a sink may send millions). */
const MAX_TRACE_ENTRIES = 1000;

export class RestResponseError extends Error {
  readonly code = 'REST_RESPONSE';
}

export interface SinceSetting {
  name: string;
  location: 'query' | 'header' | 'manual';
  value: unknown;
}

export interface ExchangeInput {
  client: RestClient;
  op: Operation;
  /** Template variables of every request: properties, since, entity, source_entity, entity properties. */
  context: Record<string, unknown>;
  /** The payload template (entity > component > operation), undefined for none. */
  payload: unknown;
  since?: SinceSetting | null;
  /** Follow `next_page_link` (sources and transforms; sinks send one request). */
  paging: boolean;
  options: SendOptions;
  /** Requests of custom_auth's token operations do not ask for a token themselves. */
  authenticating?: boolean;
  /** Read the body but do not parse it (sinks only need the status). */
  ignoreBody?: boolean;
  /** Where `trace` entries go, when the component traces. */
  trace?: { tracer: Tracer; entries: Record<string, unknown>[] };
}

export interface RestPage {
  page: number;
  request: RestRequest;
  /** The URL the response came from (with the query). */
  href: string;
  status: number;
  /** Response headers as templates see them: lower-case names (any case works), `link` parsed by rel. */
  readonly headers: Record<string, unknown>;
  contentType: string | null;
  json: boolean;
  text: string;
  /** The parsed JSON body, or the text of a body that is not JSON. */
  body: unknown;
  /** The body's `payload_property` (the body when none is set); for non-JSON bodies the text. */
  result: unknown;
  /** The result as a list of items. */
  items: unknown[];
  /** Template variables for expressions over this response (id, updated, error, next page). */
  readonly context: Record<string, unknown>;
}

/** RFC 5988 `Link` header values by their rel: `<?page=3>; rel="next"` → `{next: "?page=3"}`. */
export function parseLinkHeader(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of value.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
    const rel = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(m[2]);
    if (rel) for (const r of rel[1].trim().split(/\s+/)) out[r] ??= m[1];
  }
  return out;
}

/** The response headers behind a header view, read into an object when first asked. */
class HeaderSource {
  private made: Record<string, unknown> | null = null;

  constructor(private readonly res: UrlResponse) {}

  all(): Record<string, unknown> {
    if (this.made) return this.made;
    const made: Record<string, unknown> = {};
    this.res.headers.forEach((v, k) => {
      made[k] = k === 'link' ? parseLinkHeader(v) : v;
    });
    this.made = made;
    return made;
  }
}

const HEADER_VIEW: ProxyHandler<HeaderSource> = {
  get: (t, p) => (typeof p === 'string' ? (t.all()[p] ?? t.all()[p.toLowerCase()]) : undefined),
  has: (t, p) => p in t.all(),
  ownKeys: (t) => Reflect.ownKeys(t.all()),
  getOwnPropertyDescriptor: (t, p) => {
    const d = Reflect.getOwnPropertyDescriptor(t.all(), p);
    return d ? { ...d, configurable: true } : undefined;
  },
};

/** Response headers for templates, reachable in any letter case (`headers.Link.next`). */
function headerView(res: UrlResponse): Record<string, unknown> {
  return new Proxy(new HeaderSource(res), HEADER_VIEW) as unknown as Record<string, unknown>;
}

function parseBody(text: string, what: string, href: string): unknown {
  if (text.trim() === '') return null;
  const v = parseJsonText(text);
  if (v !== SKIP) return v;
  let reason = 'invalid JSON';
  try {
    JSON.parse(text);
  } catch (err) {
    reason = (err as Error).message;
  }
  throw new RestResponseError(`${what}: the response of ${href} says it is JSON but is not valid JSON (${reason}): ${snippet(text, 200)}`);
}

function requestKey(r: RestRequest): string {
  return JSON.stringify([r.method, r.url, r.params, r.headers, plainValue(r.payload) ?? null], bigintAsNumber);
}

class ResponsePage implements RestPage {
  private variables: Record<string, unknown> | null = null;
  private view: Record<string, unknown> | null = null;

  constructor(
    readonly page: number,
    readonly request: RestRequest,
    readonly href: string,
    readonly status: number,
    private readonly response: UrlResponse,
    readonly contentType: string | null,
    readonly json: boolean,
    readonly text: string,
    readonly body: unknown,
    readonly result: unknown,
    readonly items: unknown[],
    private readonly requestVariables: Record<string, unknown>,
  ) {}

  get headers(): Record<string, unknown> {
    this.view ??= headerView(this.response);
    return this.view;
  }

  /** Made when an expression over the response is evaluated (a sink evaluates none). */
  get context(): Record<string, unknown> {
    this.variables ??= Object.assign({}, this.requestVariables, { body: this.body, headers: this.headers, response_headers: this.headers, request_headers: this.request.headers, request_params: this.request.params });
    return this.variables;
  }
}

/** What a sequence of pages carries from one request to the next. */
interface Previous {
  body: unknown;
  requestHeaders: Record<string, string>;
  params: Record<string, unknown>;
  headers: Record<string, unknown>;
  link: string | null;
  key: string;
  text: string;
}

const NO_VARIABLES: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/** The pages of an operation: one, or (with `paging` and a `next_page_link`) all of them. */
export async function* exchange(input: ExchangeInput): AsyncIterable<RestPage> {
  const { client, op, options } = input;
  const nextTemplate = input.paging ? (op.setting('next_page_link') as string | undefined) : undefined;
  const term = op.termination;
  const pageSize = op.setting('page_size');
  const since = input.since;
  // A url that uses `since` itself carries the continuation: the location setting is then ignored.
  const sinceInUrl = since ? mentionsVariable(op.url, 'since') || mentionsVariable(op.url, since.name) : false;
  const auth = input.authenticating || !client.customAuth ? NO_VARIABLES : await client.authContext(options.signal);
  let prev: Previous | null = null;
  let nextUrl: string | null = null;
  for (let n = 0; ; n++) {
    const sent = await sendPage(input, n, auth, prev, nextUrl, sinceInUrl, nextTemplate !== undefined);
    if (!sent) return;
    const { page, key } = sent;
    yield page;

    if (!nextTemplate || page.status < 200 || page.status >= 300) return;
    if (term.has('empty-result') && (page.items.length === 0 || page.text.trim() === '')) return;
    if (term.has('not-full-page') && page.items.length < (pageSize as number)) return;
    const raw = evaluate(nextTemplate, page.context, `${options.what}: next_page_link`);
    const link = raw === undefined || raw === null || raw === false ? null : String(raw).trim();
    // Without a link there is nothing to request, whatever the strategies say.
    if (link === null || link === '' || link === 'None') return;
    if (term.has('same-next-page-link') && prev && link === prev.link) return;
    try {
      nextUrl = new URL(link, page.href).href;
    } catch {
      throw new RestResponseError(`${options.what}: the next_page_link of ${page.request.method} ${page.href} is not a URL: ${JSON.stringify(link)}`);
    }
    prev = { body: page.body, requestHeaders: page.request.headers, params: page.request.params, headers: page.headers, link, key, text: page.text };
    if (options.signal?.aborted) return;
  }
}

/**
 * One request of an operation without paging (a sink's write): the page of its response. The
 * template variables are added to `input.context` itself: the caller made it for this request.
 */
export async function exchangeOnce(input: ExchangeInput): Promise<RestPage> {
  const auth = input.authenticating || !input.client.customAuth ? NO_VARIABLES : await input.client.authContext(input.options.signal);
  const sent = await sendPage(input, 0, auth, null, null, input.since ? mentionsVariable(input.op.url, 'since') || mentionsVariable(input.op.url, input.since.name) : false, false, true);
  return sent!.page;
}

/** Renders page `n`'s request, sends it and reads its response; null when the sequence ended (same request or response as before). */
async function sendPage(input: ExchangeInput, n: number, auth: Record<string, unknown>, prev: Previous | null, nextUrl: string | null, sinceInUrl: boolean, paged: boolean, own = false): Promise<{ page: RestPage; key: string } | null> {
  const { client, op, options, since } = input;
  const what = options.what;
  const term = op.termination;
  // Object.assign, not a spread: see entityRequest.
  const ctx: Record<string, unknown> = own ? input.context : Object.assign({}, input.context);
  if (auth !== NO_VARIABLES) Object.assign(ctx, auth);
  ctx.page = n;
  ctx.is_first_page = n === 0;
  const pageSize = op.setting('page_size');
  if (pageSize !== undefined) ctx.page_size = pageSize;
  const hasSinceValue = since !== null && since !== undefined && since.value !== null && since.value !== undefined;
  if (hasSinceValue) {
    ctx.since = since.value;
    if (since.name !== 'since') ctx[since.name] = since.value;
  }
  if (prev) Object.assign(ctx, { previous_body: prev.body, previous_request_headers: prev.requestHeaders, previous_params: prev.params, previous_headers: prev.headers });
  const url = nextUrl ?? client.url.resolve(renderText(op.url, ctx, `${what}: operation "${op.name}" url`));
  ctx.url = url;
  const params = (op.params ? renderTree(op.params, ctx, `${what}: operation "${op.name}" params`) : {}) as Record<string, unknown>;
  const sinceAsSetting = hasSinceValue && !sinceInUrl;
  if (sinceAsSetting && since.location === 'query' && !(nextUrl && new URL(nextUrl).searchParams.has(since.name))) params[since.name] ??= since.value;
  ctx.params = params;
  ctx.request_params = params;
  const headers: Record<string, string> = input.authenticating || !client.hasHeaderTemplates ? {} : await client.systemHeaders(ctx, what);
  if (!isEmpty(op.headers)) {
    const rendered = renderTree(op.headers, ctx, `${what}: operation "${op.name}" headers`) as Record<string, unknown>;
    for (const [name, v] of Object.entries(rendered)) headers[name.toLowerCase()] = typeof v === 'string' ? v : JSON.stringify(v, bigintAsNumber);
  }
  if (sinceAsSetting && since.location === 'header') headers[since.name.toLowerCase()] = String(since.value);
  // The payload's templates see the request headers too.
  ctx.headers = headers;
  const payload = input.payload === undefined ? undefined : renderTree(input.payload, ctx, `${what}: operation "${op.name}" payload`);
  const request: RestRequest = { method: op.method, url, params, headers, payload };
  // Only paged operations compare requests (same-next-page-request).
  const key = paged ? requestKey(request) : '';
  if (prev && term.has('same-next-page-request') && key === prev.key) return null;

  let sent: SentRequest | null = null;
  const res = await client.send(request, op, options, ctx, input.trace ? (r) => (sent = r) : undefined);
  const text = await res.text();
  if (input.trace && sent && input.trace.entries.length < MAX_TRACE_ENTRIES) input.trace.entries.push(traceEntry(input.trace.tracer, sent, { status: res.status, headers: res.headers, text }));
  const href = `${op.method} ${res.url}`;
  if (prev && term.has('same-response') && text === prev.text) return null;
  const contentType = res.header('content-type');
  const json = !input.ignoreBody && client.isJson(contentType);
  const body: unknown = json ? parseBody(text, what, href) : text;
  const payloadProperty = op.setting('payload_property') as string | undefined;
  const result = json ? (payloadProperty ? valueAtPath(body, payloadProperty) : body) : text;
  const items = !json ? [text] : Array.isArray(result) ? result : result === null || result === undefined ? [] : [result];
  const page = new ResponsePage(n, request, res.url, res.status, res, contentType, json, text, body, result, items, ctx);
  const errorExpression = op.setting('error_expression') as string | undefined;
  if (errorExpression && json && payloadProperty) {
    const err = evaluate(errorExpression, page.context, `${what}: error_expression`);
    if (err !== undefined && err !== null && err !== '' && err !== false) throw new RestResponseError(`${what}: ${href} reported an error (error_expression): ${typeof err === 'string' ? err : JSON.stringify(err, bigintAsNumber)}`);
  }
  return { page, key };
}
