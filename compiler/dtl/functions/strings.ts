/**
 * DTL string functions (dtl-functions-strings); the value-to-text cast they share with other
 * families is in text.ts.
 *
 * Text semantics follow a Python implementation: lengths, padding and slicing count Unicode code
 * points (not UTF-16 units), the default strip/split whitespace set is Python's `str.isspace`, and
 * JSON text uses Python's layout (`", "` and `": "` separators, keys sorted, non-ASCII escaped).
 */
import { family, type EmitContext } from '../spec.js';
import { DtlRuntimeError } from '../runtime.js';
import { isDict, type Dict, type Value } from '../../values/types.js';
import { dtlString } from './text.js';
import { testFirst } from './util.js';

// ---------------------------------------------------------------------------------------------
// Code points and whitespace

const SURROGATE = /[\ud800-\udfff]/;

/** Number of code points (Python's `len`). */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** Characters Python's `str.isspace` accepts. */
const WS_CLASS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WS_LEFT = new RegExp(`^[${WS_CLASS}]+`);
const WS_RIGHT = new RegExp(`[${WS_CLASS}]+$`);
const WS_RUNS = new RegExp(`[${WS_CLASS}]+`);

function isSpaceCode(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x1f) || (c > 0x7f && WS_LEFT.test(String.fromCharCode(c)));
}

// ---------------------------------------------------------------------------------------------
// Per-string mapping

/** Applies f to a string or to each string of a list (other values are dropped; a non-string single value gives null). */
function mapStrings(v: Value, f: (s: string) => Value): Value {
  if (typeof v === 'string') return f(v);
  if (!Array.isArray(v)) return null;
  const out: Value[] = [];
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x === 'string') out.push(f(x));
  }
  return out;
}

const lowerOne = (s: string): string => s.toLowerCase();
const upperOne = (s: string): string => s.toUpperCase();

export function dtlLower(v: Value): Value {
  return typeof v === 'string' ? v.toLowerCase() : mapStrings(v, lowerOne);
}

export function dtlUpper(v: Value): Value {
  return typeof v === 'string' ? v.toUpperCase() : mapStrings(v, upperOne);
}

export function dtlLength(v: Value): Value {
  return mapStrings(v, codePointLength);
}

export function isStringValue(v: Value): boolean {
  return testFirst(v, (x) => typeof x === 'string');
}

// concat / join -------------------------------------------------------------------------------

/** The strings of one concat argument: the string itself, or the strings of a list joined. */
export function concatPart(v: Value): string {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) return '';
  let s = '';
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x === 'string') s += x;
  }
  return s;
}

export function dtlJoin(sep: Value, v: Value): Value {
  if (typeof sep !== 'string') return null;
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) return '';
  let s = '';
  let first = true;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'string') continue;
    s += first ? x : sep + x;
    first = false;
  }
  return s;
}

// ljust / rjust -------------------------------------------------------------------------------

const MAX_WIDTH = 100_000_000;

function padWidth(width: Value): number | null {
  if (typeof width === 'number') return Number.isInteger(width) ? width : null;
  if (typeof width === 'bigint') return width < 0n ? -1 : Infinity;
  return null;
}

function justify(width: Value, fill: Value, v: Value, left: boolean): Value {
  const w = padWidth(width);
  if (w === null || typeof fill !== 'string' || codePointLength(fill) !== 1) return null;
  return mapStrings(v, (s) => {
    const n = codePointLength(s);
    if (n >= w) return s;
    if (w > MAX_WIDTH) throw new DtlRuntimeError(`width ${String(width)} is too large (at most ${MAX_WIDTH})`);
    const pad = fill.repeat(w - n);
    return left ? s + pad : pad + s;
  });
}

export function dtlLjust(width: Value, fill: Value, v: Value): Value {
  return justify(width, fill, v, true);
}

export function dtlRjust(width: Value, fill: Value, v: Value): Value {
  return justify(width, fill, v, false);
}

// strip ---------------------------------------------------------------------------------------

const enum Side {
  Left = 1,
  Right = 2,
  Both = 3,
}

function stripSpace(s: string, side: Side): string {
  const n = s.length;
  if (n === 0) return s;
  if (side & Side.Left && isSpaceCode(s.charCodeAt(0))) s = s.replace(WS_LEFT, '');
  if (side & Side.Right && s.length && isSpaceCode(s.charCodeAt(s.length - 1))) s = s.replace(WS_RIGHT, '');
  return s;
}

