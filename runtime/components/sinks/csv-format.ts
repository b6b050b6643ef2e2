/**
 * CSV rendering with the dialect options of the csv_endpoint sink. The options follow Python's csv
 * writer (which Sesam's documentation describes): quoting all / minimal / non-numeric / none,
 * delimiter, quotechar, doublequote, escapechar and lineterminator; values are written the way
 * Python's `str()` would write them (True/False, `1.0` for integral floats, `1e+16` exponents).
 * Also the output encodings (Python codec names) and their error strategies, and a byte order mark.
 *
 * Used by the CSV publisher; kept apart from the sink so that other code can write CSV the same way.
 */
import { floatText } from '../../../compiler/dtl/functions/text.js';
import { stringifyValue } from '../../../compiler/values/json.js';
import { encodeTyped } from '../../../compiler/values/transit.js';
import { Decimal, DtlFloat, type Entity, type Value } from '../../../compiler/values/types.js';

export type CsvQuoting = 'all' | 'minimal' | 'non-numeric' | 'none';
export type EncodeErrorStrategy = 'ignore' | 'replace' | 'xmlcharrefreplace' | 'backslashreplace';

export interface CsvOptions {
  columns: string[];
  includeHeader: boolean;
  quoting: CsvQuoting;
  delimiter: string;
  quotechar: string;
  doublequote: boolean;
  /** The escape character in effect (see csvOptionsFrom for the documented default). */
  escapechar: string | null;
  lineterminator: string;
  encoding: string;
  encodeErrors: EncodeErrorStrategy;
  byteOrderMark: boolean;
  skipDeleted: boolean;
}

export class CsvConfigError extends Error {}

const QUOTINGS: CsvQuoting[] = ['all', 'minimal', 'non-numeric', 'none'];
const STRATEGIES: EncodeErrorStrategy[] = ['ignore', 'replace', 'xmlcharrefreplace', 'backslashreplace'];

function oneChar(config: Record<string, unknown>, key: string, dflt: string): string {
  const v = config[key] ?? dflt;
  if (typeof v !== 'string' || v.length !== 1) throw new CsvConfigError(`"${key}" must be a single character, not ${JSON.stringify(v)}`);
  return v;
}

/**
 * The options of a csv_endpoint sink config (defaults as documented). The docs give `\` as the
 * escape character when none is set and doublequote is true; it is also used when doublequote is
 * false and nothing else is set, so that a quote character inside a field can always be escaped.
 */
export function csvOptionsFrom(config: Record<string, unknown>): CsvOptions {
  const columns = config.columns;
  if (!Array.isArray(columns) || columns.some((c) => typeof c !== 'string')) throw new CsvConfigError('"columns" must be a list of property names');
  const quoting = (config.quoting ?? 'minimal') as CsvQuoting;
  if (!QUOTINGS.includes(quoting)) throw new CsvConfigError(`"quoting" must be one of ${QUOTINGS.join(', ')}, not ${JSON.stringify(quoting)}`);
  const encodeErrors = (config.encode_error_strategy ?? 'backslashreplace') as EncodeErrorStrategy;
  if (!STRATEGIES.includes(encodeErrors)) throw new CsvConfigError(`"encode_error_strategy" must be one of ${STRATEGIES.join(', ')}`);
  const escape = config.escapechar ?? null;
  if (escape !== null && (typeof escape !== 'string' || escape.length !== 1)) throw new CsvConfigError(`"escapechar" must be a single character or null, not ${JSON.stringify(escape)}`);
  const lineterminator = config.lineterminator ?? '\r\n';
  if (typeof lineterminator !== 'string' || lineterminator === '') throw new CsvConfigError('"lineterminator" must be a non-empty string');
  const encoding = String(config.encoding ?? 'utf-8');
  normaliseEncoding(encoding); // throws for unsupported encodings
  return {
    columns: columns as string[],
    includeHeader: config.include_header !== false,
    quoting,
    delimiter: oneChar(config, 'delimiter', ','),
    quotechar: oneChar(config, 'quotechar', '"'),
    doublequote: config.doublequote !== false,
    escapechar: (escape as string | null) ?? '\\',
    lineterminator,
    encoding,
    encodeErrors,
    byteOrderMark: config.byte_order_mark === true,
    skipDeleted: config['skip-deleted-entities'] !== false,
  };
}

// ------------------------------------------------------------------------------------- values

export interface FieldText {
  text: string;
  /** Numbers and booleans (Python counts bools as numbers); null and missing are not. */
  numeric: boolean;
}

