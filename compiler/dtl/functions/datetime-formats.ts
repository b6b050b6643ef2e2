/**
 * strftime/strptime-style format strings for datetime-format and datetime-parse, compiled once
 * per format string.
 *
 * Parsing follows the matching rules of Python's `strptime` (which Sesam's format strings are
 * modelled on): numeric fields accept one or two digits where Python does, literal text and
 * names match case-insensitively, a run of whitespace in the format matches one or more
 * whitespace characters, and the whole input must be consumed. Fields that are absent default to
 * 1900-01-01 00:00:00. Extensions: `%f` reads up to nine fraction digits (nanoseconds are kept),
 * `%e` reads a day like `%d`, and `%N` reads/writes a nine-digit nanosecond fraction.
 *
 * The parser is a hand-written scanner that makes the same choice as the first alternative of
 * Python's regular expression at each field. Only when that greedy reading fails and the format
 * has adjacent fields (where a shorter reading of one field could let the next one match) does it
 * fall back to an equivalent backtracking RegExp, built lazily once per format.
 *
 * Formatting follows glibc `strftime` in the C locale plus Python's `%f` (microseconds, six
 * digits), with the `-` (no padding), `_` (space padding), `0` and `^` (upper case) flags and a
 * field width. Deviation: `%Y` is always at least four digits (`0001`).
 */
import { DateTime } from '../../values/types.js';
import { civilFromDays, daysFromCivil, isLeapYear, MAX_NS, MIN_NS, NS_PER_SECOND } from '../../values/datetime.js';
import type { TimeZone } from './datetime-zones.js';

const MONTH_DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

// ---------------------------------------------------------------------------------------------
// Parsing

const enum P {
  Lit,
  Ws,
  Year4,
  Year2,
  Month,
  Day,
  Hour24,
  Hour12,
  Minute,
  Second,
  Frac,
  Nanos,
  AmPm,
  Offset,
  TzName,
  YearDay,
  WeekSun,
  WeekMon,
  WeekdaySun0,
  WeekdayMon1,
  WeekdayName,
  MonthName,
  IsoYear,
  IsoWeek,
}

interface PTok {
  op: P;
  /** Lower-cased literal text (Lit). */
  lit: string;
  /** Candidate names, longest first, each with its index (WeekdayName, MonthName). */
  names: { text: string; index: number }[] | null;
}

/** Fields collected while reading one input. */
class Fields {
  year = 1900;
  month = 1;
  day = 1;
  hour = 0;
  hour12 = 0;
  useHour12 = false;
  /** 0: none seen, 1: am, 2: pm */
  ampm = 0;
  minute = 0;
  second = 0;
  nanos = 0;
  julian = -1;
  weekday = -1;
  week = -1;
  weekStartsMonday = false;
  isoYear = -1;
  isoWeek = -1;
  /** Offset in nanoseconds east of UTC from %z, or NaN. */
  offset = NaN;

  reset(): void {
    this.year = 1900;
    this.month = 1;
    this.day = 1;
    this.hour = 0;
    this.hour12 = 0;
    this.useHour12 = false;
    this.ampm = 0;
    this.minute = 0;
    this.second = 0;
    this.nanos = 0;
    this.julian = -1;
    this.weekday = -1;
    this.week = -1;
    this.weekStartsMonday = false;
    this.isoYear = -1;
    this.isoWeek = -1;
    this.offset = NaN;
  }
}

function namesLongestFirst(full: string[], abbreviated: boolean): { text: string; index: number }[] {
  return full.map((n, index) => ({ text: (abbreviated ? n.slice(0, 3) : n).toLowerCase(), index })).sort((a, b) => b.text.length - a.text.length);
}

const MONTH_FULL = namesLongestFirst(MONTHS, false);
const MONTH_ABBR = namesLongestFirst(MONTHS, true);
const WEEKDAY_FULL = namesLongestFirst(WEEKDAYS, false);
const WEEKDAY_ABBR = namesLongestFirst(WEEKDAYS, true);

