/**
 * JSON values the way Sesam's Python client sees them. The client loads expected files and API
 * responses with Python's json module and compares `json.dumps` texts, so the details that decide
 * a comparison are Python's, not JavaScript's:
 *
 * - integers and floats are different types (`1` and `1.0` print differently), integers have
 *   arbitrary precision, and floats print as Python's `repr` (`1e-05`, `1e+16`, `100.0`);
 * - `sort_keys` and sorting compare strings by code point;
 * - `ensure_ascii`, `indent` and the separators follow `json.dumps`.
 *
 * Values: null, booleans, strings, PyInt, PyFloat, arrays and PyDict (a Map keeps key order and
 * takes any key).
 */

import { jsonFloat } from '../../compiler/dtl/functions/text.js';
import { scanJson } from '../../compiler/values/json-scan.js';
import { withoutByteOrderMark } from '../../compiler/load/text.js';

export class PyInt {
  constructor(readonly value: bigint) {}
}

export class PyFloat {
  constructor(readonly value: number) {}
}

export type PyDict = Map<string, PyValue>;
export type PyValue = null | boolean | string | PyInt | PyFloat | PyValue[] | PyDict;

export class PyJsonError extends SyntaxError {}

export function isPyDict(v: PyValue | undefined): v is PyDict {
  return v instanceof Map;
}

// ------------------------------------------------------------------------------------- parsing

/**
 * Parses JSON text as Python's `json.loads` does: numbers with a fraction or exponent are floats,
 * other numbers are exact integers; `NaN`, `Infinity` and `-Infinity` are accepted; a repeated key
 * keeps its first position and its last value. A byte order mark is skipped (`utf-8-sig`).
 */
export function parsePyJson(raw: string): PyValue {
  // Positions in errors count from after the byte order mark, as editors show them.
  const text = withoutByteOrderMark(raw);
  return scanJson<PyValue, PyDict>(
    text,
    {
      newObject: () => new Map(),
      setKey: (d, k, v) => void d.set(k, v),
      number: (numberText, isFloat) => (isFloat ? new PyFloat(Number(numberText)) : new PyInt(BigInt(numberText))),
      words: PYTHON_WORDS,
      error(message, offset) {
        const before = text.slice(0, offset);
        return new PyJsonError(`${message} (line ${before.split('\n').length} column ${offset - before.lastIndexOf('\n')})`);
      },
    },
  );
}

const PYTHON_WORDS = [
  ['NaN', new PyFloat(NaN)],
  ['Infinity', new PyFloat(Infinity)],
  ['-Infinity', new PyFloat(-Infinity)],
] as const;

/**
 * A Python value from a JavaScript value (JSON.parse output and the like): integral numbers are
 * ints, others floats; objects become PyDicts.
 */
export function fromJs(v: unknown): PyValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return new PyInt(v);
  if (typeof v === 'number') return Number.isInteger(v) ? new PyInt(BigInt(v)) : new PyFloat(v);
  if (v instanceof PyInt || v instanceof PyFloat || v instanceof Map) return v as PyValue;
  if (Array.isArray(v)) return v.map(fromJs);
  const d: PyDict = new Map();
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) d.set(k, fromJs(x));
  return d;
}

// ------------------------------------------------------------------------------------- printing

/** `str(int(value))` of a float whose repr is exact digits (used for the client's large-int quirk). */
export function floatToIntegerText(x: number): bigint {
  const [mant, expText] = x.toExponential().split('e');
  const exp = Number(expText);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const whole = digits.length <= exp + 1 ? digits + '0'.repeat(exp + 1 - digits.length) : digits.slice(0, Math.max(0, exp + 1)) || '0';
  const b = BigInt(whole);
  return neg ? -b : b;
}

function quoteString(s: string, ensureAscii: boolean): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | null = null;
    if (c === 34) esc = '\\"';
    else if (c === 92) esc = '\\\\';
    else if (c < 32) {
      esc = c === 10 ? '\\n' : c === 13 ? '\\r' : c === 9 ? '\\t' : c === 8 ? '\\b' : c === 12 ? '\\f' : `\\u${c.toString(16).padStart(4, '0')}`;
    } else if (ensureAscii && c > 126) esc = `\\u${c.toString(16).padStart(4, '0')}`;
    if (esc !== null) {
      out += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/** Compares strings by code point, as Python does (JavaScript's `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (an astral code point) sorts above every other BMP unit from U+E000 up.
    if (x >= 0xd800 && x <= 0xdfff) x += 0x2000;
    else if (x >= 0xe000) x -= 0x800;
    if (y >= 0xd800 && y <= 0xdfff) y += 0x2000;
    else if (y >= 0xe000) y -= 0x800;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

export interface DumpOptions {
  /** Spaces per level; undefined prints on one line. */
  indent?: number;
  sortKeys?: boolean;
  /** Escape every non-ASCII character (Python's default is true; the client mostly passes false). */
  ensureAscii?: boolean;
  /** [item, key] separators; default `[', ', ': ']`, or `[',', ': ']` with an indent. */
  separators?: [string, string];
}

