/**
 * DTL list functions (dtl-functions-lists).
 *
 * Conventions: VALUES is null (no values), a single value or a list. Functions that build a list
 * treat a single value as a one-element list and null as the empty list. Function expressions
 * (`_` bound per value) are evaluated for every element, nulls included. Ordering uses the entity
 * model's mixed-type ordering (`compareValues`), equality its value equality (`valuesEqual`).
 * Integer arguments (INDEX, START, ...) that are not integers make the evaluation fail.
 */
import { family, optionalFnThenValues, type ArgKind } from '../spec.js';
import { DtlRuntimeError } from '../runtime.js';
import { compareValues } from '../../values/compare.js';
import { isDict, normaliseInteger, truthy, type Dict, type Value } from '../../values/types.js';
import { firstValue } from './util.js';
import { integerRange, requireIndex, requireInteger, sumValues } from './list-numeric.js';
import { memberTest, setKey, ValueIndex } from './list-keys.js';
import { toJsonText } from './text.js';

type Fn = (u: Value) => Value;

const EMPTY: Value[] = [];

function asList(v: Value): Value[] {
  if (Array.isArray(v)) return v;
  return v === null || v === undefined ? EMPTY : [v];
}

// --- construction -------------------------------------------------------------------------------

function appendFlat(out: Value[], v: Value): void {
  if (v === null || v === undefined) return;
  if (Array.isArray(v)) for (let i = 0; i < v.length; i++) out.push(v[i]);
  else out.push(v);
}

/** One list of all arguments: lists contribute their elements (one level), nulls nothing. */
export function combine(...args: Value[]): Value[] {
  const out: Value[] = [];
  for (let i = 0; i < args.length; i++) appendFlat(out, args[i]);
  return out;
}

/** The elements of VALUES with list elements spliced in (one level deep); null elements are dropped. */
export function flatten(values: Value): Value[] {
  const out: Value[] = [];
  const list = asList(values);
  for (let i = 0; i < list.length; i++) appendFlat(out, list[i]);
  return out;
}

/** `{"key": n, "value": v}` per value, numbering from START; a single value gives a single dict. */
export function enumerateValues(startV: Value, values: Value): Value {
  const start = requireInteger('enumerate', 'START', startV);
  if (values === null || values === undefined) return null;
  if (!Array.isArray(values)) return { key: start, value: values };
  const n = values.length;
  const out = new Array<Value>(n);
  if (typeof start === 'number' && Number.isSafeInteger(start + n)) {
    for (let i = 0; i < n; i++) out[i] = { key: start + i, value: values[i] };
  } else {
    const b = BigInt(start);
    for (let i = 0; i < n; i++) out[i] = { key: normaliseInteger(b + BigInt(i)), value: values[i] };
  }
  return out;
}

/** VALUES (as a list) with OBJECT inserted before INDEX; negative positions count from the end. */
export function insertValue(indexV: Value, values: Value, object: Value): Value[] {
  let index = requireIndex('insert', 'INDEX', indexV);
  const out = asList(values).slice();
  const n = out.length;
  if (index < 0) index = Math.max(0, index + n);
  else if (index > n) index = n;
  out.splice(index, 0, object);
  return out;
}

// --- access -------------------------------------------------------------------------------------

export function countValues(v: Value): number {
  if (Array.isArray(v)) return v.length;
  return v === null || v === undefined ? 0 : 1;
}

export function lastValue(v: Value): Value {
  if (Array.isArray(v)) return v.length ? v[v.length - 1] : null;
  return v ?? null;
}

/** The value at zero-based INDEX (negative counts from the end); null when out of range. */
export function nthValue(indexV: Value, values: Value): Value {
  const index = requireInteger('nth', 'INDEX', indexV);
  const list = asList(values);
  if (typeof index === 'bigint') return null;
  const i = index < 0 ? index + list.length : index;
  return i >= 0 && i < list.length ? list[i] : null;
}

export function isEmpty(v: Value): boolean {
  return v === null || v === undefined || (Array.isArray(v) && v.length === 0);
}

