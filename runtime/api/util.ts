/** Small helpers shared by the API plugins: JSON output, streaming, schemas, serialised config changes. */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { stringifyValue } from '../../compiler/values/json.js';
import type { Entity, Value } from '../../compiler/values/types.js';
import type { SluiceRuntime } from '../service/runtime.js';

declare module 'fastify' {
  /** Documentation keys of route schemas, read by the OpenAPI generator (fastify ignores them). */
  interface FastifySchema {
    summary?: string;
    description?: string;
    tags?: string[];
    consumes?: string[];
    bodyDescription?: string;
    security?: Record<string, string[]>[];
    hide?: boolean;
  }
}

// ------------------------------------------------------------------------------- JSON output

/** JSON text of API objects; integers beyond 2^53 (bigints from config text) stay exact. */
export function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (err instanceof TypeError && /BigInt/i.test(err.message)) return stringifyValue(value as Value);
    throw err;
  }
}

/** Entities with typed values (dates, decimals, ...) as transit-encoded JSON. */
export function entityArrayText(entities: Entity[]): string {
  let s = '[';
  for (let i = 0; i < entities.length; i++) s += (i ? ',' : '') + stringifyValue(entities[i]);
  return s + ']';
}

export function sendJsonText(reply: FastifyReply, text: string, status = 200): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(text);
}

/**
 * A JSON array written incrementally from JSON texts: chunks of about `chunkBytes` are produced only
 * when the socket asks for more (Readable.from pulls), so a dataset is never held in memory.
 */
export function jsonArrayStream(items: AsyncIterable<string>, opts: { skip?: number; chunkBytes?: number } = {}): Readable {
  const chunkBytes = opts.chunkBytes ?? 64 * 1024;
  let skip = opts.skip ?? 0;
  async function* chunks(): AsyncGenerator<string> {
    let buf = '[';
    let first = true;
    for await (const item of items) {
      if (skip > 0) {
        skip--;
        continue;
      }
      buf += first ? item : ',' + item;
      first = false;
      if (buf.length >= chunkBytes) {
        yield buf;
        buf = '';
      }
    }
    yield buf + ']';
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: chunkBytes });
}

// ------------------------------------------------------------------------------- request helpers

/** The path parameter `name`; ids may arrive percent-encoded (`a%3Ab`) or raw (`a:b`). */
export function param(request: FastifyRequest, name = 'id'): string {
  // The router decodes percent-escapes in parameters (including %2F) once.
  return (request.params as Record<string, string | undefined>)[name] ?? '';
}

export function query<T = Record<string, unknown>>(request: FastifyRequest): T {
  return (request.query ?? {}) as T;
}

/** The authenticated user (JWT `sub` or `email`), for execution log entries. */
export function userOf(request: FastifyRequest): string | undefined {
  return (request as FastifyRequest & { sluiceUser?: string }).sluiceUser;
}

// ------------------------------------------------------------------------------- schemas

export const idParams = {
  type: 'object',
  properties: { id: { type: 'string', description: 'The id; percent-encoded or raw.' } },
  required: ['id'],
} as const;

export function boolParam(description: string, dflt?: boolean): Record<string, unknown> {
  return { type: 'boolean', description: `${description} (true/false, any case, or 1/0)`, ...(dflt === undefined ? {} : { default: dflt }) };
}

export function intParam(description: string, minimum = 0): Record<string, unknown> {
  return { type: 'integer', minimum, description };
}

export function stringParam(description: string): Record<string, unknown> {
  return { type: 'string', description };
}

export function querySchema(properties: Record<string, Record<string, unknown>>): Record<string, unknown> {
  return { type: 'object', properties };
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/**
 * preValidation hook: query booleans arrive as `True`/`False` (Python clients), `true`/`false` or
 * `1`/`0`. They are normalised before the schema validator coerces them; anything else is left as
 * is and fails validation with a message naming the parameter.
 */
export async function normaliseBooleanQuery(request: FastifyRequest): Promise<void> {
  const schema = request.routeOptions.schema?.querystring as { properties?: Record<string, { type?: string }> } | undefined;
  const props = schema?.properties;
  const q = request.query as Record<string, unknown> | undefined;
  if (!props || !q) return;
  for (const [name, s] of Object.entries(props)) {
    if (s.type !== 'boolean' || typeof q[name] !== 'string') continue;
    const v = (q[name] as string).trim().toLowerCase();
    if (TRUE.has(v)) q[name] = 'true';
    else if (FALSE.has(v)) q[name] = 'false';
  }
}

// ------------------------------------------------------------------------------- config changes

const queues = new WeakMap<SluiceRuntime, Promise<unknown>>();

/** Runs config-changing work one at a time per runtime (uploads, CRUD, env and secrets). */
export function serialised<T>(rt: SluiceRuntime, work: () => Promise<T>): Promise<T> {
  const prev = queues.get(rt) ?? Promise.resolve();
  const next = prev.then(work, work);
  queues.set(
    rt,
    next.catch(() => undefined),
  );
  return next;
}
