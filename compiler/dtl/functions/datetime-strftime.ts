/**
 * strftime-style output formats for datetime-format, compiled once per format string: glibc
 * `strftime` in the C locale plus Python's `%f` (microseconds, six digits) and `%N` (nanoseconds,
 * nine digits), with the `-` (no padding), `_` (space padding), `0` and `^` (upper case) flags and
 * a field width. Deviation: `%Y` is always at least four digits (`0001`).
 */
import type { DateTime } from '../../values/types.js';
import { civilFromDays, daysFromCivil, NS_PER_SECOND } from '../../values/datetime.js';
import type { TimeZone } from './datetime-zones.js';
import { floorDiv, mod, MONTHS, NS_PER_MS, WEEKDAYS } from './datetime-names.js';

/** A datetime broken down for formatting, in the target zone. */
interface Broken {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  /** Days since the epoch (of the wall-clock date). */
  days: number;
  /** Offset east of UTC in seconds, or null for a date (no zone). */
  offset: number | null;
  /** The zone (null: UTC); unused for a date. */
  zone: TimeZone | null;
  /** The instant, in nanoseconds since the epoch. */
  ns: bigint;
}

function zoneName(b: Broken): string {
  if (b.offset === null) return '';
  if (b.zone === null || b.zone.isUtc) return 'UTC';
  return b.zone.abbreviation(Number(floorDiv(b.ns, NS_PER_MS)));
}

type Emit = (b: Broken) => string;

function pad(n: number, width: number, flag: string, dflt: '0' | ' '): string {
  const s = String(Math.abs(n));
  const sign = n < 0 ? '-' : '';
  if (flag === '-') return sign + s;
  const ch = flag === '_' ? ' ' : flag === '0' ? '0' : dflt;
  return sign + (s.length >= width ? s : ch.repeat(width - s.length) + s);
}

/** Zero-padded to two digits (the most common case, kept cheap). */
function two(n: number): string {
  return n >= 0 && n < 10 ? '0' + n : '' + n;
}

function weekdayMon0(b: Broken): number {
  return mod(b.days + 3, 7);
}

function yearDay(b: Broken): number {
  return b.days - daysFromCivil(b.year, 1, 1) + 1;
}

/** ISO 8601 week-based year and week number. */
function isoWeek(b: Broken): { year: number; week: number } {
  const wd = weekdayMon0(b);
  const thursday = b.days - wd + 3;
  const y = civilFromDays(thursday).year;
  return { year: y, week: Math.floor((thursday - daysFromCivil(y, 1, 1)) / 7) + 1 };
}

function offsetText(offset: number | null, colon: boolean): string {
  if (offset === null) return '';
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  const h = String(Math.floor(a / 3600)).padStart(2, '0');
  const m = String(Math.floor((a % 3600) / 60)).padStart(2, '0');
  const s = a % 60;
  const sep = colon ? ':' : '';
  return sign + h + sep + m + (s ? sep + String(s).padStart(2, '0') : '');
}

