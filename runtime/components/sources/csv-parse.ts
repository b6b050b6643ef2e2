/**
 * A streaming CSV parser with Python-csv-style dialects (the CSV source's `dialect` presets and
 * `auto_dialect` sniffing), character decoding with the source's `encoding` and
 * `decode_error_strategy`. Text is pushed in chunks; complete records come out, each with the line
 * it started on.
 */

export interface CsvDialect {
  /** Field separator: one character or a longer string. */
  delimiter: string;
  /** Quote character, or null for no quoting. */
  quotechar: string | null;
  /** A doubled quote inside a quoted field is one quote. */
  doublequote: boolean;
  /** Character that makes the next character literal, or null. */
  escapechar: string | null;
  /** Ignore spaces right after a delimiter. */
  skipinitialspace: boolean;
}

export const DIALECTS: Record<'excel' | 'excel_tab' | 'unix_dialect', CsvDialect> = {
  excel: { delimiter: ',', quotechar: '"', doublequote: true, escapechar: null, skipinitialspace: false },
  excel_tab: { delimiter: '\t', quotechar: '"', doublequote: true, escapechar: null, skipinitialspace: false },
  unix_dialect: { delimiter: ',', quotechar: '"', doublequote: true, escapechar: null, skipinitialspace: false },
};

export class CsvError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

export interface CsvRecord {
  fields: string[];
  /** 1-based line where the record starts. */
  line: number;
}

const enum S {
  StartRecord,
  StartField,
  InField,
  InQuoted,
  QuoteInQuoted,
  Escape,
  EscapeInQuoted,
}

export class CsvParser {
  private state = S.StartRecord;
  private field = '';
  private record: string[] = [];
  private line = 1;
  private recordLine = 1;
  /** A `\r` ended the last record: a `\n` right after it belongs to it. */
  private afterCr = false;
  /** Text kept from the previous chunk (a possible partial multi-character delimiter). */
  private rest = '';
  private readonly d: CsvDialect;
  private readonly delim0: number;
  private readonly quote: number;
  private readonly escape: number;

  constructor(dialect: CsvDialect) {
    if (!dialect.delimiter) throw new Error('the CSV delimiter must not be empty');
    if (dialect.quotechar !== null && dialect.quotechar.length !== 1) throw new Error(`the CSV quote character must be one character, not ${JSON.stringify(dialect.quotechar)}`);
    if (dialect.escapechar !== null && dialect.escapechar.length !== 1) throw new Error(`the CSV escape character must be one character, not ${JSON.stringify(dialect.escapechar)}`);
    this.d = dialect;
    this.delim0 = dialect.delimiter.charCodeAt(0);
    this.quote = dialect.quotechar === null ? -1 : dialect.quotechar.charCodeAt(0);
    this.escape = dialect.escapechar === null ? -1 : dialect.escapechar.charCodeAt(0);
  }

