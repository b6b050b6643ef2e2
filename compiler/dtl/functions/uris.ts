/**
 * DTL URI functions (dtl-functions-uris): the URI type and percent-encoding of strings. Quoting
 * follows Python's `urllib.parse.quote` / `unquote`: text is encoded as UTF-8, letters, digits and
 * `_.-~` are never encoded, and malformed escapes are left as they are when unquoting.
 */
import { family } from '../spec.js';
import { Uri, type Value } from '../../values/types.js';
import { mapEach, SKIP, testFirst, type Converted } from './util.js';

function toUri(x: Value): Converted {
  if (typeof x === 'string') return new Uri(x);
  if (x instanceof Uri) return x;
  return SKIP;
}

export function dtlUri(v: Value): Value {
  return typeof v === 'string' ? new Uri(v) : mapEach(v, toUri);
}

export function isUriValue(v: Value): boolean {
  return testFirst(v, (x) => x instanceof Uri);
}

/** Which bytes (0-127) stay as they are: always letters, digits and `_.-~`, plus the ASCII SAFE_CHARS. */
export function safeTable(safe: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    const ch = String.fromCharCode(c);
    if (/[A-Za-z0-9_.\-~]/.test(ch)) t[c] = 1;
  }
  for (let i = 0; i < safe.length; i++) {
    const c = safe.charCodeAt(i);
    if (c < 128) t[c] = 1;
  }
  return t;
}

const HEX = '0123456789ABCDEF';
const encoder = new TextEncoder();

export function quoteText(s: string, safe: Uint8Array): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || !safe[c]) {
      plain = false;
      break;
    }
  }
  if (plain) return s;
  let out = '';
  for (const b of encoder.encode(s)) {
    out += b < 128 && safe[b] ? String.fromCharCode(b) : '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

const DEFAULT_SAFE = safeTable('');
const tableCache = new Map<string, Uint8Array>();

function tableFor(safe: string): Uint8Array {
  let t = tableCache.get(safe);
  if (!t) {
    t = safeTable(safe);
    if (tableCache.size < 1000) tableCache.set(safe, t);
  }
  return t;
}

function quoteStrings(v: Value, table: Uint8Array): Value {
  return mapEach(v, (x) => (typeof x === 'string' ? quoteText(x, table) : SKIP));
}

export function dtlUrlQuote(v: Value): Value {
  return quoteStrings(v, DEFAULT_SAFE);
}

export function dtlUrlQuoteSafe(safe: Value, v: Value): Value {
  if (safe !== null && typeof safe !== 'string') return null;
  return quoteStrings(v, safe === null ? DEFAULT_SAFE : tableFor(safe));
}

const utf8Lenient = new TextDecoder('utf-8');

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Decodes %XX escapes (runs of them as UTF-8, invalid sequences as U+FFFD); other text is kept. */
export function unquoteText(s: string): string {
  if (s.indexOf('%') < 0) return s;
  let out = '';
  let i = 0;
  const bytes: number[] = [];
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 37 && i + 2 < s.length) {
      const h = hexValue(s.charCodeAt(i + 1));
      const l = hexValue(s.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) {
        bytes.push(h * 16 + l);
        i += 3;
        continue;
      }
    }
    if (bytes.length) {
      out += utf8Lenient.decode(Uint8Array.from(bytes));
      bytes.length = 0;
    }
    out += s[i];
    i++;
  }
  if (bytes.length) out += utf8Lenient.decode(Uint8Array.from(bytes));
  return out;
}

export function dtlUrlUnquote(v: Value): Value {
  return mapEach(v, (x) => (typeof x === 'string' ? unquoteText(x) : SKIP));
}

export default family('uris', (def) => {
  def.expression({
    name: 'is-uri',
    doc: 'True when the value (or the first list element) is a URI.',
    args: ['expr'],
    emit: (e) => `${e.use(isUriValue)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'uri',
    doc: 'Casts strings to URIs (without escaping); URIs stay, other values are ignored.',
    args: ['expr'],
    emit: (e) => `${e.use(dtlUri)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'url-quote',
    doc: 'Percent-encodes each string as UTF-8, keeping letters, digits, "_.-~" and the ASCII characters in SAFE_CHARS; non-strings are ignored.',
    args: ['expr', 'expr'],
    min: 1,
    emit: (e) => {
      if (e.count === 1) return `${e.use(dtlUrlQuote)}(${e.arg(0)})`;
      const lit = e.literal(0);
      if (lit && typeof lit.value === 'string') {
        const table = safeTable(lit.value);
        return `${e.use((v: Value) => quoteStrings(v, table))}(${e.arg(1)})`;
      }
      return `${e.use(dtlUrlQuoteSafe)}(${e.arg(0)}, ${e.arg(1)})`;
    },
  });
  def.expression({
    name: 'url-unquote',
    doc: 'Decodes the percent escapes of each string (as UTF-8); non-strings are ignored.',
    args: ['expr'],
    emit: (e) => `${e.use(dtlUrlUnquote)}(${e.arg(0)})`,
  });
});