/** Python's patterns for each field, used by the backtracking fallback. */
function fieldPattern(t: PTok): string {
  switch (t.op) {
    case P.Year4:
    case P.IsoYear:
      return '(\\d\\d\\d\\d)';
    case P.Year2:
      return '(\\d\\d)';
    case P.Month:
    case P.Hour12:
      return '(1[0-2]|0[1-9]|[1-9])';
    case P.Day:
      return '(3[01]|[12]\\d|0[1-9]|[1-9]| [1-9])';
    case P.Hour24:
      return '(2[0-3]|[01]\\d|\\d)';
    case P.Minute:
      return '([0-5]\\d|\\d)';
    case P.Second:
      return '(6[01]|[0-5]\\d|\\d)';
    case P.Frac:
    case P.Nanos:
      return '(\\d{1,9})';
    case P.AmPm:
      return '(am|pm)';
    case P.Offset:
      return '([+-]\\d\\d:?[0-5]\\d(?::?[0-5]\\d(?:\\.\\d{1,6})?)?|Z)';
    case P.TzName:
      return '(utc|gmt)';
    case P.YearDay:
      return '(36[0-6]|3[0-5]\\d|[12]\\d\\d|0[1-9]\\d|00[1-9]|[1-9]\\d|0[1-9]|[1-9])';
    case P.WeekSun:
    case P.WeekMon:
      return '(5[0-3]|[0-4]\\d|\\d)';
    case P.IsoWeek:
      return '(5[0-3]|0[1-9]|[1-4]\\d|\\d)';
    case P.WeekdaySun0:
      return '([0-6])';
    case P.WeekdayMon1:
      return '([1-7])';
    case P.WeekdayName:
    case P.MonthName:
      return `(${t.names!.map((n) => n.text).join('|')})`;
    case P.Ws:
      return '\\s+';
    case P.Lit:
      return t.lit.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
}

// Scanner helpers. `end` carries the position after the last successful read.
let end = 0;

function digitAt(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

/** Two digits in [lo2, hi2], else one digit in [lo1, hi1]; -1 when neither. */
function read12(s: string, pos: number, lo2: number, hi2: number, lo1: number, hi1: number): number {
  const a = digitAt(s, pos);
  if (a < 0) return -1;
  const b = digitAt(s, pos + 1);
  if (b >= 0) {
    const v = a * 10 + b;
    if (v >= lo2 && v <= hi2) {
      end = pos + 2;
      return v;
    }
  }
  if (a >= lo1 && a <= hi1) {
    end = pos + 1;
    return a;
  }
  return -1;
}

function readFixed(s: string, pos: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = digitAt(s, pos + i);
    if (d < 0) return -1;
    v = v * 10 + d;
  }
  end = pos + n;
  return v;
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || (c > 127 && /\s/.test(String.fromCharCode(c)));
}

function readName(s: string, pos: number, names: { text: string; index: number }[]): number {
  outer: for (const n of names) {
    const t = n.text;
    if (pos + t.length > s.length) continue;
    for (let i = 0; i < t.length; i++) {
      let c = s.charCodeAt(pos + i);
      if (c >= 65 && c <= 90) c += 32;
      if (c !== t.charCodeAt(i)) continue outer;
    }
    end = pos + t.length;
    return n.index;
  }
  return -1;
}

/** Reads one field at `pos` into `f`; returns the position after it or -1. */
function readToken(t: PTok, s: string, pos: number, f: Fields): number {
  let v: number;
  switch (t.op) {
    case P.Lit: {
      const lit = t.lit;
      const n = lit.length;
      if (pos + n > s.length) return -1;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(pos + i);
        const l = lit.charCodeAt(i);
        if (c === l) continue;
        if (c >= 65 && c <= 90 && c + 32 === l) continue;
        if (c > 127 && s[pos + i].toLowerCase() === lit[i]) continue;
        return -1;
      }
      return pos + n;
    }
    case P.Ws: {
      let i = pos;
      while (i < s.length && isSpace(s.charCodeAt(i))) i++;
      return i > pos ? i : -1;
    }
    case P.Year4:
      v = readFixed(s, pos, 4);
      if (v < 0) return -1;
      f.year = v;
      return end;
    case P.Year2:
      v = readFixed(s, pos, 2);
      if (v < 0) return -1;
      f.year = v < 69 ? 2000 + v : 1900 + v;
      return end;
    case P.IsoYear:
      v = readFixed(s, pos, 4);
      if (v < 0) return -1;
      f.isoYear = v;
      return end;
    case P.Month:
      v = read12(s, pos, 1, 12, 1, 9);
      if (v < 0) return -1;
      f.month = v;
      return end;
    case P.Day:
      v = read12(s, pos, 1, 31, 1, 9);
      if (v < 0) {
        // Python also accepts a space-padded single digit.
        if (s.charCodeAt(pos) !== 32) return -1;
        v = digitAt(s, pos + 1);
        if (v < 1) return -1;
        end = pos + 2;
      }
      f.day = v;
      return end;
    case P.Hour24:
      v = read12(s, pos, 0, 23, 0, 9);
      if (v < 0) return -1;
      f.hour = v;
      f.useHour12 = false;
      return end;
    case P.Hour12:
      v = read12(s, pos, 1, 12, 1, 9);
      if (v < 0) return -1;
      f.hour12 = v;
      f.useHour12 = true;
      return end;
    case P.Minute:
      v = read12(s, pos, 0, 59, 0, 9);
      if (v < 0) return -1;
      f.minute = v;
      return end;
    case P.Second:
      v = read12(s, pos, 0, 61, 0, 9);
      if (v < 0) return -1;
      f.second = v;
      return end;
    case P.Frac:
    case P.Nanos: {
      let i = pos;
      let ns = 0;
      while (i - pos < 9) {
        const d = digitAt(s, i);
        if (d < 0) break;
        ns = ns * 10 + d;
        i++;
      }
      if (i === pos) return -1;
      for (let k = i - pos; k < 9; k++) ns *= 10;
      f.nanos = ns;
      return i;
    }
    case P.AmPm: {
      const a = s.charCodeAt(pos) | 0x20;
      const m = s.charCodeAt(pos + 1) | 0x20;
      if (m !== 109 /* m */ || (a !== 97 /* a */ && a !== 112) /* p */) return -1;
      f.ampm = a === 97 ? 1 : 2;
      return pos + 2;
    }
    case P.TzName: {
      const a = s.charCodeAt(pos) | 0x20;
      const b = s.charCodeAt(pos + 1) | 0x20;
      const c = s.charCodeAt(pos + 2) | 0x20;
      if ((a === 117 && b === 116 && c === 99) /* utc */ || (a === 103 && b === 109 && c === 116) /* gmt */) return pos + 3;
      return -1;
    }
    case P.Offset:
      return readOffset(s, pos, f);
    case P.YearDay: {
      const a = readFixed(s, pos, 3);
      if (a >= 1 && a <= 366) {
        f.julian = a;
        return end;
      }
      v = read12(s, pos, 1, 99, 1, 9);
      if (v < 0) return -1;
      f.julian = v;
      return end;
    }
    case P.WeekSun:
    case P.WeekMon:
      v = read12(s, pos, 0, 53, 0, 9);
      if (v < 0) return -1;
      f.week = v;
      f.weekStartsMonday = t.op === P.WeekMon;
      return end;
    case P.IsoWeek:
      v = read12(s, pos, 1, 53, 0, 9);
      if (v < 0) return -1;
      f.isoWeek = v;
      return end;
    case P.WeekdaySun0:
      v = digitAt(s, pos);
      if (v < 0 || v > 6) return -1;
      f.weekday = v === 0 ? 6 : v - 1;
      return pos + 1;
    case P.WeekdayMon1:
      v = digitAt(s, pos);
      if (v < 1 || v > 7) return -1;
      f.weekday = v - 1;
      return pos + 1;
    case P.WeekdayName:
      v = readName(s, pos, t.names!);
      if (v < 0) return -1;
      f.weekday = v;
      return end;
    case P.MonthName:
      v = readName(s, pos, t.names!);
      if (v < 0) return -1;
      f.month = v + 1;
      return end;
  }
}

