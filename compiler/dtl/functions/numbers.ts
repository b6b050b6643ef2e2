/**
 * DTL number casts and type tests: decimal, float, integer, hex, is-decimal, is-float, is-integer.
 *
 * The casts work per value (a list gives a list). Values that do not convert are dropped, or, when
 * a leading default function is given, replaced by that function evaluated with `_` bound to the
 * value. Nulls are never converted. Booleans are not numbers.
 */
import { family, optionalFnThenValues, type EmitContext } from '../spec.js';
import { Decimal, isFloat, isInteger, type Value } from '../../values/types.js';
import { formatTwosComplementHex, toDecimalValue, toFloatValue, toIntegerValue } from '../../values/numeric.js';
import { mapEach, SKIP, testFirst, type Converted } from './util.js';

const orSkip = (r: Value): Converted => (r === null ? SKIP : r);

const decimalOne = (x: Value): Converted => orSkip(toDecimalValue(x));
const floatOne = (x: Value): Converted => orSkip(toFloatValue(x));
const integerOne = (x: Value): Converted => orSkip(toIntegerValue(x));
const hexOne = (x: Value): Converted => (isInteger(x) ? formatTwosComplementHex(x) : SKIP);

export function toDecimals(values: Value, dflt?: (x: Value) => Value): Value {
  return mapEach(values, decimalOne, dflt);
}

export function toFloats(values: Value, dflt?: (x: Value) => Value): Value {
  return mapEach(values, floatOne, dflt);
}

export function toIntegers(values: Value, dflt?: (x: Value) => Value): Value {
  return mapEach(values, integerOne, dflt);
}

export function toHex(values: Value): Value {
  return mapEach(values, hexOne);
}

export const isDecimalValue = (v: Value): boolean => testFirst(v, (x) => x instanceof Decimal);
export const isFloatValue = (v: Value): boolean => testFirst(v, isFloat);
export const isIntegerValue = (v: Value): boolean => testFirst(v, isInteger);

/** `[FUNCTION?, VALUES]`: the helper gets VALUES first, then the default function when present. */
function emitCast(helper: (values: Value, dflt?: (x: Value) => Value) => Value) {
  return (e: EmitContext): string => (e.count === 2 ? `${e.use(helper)}(${e.arg(1)}, ${e.arg(0)})` : `${e.use(helper)}(${e.arg(0)})`);
}

export default family('numbers', (def) => {
  def.expression({
    name: 'decimal',
    doc: 'Converts numbers and numeric strings to decimals; other values are dropped or replaced by the DEFAULT function.',
    args: optionalFnThenValues,
    min: 1,
    max: 2,
    emit: emitCast(toDecimals),
  });
  def.expression({
    name: 'float',
    doc: 'Converts numbers and numeric strings to floats; other values are dropped or replaced by the DEFAULT function.',
    args: optionalFnThenValues,
    min: 1,
    max: 2,
    emit: emitCast(toFloats),
  });
  def.expression({
    name: 'integer',
    doc: 'Converts numbers (truncated), integer strings and "0x" two\'s complement hex strings to integers; other values are dropped or replaced by the DEFAULT function.',
    args: optionalFnThenValues,
    min: 1,
    max: 2,
    emit: emitCast(toIntegers),
  });
  def.expression({
    name: 'hex',
    doc: 'Formats each integer as "0x" and its shortest two\'s complement bytes in hex; other values are dropped.',
    args: ['expr'],
    emit: (e) => `${e.use(toHex)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'is-decimal',
    doc: 'True when the value (or the first list element) is a decimal.',
    args: ['expr'],
    emit: (e) => `${e.use(isDecimalValue)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'is-float',
    doc: 'True when the value (or the first list element) is a float.',
    args: ['expr'],
    emit: (e) => `${e.use(isFloatValue)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'is-integer',
    doc: 'True when the value (or the first list element) is an integer.',
    args: ['expr'],
    emit: (e) => `${e.use(isIntegerValue)}(${e.arg(0)})`,
  });
});
