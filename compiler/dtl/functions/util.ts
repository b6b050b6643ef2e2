/**
 * Conventions shared by the function families. Most DTL functions accept a single value or a list:
 * on a list they work per element and return a list; on a single value they return a single value.
 */
import type { Value } from '../../values/types.js';

/** Marks a value a per-element function cannot convert. */
export const SKIP: unique symbol = Symbol('skip');
export type Converted = Value | typeof SKIP;

/**
 * Applies `f` to a single value or to each list element (nulls are skipped in lists and give null
 * as a single value). Values `f` rejects (SKIP) are replaced by `dflt(value)` when a default
 * function expression was given, otherwise dropped (single value: null).
 */
export function mapEach(v: Value, f: (x: Value) => Converted, dflt?: (x: Value) => Value): Value {
  const one = (x: Value): Converted => {
    const r = f(x);
    return r === SKIP && dflt ? dflt(x) : r;
  };
  if (Array.isArray(v)) {
    const out: Value[] = [];
    for (const x of v) {
      if (x === null || x === undefined) continue;
      const r = one(x);
      if (r !== SKIP) out.push(r);
    }
    return out;
  }
  if (v === null || v === undefined) return null;
  const r = one(v);
  return r === SKIP ? null : r;
}

/** The first value: the value itself, or the first element of a list (null when empty). */
export function firstValue(v: Value): Value {
  if (Array.isArray(v)) return v.length ? v[0] : null;
  return v ?? null;
}

/** "Is X" predicates test a value, or the first element of a list. */
export function testFirst(v: Value, pred: (x: Value) => boolean): boolean {
  const x = firstValue(v);
  return x !== null && pred(x);
}
