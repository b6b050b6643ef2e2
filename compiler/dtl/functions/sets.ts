/**
 * DTL set functions (dtl-functions-sets). Both arguments are taken as lists (null is empty, a
 * single value a one-element list) and compared with the entity model's value equality. Results
 * keep the order of VALUES1 (then VALUES2 for union); only union removes duplicates.
 */
import { family } from '../spec.js';
import type { Value } from '../../values/types.js';
import { memberTest, ValueIndex } from './list-keys.js';

const EMPTY: Value[] = [];

function asList(v: Value): Value[] {
  if (Array.isArray(v)) return v;
  return v === null || v === undefined ? EMPTY : [v];
}

/** The values of VALUES1 that do not occur in VALUES2 (duplicates in VALUES1 kept). */
export function difference(a: Value, b: Value): Value[] {
  const la = asList(a);
  const lb = asList(b);
  if (lb.length === 0) return la.slice();
  const inB = memberTest(lb);
  const out: Value[] = [];
  for (let i = 0; i < la.length; i++) if (!inB(la[i])) out.push(la[i]);
  return out;
}

/** The values of VALUES1 that also occur in VALUES2 (duplicates in VALUES1 kept). */
export function intersection(a: Value, b: Value): Value[] {
  const la = asList(a);
  const lb = asList(b);
  const out: Value[] = [];
  if (la.length === 0 || lb.length === 0) return out;
  const inB = memberTest(lb);
  for (let i = 0; i < la.length; i++) if (inB(la[i])) out.push(la[i]);
  return out;
}

/** True when some value occurs in both arguments. */
export function intersects(a: Value, b: Value): boolean {
  const la = asList(a);
  const lb = asList(b);
  if (la.length === 0 || lb.length === 0) return false;
  const inB = memberTest(lb);
  for (let i = 0; i < la.length; i++) if (inB(la[i])) return true;
  return false;
}

/** The values of VALUES1 followed by those of VALUES2, each value only at its first occurrence. */
export function union(a: Value, b: Value): Value[] {
  const seen = new ValueIndex();
  const la = asList(a);
  const lb = asList(b);
  for (let i = 0; i < la.length; i++) seen.add(la[i]);
  for (let i = 0; i < lb.length; i++) seen.add(lb[i]);
  return seen.items;
}

export default family('sets', (def) => {
  def.expression({
    name: 'difference',
    doc: 'The values of VALUES1 that are not in VALUES2, in their original order.',
    args: ['expr', 'expr'],
    emit: (e) => `${e.use(difference)}(${e.arg(0)}, ${e.arg(1)})`,
  });
  def.expression({
    name: 'intersection',
    doc: 'The values of VALUES1 that are also in VALUES2, in their original order.',
    args: ['expr', 'expr'],
    emit: (e) => `${e.use(intersection)}(${e.arg(0)}, ${e.arg(1)})`,
  });
  def.expression({
    name: 'intersects',
    doc: 'True when VALUES1 and VALUES2 have at least one value in common.',
    args: ['expr', 'expr'],
    emit: (e) => `${e.use(intersects)}(${e.arg(0)}, ${e.arg(1)})`,
  });
  def.expression({
    name: 'union',
    doc: 'The distinct values of VALUES1 followed by the distinct values of VALUES2 not already included.',
    args: ['expr', 'expr'],
    emit: (e) => `${e.use(union)}(${e.arg(0)}, ${e.arg(1)})`,
  });
});