/** Strips characters from a set. */
export interface CharStripper {
  left: RegExp | null;
  right: RegExp | null;
}

const stripperCache = new Map<string, CharStripper>();

export function charStripper(chars: string): CharStripper {
  let st = stripperCache.get(chars);
  if (!st) {
    if (chars === '') st = { left: null, right: null };
    else {
      const cls = Array.from(chars, (c) => (/[\\\]\[^\-]/.test(c) ? '\\' + c : c)).join('');
      st = { left: new RegExp(`^[${cls}]+`, 'u'), right: new RegExp(`[${cls}]+$`, 'u') };
    }
    if (stripperCache.size < 1000) stripperCache.set(chars, st);
  }
  return st;
}

function stripWith(s: string, st: CharStripper, side: Side): string {
  if (side & Side.Left && st.left) s = s.replace(st.left, '');
  if (side & Side.Right && st.right) s = s.replace(st.right, '');
  return s;
}

function stripValues(v: Value, side: Side): Value {
  return typeof v === 'string' ? stripSpace(v, side) : mapStrings(v, (s) => stripSpace(s, side));
}

function stripValuesWith(chars: Value, v: Value, side: Side): Value {
  if (chars === null) return stripValues(v, side);
  if (typeof chars !== 'string') return null;
  const st = charStripper(chars);
  return mapStrings(v, (s) => stripWith(s, st, side));
}

export const dtlStrip = (v: Value): Value => stripValues(v, Side.Both);
export const dtlLstrip = (v: Value): Value => stripValues(v, Side.Left);
export const dtlRstrip = (v: Value): Value => stripValues(v, Side.Right);
export const dtlStripChars = (chars: Value, v: Value): Value => stripValuesWith(chars, v, Side.Both);
export const dtlLstripChars = (chars: Value, v: Value): Value => stripValuesWith(chars, v, Side.Left);
export const dtlRstripChars = (chars: Value, v: Value): Value => stripValuesWith(chars, v, Side.Right);

// matches -------------------------------------------------------------------------------------

function patternOf(p: Value): string | null {
  const x = Array.isArray(p) ? (p.length ? p[0] : null) : p;
  return typeof x === 'string' ? x : null;
}

const wildcardCache = new Map<string, RegExp>();

/** A whole-string regex for a pattern where `*` is any run of characters and `?` any one character. */
export function wildcardPattern(pattern: string): RegExp {
  let re = wildcardCache.get(pattern);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, 'su');
    if (wildcardCache.size < 10_000) wildcardCache.set(pattern, re);
  }
  return re;
}

/** True when VALUES is a non-empty string or list of strings that all match the wildcard regex. */
export function matchesRegex(re: RegExp | null, v: Value): boolean {
  if (re === null) return false;
  if (typeof v === 'string') return re.test(v);
  if (!Array.isArray(v) || v.length === 0) return false;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'string' || !re.test(x)) return false;
  }
  return true;
}

export function dtlMatches(pattern: Value, v: Value): boolean {
  const p = patternOf(pattern);
  return matchesRegex(p === null ? null : wildcardPattern(p), v);
}

// replace -------------------------------------------------------------------------------------

function replaceAllText(s: string, from: string, to: string): string {
  if (from === '') {
    // Python inserts the replacement between code points (and at both ends).
    return s === '' ? to : to + Array.from(s).join(to) + to;
  }
  return s.indexOf(from) < 0 ? s : s.split(from).join(to);
}

export function dtlReplace(from: Value, to: Value, v: Value): Value {
  if (typeof from !== 'string' || typeof to !== 'string') return null;
  return mapStrings(v, (s) => replaceAllText(s, from, to));
}

/** Replaces each key of the dict with its value, one pair after the other in the dict's order. */
export function dtlReplaceDict(pairs: Value, v: Value): Value {
  if (!isDict(pairs)) return null;
  const entries: [string, string][] = [];
  for (const k of Object.keys(pairs)) {
    const to = (pairs as Dict)[k];
    if (typeof to === 'string') entries.push([k, to]);
  }
  return mapStrings(v, (s) => {
    for (let i = 0; i < entries.length; i++) s = replaceAllText(s, entries[i][0], entries[i][1]);
    return s;
  });
}