/** The emitter for one directive; undefined for an unknown one (written out literally). */
function directive(d: string, flag: string, width: number): Emit | undefined {
  const num = (w: number, get: (b: Broken) => number, dflt: '0' | ' ' = '0'): Emit => {
    const ww = Math.max(w, width);
    if (flag === '' && dflt === '0' && ww === 2) return (b) => two(get(b));
    return (b) => pad(get(b), ww, flag, dflt);
  };
  const text = (get: (b: Broken) => string): Emit => {
    if (!width) return get;
    return (b) => {
      const s = get(b);
      return s.length >= width ? s : (flag === '0' ? '0' : ' ').repeat(width - s.length) + s;
    };
  };
  const hour12 = (b: Broken) => (b.hour % 12 === 0 ? 12 : b.hour % 12);
  const sub = (f: string): Emit => {
    const c = compileFormatTokens(f);
    return text((b) => runFormat(c, b));
  };
  switch (d) {
    case 'a':
      return text((b) => WEEKDAYS[weekdayMon0(b)].slice(0, 3));
    case 'A':
      return text((b) => WEEKDAYS[weekdayMon0(b)]);
    case 'b':
    case 'h':
      return text((b) => MONTHS[b.month - 1].slice(0, 3));
    case 'B':
      return text((b) => MONTHS[b.month - 1]);
    case 'c':
      return sub('%a %b %e %H:%M:%S %Y');
    case 'C':
      return num(2, (b) => Math.floor(b.year / 100));
    case 'd':
      return num(2, (b) => b.day);
    case 'D':
    case 'x':
      return sub('%m/%d/%y');
    case 'e':
      return num(2, (b) => b.day, ' ');
    case 'f':
      return num(6, (b) => Math.floor(b.nanos / 1000));
    case 'N':
      return num(9, (b) => b.nanos);
    case 'F':
      return sub('%Y-%m-%d');
    case 'g':
      return num(2, (b) => isoWeek(b).year % 100);
    case 'G':
      return num(4, (b) => isoWeek(b).year);
    case 'H':
      return num(2, (b) => b.hour);
    case 'I':
      return num(2, hour12);
    case 'j':
      return num(3, yearDay);
    case 'k':
      return num(2, (b) => b.hour, ' ');
    case 'l':
      return num(2, hour12, ' ');
    case 'm':
      return num(2, (b) => b.month);
    case 'M':
      return num(2, (b) => b.minute);
    case 'n':
      return () => '\n';
    case 'p':
      return text((b) => (b.hour < 12 ? 'AM' : 'PM'));
    case 'P':
      return text((b) => (b.hour < 12 ? 'am' : 'pm'));
    case 'r':
      return sub('%I:%M:%S %p');
    case 'R':
      return sub('%H:%M');
    case 's':
      return text((b) => String(floorDiv(b.ns, NS_PER_SECOND)));
    case 'S':
      return num(2, (b) => b.second);
    case 't':
      return () => '\t';
    case 'T':
    case 'X':
      return sub('%H:%M:%S');
    case 'u':
      return num(1, (b) => weekdayMon0(b) + 1);
    case 'U':
      return num(2, (b) => Math.floor((yearDay(b) - 1 + 7 - ((weekdayMon0(b) + 1) % 7)) / 7));
    case 'V':
      return num(2, (b) => isoWeek(b).week);
    case 'w':
      return num(1, (b) => (weekdayMon0(b) + 1) % 7);
    case 'W':
      return num(2, (b) => Math.floor((yearDay(b) - 1 + 7 - weekdayMon0(b)) / 7));
    case 'y':
      return num(2, (b) => b.year % 100);
    case 'Y':
      return num(4, (b) => b.year);
    case 'z':
      return text((b) => offsetText(b.offset, false));
    case ':z':
      return text((b) => offsetText(b.offset, true));
    case 'Z':
      return text(zoneName);
    case '%':
      return () => '%';
  }
  return undefined;
}

/** Common directives without flags or width are numbered and formatted inline by `runFormat`. */
const enum Fast {
  Year = 0,
  Month,
  Day,
  Hour,
  Minute,
  Second,
  Micro,
}
const FAST: Record<string, Fast> = { Y: Fast.Year, m: Fast.Month, d: Fast.Day, H: Fast.Hour, M: Fast.Minute, S: Fast.Second, f: Fast.Micro };

type FTok = string | Emit | Fast;

/** '00' to '99'. */
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