/** `json.dumps` of a Python value. */
export function dumpsPy(value: PyValue, options: DumpOptions = {}): string {
  const ensureAscii = options.ensureAscii ?? true;
  const indent = options.indent;
  const [itemSep, keySep] = options.separators ?? (indent === undefined ? [', ', ': '] : [',', ': ']);
  const parts: string[] = [];
  const write = (v: PyValue, level: number): void => {
    if (v === null) parts.push('null');
    else if (v === true) parts.push('true');
    else if (v === false) parts.push('false');
    else if (typeof v === 'string') parts.push(quoteString(v, ensureAscii));
    else if (v instanceof PyInt) parts.push(v.value.toString());
    else if (v instanceof PyFloat) parts.push(jsonFloat(v.value));
    else if (Array.isArray(v)) {
      if (v.length === 0) return void parts.push('[]');
      const inner = indent === undefined ? '' : '\n' + ' '.repeat(indent * (level + 1));
      parts.push('[');
      v.forEach((x, i) => {
        parts.push(i ? itemSep + inner : inner);
        write(x, level + 1);
      });
      parts.push(indent === undefined ? ']' : '\n' + ' '.repeat(indent * level) + ']');
    } else {
      if (v.size === 0) return void parts.push('{}');
      const inner = indent === undefined ? '' : '\n' + ' '.repeat(indent * (level + 1));
      const keys = [...v.keys()];
      if (options.sortKeys) keys.sort(compareCodePoints);
      parts.push('{');
      keys.forEach((k, i) => {
        parts.push((i ? itemSep + inner : inner) + quoteString(k, ensureAscii) + keySep);
        write(v.get(k)!, level + 1);
      });
      parts.push(indent === undefined ? '}' : '\n' + ' '.repeat(indent * level) + '}');
    }
  };
  write(value, 0);
  return parts.join('');
}

// ------------------------------------------------------------------------------------- ordering

function typeRank(v: PyValue): number {
  if (v === null) return 0;
  if (typeof v === 'boolean' || v instanceof PyInt || v instanceof PyFloat) return 1;
  if (typeof v === 'string') return 2;
  if (Array.isArray(v)) return 3;
  return 4;
}

function numeric(v: boolean | PyInt | PyFloat): bigint | number {
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return v.value;
}

function compareNumbers(a: bigint | number, b: bigint | number): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  // int against float: exact, as Python compares them
  const flip = typeof a === 'number';
  const i = (flip ? b : a) as bigint;
  const f = (flip ? a : b) as number;
  let r: number;
  if (Number.isNaN(f)) r = 0;
  else if (!Number.isFinite(f)) r = f > 0 ? -1 : 1;
  else {
    const fl = Math.floor(f);
    const bi = BigInt(fl);
    r = i < bi ? -1 : i > bi ? 1 : f === fl ? 0 : -1;
  }
  return flip ? -r : r;
}

/** Python's `==` between two values (1 == 1.0 == True). */
export function pyEquals(a: PyValue, b: PyValue): boolean {
  return comparePy(a, b) === 0 && typeRank(a) === typeRank(b);
}

/**
 * Python's ordering of the values the client sorts by. Where Python would raise a TypeError
 * (None against a string, two dicts), this picks an order instead: None < numbers < strings <
 * lists < dicts.
 */
export function comparePy(a: PyValue, b: PyValue): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
      return 0;
    case 1:
      return compareNumbers(numeric(a as PyInt), numeric(b as PyInt));
    case 2:
      return compareCodePoints(a as string, b as string);
    case 3: {
      const x = a as PyValue[];
      const y = b as PyValue[];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = comparePy(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    default:
      return compareCodePoints(dumpsPy(a, { sortKeys: true }), dumpsPy(b, { sortKeys: true }));
  }
}

/** A deep copy (dicts and lists; scalars are immutable). */
export function clonePy(v: PyValue): PyValue {
  if (Array.isArray(v)) return v.map(clonePy);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, clonePy(x)]));
  return v;
}