// split ---------------------------------------------------------------------------------------

function splitOne(s: string, sep: string | null, out: Value[]): void {
  if (sep === null) {
    for (const part of s.split(WS_RUNS)) if (part !== '') out.push(part);
  } else if (sep === '') {
    for (const c of s) out.push(c);
  } else {
    const parts = s.split(sep);
    for (let i = 0; i < parts.length; i++) out.push(parts[i]);
  }
}

/** `split`: a list of the parts of each string (flattened over a list of strings). */
export function dtlSplit(sep: Value, v: Value): Value {
  if (sep !== null && typeof sep !== 'string') return null;
  const out: Value[] = [];
  if (typeof v === 'string') {
    splitOne(v, sep, out);
    return out;
  }
  if (!Array.isArray(v)) return null;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x === 'string') splitOne(x, sep, out);
  }
  return out;
}

// substring -----------------------------------------------------------------------------------

function sliceIndex(i: Value): number | undefined | null {
  if (i === null) return undefined;
  if (typeof i === 'number') return Number.isInteger(i) ? i : null;
  if (typeof i === 'bigint') return i < 0n ? -Infinity : Infinity;
  return null;
}

function sliceText(s: string, start: number, end: number | undefined): string {
  if (!SURROGATE.test(s)) return s.slice(start, end);
  return Array.from(s).slice(start, end).join('');
}

/** `substring`: Python slice semantics over code points; negative indexes count from the end. */
export function dtlSubstring(start: Value, end: Value, v: Value): Value {
  const a = sliceIndex(start);
  const b = sliceIndex(end);
  if (a === null || b === null) return null;
  const from = a ?? 0;
  return mapStrings(v, (s) => sliceText(s, from, b));
}

// ---------------------------------------------------------------------------------------------

function stringLiteral(e: EmitContext, i: number): string | undefined {
  const lit = e.literal(i);
  return lit && typeof lit.value === 'string' ? lit.value : undefined;
}

function emitConcat(e: EmitContext): string {
  const parts: string[] = [];
  for (let i = 0; i < e.count; i++) {
    const lit = e.literal(i);
    if (lit) {
      // Literal strings are inlined; other literals (numbers, null, dicts) contribute nothing.
      if (typeof lit.value === 'string') parts.push(JSON.stringify(lit.value));
      else if (Array.isArray(lit.value)) parts.push(JSON.stringify(concatPart(lit.value)));
      continue;
    }
    parts.push(`${e.use(concatPart)}(${e.arg(i)})`);
  }
  if (parts.length === 0) return '""';
  if (parts.length === 1 && !parts[0].startsWith('"')) return parts[0];
  return `(${parts[0].startsWith('"') ? '' : '"" + '}${parts.join(' + ')})`;
}

function emitStrip(e: EmitContext, plain: (v: Value) => Value, withChars: (c: Value, v: Value) => Value, side: Side): string {
  if (e.count === 1) return `${e.use(plain)}(${e.arg(0)})`;
  const chars = stringLiteral(e, 0);
  if (chars !== undefined) {
    const st = charStripper(chars);
    const f = (v: Value): Value => mapStrings(v, (s) => stripWith(s, st, side));
    return `${e.use(f)}(${e.arg(1)})`;
  }
  return `${e.use(withChars)}(${e.arg(0)}, ${e.arg(1)})`;
}

