/**
 * Arithmetic over the entity model's numeric tower: integer (JS number, or bigint beyond 2^53),
 * float (non-integral JS number, or `DtlFloat` when integral) and decimal (`Decimal`).
 *
 * Mixed operands are promoted to the more precise kind: integer < float < decimal. So integer with
 * integer stays an exact integer, anything with a float gives a float, and anything with a decimal
 * gives a decimal. True division of two integers gives a decimal. Results that are not finite real
 * numbers (division by zero, overflow, a complex root) are `null`.
 *
 * Conversions used by the casting functions (`decimal`, `float`, `integer`) live here too.
 */
import type { Decimal as DecimalJs } from 'decimal.js';
import { Decimal, DtlFloat, normaliseInteger, type Value } from './types.js';

export type Num = number | bigint | DtlFloat | Decimal;

/** Numeric kinds in promotion order. */
export const enum NumKind {
  Integer = 0,
  Float = 1,
  Decimal = 2,
}

/** The value itself when it is a number (booleans are not numbers), else null. */
export function asNum(v: Value | undefined): Num | null {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (v instanceof DtlFloat || v instanceof Decimal) return v;
  return null;
}

export function numKind(x: Num): NumKind {
  if (typeof x === 'number') return Number.isInteger(x) ? NumKind.Integer : NumKind.Float;
  if (typeof x === 'bigint') return NumKind.Integer;
  return x instanceof DtlFloat ? NumKind.Float : NumKind.Decimal;
}

/** A JS double for any numeric value (may be inexact or infinite for decimals and huge integers). */
export function numToDouble(x: Num): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'bigint') return Number(x);
  if (x instanceof DtlFloat) return x.value;
  return x.toNumber();
}

/** A decimal for any numeric value; floats convert through their shortest round-trip text. */
export function numToDecimal(x: Num): Decimal {
  if (x instanceof Decimal) return x;
  if (typeof x === 'bigint') return new Decimal(x.toString());
  if (x instanceof DtlFloat) return new Decimal(x.value);
  return new Decimal(x);
}

function intToBig(x: number | bigint): bigint {
  return typeof x === 'bigint' ? x : BigInt(x);
}

/** A float result, or null when it is not finite. */
export function floatResult(n: number): number | DtlFloat | null {
  if (!Number.isFinite(n)) return null;
  return Number.isInteger(n) ? new DtlFloat(n) : n;
}

/** A decimal result, or null when it is NaN or infinite. */
function decimalResult(d: Decimal): Decimal | null {
  return d.isFinite() ? d : null;
}

/** An integer result from an integral double (bigint when beyond 2^53; -0 becomes 0). */
export function integerFromDouble(n: number): number | bigint {
  if (Number.isSafeInteger(n)) return n || 0;
  return normaliseInteger(BigInt(n));
}

/** An integer result from an integral decimal. */
function integerFromDecimal(d: Decimal): number | bigint {
  return normaliseInteger(BigInt(d.toFixed(0)));
}

/** The kind both operands are promoted to. */
function joinKind(a: Num, b: Num): NumKind {
  const ka = numKind(a);
  const kb = numKind(b);
  return ka > kb ? ka : kb;
}

export function numAdd(a: Num, b: Num): Num | null {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (Number.isInteger(a) && Number.isInteger(b)) return Number.isSafeInteger(r) ? r : normaliseInteger(BigInt(a) + BigInt(b));
    return floatResult(r);
  }
  switch (joinKind(a, b)) {
    case NumKind.Integer:
      return normaliseInteger(intToBig(a as number | bigint) + intToBig(b as number | bigint));
    case NumKind.Float:
      return floatResult(numToDouble(a) + numToDouble(b));
    default:
      return decimalResult(numToDecimal(a).plus(numToDecimal(b)));
  }
}

export function numSub(a: Num, b: Num): Num | null {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a - b;
    if (Number.isInteger(a) && Number.isInteger(b)) return Number.isSafeInteger(r) ? r || 0 : normaliseInteger(BigInt(a) - BigInt(b));
    return floatResult(r);
  }
  switch (joinKind(a, b)) {
    case NumKind.Integer:
      return normaliseInteger(intToBig(a as number | bigint) - intToBig(b as number | bigint));
    case NumKind.Float:
      return floatResult(numToDouble(a) - numToDouble(b));
    default:
      return decimalResult(numToDecimal(a).minus(numToDecimal(b)));
  }
}

export function numMul(a: Num, b: Num): Num | null {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a * b;
    // A product of two integers that lands within ±(2^53-1) was computed exactly.
    if (Number.isInteger(a) && Number.isInteger(b)) return Number.isSafeInteger(r) ? r || 0 : normaliseInteger(BigInt(a) * BigInt(b));
    return floatResult(r);
  }
  switch (joinKind(a, b)) {
    case NumKind.Integer:
      return normaliseInteger(intToBig(a as number | bigint) * intToBig(b as number | bigint));
    case NumKind.Float:
      return floatResult(numToDouble(a) * numToDouble(b));
    default:
      return decimalResult(numToDecimal(a).times(numToDecimal(b)));
  }
}