/** `Z`, or ±HH[:]MM with optional [:]SS[.ffffff]; the colon use must be consistent. */
function readOffset(s: string, pos: number, f: Fields): number {
  const sign = s.charCodeAt(pos);
  if (sign === 90 /* Z */) {
    f.offset = 0;
    return pos + 1;
  }
  if (sign !== 43 && sign !== 45) return -1;
  const hours = readFixed(s, pos + 1, 2);
  if (hours < 0) return -1;
  let i = pos + 3;
  const colon = s.charCodeAt(i) === 58;
  if (colon) i++;
  const m1 = digitAt(s, i);
  const m2 = digitAt(s, i + 1);
  if (m1 < 0 || m1 > 5 || m2 < 0) return -1;
  const minutes = m1 * 10 + m2;
  i += 2;
  let seconds = 0;
  let fraction = 0;
  // Optional seconds (and fraction), taken when they read completely.
  let j = i;
  const colon2 = s.charCodeAt(j) === 58;
  if (colon2) j++;
  const s1 = digitAt(s, j);
  const s2 = digitAt(s, j + 1);
  if (s1 >= 0 && s1 <= 5 && s2 >= 0) {
    if (colon !== colon2) return -1;
    seconds = s1 * 10 + s2;
    j += 2;
    if (s.charCodeAt(j) === 46 /* . */ && digitAt(s, j + 1) >= 0) {
      let k = j + 1;
      let digits = 0;
      while (digits < 6 && digitAt(s, k) >= 0) {
        fraction = fraction * 10 + digitAt(s, k);
        k++;
        digits++;
      }
      for (; digits < 9; digits++) fraction *= 10;
      j = k;
    }
    i = j;
  }
  const total = (hours * 3600 + minutes * 60 + seconds) * 1e9 + fraction;
  if (total >= 86400e9) return -1;
  f.offset = sign === 45 ? -total : total;
  return i;
}

