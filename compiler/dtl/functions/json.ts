/**
 * DTL JSON functions (dtl-functions-json): serialising values to JSON text, with or without
 * transit encoding, and parsing JSON text back. The text layout is the one `string` uses for
 * lists and dicts (see strings.ts): Python's separators, sorted keys, non-ASCII escaped.
 */
import { family, optionalFnThenValues, type EmitContext } from '../spec.js';
import { Bytes, type Value } from '../../values/types.js';
import { decodeInPlace } from '../../values/transit.js';
import { parseJsonLossless } from '../../values/lossless-json.js';
import { toJsonText } from './text.js';
import { mapEach, SKIP, type Converted } from './util.js';

/** JSON text of each value; a list gives a list of texts (null elements become "null"). */
function serialise(v: Value, transit: boolean): Value {
  if (v === null || v === undefined) return null;
  if (!Array.isArray(v)) return toJsonText(v, transit);
  const out: Value[] = new Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = toJsonText(v[i] ?? null, transit);
  return out;
}

export const dtlJson = (v: Value): Value => serialise(v, false);
export const dtlJsonTransit = (v: Value): Value => serialise(v, true);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Texts whose numbers JSON.parse could misread (integral floats such as `1.0`, integers beyond 2^53). */
const NEEDS_LOSSLESS = /\d[.eE]|\d{16}/;

/** Parses JSON text (a string, or bytes holding UTF-8), keeping integers and floats apart; SKIP when invalid. */
export function parseJsonText(x: Value): Converted {
  let text: string;
  if (typeof x === 'string') text = x;
  else if (x instanceof Bytes) {
    try {
      text = utf8.decode(x.data);
    } catch {
      return SKIP;
    }
  } else return SKIP;
  try {
    if (NEEDS_LOSSLESS.test(text) && !text.includes('"__proto__"')) return parseJsonLossless(text, true) as Value;
    return JSON.parse(text) as Value;
  } catch {
    return SKIP;
  }
}

function parseTransit(x: Value): Converted {
  const v = parseJsonText(x);
  return v === SKIP ? SKIP : decodeInPlace(v);
}

export function dtlJsonParse(v: Value, dflt?: (x: Value) => Value): Value {
  return mapEach(v, parseJsonText, dflt);
}

export function dtlJsonTransitParse(v: Value, dflt?: (x: Value) => Value): Value {
  return mapEach(v, parseTransit, dflt);
}

function emitWithDefault(e: EmitContext, helper: (v: Value, dflt?: (x: Value) => Value) => Value): string {
  return e.count === 2 ? `${e.use(helper)}(${e.arg(1)}, ${e.arg(0)})` : `${e.use(helper)}(${e.arg(0)})`;
}

export default family('json', (def) => {
  def.expression({
    name: 'json',
    doc: 'Converts each value to JSON text without transit encoding (dict keys sorted); a list gives a list of texts.',
    args: ['expr'],
    emit: (e) => `${e.use(dtlJson)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'json-transit',
    doc: 'Converts each value to JSON text with typed values transit encoded (dict keys sorted); a list gives a list of texts.',
    args: ['expr'],
    emit: (e) => `${e.use(dtlJsonTransit)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'json-parse',
    doc: 'Parses each string as JSON (no transit decoding); invalid input is dropped or replaced by the DEFAULT expression.',
    args: optionalFnThenValues,
    min: 1,
    max: 2,
    emit: (e) => emitWithDefault(e, dtlJsonParse),
  });
  def.expression({
    name: 'json-transit-parse',
    doc: 'Parses each string as JSON and decodes transit strings into typed values; invalid input is dropped or replaced by the DEFAULT expression.',
    args: optionalFnThenValues,
    min: 1,
    max: 2,
    emit: (e) => emitWithDefault(e, dtlJsonTransitParse),
  });
});