function isZero(x: Num): boolean {
  if (typeof x === 'number') return x === 0;
  if (typeof x === 'bigint') return x === 0n;
  if (x instanceof DtlFloat) return x.value === 0;
  return x.isZero();
}

/** True division: integer / integer is a decimal; division by zero is null. */
export function numDiv(a: Num, b: Num): Num | null {
  if (isZero(b)) return null;
  if (joinKind(a, b) === NumKind.Float) return floatResult(numToDouble(a) / numToDouble(b));
  return decimalResult(numToDecimal(a).div(numToDecimal(b)));
}

/**
 * Remainder. Integers and floats take the sign of the divisor (floored division, as Python's `%`);
 * decimals take the sign of the dividend (as Python's decimal module). Modulo zero is null.
 */
export function numMod(a: Num, b: Num): Num | null {
  if (isZero(b)) return null;
  switch (joinKind(a, b)) {
    case NumKind.Integer: {
      if (typeof a === 'number' && typeof b === 'number') {
        let r = a % b;
        if (r !== 0 && r < 0 !== b < 0) r += b;
        return r || 0;
      }
      const bb = intToBig(b as number | bigint);
      let r = intToBig(a as number | bigint) % bb;
      if (r !== 0n && r < 0n !== bb < 0n) r += bb;
      return normaliseInteger(r);
    }
    case NumKind.Float: {
      const x = numToDouble(a);
      const y = numToDouble(b);
      let r = x % y;
      if (r !== 0 && r < 0 !== y < 0) r += y;
      else if (r === 0) r = y < 0 ? -0 : 0;
      return floatResult(r);
    }
    default:
      return decimalResult(numToDecimal(a).mod(numToDecimal(b)));
  }
}

/** Bit budget for exact integer powers; larger results are refused rather than computed. */
const MAX_POW_BITS = 1 << 24;

function bitLength(x: bigint): number {
  if (x < 0n) x = -x;
  return x === 0n ? 0 : x.toString(16).length * 4;
}

function intPow(base: number | bigint, exp: number | bigint): Num | null {
  if (exp < 0) {
    if (base == 0) return null;
    return decimalResult(numToDecimal(base).pow(numToDecimal(exp)));
  }
  if (typeof base === 'number' && typeof exp === 'number') {
    // Square-and-multiply in doubles while every intermediate stays exact.
    let r = 1;
    let b = base;
    let e = exp;
    let exact = true;
    while (e > 0) {
      if (e & 1) {
        r *= b;
        if (!Number.isSafeInteger(r)) {
          exact = false;
          break;
        }
      }
      e = Math.floor(e / 2);
      if (e > 0) {
        b *= b;
        if (!Number.isSafeInteger(b)) {
          exact = false;
          break;
        }
      }
    }
    if (exact) return r || 0;
  }
  const bb = intToBig(base);
  const be = intToBig(exp);
  if (bb === 0n || bb === 1n) return be === 0n ? 1 : Number(bb);
  if (bb === -1n) return be % 2n === 0n ? 1 : -1;
  if (BigInt(bitLength(bb)) * be > BigInt(MAX_POW_BITS)) throw new RangeError(`integer power result is too large (${bb} ^ ${be})`);
  return normaliseInteger(bb ** be);
}

/** Power. Integer to a non-negative integer is an exact integer; a negative integer exponent gives a decimal. */
export function numPow(a: Num, b: Num): Num | null {
  switch (joinKind(a, b)) {
    case NumKind.Integer:
      return intPow(a as number | bigint, b as number | bigint);
    case NumKind.Float: {
      const x = numToDouble(a);
      const y = numToDouble(b);
      if (x === 0 && y < 0) return null;
      return floatResult(Math.pow(x, y));
    }
    default: {
      const x = numToDecimal(a);
      const y = numToDecimal(b);
      if (x.isZero() && y.isNegative()) return null;
      return decimalResult(x.pow(y));
    }
  }
}

export function numAbs(x: Num): Num {
  if (typeof x === 'number') return Math.abs(x);
  if (typeof x === 'bigint') return normaliseInteger(x < 0n ? -x : x);
  if (x instanceof DtlFloat) return new DtlFloat(Math.abs(x.value));
  return x.abs();
}

export function numNeg(x: Num): Num {
  if (typeof x === 'number') return Number.isInteger(x) ? -x || 0 : -x;
  if (typeof x === 'bigint') return normaliseInteger(-x);
  if (x instanceof DtlFloat) return new DtlFloat(-x.value);
  return x.neg();
}

export type RoundMode = 'ceil' | 'floor' | 'half-even';

const DECIMAL_ROUNDING: Record<RoundMode, DecimalJs.Rounding> = {
  ceil: Decimal.ROUND_CEIL,
  floor: Decimal.ROUND_FLOOR,
  'half-even': Decimal.ROUND_HALF_EVEN,
};

