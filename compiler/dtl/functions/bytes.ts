/** DTL bytes functions (dtl-functions-bytes): UTF-8 text to bytes and base64 in both directions. */
import { family } from '../spec.js';
import { Bytes, type Value } from '../../values/types.js';
import { mapEach, SKIP, testFirst, type Converted } from './util.js';

const encoder = new TextEncoder();
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const WHITESPACE = /[\t\n\v\f\r ]/g;

function toBytes(x: Value): Converted {
  if (typeof x === 'string') return new Bytes(encoder.encode(x));
  if (x instanceof Bytes) return x;
  return SKIP;
}

/** Decodes standard (padded) base64, ignoring whitespace; SKIP for anything else. */
function fromBase64(x: Value): Converted {
  if (typeof x !== 'string') return SKIP;
  const s = x.replace(WHITESPACE, '');
  if (!BASE64.test(s)) return SKIP;
  const b = Buffer.from(s, 'base64');
  return new Bytes(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}

function toBase64(x: Value): Converted {
  if (!(x instanceof Bytes)) return SKIP;
  return Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength).toString('base64');
}

export const dtlBytes = (v: Value): Value => mapEach(v, toBytes);
export const dtlBase64Decode = (v: Value): Value => mapEach(v, fromBase64);
export const dtlBase64Encode = (v: Value): Value => mapEach(v, toBase64);
export const isBytesValue = (v: Value): boolean => testFirst(v, (x) => x instanceof Bytes);

export default family('bytes', (def) => {
  def.expression({
    name: 'base64-decode',
    doc: 'Decodes base64 strings to bytes; non-strings and invalid base64 are ignored.',
    args: ['expr'],
    emit: (e) => `${e.use(dtlBase64Decode)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'base64-encode',
    doc: 'Encodes bytes values as base64 strings; other values are ignored.',
    args: ['expr'],
    emit: (e) => `${e.use(dtlBase64Encode)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'bytes',
    doc: 'Encodes strings as UTF-8 bytes; bytes stay, other values are ignored.',
    args: ['expr'],
    emit: (e) => `${e.use(dtlBytes)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'is-bytes',
    doc: 'True when the value (or the first list element) is a bytes value.',
    args: ['expr'],
    emit: (e) => `${e.use(isBytesValue)}(${e.arg(0)})`,
  });
});
