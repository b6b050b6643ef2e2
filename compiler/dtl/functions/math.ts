/**
 * DTL math functions.
 *
 * - The operators `+ - * / % ^` take one value per side (the first value of a list) and return a
 *   single number, or null when either side is null, empty or not a number.
 * - The word forms `plus minus multiply divide mod pow` take the operand first and apply it to every
 *   numeric value of the second argument (`["minus", 1, X]` is X - 1); non-numeric values are
 *   dropped from lists, a single non-numeric value gives null.
 * - `abs sqrt sin cos tan` work per value; `ceil floor round` take optional leading DIGITS.
 *
 * The numeric tower (integer/float/decimal promotion, true division giving a decimal for integers)
 * is implemented in values/numeric.ts.
 */
import { family, type EmitContext } from '../spec.js';
import type { Value } from '../../values/types.js';
import { asNum, floatResult, numAbs, numAdd, numDiv, numMod, numMul, numPow, numRound, numSqrt, numSub, numToDouble, type Num, type RoundMode } from '../../values/numeric.js';
import { firstValue, mapEach, SKIP, type Converted } from './util.js';

type BinOp = (a: Num, b: Num) => Num | null;

/** The single numeric operand of an operator: the value or the first list element. */
function operand(v: Value): Num | null {
  return asNum(Array.isArray(v) ? (v.length ? v[0] : null) : v);
}

function binary(op: BinOp): (a: Value, b: Value) => Value {
  return (a, b) => {
    const x = operand(a);
    if (x === null) return null;
    const y = operand(b);
    return y === null ? null : op(x, y);
  };
}

export const opPlus = binary(numAdd);
export const opMinus = binary(numSub);
export const opTimes = binary(numMul);
export const opDivide = binary(numDiv);
export const opMod = binary(numMod);
export const opPow = binary(numPow);

/** Applies `op(value, operand)` to each numeric value; values without a result are dropped. */
function eachWith(op: BinOp): (by: Value, values: Value) => Value {
  return (by, values) => {
    const y = operand(by);
    if (y === null) return null;
    if (!Array.isArray(values)) {
      const x = asNum(values);
      return x === null ? null : op(x, y);
    }
    const out: Value[] = [];
    for (let i = 0; i < values.length; i++) {
      const x = asNum(values[i]);
      if (x === null) continue;
      const r = op(x, y);
      if (r !== null) out.push(r);
    }
    return out;
  };
}

export const plusEach = eachWith(numAdd);
export const minusEach = eachWith(numSub);
export const multiplyEach = eachWith(numMul);
export const divideEach = eachWith(numDiv);
export const modEach = eachWith(numMod);
export const powEach = eachWith(numPow);

function perValue(f: (x: Num) => Num | null): (values: Value) => Value {
  const g = (v: Value): Converted => {
    const x = asNum(v);
    if (x === null) return SKIP;
    const r = f(x);
    return r === null ? SKIP : r;
  };
  return (values) => mapEach(values, g);
}

const trig = (fn: (n: number) => number) => perValue((x) => floatResult(fn(numToDouble(x))));

export const absEach = perValue(numAbs);
export const sqrtEach = perValue(numSqrt);
export const sinEach = trig(Math.sin);
export const cosEach = trig(Math.cos);
export const tanEach = trig(Math.tan);

/** DIGITS must be an integer (or a list starting with one); anything else gives no result. */
function digitsOf(v: Value): number | null {
  const d = firstValue(v);
  if (typeof d === 'number') return Number.isInteger(d) ? d : null;
  if (typeof d === 'bigint') return d >= -1000000n && d <= 1000000n ? Number(d) : null;
  return null;
}

function rounder(mode: RoundMode): (values: Value, digits?: Value) => Value {
  const at = (n: number) => perValue((x) => numRound(x, n, mode));
  const byDigits = at(0);
  return (values, digits) => {
    if (digits === undefined) return byDigits(values);
    const n = digitsOf(digits);
    return n === null ? null : at(n)(values);
  };
}

