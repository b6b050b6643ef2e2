/**
 * Transit-style encoding of typed values in JSON strings: `~t` datetime/date, `~:` namespaced
 * identifier, `~r` URI, `~u` UUID, `~b` bytes (base64), `~f` decimal. Unknown tags, and tagged
 * strings whose payload does not parse, stay plain strings (the entity model treats unrecognised
 * transit types as strings).
 */
import { formatIsoDateTime, parseIsoDateTime } from './datetime.js';
import { Bytes, DateTime, Decimal, DtlFloat, NI, Uri, Uuid, type Dict, type Value } from './types.js';

const UUID_RE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const TILDE = 126;

export function canonicalUuid(text: string): string | null {
  if (!UUID_RE.test(text)) return null;
  const hex = text.replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Decodes one string; returns the string itself when it is not a recognised transit value. */
export function decodeString(s: string): Value {
  if (s.length < 2 || s.charCodeAt(0) !== TILDE) return s;
  const body = s.slice(2);
  switch (s[1]) {
    case 't':
      return parseIsoDateTime(body) ?? s;
    case ':':
      return new NI(body);
    case 'r':
      return new Uri(body);
    case 'u': {
      const u = canonicalUuid(body);
      return u === null ? s : new Uuid(u);
    }
    case 'b':
      return /^[A-Za-z0-9+/]*={0,2}$/.test(body) ? new Bytes(Buffer.from(body, 'base64')) : s;
    case 'f':
      return DECIMAL_RE.test(body) ? new Decimal(body) : s;
    default:
      return s;
  }
}

/** Decodes transit strings in place throughout a freshly parsed JSON value and returns it. */
export function decodeInPlace(v: unknown): Value {
  if (typeof v === 'string') return v.charCodeAt(0) === TILDE ? decodeString(v) : v;
  if (v === null || typeof v !== 'object') return v as Value;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === 'string') {
        if (x.charCodeAt(0) === TILDE) v[i] = decodeString(x);
      } else if (x !== null && typeof x === 'object') decodeInPlace(x);
    }
    return v as Value[];
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if (typeof x === 'string') {
      if (x.charCodeAt(0) === TILDE) o[k] = decodeString(x);
    } else if (x !== null && typeof x === 'object') decodeInPlace(x);
  }
  return o as Dict;
}

/** Transit text of a typed scalar, or undefined when the value is JSON-native. */
export function encodeTyped(v: object): string | undefined {
  if (v instanceof DateTime) return '~t' + formatIsoDateTime(v);
  if (v instanceof NI) return '~:' + v.value;
  if (v instanceof Decimal) return '~f' + decimalText(v);
  if (v instanceof Uri) return '~r' + v.value;
  if (v instanceof Uuid) return '~u' + v.value;
  if (v instanceof Bytes) return '~b' + Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength).toString('base64');
  return undefined;
}

/** Plain decimal notation (no exponent), as transit and JSON output expect. */
export function decimalText(d: Decimal): string {
  return d.toFixed();
}

/** Converts a value to a JSON-safe structure with transit strings (floats that are integral become numbers). */
export function encode(v: Value): unknown {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'bigint') return v;
    return v;
  }
  if (Array.isArray(v)) return v.map(encode);
  if (v instanceof DtlFloat) return v.value;
  const t = encodeTyped(v);
  if (t !== undefined) return t;
  const out: Record<string, unknown> = {};
  for (const k in v as Dict) {
    const x = encode((v as Dict)[k]);
    // "__proto__" is an ordinary key in entities.
    if (k === '__proto__') Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
    else out[k] = x;
  }
  return out;
}
