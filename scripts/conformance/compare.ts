/** Result comparison for conformance cases, as the vector format specifies. */
import { compareNumbers } from '../../compiler/values/compare.js';
import { Bytes, DateTime, Decimal, DtlFloat, NI, Uri, Uuid, isDict, isNumber, type Value } from '../../compiler/values/types.js';
import { decodeString } from '../../compiler/values/transit.js';

/** Expected values: transit strings decode; `~~x` is the plain string `~x`. */
export function decodeExpected(v: unknown): Value {
  if (typeof v === 'string') return v.startsWith('~~') ? v.slice(1) : decodeString(v);
  if (Array.isArray(v)) return v.map(decodeExpected);
  if (v !== null && typeof v === 'object' && !(v instanceof DtlFloat)) {
    const o: Record<string, Value> = {};
    for (const [k, x] of Object.entries(v)) o[k] = decodeExpected(x);
    return o;
  }
  return v as Value;
}

function toNumber(v: number | bigint | DtlFloat | Decimal): number {
  if (v instanceof DtlFloat) return v.value;
  if (v instanceof Decimal) return v.toNumber();
  return Number(v);
}

export function matches(actual: Value | undefined, expected: Value, tolerance?: number): boolean {
  if (actual === undefined) actual = null;
  if (expected === null) return actual === null;
  if (typeof expected === 'boolean') return actual === expected;
  if (isNumber(expected)) {
    if (!isNumber(actual)) return false;
    if (expected instanceof Decimal && !(actual instanceof Decimal)) return false;
    if (tolerance !== undefined) return Math.abs(toNumber(actual) - toNumber(expected)) <= tolerance;
    return compareNumbers(actual, expected) === 0;
  }
  if (typeof expected === 'string') return actual === expected;
  if (expected instanceof DateTime) return actual instanceof DateTime && actual.ns === expected.ns;
  if (expected instanceof NI || expected instanceof Uri || expected instanceof Uuid) {
    return actual !== null && typeof actual === 'object' && actual.constructor === expected.constructor && (actual as NI).value === expected.value;
  }
  if (expected instanceof Bytes) return actual instanceof Bytes && Buffer.compare(Buffer.from(actual.data), Buffer.from(expected.data)) === 0;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((x, i) => matches(actual[i], x, tolerance));
  }
  if (isDict(expected)) {
    if (!isDict(actual)) return false;
    const ka = Object.keys(actual);
    const ke = Object.keys(expected);
    return ka.length === ke.length && ke.every((k) => k in actual && matches(actual[k], expected[k], tolerance));
  }
  return false;
}
