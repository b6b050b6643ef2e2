/** Boolean logic (and, or, not, all, any) and boolean values (boolean, is-boolean). */
import { family, optionalFnThenValues } from '../spec.js';
import { truthy, toList, type Value } from '../../values/types.js';
import { mapEach, SKIP, testFirst, type Converted } from './util.js';

export function allOf(values: Value, f?: (x: Value) => Value): boolean {
  for (const x of toList(values)) if (!truthy(f ? f(x) : x)) return false;
  return true;
}

export function anyOf(values: Value, f?: (x: Value) => Value): boolean {
  for (const x of toList(values)) if (truthy(f ? f(x) : x)) return true;
  return false;
}

function parseBoolean(x: Value): Converted {
  if (typeof x === 'boolean') return x;
  if (typeof x === 'string') {
    const l = x.toLowerCase();
    if (l === 'true') return true;
    if (l === 'false') return false;
  }
  return SKIP;
}

export function toBoolean(values: Value, dflt?: (x: Value) => Value): Value {
  return mapEach(values, parseBoolean, dflt);
}

export function isBoolean(v: Value): boolean {
  return testFirst(v, (x) => typeof x === 'boolean');
}


export default family('booleans', (def) => {
  def.expression({
    name: 'and',
    doc: 'True when every argument is true; stops at the first false one.',
    min: 1,
    emit: (e) => `(${e.args().map((a) => `${e.use(truthy)}(${a})`).join(' && ')})`,
  });
  def.expression({
    name: 'or',
    doc: 'True when any argument is true; stops at the first true one.',
    min: 1,
    emit: (e) => `(${e.args().map((a) => `${e.use(truthy)}(${a})`).join(' || ')})`,
  });
  def.expression({
    name: 'not',
    doc: 'The inverse of "and" over the arguments.',
    min: 1,
    emit: (e) => `!(${e.args().map((a) => `${e.use(truthy)}(${a})`).join(' && ')})`,
  });
  def.expression({
    name: 'all',
    doc: 'True when every value (or FUNCTION of it) is true.',
    args: optionalFnThenValues,
    min: 1,
    max: 2,
    emit: (e) => (e.count === 2 ? `${e.use(allOf)}(${e.arg(1)}, ${e.arg(0)})` : `${e.use(allOf)}(${e.arg(0)})`),
  });
  def.expression({
    name: 'any',
    doc: 'True when at least one value (or FUNCTION of it) is true.',
    args: optionalFnThenValues,
    min: 1,
    max: 2,
    emit: (e) => (e.count === 2 ? `${e.use(anyOf)}(${e.arg(1)}, ${e.arg(0)})` : `${e.use(anyOf)}(${e.arg(0)})`),
  });
  def.expression({
    name: 'boolean',
    doc: 'Converts values to booleans ("true"/"false" in any case); others are dropped or replaced by DEFAULT.',
    args: optionalFnThenValues,
    min: 1,
    max: 2,
    emit: (e) => (e.count === 2 ? `${e.use(toBoolean)}(${e.arg(1)}, ${e.arg(0)})` : `${e.use(toBoolean)}(${e.arg(0)})`),
  });
  def.expression({
    name: 'is-boolean',
    doc: 'True when the value (or the first list element) is a boolean.',
    args: ['expr'],
    emit: (e) => `${e.use(isBoolean)}(${e.arg(0)})`,
  });
});
