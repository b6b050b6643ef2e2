/**
 * What a dataset stores of an entity, and its content hash. Root-level reserved fields (`_...`)
 * are dropped except `_id` and a true `_deleted`; the remaining entity is serialised with sorted
 * keys, which is both the stored body and the hashed text, so equal content gives equal bodies.
 */
import { hash } from 'node:crypto';
import { quoteKey, resetBigIntFlag, serialisedBigInt, sortedKeys, stringifyValue } from '../../compiler/values/json.js';
import type { Entity, Value } from '../../compiler/values/types.js';

export class EntityError extends Error {
  readonly code = 'ENTITY_INVALID';
  constructor(
    message: string,
    readonly entityId?: unknown,
  ) {
    super(message);
  }
}

export interface EntityContent {
  id: string;
  deleted: boolean;
  /** The body holds integers beyond 2^53 (reading it back needs the lossless parser). */
  bigIntegers: boolean;
  /** Canonical JSON (sorted keys, transit encoding). */
  body: string;
  hash: string;
}

/** Computed once per entity object (the sink checks sizes with it, the store writes it), kept under a symbol. */
const CONTENT = Symbol('sluice.content');

export function entityContent(e: Entity): EntityContent {
  const holder = e as unknown as { [CONTENT]?: EntityContent };
  return (holder[CONTENT] ??= computeContent(e));
}

function computeContent(e: Entity): EntityContent {
  const id = e._id;
  if (typeof id !== 'string') throw new EntityError(`an entity needs a string "_id"; got ${id === undefined ? 'none' : JSON.stringify(stringifyValue(id as Value))}`, id);
  const deleted = e._deleted === true;
  resetBigIntFlag();
  const keys = sortedKeys(e);
  let body = '{';
  let first = true;
  for (const k of keys) {
    if (k.charCodeAt(0) === 95 /* _ */ && k !== '_id' && !(k === '_deleted' && deleted)) continue;
    const v = e[k];
    if (v === undefined) continue;
    if (!first) body += ',';
    first = false;
    body += quoteKey(k) + ':' + stringifyValue(v, true);
  }
  body += '}';
  return { id, deleted, body, hash: hash('md5', body), bigIntegers: serialisedBigInt() };
}

/** Whether a stored body (canonical JSON) marks its entity deleted: a root-level `"_deleted":true`. */
function bodyDeleted(body: string): boolean {
  let at = body.indexOf('"_deleted":true');
  while (at >= 0) {
    // Nested dicts (child entities) may say the same; only the root's counts.
    let depth = 0;
    let inString = false;
    for (let i = 0; i < at; i++) {
      const c = body.charCodeAt(i);
      if (inString) {
        if (c === 92 /* \\ */) i++;
        else if (c === 34 /* " */) inString = false;
      } else if (c === 34) inString = true;
      else if (c === 123 /* { */ || c === 91 /* [ */) depth++;
      else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
    }
    if (depth === 1 && !inString) return true;
    at = body.indexOf('"_deleted":true', at + 1);
  }
  return false;
}

/** Adds the dataset's bookkeeping fields (and `"_deleted": false` when not deleted) to a stored body without parsing it. */
export function withReservedFields(body: string, offset: number, ts: number, contentHash: string, previous: number | null): string {
  const deleted = body.includes('"_deleted":true') && bodyDeleted(body) ? '' : '"_deleted":false,';
  return `${body.slice(0, -1)}${body.length > 2 ? ',' : ''}${deleted}"_updated":${offset},"_ts":${ts},"_hash":"${contentHash}","_previous":${previous === null ? 'null' : previous}}`;
}

export function nowMicros(): number {
  return Date.now() * 1000;
}