/** Elements START..END (END exclusive) every STRIDE, with Python's slice rules; null bounds are open. */
export function sliceValues(startV: Value, endV: Value, strideV: Value, values: Value): Value[] {
  const start = startV === null ? null : requireIndex('slice', 'START', startV);
  const end = endV === null ? null : requireIndex('slice', 'END', endV);
  const step = strideV === null ? 1 : requireIndex('slice', 'STRIDE', strideV);
  if (step === 0) throw new DtlRuntimeError('"slice": STRIDE must not be 0');
  const list = asList(values);
  const n = list.length;
  const out: Value[] = [];
  if (step > 0) {
    const lo = start === null ? 0 : start < 0 ? Math.max(0, start + n) : Math.min(start, n);
    const hi = end === null ? n : end < 0 ? Math.max(0, end + n) : Math.min(end, n);
    for (let i = lo; i < hi; i += step) out.push(list[i]);
  } else {
    const hi = start === null ? n - 1 : start < 0 ? Math.max(-1, start + n) : Math.min(start, n - 1);
    const lo = end === null ? -1 : end < 0 ? Math.max(-1, end + n) : Math.min(end, n - 1);
    for (let i = hi; i > lo; i += step) out.push(list[i]);
  }
  return out;
}

/** A reversed copy of a list; other values are returned unchanged. */
export function reversedValues(values: Value): Value {
  if (!Array.isArray(values)) return values ?? null;
  const n = values.length;
  const out = new Array<Value>(n);
  for (let i = 0; i < n; i++) out[i] = values[n - 1 - i];
  return out;
}

// --- function expressions over values -----------------------------------------------------------

export function filterValues(f: Fn, values: Value): Value[] {
  const list = asList(values);
  const out: Value[] = [];
  for (let i = 0; i < list.length; i++) if (truthy(f(list[i]))) out.push(list[i]);
  return out;
}

export function mapList(f: Fn, values: Value): Value[] {
  const list = asList(values);
  const out = new Array<Value>(list.length);
  for (let i = 0; i < list.length; i++) out[i] = f(list[i]);
  return out;
}

function mapOneDict(kf: Fn, vf: Fn, d: Dict): Dict | null {
  const out: Dict = {};
  let any = false;
  for (const k in d) {
    const nk = kf(k);
    if (typeof nk !== 'string') continue;
    setKey(out, nk, vf(d[k]));
    any = true;
  }
  return any ? out : null;
}

/** New dicts with keys and values mapped; non-string keys drop the pair, empty dicts are dropped. */
export function mapDict(kf: Fn, vf: Fn, values: Value): Value {
  if (isDict(values)) return mapOneDict(kf, vf, values);
  if (!Array.isArray(values)) return null;
  const out: Value[] = [];
  for (const v of values) {
    if (!isDict(v)) continue;
    const d = mapOneDict(kf, vf, v);
    if (d !== null) out.push(d);
  }
  return out;
}

/** The function applied to every value of every dict in VALUES, as one list. */
export function mapDictValues(vf: Fn, values: Value): Value[] {
  const out: Value[] = [];
  const list = asList(values);
  for (let i = 0; i < list.length; i++) {
    const d = list[i];
    if (!isDict(d)) continue;
    for (const k in d) out.push(vf(d[k]));
  }
  return out;
}

/** Values with duplicates (by value, or by FUNCTION of the value) removed; the first one wins. */
export function distinctValues(values: Value, f?: Fn): Value[] {
  const list = asList(values);
  if (!f) {
    const seen = new ValueIndex();
    for (let i = 0; i < list.length; i++) seen.add(list[i]);
    return seen.items;
  }
  const seen = new ValueIndex();
  const out: Value[] = [];
  for (let i = 0; i < list.length; i++) if (seen.add(f(list[i]))) out.push(list[i]);
  return out;
}

/** `[key, [values...]]` pairs in order of first appearance of each key. */
export function groupValues(kf: Fn, vf: Fn, values: Value): Value[] {
  const list = asList(values);
  const keys = new ValueIndex();
  const groups: Value[][] = [];
  for (let i = 0; i < list.length; i++) {
    const x = list[i];
    const k = kf(x);
    let g = keys.indexOf(k);
    if (g < 0) {
      g = keys.push(k);
      groups.push([]);
    }
    groups[g].push(vf(x));
  }
  const out = new Array<Value>(groups.length);
  for (let i = 0; i < groups.length; i++) out[i] = [keys.items[i], groups[i]];
  return out;
}

/**
 * A dict from group key to the values with that key. Keys are the transit JSON text of the key, or
 * what STRING_FUNCTION makes of the key; values whose STRING_FUNCTION result is not a string are left out.
 */