  /** Feeds text; returns the records it completed (empty lines are skipped). */
  push(chunk: string): CsvRecord[] {
    const text = this.rest + chunk;
    this.rest = '';
    const out: CsvRecord[] = [];
    const delim = this.d.delimiter;
    const dl = delim.length;
    const n = text.length;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (this.afterCr) {
        this.afterCr = false;
        if (c === 10) {
          i++;
          continue;
        }
      }
      // A multi-character delimiter may straddle chunks: keep a possible prefix for the next push.
      let isDelim = false;
      if (c === this.delim0 && this.state !== S.InQuoted && this.state !== S.Escape && this.state !== S.EscapeInQuoted) {
        if (dl === 1) isDelim = true;
        else if (i + dl <= n) isDelim = text.startsWith(delim, i);
        else if (delim.startsWith(text.slice(i))) {
          this.rest = text.slice(i);
          break;
        }
      }
      switch (this.state) {
        case S.StartRecord:
          if (c === 10 || c === 13) {
            // An empty line: no record.
            this.newline(c);
            i++;
            continue;
          }
          this.recordLine = this.line;
          this.state = S.StartField;
          continue;
        case S.StartField:
          if (isDelim) {
            this.record.push('');
            i += dl;
            continue;
          }
          if (c === 10 || c === 13) {
            this.record.push('');
            this.endRecord(out, c);
            i++;
            continue;
          }
          if (c === this.quote) {
            this.state = S.InQuoted;
            i++;
            continue;
          }
          if (c === this.escape) {
            this.state = S.Escape;
            i++;
            continue;
          }
          if (c === 32 && this.d.skipinitialspace) {
            i++;
            continue;
          }
          this.state = S.InField;
          continue;
        case S.InField: {
          if (isDelim) {
            this.saveField();
            i += dl;
            continue;
          }
          if (c === 10 || c === 13) {
            this.saveField();
            this.endRecord(out, c);
            i++;
            continue;
          }
          if (c === this.escape) {
            this.state = S.Escape;
            i++;
            continue;
          }
          // Copy a run of ordinary characters at once.
          let j = i + 1;
          while (j < n) {
            const x = text.charCodeAt(j);
            if (x === this.delim0 || x === 10 || x === 13 || x === this.escape) break;
            j++;
          }
          this.field += text.slice(i, j);
          i = j;
          continue;
        }
        case S.InQuoted: {
          if (c === this.escape) {
            this.state = S.EscapeInQuoted;
            i++;
            continue;
          }
          if (c === this.quote) {
            this.state = this.d.doublequote ? S.QuoteInQuoted : S.InField;
            i++;
            continue;
          }
          let j = i;
          while (j < n) {
            const x = text.charCodeAt(j);
            if (x === this.quote || x === this.escape) break;
            if (x === 10 || (x === 13 && text.charCodeAt(j + 1) !== 10)) this.line++;
            j++;
          }
          this.field += text.slice(i, j);
          i = j;
          continue;
        }
        case S.QuoteInQuoted:
          if (c === this.quote) {
            this.field += this.d.quotechar;
            this.state = S.InQuoted;
            i++;
            continue;
          }
          if (isDelim) {
            this.saveField();
            i += dl;
            continue;
          }
          if (c === 10 || c === 13) {
            this.saveField();
            this.endRecord(out, c);
            i++;
            continue;
          }
          // Text after a closing quote is kept, as Python's csv does.
          this.state = S.InField;
          continue;
        case S.Escape:
          this.field += text[i];
          if (c === 10 || c === 13) this.line++;
          this.state = S.InField;
          i++;
          continue;
        case S.EscapeInQuoted:
          this.field += text[i];
          if (c === 10 || c === 13) this.line++;
          this.state = S.InQuoted;
          i++;
          continue;
      }
    }
    return out;
  }

  /** Ends the input; returns the last record if the text did not end with a newline. */
  end(): CsvRecord[] {
    const out: CsvRecord[] = [];
    if (this.rest) {
      const rest = this.rest;
      this.rest = '';
      // Not a delimiter after all: the characters are field text.
      if (this.state === S.StartRecord) {
        this.recordLine = this.line;
        this.state = S.InField;
      } else if (this.state === S.StartField || this.state === S.QuoteInQuoted) this.state = S.InField;
      this.field += rest;
    }
    switch (this.state) {
      case S.StartRecord:
        return out;
      case S.InQuoted:
      case S.EscapeInQuoted:
        throw new CsvError(`a quoted field that starts on line ${this.recordLine} is never closed (the data ends inside it)`, this.recordLine);
      case S.Escape:
        throw new CsvError(`the data ends right after an escape character (line ${this.line})`, this.line);
      default:
        this.saveField();
        out.push({ fields: this.record, line: this.recordLine });
        this.record = [];
        this.state = S.StartRecord;
        return out;
    }
  }

  private saveField(): void {
    this.record.push(this.field);
    this.field = '';
    this.state = S.StartField;
  }

  private newline(c: number): void {
    this.line++;
    if (c === 13) this.afterCr = true;
  }

  private endRecord(out: CsvRecord[], c: number): void {
    out.push({ fields: this.record, line: this.recordLine });
    this.record = [];
    this.state = S.StartRecord;
    this.newline(c);
  }
}

/** Parses a whole text (tests, small files). */
export function parseCsv(text: string, dialect: CsvDialect = DIALECTS.excel): string[][] {
  const p = new CsvParser(dialect);
  return [...p.push(text), ...p.end()].map((r) => r.fields);
}

const CANDIDATES = [',', '\t', ';', '|', ':'];

/**
 * Guesses the dialect of a CSV sample (`auto_dialect`): the delimiter that splits the lines into
 * the same number (> 1) of fields most consistently, the quote character that encloses fields, and
 * whether delimiters are followed by a space. Falls back to excel.
 */
export function sniffDialect(sample: string, fixedDelimiter?: string): CsvDialect {
  // Only whole lines count.
  const cut = Math.max(sample.lastIndexOf('\n'), sample.lastIndexOf('\r'));
  const text = cut > 0 ? sample.slice(0, cut) : sample;
  const quotechar = sniffQuote(text, fixedDelimiter);
  let delimiter = fixedDelimiter;
  if (delimiter === undefined) {
    let bestScore = 0;
    for (const cand of CANDIDATES) {
      // The sample may end inside a quoted field: only completed records count.
      const rows = new CsvParser({ ...DIALECTS.excel, delimiter: cand, quotechar })
        .push(text + '\n')
        .slice(0, 50)
        .map((r) => r.fields);
      if (!rows.length) continue;
      const counts = new Map<number, number>();
      for (const r of rows) counts.set(r.length, (counts.get(r.length) ?? 0) + 1);
      let mode = 0;
      let modeRows = 0;
      for (const [len, k] of counts) if (k > modeRows || (k === modeRows && len > mode)) [mode, modeRows] = [len, k];
      if (mode < 2) continue;
      const score = modeRows / rows.length;
      if (score > bestScore) [bestScore, delimiter] = [score, cand];
    }
  }
  delimiter ??= ',';
  const all = text.split(delimiter).length - 1;
  const spaced = text.split(delimiter + ' ').length - 1;
  return { delimiter, quotechar, doublequote: true, escapechar: null, skipinitialspace: all > 0 && all === spaced };
}

