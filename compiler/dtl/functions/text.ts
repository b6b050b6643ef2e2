/**
 * Values as text, the way a Python implementation prints them: `repr` of floats, JSON text with
 * Python's layout (`", "` and `": "` separators, keys sorted by code point, non-ASCII escaped),
 * and the cast of any value to a string that the string functions and other families share.
 */
import { Bytes, DateTime, Decimal, DtlFloat, NI, Uri, Uuid, type Dict, type Value } from '../../values/types.js';
import { decimalText, encodeTyped } from '../../values/transit.js';
import { formatIsoDateTime } from '../../values/datetime.js';

// ---------------------------------------------------------------------------------------------
// Number text

/** Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16 on. */
export function floatText(n: number): string {
  if (n !== n) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  const a = n < 0 ? -n : n;
  if (a >= 1e-4 && a < 1e16) {
    const s = String(n);
    return Number.isInteger(n) ? s + '.0' : s;
  }
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const e = n.toExponential();
  const at = e.indexOf('e');
  let mant = e.slice(0, at);
  const exp = Number(e.slice(at + 1));
  const neg = mant.charCodeAt(0) === 45;
  if (neg) mant = mant.slice(1);
  const digits = mant.length > 1 ? mant[0] + mant.slice(2) : mant;
  const point = exp + 1;
  let out: string;
  if (point > -4 && point <= 16) {
    if (point <= 0) out = '0.' + '0'.repeat(-point) + digits;
    else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length) + '.0';
    else out = digits.slice(0, point) + '.' + digits.slice(point);
  } else {
    out = digits[0] + (digits.length > 1 ? '.' + digits.slice(1) : '') + 'e' + (exp < 0 ? '-' : '+') + String(Math.abs(exp)).padStart(2, '0');
  }
  return neg ? '-' + out : out;
}

/** Decimal text of a JS number that holds an integer (exact also beyond 2^53). */
function integerText(n: number): string {
  return n > -1e21 && n < 1e21 ? String(n) : BigInt(n).toString();
}

// ---------------------------------------------------------------------------------------------
// JSON text in Python's layout

const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A JSON string literal with every character outside printable ASCII escaped (`\u00e5`). */
export function jsonQuote(s: string): string {
  if (PLAIN_ASCII.test(s)) return '"' + s + '"';
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(from, i);
    from = i + 1;
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += '\\\\';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0d:
        out += '\\r';
        break;
      case 0x09:
        out += '\\t';
        break;
      case 0x08:
        out += '\\b';
        break;
      case 0x0c:
        out += '\\f';
        break;
      default:
        out += '\\u' + c.toString(16).padStart(4, '0');
    }
  }
  return out + s.slice(from) + '"';
}

/** Orders strings by code point, as Python sorts dict keys. */
function codePointCompare(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort after the rest of the BMP.
    const hx = x >= 0xd800 && x <= 0xdfff;
    const hy = y >= 0xd800 && y <= 0xdfff;
    if (hx !== hy && (x >= 0xe000 || y >= 0xe000)) return hx ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

function sortedKeys(o: Dict): string[] {
  const keys = Object.keys(o);
  if (keys.length > 1) keys.sort(codePointCompare);
  return keys;
}

/** Text of a float inside JSON, as `json.dumps` writes it: repr, or `NaN` / `Infinity` / `-Infinity`. */
export function jsonFloat(n: number): string {
  if (n !== n) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return floatText(n);
}

/**
 * JSON text of a value with Python's separators and sorted keys. With `transit`, typed values are
 * transit strings (`"~rhttp://..."`, decimals as `"~f1.5"`); without it they are their plain text
 * (URIs, NIs, UUIDs, datetimes as strings, bytes as base64, decimals as JSON numbers).
 */
export function toJsonText(v: Value, transit: boolean): string {
  switch (typeof v) {
    case 'string':
      return jsonQuote(v);
    case 'number':
      return Number.isInteger(v) ? integerText(v) : jsonFloat(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'undefined':
      return 'null';
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    let s = '[' + toJsonText(v[0], transit);
    for (let i = 1; i < v.length; i++) s += ', ' + toJsonText(v[i], transit);
    return s + ']';
  }
  if (v instanceof DtlFloat) return jsonFloat(v.value);
  if (v instanceof Decimal) return transit ? jsonQuote('~f' + decimalText(v)) : decimalText(v);
  if (transit) {
    const t = encodeTyped(v);
    if (t !== undefined) return jsonQuote(t);
  } else {
    const t = typedText(v);
    if (t !== null) return jsonQuote(t);
  }
  const o = v as Dict;
  let s = '{';
  let first = true;
  for (const k of sortedKeys(o)) {
    const x = o[k];
    if (x === undefined) continue;
    s += (first ? '' : ', ') + jsonQuote(k) + ': ' + toJsonText(x, transit);
    first = false;
  }
  return s + '}';
}

/** Plain text of an extension-type value (the transit form without its tag); null for others. */
function typedText(v: object): string | null {
  if (v instanceof Uri || v instanceof NI || v instanceof Uuid) return v.value;
  if (v instanceof DateTime) return formatIsoDateTime(v);
  if (v instanceof Bytes) return Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength).toString('base64');
  return null;
}

// ---------------------------------------------------------------------------------------------
// The cast to text

const utf8 = new TextDecoder('utf-8');

/**
 * The text of any value, as the `string` function produces it (null stays null):
 * integers in decimal, floats as Python prints them (`2.0`, `1e-05`), decimals in plain notation,
 * booleans `true`/`false`, datetimes and dates in their ISO form (`2015-07-28T09:46:00Z`), NIs,
 * URIs and UUIDs as their text without a transit tag, bytes decoded as UTF-8 (invalid sequences
 * become U+FFFD), lists and dicts as JSON text without transit encoding and with sorted keys.
 */
export function castToString(v: Value): string | null {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return Number.isInteger(v) ? integerText(v) : floatText(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return null;
  }
  if (v === null) return null;
  if (Array.isArray(v)) return toJsonText(v, false);
  if (v instanceof DtlFloat) return floatText(v.value);
  if (v instanceof Decimal) return decimalText(v);
  if (v instanceof Bytes) return utf8.decode(v.data);
  return typedText(v) ?? toJsonText(v, false);
}

/** `string`: every non-null value as text; lists give lists (nulls dropped). */
export function dtlString(v: Value): Value {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) return castToString(v);
  const out: Value[] = [];
  for (let i = 0; i < v.length; i++) {
    const s = castToString(v[i]);
    if (s !== null) out.push(s);
  }
  return out;
}