/** Rounds per value with a precompiled digit count (the common case of a literal DIGITS). */
function rounderFixed(mode: RoundMode, n: number): (values: Value) => Value {
  return perValue((x) => numRound(x, n, mode));
}

export const ceilEach = rounder('ceil');
export const floorEach = rounder('floor');
export const roundEach = rounder('half-even');

function emitRounding(mode: RoundMode, dyn: (values: Value, digits?: Value) => Value) {
  return (e: EmitContext): string => {
    if (e.count === 1) return `${e.use(dyn)}(${e.arg(0)})`;
    const lit = e.literal(0);
    if (lit) {
      const n = digitsOf(lit.value);
      if (n !== null) return `${e.use(rounderFixed(mode, n))}(${e.arg(1)})`;
    }
    return `${e.use(dyn)}(${e.arg(1)}, ${e.arg(0)})`;
  };
}

export default family('math', (def) => {
  const op = (name: string, helper: (a: Value, b: Value) => Value, doc: string) =>
    def.expression({ name, doc, args: ['expr', 'expr'], emit: (e) => `${e.use(helper)}(${e.arg(0)}, ${e.arg(1)})` });
  op('+', opPlus, 'VALUE1 + VALUE2 for the first value of each argument; null when either is missing or not a number.');
  op('-', opMinus, 'VALUE1 - VALUE2 for the first value of each argument; null when either is missing or not a number.');
  op('*', opTimes, 'VALUE * MULTIPLIER for the first value of each argument; null when either is missing or not a number.');
  op('/', opDivide, 'DIVIDEND / DIVISOR (true division) for the first value of each argument; null on division by zero.');
  op('%', opMod, 'The remainder of DIVIDEND / DIVISOR for the first value of each argument; null on division by zero.');
  op('^', opPow, 'VALUE raised to EXPONENT for the first value of each argument; null when not a real number.');

  const each = (name: string, helper: (by: Value, values: Value) => Value, doc: string) =>
    def.expression({ name, doc, args: ['expr', 'expr'], emit: (e) => `${e.use(helper)}(${e.arg(0)}, ${e.arg(1)})` });
  each('plus', plusEach, 'Adds INCREMENT to each numeric value in VALUES; other values are dropped.');
  each('minus', minusEach, 'Subtracts DECREMENT from each numeric value in VALUES; other values are dropped.');
  each('multiply', multiplyEach, 'Multiplies each numeric value in VALUES by MULTIPLIER; other values are dropped.');
  each('divide', divideEach, 'Divides each numeric value in VALUES by DIVISOR (true division); other values are dropped.');
  each('mod', modEach, 'The remainder of dividing each numeric value in VALUES by DIVISOR; other values are dropped.');
  each('pow', powEach, 'Raises each numeric value in VALUES to the power EXPONENT; other values are dropped.');

  const unary = (name: string, helper: (values: Value) => Value, doc: string) =>
    def.expression({ name, doc, args: ['expr'], emit: (e) => `${e.use(helper)}(${e.arg(0)})` });
  unary('abs', absEach, 'The absolute value of each number, keeping its type (integer, float or decimal).');
  unary('sqrt', sqrtEach, 'The square root of each number (a decimal for decimals, otherwise a float); null for negative numbers.');
  unary('sin', sinEach, 'The sine of each number (radians), as a float.');
  unary('cos', cosEach, 'The cosine of each number (radians), as a float.');
  unary('tan', tanEach, 'The tangent of each number (radians), as a float; null where it is infinite.');

  const rounding = (name: string, mode: RoundMode, helper: (values: Value, digits?: Value) => Value, doc: string) =>
    def.expression({ name, doc, args: ['expr', 'expr'], min: 1, max: 2, emit: emitRounding(mode, helper) });
  rounding('ceil', 'ceil', ceilEach, 'Rounds each number up, to an integer or to DIGITS decimal places.');
  rounding('floor', 'floor', floorEach, 'Rounds each number down, to an integer or to DIGITS decimal places.');
  rounding('round', 'half-even', roundEach, 'Rounds each number half to even, to an integer or to DIGITS decimal places.');
});
