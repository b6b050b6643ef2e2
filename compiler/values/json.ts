/**
 * Entity JSON text: parsing (lossless for big integers) and serialisation with transit encoding.
 * Serialisation is hand-written because JSON.stringify cannot emit bigints, `1.0` for integral
 * floats, or sorted keys for content hashing.
 */
import { encodeTyped } from './transit.js';
import { decodeInPlace } from './transit.js';
import { DtlFloat, type Value } from './types.js';
import { parseJsonLossless } from './lossless-json.js';

const LONG_DIGITS = /\d{16,}/;

/** Parses entity JSON and decodes transit strings. Integers longer than 2^53 stay exact (bigint). */
export function parseEntityJson(text: string): Value {
  if (LONG_DIGITS.test(text)) return decodeInPlace(parseJsonLossless(text));
  return decodeInPlace(JSON.parse(text));
}

function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError(`cannot serialise ${n} as JSON`);
  return String(n);
}

function floatText(n: number): string {
  const s = numberText(n);
  return /[.eE]/.test(s) ? s : s + '.0';
}

/** Serialises a value as JSON with transit encoding. `sortKeys` gives the canonical form used for hashing. */
export function stringifyValue(v: Value, sortKeys = false): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return numberText(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
  }
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) {
      if (i) s += ',';
      s += stringifyValue(v[i], sortKeys);
    }
    return s + ']';
  }
  if (v instanceof DtlFloat) return floatText(v.value);
  const typed = encodeTyped(v);
  if (typed !== undefined) return JSON.stringify(typed);
  const o = v as Record<string, Value>;
  const keys = sortKeys ? Object.keys(o).sort() : Object.keys(o);
  let s = '{';
  let first = true;
  for (const k of keys) {
    const x = o[k];
    if (x === undefined) continue;
    if (!first) s += ',';
    first = false;
    s += JSON.stringify(k) + ':' + stringifyValue(x, sortKeys);
  }
  return s + '}';
}