/**
 * The text of one value as a CSV field: strings as they are; null and missing as the empty field;
 * booleans `True`/`False`; integers in full; floats as Python writes them; typed values (dates,
 * decimals, URIs, UUIDs, namespaced identifiers, bytes) as their plain text without the transit
 * prefix; lists and dicts as JSON.
 */
export function fieldText(v: Value | undefined): FieldText {
  switch (typeof v) {
    case 'string':
      return { text: v, numeric: false };
    case 'number':
      return { text: Number.isInteger(v) && Math.abs(v) < 1e21 ? String(v) : floatText(v), numeric: true };
    case 'bigint':
      return { text: v.toString(), numeric: true };
    case 'boolean':
      return { text: v ? 'True' : 'False', numeric: true };
    case 'undefined':
      return { text: '', numeric: false };
  }
  if (v === null) return { text: '', numeric: false };
  if (v instanceof DtlFloat) return { text: floatText(v.value), numeric: true };
  if (v instanceof Decimal) return { text: v.toFixed(), numeric: true };
  if (!Array.isArray(v)) {
    const typed = encodeTyped(v);
    if (typed !== undefined) return { text: typed.slice(2), numeric: false };
  }
  return { text: stringifyValue(v), numeric: false };
}

// ------------------------------------------------------------------------------------- writer

/** Renders rows with one dialect; every method returns text ready to be encoded. */
export class CsvWriter {
  private readonly special: Set<string>;

  constructor(readonly options: CsvOptions) {
    const o = options;
    this.special = new Set([o.delimiter, o.quotechar, '\r', '\n', ...o.lineterminator]);
    if (o.escapechar !== null) this.special.add(o.escapechar);
  }

  /** The header line (the column names), or '' when include_header is false. */
  header(): string {
    return this.options.includeHeader ? this.row(this.options.columns) : '';
  }

  /** The line of an entity, or '' when it is deleted and deleted entities are skipped. */
  entity(e: Entity): string {
    if (this.options.skipDeleted && e._deleted === true) return '';
    return this.row(this.options.columns.map((c) => (Object.prototype.hasOwnProperty.call(e, c) ? e[c] : null)));
  }

  row(values: (Value | undefined)[]): string {
    const o = this.options;
    let line = '';
    for (let i = 0; i < values.length; i++) {
      const { text, numeric } = fieldText(values[i]);
      const quote = o.quoting === 'all' || (o.quoting === 'non-numeric' && !numeric);
      if (i) line += o.delimiter;
      line += this.field(text, quote);
    }
    // A record of one empty field would be an empty line, which readers skip: it is quoted.
    if (values.length === 1 && line === '' && o.quoting !== 'none') line = o.quotechar + o.quotechar;
    return line + o.lineterminator;
  }

  private field(text: string, quote: boolean): string {
    const o = this.options;
    let out = '';
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (!this.special.has(c)) continue;
      let escape = false;
      if (o.quoting === 'none') escape = true;
      else {
        if (c === o.quotechar) {
          if (o.doublequote) {
            out += text.slice(start, i) + c;
            start = i;
          } else escape = true;
        } else if (c === o.escapechar) escape = true;
        if (!escape) quote = true;
      }
      // With nothing to escape with, the character goes out as it is (quoting "none" may then
      // produce a file that does not parse, as the docs warn).
      if (escape && o.escapechar !== null) {
        out += text.slice(start, i) + o.escapechar;
        start = i;
      }
    }
    out += text.slice(start);
    return quote && o.quoting !== 'none' ? o.quotechar + out + o.quotechar : out;
  }
}

// ------------------------------------------------------------------------------------- encodings

type Codec = 'utf-8' | 'utf-8-sig' | 'latin-1' | 'ascii' | 'cp1252' | 'utf-16' | 'utf-16-le' | 'utf-16-be';

const ALIASES: Record<string, Codec> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  u8: 'utf-8',
  utf: 'utf-8',
  'utf-8-sig': 'utf-8-sig',
  'utf8-sig': 'utf-8-sig',
  'latin-1': 'latin-1',
  latin1: 'latin-1',
  latin: 'latin-1',
  l1: 'latin-1',
  'iso-8859-1': 'latin-1',
  'iso8859-1': 'latin-1',
  '8859': 'latin-1',
  cp819: 'latin-1',
  ascii: 'ascii',
  'us-ascii': 'ascii',
  '646': 'ascii',
  cp1252: 'cp1252',
  'windows-1252': 'cp1252',
  'utf-16': 'utf-16',
  utf16: 'utf-16',
  'utf-16-le': 'utf-16-le',
  'utf-16le': 'utf-16-le',
  'utf-16-be': 'utf-16-be',
  'utf-16be': 'utf-16-be',
};

