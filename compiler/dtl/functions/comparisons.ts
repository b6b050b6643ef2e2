/**
 * eq/neq compare both sides as lists (a single value equals a one-element list); gt, gte, lt and
 * lte compare the first value of each side using the entity model's mixed-type ordering.
 */
import { family } from '../spec.js';
import { compareValues, valuesEqual } from '../../values/compare.js';
import type { Value } from '../../values/types.js';
import { firstValue } from './util.js';

export function dtlEq(a: Value, b: Value): boolean {
  const aList = Array.isArray(a);
  const bList = Array.isArray(b);
  if (!aList && !bList) return a === b || (a !== null && b !== null && valuesEqual(a, b));
  const la = aList ? a : a === null ? [] : [a];
  const lb = bList ? b : b === null ? [] : [b];
  return valuesEqual(la, lb);
}

function compareFirst(a: Value, b: Value): number | null {
  const x = firstValue(a);
  const y = firstValue(b);
  if (x === null || y === null) return null;
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  return compareValues(x, y);
}

export const dtlGt = (a: Value, b: Value) => {
  const c = compareFirst(a, b);
  return c !== null && c > 0;
};
export const dtlGte = (a: Value, b: Value) => {
  const c = compareFirst(a, b);
  return c !== null && c >= 0;
};
export const dtlLt = (a: Value, b: Value) => {
  const c = compareFirst(a, b);
  return c !== null && c < 0;
};
export const dtlLte = (a: Value, b: Value) => {
  const c = compareFirst(a, b);
  return c !== null && c <= 0;
};

export default family('comparisons', (def) => {
  def.expression({ name: 'eq', doc: 'True when both values, taken as lists, are equal.', args: ['expr', 'expr'], emit: (e) => `${e.use(dtlEq)}(${e.arg(0)}, ${e.arg(1)})` });
  def.expression({ name: 'neq', doc: 'True when the values, taken as lists, differ.', args: ['expr', 'expr'], emit: (e) => `!${e.use(dtlEq)}(${e.arg(0)}, ${e.arg(1)})` });
  def.expression({ name: 'gt', doc: 'True when the first value of the first argument is greater than that of the second.', args: ['expr', 'expr'], emit: (e) => `${e.use(dtlGt)}(${e.arg(0)}, ${e.arg(1)})` });
  def.expression({ name: 'gte', doc: 'True when the first value of the first argument is greater than or equal to that of the second.', args: ['expr', 'expr'], emit: (e) => `${e.use(dtlGte)}(${e.arg(0)}, ${e.arg(1)})` });
  def.expression({ name: 'lt', doc: 'True when the first value of the first argument is less than that of the second.', args: ['expr', 'expr'], emit: (e) => `${e.use(dtlLt)}(${e.arg(0)}, ${e.arg(1)})` });
  def.expression({ name: 'lte', doc: 'True when the first value of the first argument is less than or equal to that of the second.', args: ['expr', 'expr'], emit: (e) => `${e.use(dtlLte)}(${e.arg(0)}, ${e.arg(1)})` });
});
