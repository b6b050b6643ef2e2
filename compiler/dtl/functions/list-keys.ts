/**
 * Membership and keys for the list and set families.
 *
 * `ValueIndex` finds values equal under the entity model's equality (`valuesEqual`: 1, 1.0 and
 * ~f1 are one value, typed values never equal strings). Small collections are scanned; larger ones
 * switch to hash maps keyed by a canonical form, with lists, dicts and bytes still compared
 * pairwise.
 */
import { valuesEqual } from '../../values/compare.js';
import { DateTime, Decimal, DtlFloat, NI, Uri, Uuid, type Dict, type Value } from '../../values/types.js';

/** Up to this many items a linear scan beats hashing. */
const LINEAR_LIMIT = 8;

const enum KeyKind {
  /** Key in `scratch` is a JS primitive (string, number, bigint, boolean, null). */
  Prim = 0,
  /** Key in `scratch` is a tagged string for a typed scalar. */
  Typed = 1,
  /** No hash key: compare pairwise. */
  Complex = 2,
}

let scratch: unknown = null;

function numberKey(n: number): number | bigint {
  return Number.isInteger(n) && !Number.isSafeInteger(n) ? BigInt(n) : n;
}

function decimalKey(d: Decimal): KeyKind {
  if (d.isInteger()) {
    const b = BigInt(d.toFixed());
    scratch = b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
    return KeyKind.Prim;
  }
  const n = d.toNumber();
  if (Number.isFinite(n) && new Decimal(n).eq(d)) {
    scratch = n;
    return KeyKind.Prim;
  }
  scratch = 'f' + d.toString();
  return KeyKind.Typed;
}

/** Computes the hash key of `v` into `scratch` and says which map it belongs to. */
function classify(v: Value): KeyKind {
  switch (typeof v) {
    case 'string':
    case 'boolean':
    case 'bigint':
      scratch = v;
      return KeyKind.Prim;
    case 'number':
      scratch = numberKey(v);
      return KeyKind.Prim;
  }
  if (v === null || v === undefined) {
    scratch = null;
    return KeyKind.Prim;
  }
  if (v instanceof DtlFloat) {
    scratch = numberKey(v.value);
    return KeyKind.Prim;
  }
  if (v instanceof Decimal) return decimalKey(v);
  if (v instanceof DateTime) {
    scratch = (v.dateOnly ? 'd' : 't') + v.ns.toString();
    return KeyKind.Typed;
  }
  if (v instanceof NI) {
    scratch = 'n' + v.value;
    return KeyKind.Typed;
  }
  if (v instanceof Uri) {
    scratch = 'r' + v.value;
    return KeyKind.Typed;
  }
  if (v instanceof Uuid) {
    scratch = 'u' + v.value;
    return KeyKind.Typed;
  }
  return KeyKind.Complex;
}

/** An insertion-ordered collection of distinct values with fast lookup by DTL equality. */
export class ValueIndex {
  readonly items: Value[] = [];
  private prim: Map<unknown, number> | null = null;
  private typed: Map<string, number> | null = null;
  private complex: number[] | null = null;

  get size(): number {
    return this.items.length;
  }

  /** Position of the item equal to `v`, or -1. */
  indexOf(v: Value): number {
    const items = this.items;
    if (this.prim === null) {
      if (typeof v === 'string') {
        for (let i = 0; i < items.length; i++) if (items[i] === v) return i;
        return -1;
      }
      if (typeof v === 'number') {
        for (let i = 0; i < items.length; i++) {
          const x = items[i];
          if (x === v || (x !== null && typeof x === 'object' && valuesEqual(x, v))) return i;
        }
        return -1;
      }
      for (let i = 0; i < items.length; i++) if (valuesEqual(items[i], v)) return i;
      return -1;
    }
    const kind = classify(v);
    if (kind === KeyKind.Prim) return this.prim.get(scratch) ?? -1;
    if (kind === KeyKind.Typed) return this.typed!.get(scratch as string) ?? -1;
    for (const i of this.complex!) if (valuesEqual(items[i], v)) return i;
    return -1;
  }

  has(v: Value): boolean {
    return this.indexOf(v) >= 0;
  }

  /** Appends `v` (the caller knows it is not present yet) and returns its position. */
  push(v: Value): number {
    const i = this.items.length;
    this.items.push(v);
    if (this.prim !== null) this.hash(v, i);
    else if (i + 1 > LINEAR_LIMIT) {
      this.prim = new Map();
      this.typed = new Map();
      this.complex = [];
      for (let j = 0; j <= i; j++) this.hash(this.items[j], j);
    }
    return i;
  }

  /** Adds `v` unless an equal value is present; true when it was added. */
  add(v: Value): boolean {
    if (this.indexOf(v) >= 0) return false;
    this.push(v);
    return true;
  }

  private hash(v: Value, i: number): void {
    const kind = classify(v);
    if (kind === KeyKind.Prim) {
      if (!this.prim!.has(scratch)) this.prim!.set(scratch, i);
    } else if (kind === KeyKind.Typed) {
      if (!this.typed!.has(scratch as string)) this.typed!.set(scratch as string, i);
    } else this.complex!.push(i);
  }
}

/** A lookup over `values` for membership tests: a scan for short lists, an index otherwise. */
export function memberTest(values: Value[]): (v: Value) => boolean {
  if (values.length <= LINEAR_LIMIT) {
    return (v) => {
      for (let i = 0; i < values.length; i++) if (valuesEqual(values[i], v)) return true;
      return false;
    };
  }
  const index = new ValueIndex();
  for (const v of values) index.add(v);
  return (v) => index.has(v);
}

/** Sets a property, also when the key is `__proto__`. */
export function setKey(o: Dict, k: string, v: Value): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}
