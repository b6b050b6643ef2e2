/**
 * One HTTP exchange on undici's dispatcher API (the layer below `fetch` and `request`): no WHATWG
 * streams, no Request/Response objects and no body clones, so a sink that sends one small request
 * per entity spends its time on the wire rather than in the client. The response body is buffered
 * as it arrives (the socket is paused while more than 1 MiB waits unread) and read as text, as a
 * stream of chunks, or discarded; gzip, deflate and br bodies are decoded as fetch did. A
 * ClientResponse is what the URL client hands its callers for an exchange.
 */
import { createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from 'node:zlib';
import type { Transform } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { UrlClient, UrlResponse } from './url.js';

/** The run was stopped while the request was under way. */
export class RequestAbortedError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'ABORT_ERR';
}

export interface WireRequest {
  /** `scheme://host:port` */
  origin: string;
  /** Path and query. */
  path: string;
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
  /** May share a connection with requests sent before its answer came (pipelining; idempotent methods only). */
  pipelined: boolean;
}

type RawHeaders = Record<string, string | string[] | undefined>;

/** Unread body bytes above which the connection is paused until the reader catches up. */
const HIGH_WATER = 1 << 20;

/**
 * Exchanges waiting on each run's signal: one listener per signal aborts them all, instead of a
 * listener per request on a signal that lives as long as the run.
 */
const underWay = new WeakMap<AbortSignal, Set<WireExchange>>();

function watch(signal: AbortSignal, exchange: WireExchange): void {
  let set = underWay.get(signal);
  if (!set) {
    const exchanges = new Set<WireExchange>();
    set = exchanges;
    underWay.set(signal, exchanges);
    signal.addEventListener('abort', () => {
      for (const x of exchanges) x.abort();
      exchanges.clear();
    }, { once: true });
  }
  set.add(exchange);
}

function decoderFor(encoding: string, first: Buffer): Transform | null {
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'br':
      return createBrotliDecompress();
    case 'deflate':
      // Servers send zlib-wrapped or raw deflate under this name; the first byte tells which.
      return (first[0] & 0x0f) === 0x08 ? createInflate() : createInflateRaw();
  }
  return null;
}

/** A dispatched request: its response head, then its body as it arrives. */
export class WireExchange implements Dispatcher.DispatchHandler {
  status = 0;
  statusText = '';
  rawHeaders: RawHeaders = {};
  private controller: Dispatcher.DispatchController | null = null;
  private readonly head: Promise<void>;
  private headSettled = false;
  private resolveHead!: () => void;
  private rejectHead!: (err: Error) => void;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  /** 'open' until the caller picks: read it all, stream it, or throw it away. */
  private mode: 'open' | 'text' | 'stream' | 'discard' = 'open';
  private encodings: string[] = [];
  private decoder: Transform | null = null;
  private aborted = false;

  constructor(private readonly request: WireRequest) {
    this.head = new Promise<void>((resolve, reject) => {
      this.resolveHead = resolve;
      this.rejectHead = reject;
    });
  }

  /** Sends the request on `dispatcher`; resolves when the status and headers arrived. */
  start(dispatcher: Dispatcher): Promise<void> {
    const r = this.request;
    if (r.signal) {
      if (r.signal.aborted) return Promise.reject(new RequestAbortedError('aborted'));
      watch(r.signal, this);
    }
    dispatcher.dispatch(
      { origin: r.origin, path: r.path, method: r.method as Dispatcher.HttpMethod, headers: r.headers, body: r.body ?? null, idempotent: r.pipelined, blocking: !r.pipelined },
      this,
    );
    return this.head;
  }

  abort(): void {
    if (this.aborted || this.ended || this.failure) return;
    this.aborted = true;
    const err = new RequestAbortedError('aborted');
    // Queued requests have no controller yet: onRequestStart aborts them.
    this.controller?.abort(err);
    this.fail(err);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.aborted) controller.abort(new RequestAbortedError('aborted'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: RawHeaders, statusMessage?: string): void {
    // 1xx answers come before the real one.
    if (statusCode < 200 || this.headSettled) return;
    this.status = statusCode;
    this.statusText = statusMessage ?? '';
    this.rawHeaders = headers;
    const encoding = headers['content-encoding'];
    if (encoding && statusCode !== 204 && statusCode !== 304 && this.request.method !== 'HEAD') {
      this.encodings = (Array.isArray(encoding) ? encoding.join(',') : encoding)
        .split(',')
        .map((e) => e.trim().toLowerCase())
        .filter((e) => e !== '' && e !== 'identity');
    }
    this.headSettled = true;
    this.resolveHead();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.mode === 'discard') {
      this.buffered += chunk.length;
      if (this.buffered > HIGH_WATER) this.drop();
      else this.notify();
      return;
    }
    if (this.encodings.length) return this.decode(controller, chunk);
    this.take(controller, chunk);
  }

  onResponseEnd(): void {
    if (this.decoder) {
      this.decoder.end();
      return;
    }
    this.finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(this.aborted ? new RequestAbortedError('aborted') : err);
  }

