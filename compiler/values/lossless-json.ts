/**
 * A small JSON parser that keeps integers exact: integers beyond 2^53 become bigint and integral
 * floats written with a fraction or exponent (`1.0`) become DtlFloat. Used only when the fast path
 * (JSON.parse) could lose information, and by the conformance runner.
 */
import { scanJson } from './json-scan.js';
import { DtlFloat, normaliseInteger } from './types.js';

export class JsonSyntaxError extends SyntaxError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** The value of a JSON number literal; `isFloat` (a fraction or exponent) when the caller already knows. */
export function numberFromText(text: string, isFloat = /[.eE]/.test(text)): number | bigint | DtlFloat {
  if (isFloat) {
    const n = Number(text);
    return Number.isInteger(n) ? new DtlFloat(n) : n;
  }
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : normaliseInteger(BigInt(text));
}

export function parseJsonLossless(text: string, keepFloatMarks = false): unknown {
  return scanJson<unknown, Record<string, unknown>>(text, {
    newObject: () => ({}),
    setKey(o, k, v) {
      // A "__proto__" key is data, as with JSON.parse, not a prototype change.
      if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
      else o[k] = v;
    },
    number(numberText, isFloat) {
      const num = numberFromText(numberText, isFloat);
      return !keepFloatMarks && num instanceof DtlFloat ? num.value : num;
    },
    error: (message, offset) => new JsonSyntaxError(`${message} at offset ${offset}`, offset),
  });
}
