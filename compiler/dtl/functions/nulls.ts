/**
 * DTL null handling: coalesce, coalesce-args, if-null, is-null, is-not-null.
 *
 * "Null" for is-null / if-null means null, an empty list, or a list whose first element is null.
 * coalesce and coalesce-args only skip actual nulls.
 */
import { family, optionalFnThenValues } from '../spec.js';
import { truthy, type Value } from '../../values/types.js';

/** The first non-null value in VALUES, or with FUNCTION the first value for which it is true. */
export function coalesce(values: Value, f?: (x: Value) => Value): Value {
  if (!Array.isArray(values)) {
    if (values === null || values === undefined) return null;
    return f === undefined || truthy(f(values)) ? values : null;
  }
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (f === undefined ? x !== null && x !== undefined : truthy(f(x))) return x ?? null;
  }
  return null;
}

export function isNullish(v: Value): boolean {
  if (v === null || v === undefined) return true;
  if (Array.isArray(v)) return v.length === 0 || v[0] === null || v[0] === undefined;
  return false;
}

/** The value, or JS null when it counts as null (so that `??` can supply the fallback lazily). */
export function unlessNull(v: Value): Value {
  return isNullish(v) ? null : v;
}

export default family('nulls', (def) => {
  def.expression({
    name: 'coalesce',
    doc: 'The first value in VALUES that is not null, or with FUNCTION the first value for which FUNCTION is true.',
    args: optionalFnThenValues,
    min: 1,
    max: 2,
    emit: (e) => (e.count === 2 ? `${e.use(coalesce)}(${e.arg(1)}, ${e.arg(0)})` : `${e.use(coalesce)}(${e.arg(0)})`),
  });
  def.expression({
    name: 'coalesce-args',
    doc: 'Evaluates the arguments in order and returns the first that is not null (null when all are).',
    min: 1,
    emit: (e) => `(${e.args().map((a) => `(${a})`).join(' ?? ')} ?? null)`,
  });
  def.expression({
    name: 'if-null',
    doc: 'VALUE unless it is null, an empty list or a list starting with null; then FALLBACK-VALUE (evaluated only then).',
    args: ['expr', 'expr'],
    emit: (e) => `(${e.use(unlessNull)}(${e.arg(0)}) ?? (${e.arg(1)}))`,
  });
  def.expression({
    name: 'is-null',
    doc: 'True when the value is null, an empty list or a list whose first element is null.',
    args: ['expr'],
    emit: (e) => `${e.use(isNullish)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'is-not-null',
    doc: 'False when the value is null, an empty list or a list whose first element is null; true otherwise.',
    args: ['expr'],
    emit: (e) => `!${e.use(isNullish)}(${e.arg(0)})`,
  });
});
