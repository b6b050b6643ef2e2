/**
 * Equality and the mixed-type ordering of the entity model: null < boolean < number < date/datetime
 * < UUID < NI < URI < string < dict < list < bytes. Values of one rank compare by value; numbers of
 * different kinds (integer, float, decimal) compare numerically.
 */
import { Bytes, DateTime, Decimal, DtlFloat, NI, Uri, Uuid, type Dict, type Value } from './types.js';

const enum Rank {
  Null = 0,
  Boolean = 1,
  Number = 2,
  DateTime = 3,
  Uuid = 4,
  NI = 5,
  Uri = 6,
  String = 7,
  Dict = 8,
  List = 9,
  Bytes = 10,
}

function rank(v: Value): Rank {
  if (v === null || v === undefined) return Rank.Null;
  switch (typeof v) {
    case 'string':
      return Rank.String;
    case 'number':
    case 'bigint':
      return Rank.Number;
    case 'boolean':
      return Rank.Boolean;
  }
  if (Array.isArray(v)) return Rank.List;
  if (v instanceof DtlFloat || v instanceof Decimal) return Rank.Number;
  if (v instanceof DateTime) return Rank.DateTime;
  if (v instanceof Uuid) return Rank.Uuid;
  if (v instanceof NI) return Rank.NI;
  if (v instanceof Uri) return Rank.Uri;
  if (v instanceof Bytes) return Rank.Bytes;
  return Rank.Dict;
}

function cmpPrimitive<T extends string | number | bigint>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Numeric comparison across integer (number/bigint), float and decimal. */
export function compareNumbers(a: number | bigint | DtlFloat | Decimal, b: number | bigint | DtlFloat | Decimal): number {
  if (a instanceof DtlFloat) a = a.value;
  if (b instanceof DtlFloat) b = b.value;
  if (typeof a === 'number' && typeof b === 'number') return cmpPrimitive(a, b);
  if (typeof a === 'bigint' && typeof b === 'bigint') return cmpPrimitive(a, b);
  if (a instanceof Decimal || b instanceof Decimal || (typeof a === 'number' && !Number.isInteger(a)) || (typeof b === 'number' && !Number.isInteger(b))) {
    const da = a instanceof Decimal ? a : new Decimal(typeof a === 'bigint' ? a.toString() : a);
    const db = b instanceof Decimal ? b : new Decimal(typeof b === 'bigint' ? b.toString() : b);
    return da.cmp(db);
  }
  return cmpPrimitive(BigInt(a as number | bigint), BigInt(b as number | bigint));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

export function compareValues(a: Value, b: Value): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case Rank.Null:
      return 0;
    case Rank.Boolean:
      return (a ? 1 : 0) - (b ? 1 : 0);
    case Rank.Number:
      return compareNumbers(a as number, b as number);
    case Rank.String:
      return cmpPrimitive(a as string, b as string);
    case Rank.DateTime:
      return cmpPrimitive((a as DateTime).ns, (b as DateTime).ns);
    case Rank.Uuid:
    case Rank.NI:
    case Rank.Uri:
      return cmpPrimitive((a as Uuid).value, (b as Uuid).value);
    case Rank.Bytes:
      return compareBytes((a as Bytes).data, (b as Bytes).data);
    case Rank.List: {
      const la = a as Value[];
      const lb = b as Value[];
      const n = Math.min(la.length, lb.length);
      for (let i = 0; i < n; i++) {
        const c = compareValues(la[i], lb[i]);
        if (c) return c;
      }
      return la.length - lb.length;
    }
    default: {
      const da = a as Dict;
      const db = b as Dict;
      const ka = Object.keys(da).sort();
      const kb = Object.keys(db).sort();
      const n = Math.min(ka.length, kb.length);
      for (let i = 0; i < n; i++) {
        const ck = cmpPrimitive(ka[i], kb[i]);
        if (ck) return ck;
        const cv = compareValues(da[ka[i]], db[kb[i]]);
        if (cv) return cv;
      }
      return ka.length - kb.length;
    }
  }
}

/** Deep equality with numeric equivalence (1 == 1.0 == ~f1) and strict typing otherwise. */
export function valuesEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  const ta = typeof a;
  if (ta === 'string' || ta === 'boolean' || typeof b === 'string' || typeof b === 'boolean') return false;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (ta === 'number' && typeof b === 'number') return a === b;
  const ra = rank(a);
  if (ra !== rank(b)) return false;
  switch (ra) {
    case Rank.Number:
      return compareNumbers(a as number, b as number) === 0;
    case Rank.DateTime:
      return (a as DateTime).ns === (b as DateTime).ns && (a as DateTime).dateOnly === (b as DateTime).dateOnly;
    case Rank.Uuid:
    case Rank.NI:
    case Rank.Uri:
      return (a as Uuid).value === (b as Uuid).value;
    case Rank.Bytes:
      return compareBytes((a as Bytes).data, (b as Bytes).data) === 0;
    case Rank.List: {
      const la = a as Value[];
      const lb = b as Value[];
      if (la.length !== lb.length) return false;
      for (let i = 0; i < la.length; i++) if (!valuesEqual(la[i], lb[i])) return false;
      return true;
    }
    case Rank.Dict: {
      const da = a as Dict;
      const db = b as Dict;
      const ka = Object.keys(da);
      if (ka.length !== Object.keys(db).length) return false;
      for (const k of ka) if (!(k in db) || !valuesEqual(da[k], db[k])) return false;
      return true;
    }
  }
  return false;
}