const NS_PER_MS = 1_000_000n;

/** Whether a token reads a variable number of characters (so a later failure may call for backtracking). */
function variableWidth(op: P): boolean {
  return !(op === P.Lit || op === P.Year4 || op === P.Year2 || op === P.IsoYear || op === P.WeekdaySun0 || op === P.WeekdayMon1 || op === P.AmPm || op === P.TzName);
}

type Greedy = (s: string, f: Fields) => number;

/**
 * Generates straight-line JavaScript for the greedy reading of a format: literal characters and
 * the common numeric fields are inlined, the rest call `readToken`. Returns the position after the
 * last token, or -1.
 */
function compileGreedy(tokens: PTok[]): Greedy {
  const lines: string[] = [];
  const digit = (v: string) => `${v} >= 0 && ${v} <= 9`;
  const generic = (k: number) => lines.push(`p = rt(T[${k}], s, p, f); if (p < 0) return -1;`);
  const twoOrOne = (k: number, field: string, lo2: number, hi2: number, lo1: number, hi1: number, extra = '') => {
    lines.push(`a = s.charCodeAt(p) - 48; b = s.charCodeAt(p + 1) - 48;`);
    lines.push(`if (${digit('a')} && ${digit('b')} && (v = a * 10 + b) >= ${lo2} && v <= ${hi2}) p += 2;`);
    lines.push(`else if (a >= ${lo1} && a <= ${hi1}) { v = a; p += 1; }`);
    // Day of month: Python also accepts a space-padded single digit (space - 48 = -16).
    if (tokens[k].op === P.Day) lines.push(`else if (a === -16 && b >= 1 && b <= 9) { v = b; p += 2; }`);
    lines.push(`else return -1;`);
    lines.push(`f.${field} = v;${extra}`);
  };
  tokens.forEach((t, k) => {
    switch (t.op) {
      case P.Lit: {
        if (/[^\x00-\x7f]/.test(t.lit)) return generic(k);
        for (let i = 0; i < t.lit.length; i++) {
          const c = t.lit.charCodeAt(i);
          if (c >= 97 && c <= 122) lines.push(`if ((s.charCodeAt(p + ${i}) | 32) !== ${c}) return -1;`);
          else lines.push(`if (s.charCodeAt(p + ${i}) !== ${c}) return -1;`);
        }
        lines.push(`p += ${t.lit.length};`);
        return;
      }
      case P.Year4:
      case P.IsoYear:
      case P.Year2: {
        const n = t.op === P.Year2 ? 2 : 4;
        const vars = ['a', 'b', 'c', 'v'].slice(0, n);
        lines.push(vars.map((v, i) => `${v} = s.charCodeAt(p + ${i}) - 48;`).join(' '));
        lines.push(`if (!(${vars.map(digit).join(' && ')})) return -1;`);
        if (n === 4) lines.push(`${t.op === P.IsoYear ? 'f.isoYear' : 'f.year'} = a * 1000 + b * 100 + c * 10 + v; p += 4;`);
        else lines.push(`v = a * 10 + b; f.year = v < 69 ? 2000 + v : 1900 + v; p += 2;`);
        return;
      }
      case P.Month:
        return twoOrOne(k, 'month', 1, 12, 1, 9);
      case P.Day:
        return twoOrOne(k, 'day', 1, 31, 1, 9);
      case P.Hour24:
        return twoOrOne(k, 'hour', 0, 23, 0, 9, ' f.useHour12 = false;');
      case P.Hour12:
        return twoOrOne(k, 'hour12', 1, 12, 1, 9, ' f.useHour12 = true;');
      case P.Minute:
        return twoOrOne(k, 'minute', 0, 59, 0, 9);
      case P.Second:
        return twoOrOne(k, 'second', 0, 61, 0, 9);
      case P.Frac:
      case P.Nanos:
        lines.push(`v = 0; c = p;`);
        lines.push(`while (p - c < 9) { a = s.charCodeAt(p) - 48; if (!(${digit('a')})) break; v = v * 10 + a; p++; }`);
        lines.push(`if (p === c) return -1;`);
        lines.push(`for (a = p - c; a < 9; a++) v *= 10;`);
        lines.push(`f.nanos = v;`);
        return;
      default:
        return generic(k);
    }
  });
  const src = `return function greedy(s, f) {\nlet p = 0, a = 0, b = 0, c = 0, v = 0;\n${lines.join('\n')}\nreturn p;\n};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('rt', 'T', src)(readToken, tokens) as Greedy;
}

/** A compiled strptime-style format. */
export class ParseFormat {
  /** Set when the format cannot be used (stray or unknown directive); it then matches nothing. */
  readonly error: string | null;
  private readonly tokens: PTok[];
  private readonly fields = new Fields();
  private readonly greedy: Greedy;
  /** Whether a greedy failure may still match with backtracking. */
  private readonly mayBacktrack: boolean;
  private fallback: { re: RegExp; groups: number[] } | null = null;

  constructor(readonly format: string) {
    const { tokens, error } = tokenizeParse(format);
    this.tokens = tokens;
    this.error = error;
    this.greedy = compileGreedy(tokens);
    // Backtracking can only help when a variable-width field is followed by something that could
    // also have started inside it: another field, or literal text starting with a digit, sign,
    // colon, period or space.
    let backtrack = false;
    for (let i = 1; i < tokens.length; i++) {
      if (!variableWidth(tokens[i - 1].op)) continue;
      const next = tokens[i];
      if (next.op !== P.Lit || /^[\d\s:.+-]/.test(next.lit)) backtrack = true;
    }
    this.mayBacktrack = backtrack;
  }

  /** Parses `s` as a wall-clock time in `zone` (null: UTC) unless it carries an offset; null when it does not match. */
  parse(s: string, zone: TimeZone | null): DateTime | null {
    if (this.error !== null) return null;
    const f = this.fields;
    f.reset();
    const pos = this.greedy(s, f);
    if (pos < 0) {
      if (!this.mayBacktrack || !this.readWithRegex(s, f)) return null;
    } else if (pos !== s.length) return null;
    return finish(f, zone);
  }

  private readWithRegex(s: string, f: Fields): boolean {
    if (!this.fallback) {
      const groups: number[] = [];
      let g = 0;
      const src = this.tokens
        .map((t, i) => {
          const p = fieldPattern(t);
          if (t.op !== P.Lit && t.op !== P.Ws) groups[i] = ++g;
          return p;
        })
        .join('');
      // Like Python: match at the start, then require that nothing is left over.
      this.fallback = { re: new RegExp(`^(?:${src})`, 'i'), groups };
    }
    const m = this.fallback.re.exec(s);
    if (!m || m[0].length !== s.length) return false;
    f.reset();
    const toks = this.tokens;
    for (let i = 0; i < toks.length; i++) {
      const g = this.fallback.groups[i];
      if (g === undefined) continue;
      const text = m[g];
      if (readToken(toks[i], text, 0, f) !== text.length) return false;
    }
    return true;
  }
}

/** Turns collected fields into a datetime (null when they do not form a valid one). */
function finish(f: Fields, zone: TimeZone | null): DateTime | null {
  let year = f.year;
  let month = f.month;
  let day = f.day;
  let julian = f.julian;
  if (f.isoYear >= 0) {
    if (julian >= 0 || f.isoWeek < 0 || f.weekday < 0) return null;
  } else if (f.isoWeek >= 0) return null;
  if (julian < 0 && f.weekday >= 0) {
    let computed = false;
    if (f.week >= 0) {
      julian = julianFromWeek(year, f.week, f.weekday, f.weekStartsMonday);
      computed = true;
    } else if (f.isoYear >= 0) {
      const jan4 = daysFromCivil(f.isoYear, 1, 4);
      const correction = mod(jan4 + 3, 7) + 1 + 3; // ISO weekday of 4 January, plus 3
      julian = f.isoWeek * 7 + f.weekday + 1 - correction;
      year = f.isoYear;
      computed = true;
    }
    if (computed && julian <= 0) {
      year -= 1;
      julian += isLeapYear(year) ? 366 : 365;
    }
  }
  let days: number;
  if (julian >= 0) {
    days = daysFromCivil(year, 1, 1) + julian - 1;
    const c = civilFromDays(days);
    year = c.year;
    month = c.month;
    day = c.day;
  } else {
    if (day > (month === 2 && isLeapYear(year) ? 29 : MONTH_DAYS[month])) return null;
    days = daysFromCivil(year, month, day);
  }
  if (year < 1 || year > 9999) return null;
  let hour = f.hour;
  if (f.useHour12) {
    hour = f.hour12;
    if (f.ampm === 2) {
      if (hour !== 12) hour += 12;
    } else if (hour === 12) hour = 0;
  }
  if (f.second > 59) return null;
  const seconds = days * 86400 + hour * 3600 + f.minute * 60 + f.second;
  let ns = BigInt(seconds) * NS_PER_SECOND;
  if (f.nanos !== 0) ns += BigInt(f.nanos);
  if (f.offset === f.offset) {
    if (f.offset !== 0) ns -= BigInt(f.offset);
  } else if (zone !== null && !zone.isUtc) {
    const wallMs = seconds * 1000 + Math.floor(f.nanos / 1e6);
    const shift = wallMs - zone.localToUtc(wallMs);
    if (shift !== 0) ns -= BigInt(shift) * NS_PER_MS;
  } else return new DateTime(ns);
  return ns < MIN_NS || ns > MAX_NS ? null : new DateTime(ns);
}

function mod(a: number, b: number): number {
  const r = a % b;
  return r < 0 ? r + b : r;
}

/** Day of the year from a %U/%W week number and a Monday-based weekday (Python's rule, may be <= 0). */
function julianFromWeek(year: number, week: number, weekday: number, startsMonday: boolean): number {
  let first = mod(daysFromCivil(year, 1, 1) + 3, 7); // Monday = 0
  let dow = weekday;
  if (!startsMonday) {
    first = (first + 1) % 7;
    dow = (dow + 1) % 7;
  }
  if (week === 0) return 1 + dow - first;
  const week0Length = (7 - first) % 7;
  return 1 + week0Length + 7 * (week - 1) + dow;
}

function tokenizeParse(format: string): { tokens: PTok[]; error: string | null } {
  const tokens: PTok[] = [];
  let error: string | null = null;
  let lit = '';
  const flush = () => {
    if (lit) tokens.push({ op: P.Lit, lit: lit.toLowerCase(), names: null });
    lit = '';
  };
  const field = (op: P, names: PTok['names'] = null) => {
    flush();
    tokens.push({ op, lit: '', names });
  };
  const expand = (sub: string) => {
    const inner = tokenizeParse(sub).tokens;
    flush();
    tokens.push(...inner);
  };
  for (let i = 0; i < format.length; i++) {
    const ch = format[i];
    if (isSpace(format.charCodeAt(i))) {
      flush();
      if (tokens.length === 0 || tokens[tokens.length - 1].op !== P.Ws) tokens.push({ op: P.Ws, lit: '', names: null });
      continue;
    }
    if (ch !== '%') {
      lit += ch;
      continue;
    }
    const d = format[++i];
    switch (d) {
      case 'Y':
        field(P.Year4);
        break;
      case 'y':
        field(P.Year2);
        break;
      case 'G':
        field(P.IsoYear);
        break;
      case 'm':
        field(P.Month);
        break;
      case 'd':
      case 'e':
        field(P.Day);
        break;
      case 'H':
        field(P.Hour24);
        break;
      case 'I':
        field(P.Hour12);
        break;
      case 'M':
        field(P.Minute);
        break;
      case 'S':
        field(P.Second);
        break;
      case 'f':
        field(P.Frac);
        break;
      case 'N':
        field(P.Nanos);
        break;
      case 'p':
        field(P.AmPm);
        break;
      case 'z':
        field(P.Offset);
        break;
      case 'Z':
        field(P.TzName);
        break;
      case 'j':
        field(P.YearDay);
        break;
      case 'U':
        field(P.WeekSun);
        break;
      case 'W':
        field(P.WeekMon);
        break;
      case 'V':
        field(P.IsoWeek);
        break;
      case 'w':
        field(P.WeekdaySun0);
        break;
      case 'u':
        field(P.WeekdayMon1);
        break;
      case 'a':
        field(P.WeekdayName, WEEKDAY_ABBR);
        break;
      case 'A':
        field(P.WeekdayName, WEEKDAY_FULL);
        break;
      case 'b':
      case 'h':
        field(P.MonthName, MONTH_ABBR);
        break;
      case 'B':
        field(P.MonthName, MONTH_FULL);
        break;
      case 'c':
        expand('%a %b %d %H:%M:%S %Y');
        break;
      case 'x':
      case 'D':
        expand('%m/%d/%y');
        break;
      case 'X':
      case 'T':
        expand('%H:%M:%S');
        break;
      case 'F':
        expand('%Y-%m-%d');
        break;
      case 'R':
        expand('%H:%M');
        break;
      case '%':
        lit += '%';
        break;
      case undefined:
        error ??= 'the format string ends with a lone "%"';
        break;
      default:
        error ??= `"%${d}" is not a supported directive`;
    }
  }
  flush();
  return { tokens, error };
}

// ---------------------------------------------------------------------------------------------
// Formatting

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

export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a < 0n && q * b !== a ? q - 1n : q;
}

const parseCache = new Map<string, ParseFormat>();
const formatCache = new Map<string, FormatFormat>();

/** A compiled parse format, cached for formats that are only known at run time. */
export function parseFormat(format: string): ParseFormat {
  let f = parseCache.get(format);
  if (!f) {
    f = new ParseFormat(format);
    if (parseCache.size >= 256) parseCache.clear();
    parseCache.set(format, f);
  }
  return f;
}

/** A compiled output format, cached for formats that are only known at run time. */
export function formatFormat(format: string): FormatFormat {
  let f = formatCache.get(format);
  if (!f) {
    f = new FormatFormat(format);
    if (formatCache.size >= 256) formatCache.clear();
    formatCache.set(format, f);
  }
  return f;
}
