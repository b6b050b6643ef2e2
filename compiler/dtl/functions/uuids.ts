/**
 * DTL UUID functions (dtl-functions-uuids). Casting accepts the spellings Python's `uuid.UUID`
 * accepts: 32 hex digits with any hyphens, optionally in braces or after `urn:uuid:`.
 */
import { randomUUID } from 'node:crypto';
import { family } from '../spec.js';
import { Uuid, type Value } from '../../values/types.js';
import { mapEach, SKIP, testFirst, type Converted } from './util.js';

const HEX32 = /^[0-9a-fA-F]{32}$/;

/** The canonical lower-case 8-4-4-4-12 form of a UUID string, or null. */
export function parseUuidText(s: string): string | null {
  let t = s.trim();
  if (t.length > 9 && t.slice(0, 9).toLowerCase() === 'urn:uuid:') t = t.slice(9);
  t = t.replace(/^\{+|\}+$/g, '').replace(/-/g, '');
  if (!HEX32.test(t)) return null;
  t = t.toLowerCase();
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-${t.slice(12, 16)}-${t.slice(16, 20)}-${t.slice(20)}`;
}

function toUuid(x: Value): Converted {
  if (x instanceof Uuid) return x;
  if (typeof x === 'string') {
    const u = parseUuidText(x);
    return u === null ? SKIP : new Uuid(u);
  }
  return SKIP;
}

export function dtlUuid(v: Value): Value {
  return mapEach(v, toUuid);
}

export function newUuid(): Uuid {
  return new Uuid(randomUUID());
}

export function isUuidValue(v: Value): boolean {
  return testFirst(v, (x) => x instanceof Uuid);
}

export default family('uuids', (def) => {
  def.expression({
    name: 'is-uuid',
    doc: 'True when the value (or the first list element) is a UUID.',
    args: ['expr'],
    emit: (e) => `${e.use(isUuidValue)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'uuid',
    doc: 'Without arguments a new random (version 4) UUID; with VALUES, casts UUID strings to UUIDs and ignores the rest.',
    args: ['expr'],
    min: 0,
    emit: (e) => (e.count === 0 ? `${e.use(newUuid)}()` : `${e.use(dtlUuid)}(${e.arg(0)})`),
  });
});