export default family('strings', (def) => {
  def.expression({
    name: 'concat',
    doc: 'Joins the strings of all arguments (a list argument contributes its strings) into one string; non-strings are ignored.',
    min: 1,
    emit: emitConcat,
  });
  def.expression({
    name: 'is-string',
    doc: 'True when the value (or the first list element) is a string.',
    args: ['expr'],
    emit: (e) => `${e.use(isStringValue)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'join',
    doc: 'Joins the strings in VALUES with SEPARATOR between them; non-strings are ignored.',
    args: ['expr', 'expr'],
    emit: (e) => `${e.use(dtlJoin)}(${e.arg(0)}, ${e.arg(1)})`,
  });
  def.expression({
    name: 'length',
    doc: 'The number of characters of each string in VALUES; non-strings are ignored.',
    args: ['expr'],
    emit: (e) => `${e.use(dtlLength)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'ljust',
    doc: 'Pads each string on the right with FILL_CHARACTER up to WIDTH characters (null when WIDTH is no integer or FILL_CHARACTER no single character).',
    args: ['expr', 'expr', 'expr'],
    emit: (e) => `${e.use(dtlLjust)}(${e.args().join(', ')})`,
  });
  def.expression({
    name: 'rjust',
    doc: 'Pads each string on the left with FILL_CHARACTER up to WIDTH characters (null when WIDTH is no integer or FILL_CHARACTER no single character).',
    args: ['expr', 'expr', 'expr'],
    emit: (e) => `${e.use(dtlRjust)}(${e.args().join(', ')})`,
  });
  def.expression({
    name: 'lower',
    doc: 'Lower-cases each string in VALUES; non-strings are ignored.',
    args: ['expr'],
    emit: (e) => `${e.use(dtlLower)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'upper',
    doc: 'Upper-cases each string in VALUES; non-strings are ignored.',
    args: ['expr'],
    emit: (e) => `${e.use(dtlUpper)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'strip',
    doc: 'Removes CHARACTERS (default: whitespace) from both ends of each string; non-strings are ignored.',
    args: ['expr', 'expr'],
    min: 1,
    emit: (e) => emitStrip(e, dtlStrip, dtlStripChars, Side.Both),
  });
  def.expression({
    name: 'lstrip',
    doc: 'Removes CHARACTERS (default: whitespace) from the start of each string; non-strings are ignored.',
    args: ['expr', 'expr'],
    min: 1,
    emit: (e) => emitStrip(e, dtlLstrip, dtlLstripChars, Side.Left),
  });
  def.expression({
    name: 'rstrip',
    doc: 'Removes CHARACTERS (default: whitespace) from the end of each string; non-strings are ignored.',
    args: ['expr', 'expr'],
    min: 1,
    emit: (e) => emitStrip(e, dtlRstrip, dtlRstripChars, Side.Right),
  });
  def.expression({
    name: 'matches',
    doc: 'True when VALUES is not empty and every value is a string matching PATTERN (wildcards * and ?).',
    args: ['expr', 'expr'],
    emit: (e) => {
      const lit = e.literal(0);
      if (lit) {
        const p = patternOf(lit.value);
        return `${e.use(matchesRegex)}(${p === null ? 'null' : e.use(wildcardPattern(p))}, ${e.arg(1)})`;
      }
      return `${e.use(dtlMatches)}(${e.arg(0)}, ${e.arg(1)})`;
    },
  });
  def.expression({
    name: 'replace',
    doc: 'Replaces OLD_STRING by NEW_STRING (or each key of a REPLACEMENTS dict by its value) in each string; non-strings are ignored.',
    args: ['expr', 'expr', 'expr'],
    min: 2,
    emit: (e) => (e.count === 3 ? `${e.use(dtlReplace)}(${e.args().join(', ')})` : `${e.use(dtlReplaceDict)}(${e.arg(0)}, ${e.arg(1)})`),
  });
  def.expression({
    name: 'split',
    doc: 'Splits each string at SEPARATOR ("" gives characters; default: runs of whitespace) into one flat list; non-strings are ignored.',
    args: ['expr', 'expr'],
    min: 1,
    emit: (e) => (e.count === 2 ? `${e.use(dtlSplit)}(${e.arg(0)}, ${e.arg(1)})` : `${e.use(dtlSplit)}(null, ${e.arg(0)})`),
  });
  def.expression({
    name: 'string',
    doc: 'Converts each non-null value to text; lists and dicts become JSON text (keys sorted, no transit encoding) and bytes are read as UTF-8.',
    args: ['expr'],
    emit: (e) => {
      const lit = e.literal(0);
      if (lit) return JSON.stringify(dtlString(lit.value));
      return `${e.use(dtlString)}(${e.arg(0)})`;
    },
  });
  def.expression({
    name: 'substring',
    doc: 'The characters of each string from START_INDEX up to (not including) END_INDEX; negative indexes count from the end.',
    args: ['expr', 'expr', 'expr'],
    min: 2,
    emit: (e) => (e.count === 3 ? `${e.use(dtlSubstring)}(${e.args().join(', ')})` : `${e.use(dtlSubstring)}(${e.arg(0)}, null, ${e.arg(1)})`),
  });
});
