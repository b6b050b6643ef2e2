/**
 * strptime-style parse formats for datetime-parse, compiled once per format string.
 *
 * Parsing follows the matching rules of Python's `strptime` (which Sesam's format strings are
 * modelled on): numeric fields accept one or two digits where Python does, literal text and
 * names match case-insensitively, a run of whitespace in the format matches one or more
 * whitespace characters, and the whole input must be consumed. Fields that are absent default to
 * 1900-01-01 00:00:00. Extensions: `%f` reads up to nine fraction digits (nanoseconds are kept),
 * `%e` reads a day like `%d`, and `%N` reads a nine-digit nanosecond fraction.
 *
 * The parser is a hand-written scanner that makes the same choice as the first alternative of
 * Python's regular expression at each field. Only when that greedy reading fails and the format
 * has adjacent fields (where a shorter reading of one field could let the next one match) does it
 * fall back to an equivalent backtracking RegExp, built lazily once per format.
 */
import { DateTime } from '../../values/types.js';
import { civilFromDays, daysFromCivil, daysInMonth, isLeapYear, MAX_NS, MIN_NS, NS_PER_SECOND } from '../../values/datetime.js';
import type { TimeZone } from './datetime-zones.js';
import { mod, NS_PER_MS } from './datetime-names.js';
import { isSpace, P, tokenizeParse, type PTok } from './datetime-strptime-tokens.js';

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
    if (day > daysInMonth(year, month)) return null;
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

