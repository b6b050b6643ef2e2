/**
 * Entity JSON text: parsing (lossless for big integers) and serialisation with transit encoding.
 * Serialisation is hand-written because JSON.stringify cannot emit bigints, `1.0` for integral
 * floats, or sorted keys for content hashing.
 */
import { encodeTyped } from './transit.js';
import { decodeInPlace } from './transit.js';
import { DtlFloat, type Value } from './types.js';
import { parseJsonLossless } from './lossless-json.js';

/** A number token of 16+ digits (outside strings, roughly): only then can JSON.parse lose precision. */
const LONG_NUMBER = /[:[,]\s*-?\d{16,}/;

/** Parses entity JSON and decodes transit strings. Integers longer than 2^53 stay exact (bigint). */
export function parseEntityJson(text: string, mayHaveBigIntegers?: boolean): Value {
  const parsed = (mayHaveBigIntegers ?? LONG_NUMBER.test(text)) ? parseJsonLossless(text) : JSON.parse(text);
  // Transit strings always start with `"~`; text without one needs no decoding walk.
  return text.indexOf('"~') < 0 ? (parsed as Value) : decodeInPlace(parsed);
}

let bigIntSeen = false;

/** Serialisers note bigints so that stores can record which stored texts need lossless parsing. */
export function resetBigIntFlag(): void {
  bigIntSeen = false;
}

export function serialisedBigInt(): boolean {
  return bigIntSeen;
}

function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError(`cannot serialise ${n} as JSON`);
  return String(n);
}

function floatText(n: number): string {
  const s = numberText(n);
  return /[.eE]/.test(s) ? s : s + '.0';
}

/** Characters JSON.stringify escapes (quotes, backslash, controls, lone surrogates). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON string literal; plain strings skip the (comparatively costly) call into JSON.stringify. */
export function quoteJson(s: string): string {
  return s.length < 256 && !NEEDS_ESCAPE.test(s) ? `"${s}"` : JSON.stringify(s);
}

/** Quoted property names, cached: entities of one dataset share a small set of keys. */
const quotedKeys = new Map<string, string>();

export function quoteKey(k: string): string {
  let q = quotedKeys.get(k);
  if (q === undefined) {
    q = quoteJson(k);
    if (quotedKeys.size < 50_000) quotedKeys.set(k, q);
  }
  return q;
}

/** Own keys in code-unit order; already-ordered objects (common for stored entities) skip the sort. */
export function sortedKeys(o: object): string[] {
  const keys = Object.keys(o);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1] > keys[i]) return keys.sort();
  }
  return keys;
}

/** Serialises a value as JSON with transit encoding. `sortKeys` gives the canonical form used for hashing. */
export function stringifyValue(v: Value, sortKeys = false): string {
  switch (typeof v) {
    case 'string':
      return quoteJson(v);
    case 'number':
      return numberText(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      bigIntSeen = true;
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
  // Plain dicts are by far the most common objects: test for them before the typed classes.
  if ((v as object).constructor !== Object) {
    if (v instanceof DtlFloat) return floatText(v.value);
    const typed = encodeTyped(v);
    if (typed !== undefined) return quoteJson(typed);
  }
  const o = v as Record<string, Value>;
  const keys = sortKeys ? sortedKeys(o) : Object.keys(o);
  let s = '{';
  let first = true;
  for (const k of keys) {
    const x = o[k];
    if (x === undefined) continue;
    if (!first) s += ',';
    first = false;
    s += quoteKey(k) + ':' + stringifyValue(x, sortKeys);
  }
  return s + '}';
}