export function groupBy(values: Value, kf?: Fn, sf?: Fn): Dict {
  const list = asList(values);
  const out: Dict = {};
  const hasOwn = Object.prototype.hasOwnProperty;
  for (let i = 0; i < list.length; i++) {
    const x = list[i];
    const key = kf ? kf(x) : x;
    let name: Value;
    if (sf) {
      name = sf(key);
      if (typeof name !== 'string') continue;
    } else name = toJsonText(key, true);
    if (hasOwn.call(out, name)) (out[name] as Value[]).push(x);
    else setKey(out, name, [x]);
  }
  return out;
}

/** True when VALUES is non-empty and each of its values equals some value in ITEMS. */
export function inValues(values: Value, items: Value): boolean {
  const vs = asList(values);
  if (vs.length === 0) return false;
  const member = memberTest(asList(items));
  for (let i = 0; i < vs.length; i++) if (!member(vs[i])) return false;
  return true;
}

// --- ordering -----------------------------------------------------------------------------------

const numberAsc = (a: Value, b: Value) => (a as number) - (b as number);
const numberDesc = (a: Value, b: Value) => (b as number) - (a as number);
const stringAsc = (a: Value, b: Value) => ((a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0);
const stringDesc = (a: Value, b: Value) => ((a as string) < (b as string) ? 1 : (a as string) > (b as string) ? -1 : 0);
const mixedDesc = (a: Value, b: Value) => compareValues(b, a);

/** Below this length an insertion sort beats Array.prototype.sort; both are stable. */
const SMALL_SORT = 12;

function sortInPlace<T>(a: T[], cmp: (x: T, y: T) => number): void {
  const n = a.length;
  if (n > SMALL_SORT) {
    a.sort(cmp);
    return;
  }
  for (let i = 1; i < n; i++) {
    const x = a[i];
    let j = i - 1;
    while (j >= 0 && cmp(a[j], x) > 0) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = x;
  }
}

function sortList(values: Value[], descending: boolean): Value[] {
  const out = values.slice();
  if (out.length < 2) return out;
  const t = typeof out[0];
  let same = t === 'number' || t === 'string';
  for (let i = 1; same && i < out.length; i++) same = typeof out[i] === t;
  if (same) sortInPlace(out, t === 'number' ? (descending ? numberDesc : numberAsc) : descending ? stringDesc : stringAsc);
  else sortInPlace(out, descending ? mixedDesc : compareValues);
  return out;
}

function sortByKey(values: Value[], f: Fn, descending: boolean): Value[] {
  const n = values.length;
  const keys = new Array<Value>(n);
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    keys[i] = f(values[i]);
    order[i] = i;
  }
  sortInPlace(order, descending ? (a, b) => compareValues(keys[b], keys[a]) : (a, b) => compareValues(keys[a], keys[b]));
  const out = new Array<Value>(n);
  for (let i = 0; i < n; i++) out[i] = values[order[i]];
  return out;
}

/** A stable ascending sort of a list (by FUNCTION of each value when given); non-lists are returned as they are. */
export function sortedValues(values: Value, f?: Fn): Value {
  if (!Array.isArray(values)) return values ?? null;
  return f ? sortByKey(values, f, false) : sortList(values, false);
}

export function sortedDescending(values: Value, f?: Fn): Value {
  if (!Array.isArray(values)) return values ?? null;
  return f ? sortByKey(values, f, true) : sortList(values, true);
}

/** The first value with the greatest (sign 1) or least (sign -1) key; null values and keys are passed over. */
function extreme(values: Value, sign: 1 | -1, f?: Fn): Value {
  if (!Array.isArray(values)) return values ?? null;
  let best: Value = null;
  let bestKey: Value = null;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x === null) continue;
    const k = f ? f(x) : x;
    if (k === null) continue;
    if (bestKey === null || sign * compareValues(k, bestKey) > 0) {
      best = x;
      bestKey = k;
    }
  }
  return best;
}

export function maxValue(values: Value, f?: Fn): Value {
  return extreme(values, 1, f);
}

export function minValue(values: Value, f?: Fn): Value {
  return extreme(values, -1, f);
}

// --- specs --------------------------------------------------------------------------------------

/** Kinds for group-by: [VALUES], [KEY_FUNCTION, VALUES] or [KEY_FUNCTION, STRING_FUNCTION, VALUES]. */
function groupByKinds(n: number): ArgKind[] {
  return n === 1 ? ['expr'] : n === 2 ? ['fn', 'expr'] : ['fn', 'fn', 'expr'];
}

