/**
 * Numeric helpers of the list family: `sum` with Sesam's number types kept apart (integers stay
 * exact, floats follow IEEE addition in list order, decimals win over both), and checks for the
 * integer arguments of nth, insert, slice, enumerate and range.
 */
import { DtlRuntimeError } from '../runtime.js';
import { Decimal, DtlFloat, makeFloat, normaliseInteger, typeOf, type Value } from '../../values/types.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Accumulator kinds of the slow summation path. */
const enum Acc {
  Int = 0,
  Float = 1,
  Dec = 2,
}

/**
 * Sum of the numeric values in a list (or of a single value); other values are ignored and an
 * empty input gives integer 0. The common case, plain JS numbers whose running integer total stays
 * below 2^53, is one tight loop without allocation.
 */
export function sumValues(values: Value): Value {
  if (!Array.isArray(values)) {
    if (typeof values === 'number' || typeof values === 'bigint' || values instanceof DtlFloat || values instanceof Decimal) return values;
    return 0;
  }
  const n = values.length;
  let acc = 0;
  let float = false;
  let i = 0;
  for (; i < n; i++) {
    const x = values[i];
    if (typeof x !== 'number') {
      if (typeof x === 'bigint' || x instanceof DtlFloat || x instanceof Decimal) break;
      continue;
    }
    if (!float) {
      if (Number.isInteger(x)) {
        const s = acc + x;
        if (s > MAX_SAFE || s < -MAX_SAFE) break;
        acc = s;
        continue;
      }
      float = true;
    }
    acc += x;
  }
  if (i === n) return float ? makeFloat(acc) : acc;
  return sumSlow(values, i, acc, float);
}

/** Continues a sum from index `from` with arbitrary integers, integral floats and decimals. */
function sumSlow(values: Value[], from: number, start: number, startFloat: boolean): Value {
  let kind = startFloat ? Acc.Float : Acc.Int;
  let big = startFloat ? 0n : BigInt(start);
  let f = startFloat ? start : 0;
  let dec: Decimal | null = null;
  for (let i = from; i < values.length; i++) {
    const x = values[i];
    if (typeof x === 'number' && Number.isInteger(x)) {
      if (kind === Acc.Int) big += BigInt(x);
      else if (kind === Acc.Float) f += x;
      else dec = dec!.plus(x);
    } else if (typeof x === 'bigint') {
      if (kind === Acc.Int) big += x;
      else if (kind === Acc.Float) f += Number(x);
      else dec = dec!.plus(x.toString());
    } else if (typeof x === 'number' || x instanceof DtlFloat) {
      const v = typeof x === 'number' ? x : x.value;
      if (kind === Acc.Int) {
        f = Number(big) + v;
        kind = Acc.Float;
      } else if (kind === Acc.Float) f += v;
      else dec = dec!.plus(new Decimal(v));
    } else if (x instanceof Decimal) {
      if (kind === Acc.Int) dec = new Decimal(big.toString()).plus(x);
      else if (kind === Acc.Float) dec = new Decimal(f).plus(x);
      else dec = dec!.plus(x);
      kind = Acc.Dec;
    }
  }
  if (kind === Acc.Int) return normaliseInteger(big);
  if (kind === Acc.Float) return makeFloat(f);
  return dec;
}

/** True for a DTL integer (JS integral number or bigint). */
export function isIntegerValue(v: Value): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

/** Fails unless `v` is an integer; `what` names the argument in the message. */
export function requireInteger(fn: string, what: string, v: Value): number | bigint {
  if (isIntegerValue(v)) return v;
  throw new DtlRuntimeError(`"${fn}": ${what} must be an integer, got ${typeOf(v)}`);
}

/**
 * An integer argument used as a list position: bigints are turned into numbers, which is exact
 * enough because positions that large are clamped or out of range anyway.
 */
export function requireIndex(fn: string, what: string, v: Value): number {
  const i = requireInteger(fn, what, v);
  return typeof i === 'bigint' ? Number(i) : i;
}

/** Longest list `range` builds; beyond this the pipe would rather fail than exhaust memory. */
export const MAX_RANGE_LENGTH = 10_000_000;

/** Integers from START (inclusive) towards STOP (exclusive) in STEP increments. */
export function integerRange(startV: Value, stopV: Value, stepV: Value = 1): Value[] {
  const start = requireInteger('range', 'START', startV);
  const stop = requireInteger('range', 'STOP', stopV);
  const step = requireInteger('range', 'STEP', stepV);
  if (step === 0 || step === 0n) throw new DtlRuntimeError('"range": STEP must not be 0');
  if (typeof start === 'number' && typeof stop === 'number' && typeof step === 'number') {
    const count = Math.max(0, Math.ceil((stop - start) / step));
    checkRangeLength(count);
    const out = new Array<Value>(count);
    for (let i = 0, x = start; i < count; i++, x += step) out[i] = x;
    return out;
  }
  const b0 = BigInt(start);
  const b1 = BigInt(stop);
  const bs = BigInt(step);
  const span = bs > 0n ? b1 - b0 : b0 - b1;
  const absStep = bs > 0n ? bs : -bs;
  const count = span <= 0n ? 0n : (span + absStep - 1n) / absStep;
  checkRangeLength(count > BigInt(MAX_RANGE_LENGTH) ? Infinity : Number(count));
  const out: Value[] = [];
  for (let x = b0, i = 0n; i < count; i++, x += bs) out.push(normaliseInteger(x));
  return out;
}

function checkRangeLength(count: number): void {
  if (count > MAX_RANGE_LENGTH) throw new DtlRuntimeError(`"range": the range would have more than ${MAX_RANGE_LENGTH} elements`);
}