function roundDoubleToInteger(x: number, mode: RoundMode): number {
  if (mode === 'ceil') return Math.ceil(x);
  if (mode === 'floor') return Math.floor(x);
  const f = Math.floor(x);
  const d = x - f; // exact for doubles
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Rounds a decimal to `digits` places (negative: to a multiple of 10^-digits); exact, no precision limit. */
function roundDecimal(d: Decimal, digits: number, mode: RoundMode): Decimal {
  const rm = DECIMAL_ROUNDING[mode];
  if (digits >= 0) return d.toDecimalPlaces(digits, rm);
  return d.toNearest(new Decimal('1e' + -digits), rm);
}

/**
 * Rounds to `digits` decimal places with the given mode. With 0 digits the result is an integer.
 * Otherwise the kind is kept: floats round by their decimal text and stay floats, decimals stay
 * decimals, and integers are unchanged unless `digits` is negative (rounding to tens, hundreds, ...).
 */
export function numRound(x: Num, digits: number, mode: RoundMode): Num | null {
  switch (numKind(x)) {
    case NumKind.Integer:
      if (digits >= 0) return x;
      return integerFromDecimal(roundDecimal(numToDecimal(x), digits, mode));
    case NumKind.Float: {
      const v = numToDouble(x);
      if (digits === 0) return integerFromDouble(roundDoubleToInteger(v, mode));
      return floatResult(roundDecimal(new Decimal(v), digits, mode).toNumber());
    }
    default: {
      const d = x as Decimal;
      if (digits === 0) return integerFromDecimal(roundDecimal(d, 0, mode));
      return roundDecimal(d, digits, mode);
    }
  }
}

/** Square root as a float (decimal for a decimal); null for negative values. */
export function numSqrt(x: Num): Num | null {
  if (x instanceof Decimal) return x.isNegative() && !x.isZero() ? null : decimalResult(x.sqrt());
  const v = numToDouble(x);
  if (v < 0) return null;
  return floatResult(Math.sqrt(v));
}

// ---------------------------------------------------------------------------------------------
// Conversions (the casting functions). Each returns null when the value does not convert.

const DECIMAL_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER_TEXT = /^[+-]?\d+$/;
const HEX_TEXT = /^0[xX]([0-9a-fA-F]+)$/;

/** A decimal from a number or numeric text; null otherwise. */
export function toDecimalValue(v: Value): Decimal | null {
  const n = asNum(v);
  if (n !== null) return numToDecimal(n);
  if (typeof v === 'string') {
    const t = v.trim();
    return DECIMAL_TEXT.test(t) ? new Decimal(t) : null;
  }
  return null;
}

/** A float from a number or numeric text; null otherwise (also when out of the double range). */
export function toFloatValue(v: Value): number | DtlFloat | null {
  if (typeof v === 'number') return Number.isInteger(v) ? new DtlFloat(v) : v;
  if (v instanceof DtlFloat) return v;
  const n = asNum(v);
  if (n !== null) return floatResult(numToDouble(n));
  if (typeof v === 'string') {
    const t = v.trim();
    return DECIMAL_TEXT.test(t) ? floatResult(Number(t)) : null;
  }
  return null;
}

/** Parses `0x...` as a big-endian two's complement number; an odd digit count is padded with a leading 0. */
export function parseTwosComplementHex(digits: string): bigint {
  const padded = digits.length % 2 ? '0' + digits : digits;
  const u = BigInt('0x' + padded);
  const bits = BigInt(padded.length * 4);
  return u >= 1n << (bits - 1n) ? u - (1n << bits) : u;
}

/** An integer from a number (truncated towards zero), integer text or `0x` two's complement hex; null otherwise. */
export function toIntegerValue(v: Value): number | bigint | null {
  if (typeof v === 'number') return Number.isInteger(v) ? v : Number.isFinite(v) ? integerFromDouble(Math.trunc(v)) : null;
  if (typeof v === 'bigint') return v;
  if (v instanceof DtlFloat) return integerFromDouble(v.value);
  if (v instanceof Decimal) return v.isFinite() ? integerFromDecimal(v.trunc()) : null;
  if (typeof v === 'string') {
    const t = v.trim();
    if (INTEGER_TEXT.test(t)) return normaliseInteger(BigInt(t));
    const m = HEX_TEXT.exec(t);
    if (m) return normaliseInteger(parseTwosComplementHex(m[1]));
  }
  return null;
}

/** `0x` followed by the shortest big-endian two's complement bytes of the integer. */
export function formatTwosComplementHex(x: number | bigint): string {
  const n = intToBig(x);
  let bytes = 1;
  while (n < -(1n << BigInt(bytes * 8 - 1)) || n >= 1n << BigInt(bytes * 8 - 1)) bytes++;
  const u = n < 0n ? (1n << BigInt(bytes * 8)) + n : n;
  return '0x' + u.toString(16).padStart(bytes * 2, '0');
}

