/**
 * A small JSON parser that keeps integers exact: integers beyond 2^53 become bigint and integral
 * floats written with a fraction or exponent (`1.0`) become DtlFloat. Used only when the fast path
 * (JSON.parse) could lose information, and by the conformance runner.
 */
import { DtlFloat, normaliseInteger } from './types.js';

export class JsonSyntaxError extends SyntaxError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export function numberFromText(text: string): number | bigint | DtlFloat {
  if (/[.eE]/.test(text)) {
    const n = Number(text);
    return Number.isInteger(n) ? new DtlFloat(n) : n;
  }
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : normaliseInteger(BigInt(text));
}

export function parseJsonLossless(text: string, keepFloatMarks = false): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
  };
  const fail = (msg: string): never => {
    throw new JsonSyntaxError(`${msg} at offset ${i}`, i);
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return o;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const k = str();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        // A "__proto__" key is data, as with JSON.parse, not a prototype change.
        if (k === '__proto__') Object.defineProperty(o, k, { value: value(), enumerable: true, writable: true, configurable: true });
        else o[k] = value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return o;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const a: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return a;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail('unexpected character');
    i += m![0].length;
    const num = numberFromText(m![0]);
    return !keepFloatMarks && num instanceof DtlFloat ? num.value : num;
  };
  const str = (): string => {
    const start = i;
    i++;
    let simple = true;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 34) break;
      if (c === 92) {
        simple = false;
        i += 2;
        continue;
      }
      if (c < 32) fail('control character in string');
      i++;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    const raw = text.slice(start, i);
    return simple ? raw.slice(1, -1) : (JSON.parse(raw) as string);
  };
  const v = value();
  ws();
  if (i < text.length) fail('unexpected trailing content');
  return v;
}
