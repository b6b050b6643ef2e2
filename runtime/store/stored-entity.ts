import { parseEntityJson } from '../../compiler/values/json.js';
import type { StoredEntity } from './contract.js';

/**
 * An entity as read back from a store's log: the stored body (without the bookkeeping fields,
 * which live in their own columns so that they can be indexed) with those fields put back.
 */
export function storedEntity(body: string, hasBigIntegers: boolean, offset: number, ts: number, hash: string, previous: number | null): StoredEntity {
  const e = parseEntityJson(body, hasBigIntegers) as StoredEntity;
  // The entity model shows `_deleted` on every version, false unless the entity is deleted.
  if (e._deleted !== true) e._deleted = false;
  e._updated = offset;
  e._ts = ts;
  e._hash = hash;
  e._previous = previous;
  return e;
}