function sniffQuote(text: string, delimiter?: string): string {
  const count = (q: string) => {
    const d = delimiter ? delimiter.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : '[,\\t;|:]';
    const re = new RegExp(`(?:^|${d})\\s?${q}[^${q}\\r\\n]*${q}\\s?(?=${d}|$)`, 'gm');
    return text.match(re)?.length ?? 0;
  };
  return count("'") > count('"') ? "'" : '"';
}

// ---------------------------------------------------------------- decoding

export interface TextDecoding {
  /** Decodes the next chunk (streaming). */
  decode(bytes: Uint8Array): string;
  /** Flushes the decoder at the end of the data. */
  end(): string;
  /** Set once a character could not be decoded and was replaced. */
  replaced: boolean;
}

export class DecodeError extends Error {}

/** Python codec names the CSV source accepts, mapped to WHATWG labels (or own decoders). */
function normaliseEncoding(name: string): string {
  const n = name.trim().toLowerCase().replace(/_/g, '-');
  switch (n) {
    case 'utf8':
    case 'utf-8':
    case 'utf-8-sig':
    case 'u8':
      return 'utf-8';
    case 'latin-1':
    case 'latin1':
    case 'iso-8859-1':
    case 'iso8859-1':
    case 'l1':
    case '8859':
    case 'cp819':
      return 'latin1';
    case 'ascii':
    case 'us-ascii':
    case '646':
      return 'ascii';
    case 'utf-16':
    case 'utf16':
      return 'utf-16';
    case 'utf-16le':
    case 'utf-16-le':
      return 'utf-16le';
    case 'utf-16be':
    case 'utf-16-be':
      return 'utf-16be';
  }
  const cp = /^(?:cp|windows-?)(\d{3,4})$/.exec(n);
  if (cp) return `windows-${cp[1]}`;
  return n;
}

/** A streaming decoder for `encoding`; `strict` throws DecodeError on bad bytes, otherwise U+FFFD replaces them. */
export function makeDecoder(encoding: string, strict: boolean): TextDecoding {
  const label = normaliseEncoding(encoding);
  let offset = 0;
  const bad = (at: number) => new DecodeError(`the data is not valid ${encoding} (near byte ${at})`);
  if (label === 'latin1' || label === 'ascii') {
    const ascii = label === 'ascii';
    const d: TextDecoding = {
      replaced: false,
      decode(bytes) {
        let s = '';
        for (let i = 0; i < bytes.length; i += 8192) {
          const part = bytes.subarray(i, i + 8192);
          if (ascii) {
            const j = part.findIndex((b) => b > 127);
            if (j >= 0) {
              if (strict) throw bad(offset + i + j);
              d.replaced = true;
              s += String.fromCharCode(...Array.from(part, (b) => (b > 127 ? 0xfffd : b)));
              continue;
            }
          }
          s += String.fromCharCode(...part);
        }
        offset += bytes.length;
        return s;
      },
      end: () => '',
    };
    return d;
  }
  let decoder: InstanceType<typeof TextDecoder>;
  let check: InstanceType<typeof TextDecoder> | null = null;
  try {
    decoder = new TextDecoder(label === 'utf-16' ? 'utf-16le' : label, { fatal: strict });
    if (!strict) check = new TextDecoder(label === 'utf-16' ? 'utf-16le' : label, { fatal: true });
  } catch {
    throw new Error(`unknown encoding "${encoding}"`);
  }
  let first = true;
  const d: TextDecoding = {
    replaced: false,
    decode(bytes) {
      if (first && label === 'utf-16') {
        first = false;
        // Without a byte order mark UTF-16 is little-endian; a big-endian mark switches.
        if (bytes[0] === 0xfe && bytes[1] === 0xff) {
          decoder = new TextDecoder('utf-16be', { fatal: strict });
          if (check) check = new TextDecoder('utf-16be', { fatal: true });
        }
      }
      first = false;
      try {
        const s = decoder.decode(bytes, { stream: true });
        if (check) {
          try {
            check.decode(bytes, { stream: true });
          } catch {
            check = null;
            d.replaced = true;
          }
        }
        offset += bytes.length;
        return s;
      } catch {
        throw bad(offset);
      }
    },
    end() {
      try {
        const s = decoder.decode();
        if (check) {
          try {
            check.decode();
          } catch {
            d.replaced = true;
          }
        }
        return s;
      } catch {
        throw bad(offset);
      }
    },
  };
  return d;
}