/** The codec for a Python encoding name; throws for names this runtime cannot encode. */
export function normaliseEncoding(name: string): Codec {
  const codec = ALIASES[name.trim().toLowerCase().replace(/[_ ]/g, '-')];
  if (!codec) throw new CsvConfigError(`encoding "${name}" is not supported (supported: utf-8, utf-8-sig, latin-1, ascii, cp1252, utf-16, utf-16-le, utf-16-be)`);
  return codec;
}

/** The charset parameter for the Content-Type header. */
export function charsetOf(name: string): string {
  const codec = normaliseEncoding(name);
  return codec === 'utf-8-sig' ? 'utf-8' : codec === 'latin-1' ? 'iso-8859-1' : codec === 'cp1252' ? 'windows-1252' : codec;
}

/** cp1252's characters in 0x80–0x9f (Python leaves 0x81, 0x8d, 0x8f, 0x90 and 0x9d undefined). */
const CP1252_HIGH = '€\u0000‚ƒ„…†‡ˆ‰Š‹Œ\u0000Ž\u0000\u0000‘’“”•–—˜™š›œ\u0000žŸ';
const CP1252 = new Map<number, number>();
for (let i = 0; i < CP1252_HIGH.length; i++) if (CP1252_HIGH[i] !== '\u0000') CP1252.set(CP1252_HIGH.charCodeAt(i), 0x80 + i);

function replacement(cp: number, strategy: EncodeErrorStrategy): string {
  switch (strategy) {
    case 'ignore':
      return '';
    case 'replace':
      return '?';
    case 'xmlcharrefreplace':
      return `&#${cp};`;
    case 'backslashreplace':
      return cp < 0x100 ? `\\x${cp.toString(16).padStart(2, '0')}` : cp < 0x10000 ? `\\u${cp.toString(16).padStart(4, '0')}` : `\\U${cp.toString(16).padStart(8, '0')}`;
  }
}

function singleByte(text: string, byteOf: (cp: number) => number | undefined, strategy: EncodeErrorStrategy): Buffer {
  const out: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const b = byteOf(cp);
    if (b !== undefined) out.push(b);
    else for (const r of replacement(cp, strategy)) out.push(r.charCodeAt(0));
  }
  return Buffer.from(out);
}

function utf16(text: string, bigEndian: boolean): Buffer {
  const buf = Buffer.from(text, 'utf16le');
  if (bigEndian) buf.swap16();
  return buf;
}

/**
 * An encoder for a stream of text chunks: `encode(chunk)` gives the bytes of each chunk, and the
 * first chunk starts with the byte order mark when one is asked for (or the codec writes one).
 */
export function streamEncoder(encoding: string, strategy: EncodeErrorStrategy, byteOrderMark: boolean): (chunk: string) => Buffer {
  const codec = normaliseEncoding(encoding);
  let first = true;
  // utf-8-sig and utf-16 write their own mark; byte_order_mark asks for the UTF-8 one.
  const utf8 = codec === 'utf-8' || codec === 'utf-8-sig';
  const ownMark = codec === 'utf-8-sig' || codec === 'utf-16' || (byteOrderMark && utf8);
  const utf8Mark = byteOrderMark && !utf8 ? Buffer.from([0xef, 0xbb, 0xbf]) : null;
  const encode = (text: string): Buffer => {
    switch (codec) {
      case 'utf-8':
      case 'utf-8-sig':
        return Buffer.from(text, 'utf8');
      case 'latin-1':
        return singleByte(text, (cp) => (cp < 0x100 ? cp : undefined), strategy);
      case 'ascii':
        return singleByte(text, (cp) => (cp < 0x80 ? cp : undefined), strategy);
      case 'cp1252':
        return singleByte(text, (cp) => (cp < 0x80 || (cp >= 0xa0 && cp < 0x100) ? cp : CP1252.get(cp)), strategy);
      case 'utf-16':
      case 'utf-16-le':
        return utf16(text, false);
      case 'utf-16-be':
        return utf16(text, true);
    }
  };
  return (chunk) => {
    if (!first) return encode(chunk);
    first = false;
    const bytes = encode(ownMark ? '\ufeff' + chunk : chunk);
    return utf8Mark ? Buffer.concat([utf8Mark, bytes]) : bytes;
  };
}
