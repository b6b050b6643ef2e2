/**
 * PostgreSQL's text formats: result values by type OID into entity values (the mapping of the
 * documented type table: numeric → decimal, timestamps → datetime, date and time → text, bytea →
 * bytes, plus json/jsonb → nested values and arrays → lists), array literals, and the escaping of
 * COPY's text format.
 */
import type { TimeZone } from '../../../../compiler/dtl/functions/datetime-zones.js';
import { Bytes, type Value } from '../../../../compiler/values/types.js';
import type { ResultField } from './dialect.js';
import { decimalFromText, floatFromText, integerFromText, jsonFromText, parseSqlDateTime } from './values.js';

const TYPE_NAMES: Record<number, string> = {
  16: 'boolean',
  17: 'bytea',
  18: 'char',
  19: 'name',
  20: 'bigint',
  21: 'smallint',
  23: 'integer',
  25: 'text',
  26: 'oid',
  114: 'json',
  142: 'xml',
  700: 'real',
  701: 'double precision',
  790: 'money',
  1042: 'character',
  1043: 'character varying',
  1082: 'date',
  1083: 'time',
  1114: 'timestamp',
  1184: 'timestamp with time zone',
  1186: 'interval',
  1266: 'time with time zone',
  1700: 'numeric',
  2950: 'uuid',
  3802: 'jsonb',
};

/** Array type OID → element type OID. */
const ARRAY_ELEMENTS: Record<number, number> = {
  1000: 16,
  1001: 17,
  1002: 18,
  1003: 19,
  1005: 21,
  1007: 23,
  1009: 25,
  1014: 1042,
  1015: 1043,
  1016: 20,
  1021: 700,
  1022: 701,
  1028: 26,
  1115: 1114,
  1182: 1082,
  1183: 1083,
  1185: 1184,
  1187: 1186,
  1231: 1700,
  1270: 1266,
  2951: 2950,
  199: 114,
  3807: 3802,
  143: 142,
  791: 790,
};

const INTEGER_OIDS = new Set([20, 21, 23, 26]);
const DATETIME_OIDS = new Set([1114, 1184]);
const NUMBER_OIDS = new Set([700, 701, 1700]);

export function typeName(oid: number): string {
  const element = ARRAY_ELEMENTS[oid];
  if (element !== undefined) return `${TYPE_NAMES[element] ?? `type ${element}`}[]`;
  return TYPE_NAMES[oid] ?? `type ${oid}`;
}

function hexBytes(text: string): Bytes {
  return new Bytes(new Uint8Array(Buffer.from(text.startsWith('\\x') ? text.slice(2) : text, 'hex')));
}

/** Decoder of one value's text for a scalar type; unknown types (enums, domains of text, ...) stay text. */
function scalarDecoder(oid: number, zone: TimeZone | null): (text: string) => Value {
  switch (oid) {
    case 16:
      return (t) => t === 't';
    case 17:
      return hexBytes;
    case 20:
      return integerFromText;
    case 21:
    case 23:
    case 26:
      return Number;
    case 700:
    case 701:
      return floatFromText;
    case 1700:
      return decimalFromText;
    case 1114:
      return (t) => parseSqlDateTime(t, zone) ?? t;
    case 1184:
      return (t) => parseSqlDateTime(t, null) ?? t;
    case 114:
    case 3802:
      return jsonFromText;
    default:
      return (t) => t;
  }
}

/** Parses an array literal (`{1,2,NULL}`, `{{"a b","c"},{d,e}}`), decoding elements with `element`. */
export function parseArrayLiteral(text: string, element: (s: string) => Value): Value[] {
  let i = text.startsWith('[') ? text.indexOf('=') + 1 : 0;
  const parse = (): Value[] => {
    i++;
    const out: Value[] = [];
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      if (text[i] === '{') out.push(parse());
      else if (text[i] === '"') {
        let s = '';
        i++;
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\') i++;
          s += text[i++];
        }
        i++;
        out.push(element(s));
      } else {
        let j = i;
        while (j < text.length && text[j] !== ',' && text[j] !== '}') j++;
        const s = text.slice(i, j);
        i = j;
        out.push(/^null$/i.test(s) ? null : element(s));
      }
      if (text[i] === ',') {
        i++;
        continue;
      }
      i++;
      return out;
    }
  };
  return parse();
}

/** An array literal from element texts (null for NULL); nested lists become nested arrays. */
export function formatArrayLiteral(items: readonly unknown[], element: (v: unknown) => string | null): string {
  const parts = items.map((x) => {
    if (Array.isArray(x)) return formatArrayLiteral(x, element);
    const t = element(x);
    return t === null ? 'NULL' : `"${t.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  });
  return `{${parts.join(',')}}`;
}

/** A result column: decoding by type OID, `since` tokens and their order. */
export function resultField(name: string, oid: number, zone: TimeZone | null): ResultField {
  const element = ARRAY_ELEMENTS[oid];
  const scalar = scalarDecoder(element ?? oid, zone);
  const decode = element !== undefined ? (t: unknown) => parseArrayLiteral(t as string, scalar) : (t: unknown) => scalar(t as string);
  const integer = INTEGER_OIDS.has(oid);
  return {
    name,
    type: typeName(oid),
    decode: (raw) => (raw === null ? null : decode(raw)),
    token: integer ? (raw) => integerToken(raw as string) : (raw) => raw as string,
    rank: integer
      ? (t) => (typeof t === 'number' ? t : BigInt(t))
      : DATETIME_OIDS.has(oid)
        ? (t) => parseSqlDateTime(String(t), zone)?.ns ?? String(t)
        : NUMBER_OIDS.has(oid)
          ? Number
          : String,
  };
}

function integerToken(text: string): number | string {
  const v = integerFromText(text);
  return typeof v === 'bigint' ? text : v;
}

/** COPY text format: backslash escapes for the characters that delimit fields and rows; `\N` is NULL. */
export function copyField(text: string | null): string {
  if (text === null) return '\\N';
  return /[\\\n\r\t]/.test(text) ? text.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t')) : text;
}