export default family('lists', (def) => {
  def.expression({
    name: 'list',
    doc: 'Returns a list of the argument values, in order (nulls included).',
    emit: (e) => `[${e.args().join(', ')}]`,
  });
  def.expression({
    name: 'combine',
    doc: 'Joins the arguments into one list: list arguments add their elements, single values themselves, nulls nothing.',
    min: 1,
    emit: (e) => `${e.use(combine)}(${e.args().join(', ')})`,
  });
  def.expression({
    name: 'count',
    doc: 'The number of values: the length of a list, 0 for null, 1 for any other value.',
    args: ['expr'],
    emit: (e) => `${e.use(countValues)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'distinct',
    doc: 'The values without duplicates, keeping the first of each; with FUNCTION, duplicates are judged by its result.',
    args: optionalFnThenValues,
    min: 1,
    max: 2,
    emit: (e) => (e.count === 2 ? `${e.use(distinctValues)}(${e.arg(1)}, ${e.arg(0)})` : `${e.use(distinctValues)}(${e.arg(0)})`),
  });
  def.expression({
    name: 'enumerate',
    doc: 'Pairs each value with a running number as {"key": n, "value": v}, counting from START (default 0).',
    args: ['expr', 'expr'],
    min: 1,
    max: 2,
    emit: (e) => (e.count === 2 ? `${e.use(enumerateValues)}(${e.arg(0)}, ${e.arg(1)})` : `${e.use(enumerateValues)}(0, ${e.arg(0)})`),
  });
  def.expression({
    name: 'filter',
    doc: 'The values for which FUNCTION is true.',
    args: ['fn', 'expr'],
    emit: (e) => `${e.use(filterValues)}(${e.arg(0)}, ${e.arg(1)})`,
  });
  def.expression({
    name: 'first',
    doc: 'The first element of a list (null when empty); a non-list value is returned as it is.',
    args: ['expr'],
    emit: (e) => `${e.use(firstValue)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'flatten',
    doc: 'A new list where the list elements of VALUES are replaced by their elements (one level only).',
    args: ['expr'],
    emit: (e) => `${e.use(flatten)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'group',
    doc: 'Groups the values by KEY_FUNCTION into [key, [VALUE_FUNCTION results]] pairs, in order of first appearance.',
    args: ['fn', 'fn', 'expr'],
    emit: (e) => `${e.use(groupValues)}(${e.arg(0)}, ${e.arg(1)}, ${e.arg(2)})`,
  });
  def.expression({
    name: 'group-by',
    doc: 'A dict from group key (transit JSON text, or the STRING_FUNCTION result) to the values that have that KEY_FUNCTION result.',
    args: groupByKinds,
    min: 1,
    max: 3,
    emit: (e) => {
      const f = e.use(groupBy);
      if (e.count === 1) return `${f}(${e.arg(0)})`;
      if (e.count === 2) return `${f}(${e.arg(1)}, ${e.arg(0)})`;
      return `${f}(${e.arg(2)}, ${e.arg(0)}, ${e.arg(1)})`;
    },
  });
  def.expression({
    name: 'in',
    doc: 'True when VALUES is not empty and every one of its values is among ITEMS.',
    args: ['expr', 'expr'],
    emit: (e) => `${e.use(inValues)}(${e.arg(0)}, ${e.arg(1)})`,
  });
  def.expression({
    name: 'insert',
    doc: 'A copy of VALUES with OBJECT inserted at INDEX (negative INDEX counts from the end).',
    args: ['expr', 'expr', 'expr'],
    emit: (e) => `${e.use(insertValue)}(${e.arg(0)}, ${e.arg(1)}, ${e.arg(2)})`,
  });
  def.expression({
    name: 'is-empty',
    doc: 'True when the value, taken as a list, has no elements (null or the empty list).',
    args: ['expr'],
    emit: (e) => `${e.use(isEmpty)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'is-not-empty',
    doc: 'True when the value, taken as a list, has at least one element.',
    args: ['expr'],
    emit: (e) => `!${e.use(isEmpty)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'is-list',
    doc: 'True when the value is a list.',
    args: ['expr'],
    emit: (e) => `Array.isArray(${e.arg(0)})`,
  });
  def.expression({
    name: 'last',
    doc: 'The last element of a list (null when empty); a non-list value is returned as it is.',
    args: ['expr'],
    emit: (e) => `${e.use(lastValue)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'map',
    doc: 'A list of the FUNCTION results, one per value.',
    args: ['fn', 'expr'],
    emit: (e) => `${e.use(mapList)}(${e.arg(0)}, ${e.arg(1)})`,
  });
  def.expression({
    name: 'map-dict',
    doc: 'Rebuilds each dict with KEY_FUNCTION applied to its keys and VALUE_FUNCTION to its values; non-string keys drop the pair and empty results are dropped.',
    args: ['fn', 'fn', 'expr'],
    emit: (e) => `${e.use(mapDict)}(${e.arg(0)}, ${e.arg(1)}, ${e.arg(2)})`,
  });
  def.expression({
    name: 'map-values',
    doc: 'One list of VALUE_FUNCTION applied to every value of every dict in VALUES; other values are ignored.',
    args: ['fn', 'expr'],
    emit: (e) => `${e.use(mapDictValues)}(${e.arg(0)}, ${e.arg(1)})`,
  });
  def.expression({
    name: 'max',
    doc: 'The greatest value in mixed-type ordering (by FUNCTION of each value when given); nulls are skipped.',
    args: optionalFnThenValues,
    min: 1,
    max: 2,
    emit: (e) => (e.count === 2 ? `${e.use(maxValue)}(${e.arg(1)}, ${e.arg(0)})` : `${e.use(maxValue)}(${e.arg(0)})`),
  });
  def.expression({
    name: 'min',
    doc: 'The least value in mixed-type ordering (by FUNCTION of each value when given); nulls are skipped.',
    args: optionalFnThenValues,
    min: 1,
    max: 2,
    emit: (e) => (e.count === 2 ? `${e.use(minValue)}(${e.arg(1)}, ${e.arg(0)})` : `${e.use(minValue)}(${e.arg(0)})`),
  });
  def.expression({
    name: 'nth',
    doc: 'The value at zero-based INDEX (negative counts from the end), or null when out of range.',
    args: ['expr', 'expr'],
    emit: (e) => `${e.use(nthValue)}(${e.arg(0)}, ${e.arg(1)})`,
  });
  def.expression({
    name: 'range',
    doc: 'The integers from START up to but not including STOP, STEP (default 1, never 0) apart.',
    args: ['expr', 'expr', 'expr'],
    min: 2,
    emit: (e) => `${e.use(integerRange)}(${e.args().join(', ')})`,
  });
  def.expression({
    name: 'reversed',
    doc: 'The list in reverse order; a non-list value is returned as it is.',
    args: ['expr'],
    emit: (e) => `${e.use(reversedValues)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'slice',
    doc: 'The elements from START up to END (exclusive, default the end) taking every STRIDE-th, as Python slicing does.',
    args: ['expr', 'expr', 'expr', 'expr'],
    min: 2,
    max: 4,
    emit: (e) => {
      const f = e.use(sliceValues);
      if (e.count === 2) return `${f}(${e.arg(0)}, null, null, ${e.arg(1)})`;
      if (e.count === 3) return `${f}(${e.arg(0)}, ${e.arg(1)}, null, ${e.arg(2)})`;
      return `${f}(${e.args().join(', ')})`;
    },
  });
  def.expression({
    name: 'sorted',
    doc: 'The list in ascending mixed-type order (by FUNCTION of each value when given), duplicates kept; a non-list is returned as it is.',
    args: optionalFnThenValues,
    min: 1,
    max: 2,
    emit: (e) => (e.count === 2 ? `${e.use(sortedValues)}(${e.arg(1)}, ${e.arg(0)})` : `${e.use(sortedValues)}(${e.arg(0)})`),
  });
  def.expression({
    name: 'sorted-descending',
    doc: 'The list in descending mixed-type order (by FUNCTION of each value when given), duplicates kept; a non-list is returned as it is.',
    args: optionalFnThenValues,
    min: 1,
    max: 2,
    emit: (e) => (e.count === 2 ? `${e.use(sortedDescending)}(${e.arg(1)}, ${e.arg(0)})` : `${e.use(sortedDescending)}(${e.arg(0)})`),
  });
  def.expression({
    name: 'sum',
    doc: 'The sum of the numbers among VALUES (others are ignored): integers stay exact, a float makes a float, a decimal makes a decimal.',
    args: ['expr'],
    emit: (e) => `${e.use(sumValues)}(${e.arg(0)})`,
  });
});