  private take(controller: Dispatcher.DispatchController | null, chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered > HIGH_WATER && this.mode !== 'text') controller?.pause();
    this.notify();
  }

  private decode(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.decoder) {
      // Encodings are listed in the order they were applied: undo the last first.
      const chain: Transform[] = [];
      for (const e of [...this.encodings].reverse()) {
        const d = decoderFor(e, chunk);
        if (!d) {
          // As fetch does, a body in an unknown encoding is handed over as it came.
          for (const x of chain) x.destroy();
          this.encodings = [];
          return this.take(controller, chunk);
        }
        chain.at(-1)?.pipe(d);
        chain.push(d);
      }
      const onError = (err: Error) => this.drop(new Error(`the response body could not be decoded (${this.encodings.join(', ')}): ${err.message}`));
      for (const d of chain) d.on('error', onError);
      chain.at(-1)!.on('data', (out: Buffer) => this.take(controller, out));
      chain.at(-1)!.on('end', () => this.finish());
      this.decoder = chain[0];
    }
    if (!this.decoder.write(chunk)) {
      controller.pause();
      this.decoder.once('drain', () => controller.resume());
    }
  }

  private finish(): void {
    if (this.ended || this.failure) return;
    this.ended = true;
    this.release();
    this.notify();
  }

  private fail(err: Error): void {
    if (this.ended || this.failure) return;
    this.failure = err;
    this.release();
    if (!this.headSettled) {
      this.headSettled = true;
      this.rejectHead(err);
    }
    this.notify();
  }

  private release(): void {
    if (this.request.signal) underWay.get(this.request.signal)?.delete(this);
    this.decoder?.destroy();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private waitForMore(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  /** The whole body (a UTF-8 byte order mark is dropped, as fetch's text() does). */
  async text(): Promise<string> {
    this.mode = 'text';
    this.controller?.resume();
    while (!this.ended && !this.failure) await this.waitForMore();
    if (this.failure) throw this.failure;
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    const text = all.toString('utf8');
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }

  /** The body as it arrives. Leaving the loop early drops the connection's rest. */
  async *stream(): AsyncIterable<Buffer> {
    this.mode = 'stream';
    try {
      for (;;) {
        if (this.chunks.length) {
          const chunks = this.chunks;
          this.chunks = [];
          this.buffered = 0;
          this.controller?.resume();
          yield* chunks;
          continue;
        }
        if (this.failure) throw this.failure;
        if (this.ended) return;
        await this.waitForMore();
      }
    } finally {
      if (!this.ended && !this.failure) this.drop();
    }
  }

  /**
   * Throws the body away: a small rest is read to keep the connection for the next request (and
   * awaited, so that the next one finds it free), a large one closes the connection.
   */
  async discard(): Promise<void> {
    if (this.ended || this.failure) return;
    this.mode = 'discard';
    this.chunks = [];
    this.buffered = 0;
    const length = Number(this.rawHeaders['content-length'] ?? 0);
    if (length > HIGH_WATER) return this.drop();
    this.controller?.resume();
    while (!this.ended && !this.failure) await this.waitForMore();
  }

  /** Closes the connection under the exchange (the rest of the body is not wanted, or cannot be read). */
  private drop(err: Error = new RequestAbortedError('the response body was not read')): void {
    this.fail(err);
    this.controller?.abort(err);
  }
}

/** The URL without user info, for messages. */
export function shown(url: string): string {
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

/** Response headers as a WHATWG Headers object. */
function headersOf(raw: Record<string, string | string[] | undefined>): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(raw)) {
    if (Array.isArray(v)) for (const x of v) h.append(k, x);
    else if (v !== undefined) h.append(k, v);
  }
  return h;
}

/** One response header (repeated ones joined by ", "), or null. */
export function headerText(x: WireExchange, name: string): string | null {
  const v = x.rawHeaders[name];
  return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
}

/** A response of a UrlClient: its body is read once, as text, as chunks, or thrown away. */
export class ClientResponse implements UrlResponse {
  readonly status: number;
  readonly statusText: string;
  private used = false;
  private made: Headers | null = null;

  constructor(
    private readonly client: UrlClient,
    private readonly x: WireExchange,
    private readonly method: string,
    readonly url: string,
    private readonly what: string,
  ) {
    this.status = x.status;
    this.statusText = x.statusText;
  }

  get headers(): Headers {
    this.made ??= headersOf(this.x.rawHeaders);
    return this.made;
  }

  header(name: string): string | null {
    return headerText(this.x, name.toLowerCase());
  }

  private take(): void {
    if (this.used) throw new Error(`${this.what}: the body of ${this.method} ${shown(this.url)} was already read`);
    this.used = true;
  }

  async text(): Promise<string> {
    this.take();
    try {
      return await this.x.text();
    } catch (err) {
      throw this.client.networkError(err, this.method, this.url, this.what, 'body');
    }
  }

  chunks(): AsyncIterable<Uint8Array> {
    this.take();
    return this.stream();
  }

  private async *stream(): AsyncIterable<Uint8Array> {
    try {
      yield* this.x.stream();
    } catch (err) {
      throw this.client.networkError(err, this.method, this.url, this.what, 'body');
    }
  }

  async discard(): Promise<void> {
    if (this.used) return;
    this.used = true;
    await this.x.discard();
  }
}