function compileFormatTokens(format: string): FTok[] {
  const out: FTok[] = [];
  let lit = '';
  for (let i = 0; i < format.length; i++) {
    const ch = format[i];
    if (ch !== '%') {
      lit += ch;
      continue;
    }
    const start = i;
    let j = i + 1;
    let flag = '';
    while (j < format.length && '-_0^#'.includes(format[j])) flag = format[j++];
    let width = 0;
    while (j < format.length && format[j] >= '0' && format[j] <= '9') width = width * 10 + (format.charCodeAt(j++) - 48);
    if (format[j] === 'E' || format[j] === 'O') j++;
    let d = format[j];
    if (d === ':' && format[j + 1] === 'z') {
      d = ':z';
      j++;
    }
    if (d === undefined) {
      lit += format.slice(start);
      break;
    }
    if (flag === '' && width === 0 && FAST[d] !== undefined && format[j - 1] === '%') {
      i = j;
      if (lit) out.push(lit);
      lit = '';
      out.push(FAST[d]);
      continue;
    }
    let emit = directive(d, flag === '^' || flag === '#' ? '' : flag, width);
    if (emit && flag === '^') {
      const inner = emit;
      emit = (b) => inner(b).toUpperCase();
    }
    i = j;
    if (!emit) {
      lit += format.slice(start, j + 1);
      continue;
    }
    if (lit) out.push(lit);
    lit = '';
    out.push(emit);
  }
  if (lit) out.push(lit);
  return out;
}

function runFormat(tokens: FTok[], b: Broken): string {
  let s = '';
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (typeof t === 'string') s += t;
    else if (typeof t === 'number') {
      switch (t) {
        case Fast.Year:
          s += b.year >= 1000 ? '' + b.year : pad(b.year, 4, '', '0');
          break;
        case Fast.Month:
          s += TWO_DIGITS[b.month];
          break;
        case Fast.Day:
          s += TWO_DIGITS[b.day];
          break;
        case Fast.Hour:
          s += TWO_DIGITS[b.hour];
          break;
        case Fast.Minute:
          s += TWO_DIGITS[b.minute];
          break;
        case Fast.Second:
          s += TWO_DIGITS[b.second];
          break;
        case Fast.Micro:
          s += pad(Math.floor(b.nanos / 1000), 6, '', '0');
          break;
      }
    } else s += t(b);
  }
  return s;
}

/** A compiled strftime-style format. */
export class FormatFormat {
  private readonly tokens: FTok[];

  constructor(readonly pattern: string) {
    this.tokens = compileFormatTokens(pattern);
  }

  /** Formats a datetime in `zone` (null: UTC). Dates are formatted as their calendar day, without a zone. */
  format(dt: DateTime, zone: TimeZone | null): string {
    splitMillis(dt.ns);
    const ms = splitMs;
    const subMs = splitSubMs;
    let offset: number | null = 0;
    let wallMs = ms;
    if (dt.dateOnly) offset = null;
    else if (zone !== null && !zone.isUtc) {
      offset = zone.offsetAt(ms);
      wallMs += offset * 1000;
    }
    const s = Math.floor(wallMs / 1000);
    const nanos = (wallMs - s * 1000) * 1_000_000 + subMs;
    const days = Math.floor(s / 86400);
    const sod = s - days * 86400;
    const c = civilFromDays(days);
    const b: Broken = {
      year: c.year,
      month: c.month,
      day: c.day,
      hour: Math.floor(sod / 3600),
      minute: Math.floor((sod % 3600) / 60),
      second: sod % 60,
      nanos,
      days,
      offset,
      zone,
      ns: dt.ns,
    };
    return runFormat(this.tokens, b);
  }
}

// Splitting nanoseconds into milliseconds and the rest without BigInt division when the value fits
// in 64 bits (1677-2262): the bits are read as two 32-bit halves and divided exactly in doubles.
const I64 = new BigInt64Array(1);
const U32 = new Uint32Array(I64.buffer);
const I32 = new Int32Array(I64.buffer);
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
let splitMs = 0;
let splitSubMs = 0;

function splitMillis(ns: bigint): void {
  if (LITTLE_ENDIAN && ns >= INT64_MIN && ns <= INT64_MAX) {
    I64[0] = ns;
    const hi = I32[1];
    // ns = hi * 2^32 + lo = hi * 4294 * 10^6 + (hi * 967296 + lo)
    const r = hi * 967296 + U32[0];
    const q = Math.floor(r / 1e6);
    splitMs = hi * 4294 + q;
    splitSubMs = r - q * 1e6;
    return;
  }
  const msBig = floorDiv(ns, NS_PER_MS);
  splitMs = Number(msBig);
  splitSubMs = Number(ns - msBig * NS_PER_MS);
}
