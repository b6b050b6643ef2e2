/**
 * DTL date and time functions (dtl-functions-date-and-time): conversion, parsing and formatting
 * with strftime-style formats, calendar arithmetic, time zone shifts and `now`.
 *
 * Datetimes are UTC instants with nanosecond precision. Dates (`~t2015-12-31`) are accepted
 * wherever a datetime is and read as midnight UTC of that day. Format strings and time zone
 * names that are literals are compiled once when the DTL is compiled; computed ones are
 * compiled on first use and cached.
 */
import { stringifyValue } from '../../values/json.js';
import { family, optionalFnThenValues, type CheckContext, type EmitContext } from '../spec.js';
import { DtlRuntimeError } from '../runtime.js';
import { DateTime, Decimal, DtlFloat, normaliseInteger, type Value } from '../../values/types.js';
import { civilFromDays, daysFromCivil, MAX_NS, MIN_NS, NS_PER_DAY, NS_PER_SECOND } from '../../values/datetime.js';
import { firstValue, mapEach, SKIP, testFirst, type Converted } from './util.js';
import { FormatFormat, ParseFormat, floorDiv, formatFormat, parseFormat } from './datetime-formats.js';
import { getTimeZone, type TimeZone } from './datetime-zones.js';

const NS_PER_MS = 1_000_000n;

// ---------------------------------------------------------------------------------------------
// Shared helpers

function inRange(ns: bigint): boolean {
  return ns >= MIN_NS && ns <= MAX_NS;
}

/** The time zone named by `name`, or a run-time error for an unknown name. */
export function zoneOrThrow(name: Value): TimeZone {
  if (typeof name !== 'string') throw new DtlRuntimeError(`the time zone name must be a string, got ${describe(name)}`);
  const z = getTimeZone(name);
  if (!z) throw new DtlRuntimeError(`unknown time zone "${name}"`);
  return z;
}

function describe(v: Value): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? v.constructor.name : typeof v;
}

/** The value of argument i when it is a literal string, else undefined. */
function literalString(e: EmitContext, i: number): string | undefined {
  const lit = e.literal(i);
  return lit && typeof lit.value === 'string' ? lit.value : undefined;
}

/** Reports an unknown literal time zone at compile time. */
function checkZone(c: CheckContext, i: number): void {
  const lit = c.literal(i);
  if (!lit) return;
  const v = lit.value;
  if (typeof v !== 'string' || getTimeZone(v) === null) {
    c.diagnostics.error('DTL_ARGUMENT', c.argNodes[i].loc, `"${c.call.fn}": ${stringifyValue(v)} is not a known time zone name (use an IANA name such as "Europe/Oslo" or "UTC")`);
  }
}

function checkParseFormat(c: CheckContext, i: number): void {
  const lit = c.literal(i);
  if (!lit) return;
  if (typeof lit.value !== 'string') {
    c.diagnostics.error('DTL_ARGUMENT', c.argNodes[i].loc, `"${c.call.fn}": the format must be a string`);
    return;
  }
  // A warning only: like Python's strptime, such a format simply never matches (every value is dropped).
  const err = new ParseFormat(lit.value).error;
  if (err) c.diagnostics.warning('DTL_ARGUMENT', c.argNodes[i].loc, `"${c.call.fn}": ${err} in the format string; no value will match it`);
}

// ---------------------------------------------------------------------------------------------
// datetime

const MONTH_DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function monthLength(year: number, month: number): number {
  return month === 2 && (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) ? 29 : MONTH_DAYS[month];
}

function digits(s: string, pos: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(pos + i) - 48;
    if (!(d >= 0 && d <= 9)) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * An ISO 8601 string as a datetime: `YYYY-MM-DD`, optionally followed by `T` (or a space) and
 * `HH:MM[:SS[.fraction]]` and an optional `Z` or `±HH[:]MM` offset (UTC when there is none).
 */
export function datetimeFromString(s: string): DateTime | null {
  const n = s.length;
  if (n < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return null;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > monthLength(year, month)) return null;
  let secs = daysFromCivil(year, month, day) * 86400;
  let nanos = 0;
  let offset = 0;
  if (n > 10) {
    const sep = s.charCodeAt(10);
    if ((sep | 32) !== 116 /* T */ && sep !== 32) return null;
    const hour = digits(s, 11, 2);
    const minute = s.charCodeAt(13) === 58 ? digits(s, 14, 2) : -1;
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return null;
    let p = 16;
    let second = 0;
    if (s.charCodeAt(p) === 58) {
      second = digits(s, p + 1, 2);
      if (second < 0 || second > 59) return null;
      p += 3;
      const c = s.charCodeAt(p);
      if (c === 46 || c === 44) {
        const start = ++p;
        while (p - start < 9) {
          const d = s.charCodeAt(p) - 48;
          if (!(d >= 0 && d <= 9)) break;
          nanos = nanos * 10 + d;
          p++;
        }
        if (p === start) return null;
        for (let k = p - start; k < 9; k++) nanos *= 10;
      }
    }
    secs += hour * 3600 + minute * 60 + second;
    if (p < n) {
      const c = s.charCodeAt(p);
      if ((c | 32) === 122 /* Z */) p++;
      else if (c === 43 || c === 45) {
        const oh = digits(s, p + 1, 2);
        p += 3;
        if (s.charCodeAt(p) === 58) p++;
        const om = digits(s, p, 2);
        p += 2;
        if (oh < 0 || oh > 23 || om < 0 || om > 59) return null;
        offset = (oh * 60 + om) * 60 * (c === 45 ? -1 : 1);
      } else return null;
      if (p !== n) return null;
    }
  }
  let ns = BigInt(secs - offset) * NS_PER_SECOND;
  if (nanos) ns += BigInt(nanos);
  return inRange(ns) ? new DateTime(ns) : null;
}

/** One value as a datetime: datetimes, dates (midnight), ISO strings and integer nanoseconds since the epoch. */
export function toDatetime(x: Value): Converted {
  if (x instanceof DateTime) return x.dateOnly ? new DateTime(x.ns) : x;
  if (typeof x === 'string') return datetimeFromString(x) ?? SKIP;
  if (typeof x === 'number') {
    if (!Number.isInteger(x)) return SKIP;
    const ns = BigInt(x);
    return inRange(ns) ? new DateTime(ns) : SKIP;
  }
  if (typeof x === 'bigint') return inRange(x) ? new DateTime(x) : SKIP;
  return SKIP;
}

export function datetimeValues(v: Value, dflt?: (x: Value) => Value): Value {
  if (dflt === undefined) {
    if (typeof v === 'string') return datetimeFromString(v);
    if (v instanceof DateTime && !v.dateOnly) return v;
  }
  return mapEach(v, toDatetime, dflt);
}

// ---------------------------------------------------------------------------------------------
// datetime-parse / datetime-format

/** datetime-parse over a single string or a list (non-strings and non-matching strings are skipped). */
export function parseValues(fmt: ParseFormat, zone: TimeZone | null, v: Value): Value {
  if (typeof v === 'string') return fmt.parse(v, zone);
  if (Array.isArray(v)) {
    const out: Value[] = [];
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x !== 'string') continue;
      const r = fmt.parse(x, zone);
      if (r !== null) out.push(r);
    }
    return out;
  }
  return null;
}

/** A computed time zone argument of datetime-parse/-format; absent or null means the default, UTC. */
function optionalZone(zoneName: Value | undefined): TimeZone | null {
  return zoneName === undefined || zoneName === null ? null : zoneOrThrow(zoneName);
}

export function parseDynamic(zoneName: Value | undefined, format: Value, v: Value): Value {
  const zone = optionalZone(zoneName);
  if (typeof format !== 'string') return Array.isArray(v) ? [] : null;
  return parseValues(parseFormat(format), zone, v);
}

/** datetime-format over a single datetime or a list (other values are skipped). */
export function formatValues(fmt: FormatFormat, zone: TimeZone | null, v: Value): Value {
  if (v instanceof DateTime) return fmt.format(v, zone);
  if (Array.isArray(v)) {
    const out: Value[] = [];
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x instanceof DateTime) out.push(fmt.format(x, zone));
    }
    return out;
  }
  return null;
}

export function formatDynamic(zoneName: Value | undefined, format: Value, v: Value): Value {
  const zone = optionalZone(zoneName);
  if (typeof format !== 'string') return Array.isArray(v) ? [] : null;
  return formatValues(formatFormat(format), zone, v);
}

/** Emits datetime-parse / datetime-format: `[TIMEZONE], FORMAT, VALUES`. */
function emitFormatted(e: EmitContext, compile: (f: string) => ParseFormat | FormatFormat, apply: (f: never, z: TimeZone | null, v: Value) => Value, dynamic: (z: Value | undefined, f: Value, v: Value) => Value): string {
  const hasZone = e.count === 3;
  const fi = hasZone ? 1 : 0;
  const values = e.arg(fi + 1);
  const fmt = literalString(e, fi);
  const zoneLit = hasZone ? literalString(e, 0) : undefined;
  const zoneKnown = !hasZone || (zoneLit !== undefined && getTimeZone(zoneLit) !== null);
  if (fmt !== undefined && zoneKnown) {
    const zone = hasZone ? getTimeZone(zoneLit!)! : null;
    return `${e.use(apply)}(${e.use(compile(fmt))}, ${zone === null || zone.isUtc ? 'null' : e.use(zone)}, ${values})`;
  }
  return `${e.use(dynamic)}(${hasZone ? e.arg(0) : 'undefined'}, ${e.arg(fi)}, ${values})`;
}

// ---------------------------------------------------------------------------------------------
// datetime-plus / datetime-diff

export type DatePart = 'year' | 'month' | 'week' | 'day' | 'hour' | 'minute' | 'second' | 'millisecond' | 'microsecond' | 'nanosecond';

/** Nanoseconds per unit for the fixed-length date parts. */
const FIXED: Record<string, bigint> = {
  week: 7n * NS_PER_DAY,
  day: NS_PER_DAY,
  hour: 3600n * NS_PER_SECOND,
  minute: 60n * NS_PER_SECOND,
  second: NS_PER_SECOND,
  millisecond: NS_PER_MS,
  microsecond: 1000n,
  nanosecond: 1n,
};

const DATE_PARTS = ['year', 'month', 'week', 'day', 'hour', 'minute', 'second', 'millisecond', 'microsecond', 'nanosecond'];

function datePartOrThrow(v: Value): DatePart {
  if (typeof v === 'string' && DATE_PARTS.includes(v)) return v as DatePart;
  throw new DtlRuntimeError(`the date part must be one of ${DATE_PARTS.join(', ')}; got ${typeof v === 'string' ? JSON.stringify(v) : describe(v)}`);
}

function checkDatePart(c: CheckContext, i: number): void {
  const lit = c.literal(i);
  if (lit && !(typeof lit.value === 'string' && DATE_PARTS.includes(lit.value))) {
    c.diagnostics.error('DTL_ARGUMENT', c.argNodes[i].loc, `"${c.call.fn}": the date part must be one of ${DATE_PARTS.join(', ')}`);
  }
}

interface Civil {
  year: number;
  month: number;
  day: number;
  /** Nanoseconds since midnight. */
  time: bigint;
}

function civilOf(ns: bigint): Civil {
  const days = floorDiv(ns, NS_PER_DAY);
  const c = civilFromDays(Number(days));
  return { year: c.year, month: c.month, day: c.day, time: ns - days * NS_PER_DAY };
}

/** `c` moved by whole months, the day clamped to the end of the month (may leave the valid year range). */
function addMonths(c: Civil, months: number): bigint {
  const total = c.year * 12 + (c.month - 1) + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12 + 1;
  const day = Math.min(c.day, monthLength(year, month));
  return BigInt(daysFromCivil(year, month, day)) * NS_PER_DAY + c.time;
}

/** An integral amount (integers, integral floats and decimals); null otherwise. */
function wholeAmount(v: Value): bigint | null {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : null;
  if (typeof v === 'bigint') return v;
  if (v instanceof DtlFloat) return Number.isFinite(v.value) ? BigInt(v.value) : null;
  if (v instanceof Decimal) return v.isInteger() ? BigInt(v.toFixed(0)) : null;
  return null;
}

/** An amount of a fixed-length unit in nanoseconds (fractions allowed, rounded to the nanosecond). */
function fixedAmount(v: Value, unit: bigint): bigint | null {
  const whole = wholeAmount(v);
  if (whole !== null) return whole * unit;
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt(new Decimal(v).mul(unit.toString()).toDecimalPlaces(0).toFixed(0));
  if (v instanceof Decimal && v.isFinite()) return BigInt(v.mul(unit.toString()).toDecimalPlaces(0).toFixed(0));
  return null;
}

function plusOne(part: DatePart, amount: Value, x: DateTime): DateTime | null {
  if (part === 'year' || part === 'month') {
    const n = wholeAmount(amount);
    if (n === null) return null;
    const months = part === 'year' ? n * 12n : n;
    if (months > 200_000n || months < -200_000n) return null;
    const ns = addMonths(civilOf(x.ns), Number(months));
    return inRange(ns) ? new DateTime(ns, x.dateOnly) : null;
  }
  const delta = fixedAmount(amount, FIXED[part]);
  if (delta === null) return null;
  const ns = x.ns + delta;
  if (!inRange(ns)) return null;
  // A date stays a date when it moves by whole days.
  const dateOnly = x.dateOnly && ns % NS_PER_DAY === 0n;
  return new DateTime(ns, dateOnly);
}

export function datetimePlus(part: DatePart, amount: Value, v: Value): Value {
  const a = firstValue(amount);
  if (Array.isArray(v)) {
    const out: Value[] = [];
    for (const x of v) {
      if (!(x instanceof DateTime)) continue;
      const r = plusOne(part, a, x);
      if (r !== null) out.push(r);
    }
    return out;
  }
  return v instanceof DateTime ? plusOne(part, a, v) : null;
}

export function datetimePlusDynamic(part: Value, amount: Value, v: Value): Value {
  return datetimePlus(datePartOrThrow(part), amount, v);
}

/** Whole months from `b` to `a` (negative when `a` is earlier), counted like a calendar would. */
function monthsBetween(a: bigint, b: bigint): number {
  const ca = civilOf(a);
  const cb = civilOf(b);
  let months = (ca.year - cb.year) * 12 + (ca.month - cb.month);
  let at = addMonths(cb, months);
  if (a < b) {
    while (a > at) at = addMonths(cb, ++months);
  } else {
    while (a < at) at = addMonths(cb, --months);
  }
  return months;
}

/** `a - b` in whole units, truncated towards zero. */
export function datetimeDiff(part: DatePart, start: Value, endValue: Value): Value {
  const a = firstValue(start);
  const b = firstValue(endValue);
  if (!(a instanceof DateTime) || !(b instanceof DateTime)) return null;
  if (part === 'year' || part === 'month') {
    const months = monthsBetween(a.ns, b.ns);
    return part === 'month' ? months : Math.trunc(months / 12);
  }
  return normaliseInteger((a.ns - b.ns) / FIXED[part]);
}

export function datetimeDiffDynamic(part: Value, start: Value, endValue: Value): Value {
  return datetimeDiff(datePartOrThrow(part), start, endValue);
}

// ---------------------------------------------------------------------------------------------
// datetime-shift

/** Reads the wall-clock time of `x` as local time in `from` and returns the wall-clock time of that instant in `to`, stored as UTC. */
function shiftOne(from: TimeZone, to: TimeZone, x: DateTime): DateTime | null {
  let ns = x.ns;
  if (!from.isUtc) {
    const wallMs = Number(floorDiv(ns, NS_PER_MS));
    const shift = wallMs - from.localToUtc(wallMs);
    ns -= BigInt(shift) * NS_PER_MS;
  }
  if (!to.isUtc) ns += BigInt(to.offsetAt(Number(floorDiv(ns, NS_PER_MS)))) * NS_PER_SECOND;
  return inRange(ns) ? new DateTime(ns) : null;
}

export function datetimeShift(from: TimeZone, to: TimeZone, v: Value): Value {
  if (Array.isArray(v)) {
    const out: Value[] = [];
    for (const x of v) {
      if (!(x instanceof DateTime)) continue;
      const r = shiftOne(from, to, x);
      if (r !== null) out.push(r);
    }
    return out;
  }
  return v instanceof DateTime ? shiftOne(from, to, v) : null;
}

export function datetimeShiftDynamic(from: Value, to: Value, v: Value): Value {
  return datetimeShift(zoneOrThrow(from), zoneOrThrow(to), v);
}

// ---------------------------------------------------------------------------------------------
// now / is-datetime

/** The current time (millisecond resolution, from the system clock). */
export function currentTime(): DateTime {
  return new DateTime(BigInt(Date.now()) * NS_PER_MS);
}

export function isDatetime(v: Value): boolean {
  return testFirst(v, (x) => x instanceof DateTime);
}

// ---------------------------------------------------------------------------------------------

export default family('datetime', (def) => {
  def.expression({
    name: 'datetime',
    doc: 'Converts values to datetimes: ISO 8601 strings, integers (nanoseconds since 1970-01-01T00:00:00Z), dates and datetimes; other values are dropped, or replaced by the optional default function.',
    args: optionalFnThenValues,
    min: 1,
    max: 2,
    emit: (e) => (e.count === 2 ? `${e.use(datetimeValues)}(${e.arg(1)}, ${e.arg(0)})` : `${e.use(datetimeValues)}(${e.arg(0)})`),
  });

  def.expression({
    name: 'datetime-parse',
    doc: 'Parses strings with a strptime-style format (%Y %m %d %H %M %S %f %z ...) into datetimes, reading them as local time in the optional time zone (default UTC); strings that do not match are dropped.',
    min: 2,
    max: 3,
    check: (c) => {
      if (c.argNodes.length === 3) checkZone(c, 0);
      checkParseFormat(c, c.argNodes.length - 2);
    },
    emit: (e) => emitFormatted(e, (f) => new ParseFormat(f), parseValues as never, parseDynamic),
  });

  def.expression({
    name: 'datetime-format',
    doc: 'Formats datetimes as strings with a strftime-style format, in the optional time zone (default UTC); other values are dropped.',
    min: 2,
    max: 3,
    check: (c) => {
      if (c.argNodes.length === 3) checkZone(c, 0);
    },
    emit: (e) => emitFormatted(e, (f) => new FormatFormat(f), formatValues as never, formatDynamic),
  });

  def.expression({
    name: 'datetime-plus',
    doc: 'Adds a number of years, months, weeks, days, hours, minutes, seconds, milliseconds, microseconds or nanoseconds to datetimes (months and years keep the day, clamped to the month end).',
    args: ['expr', 'expr', 'expr'],
    check: (c) => checkDatePart(c, 0),
    emit: (e) => {
      const part = literalString(e, 0);
      if (part !== undefined && DATE_PARTS.includes(part)) return `${e.use(datetimePlus)}(${JSON.stringify(part)}, ${e.arg(1)}, ${e.arg(2)})`;
      return `${e.use(datetimePlusDynamic)}(${e.arg(0)}, ${e.arg(1)}, ${e.arg(2)})`;
    },
  });

  def.expression({
    name: 'datetime-diff',
    doc: 'The whole number of a date part (year, month, week, day, hour, ... nanosecond) from the second datetime back to the first (start minus end), truncated towards zero.',
    args: ['expr', 'expr', 'expr'],
    check: (c) => checkDatePart(c, 0),
    emit: (e) => {
      const part = literalString(e, 0);
      if (part !== undefined && DATE_PARTS.includes(part)) return `${e.use(datetimeDiff)}(${JSON.stringify(part)}, ${e.arg(1)}, ${e.arg(2)})`;
      return `${e.use(datetimeDiffDynamic)}(${e.arg(0)}, ${e.arg(1)}, ${e.arg(2)})`;
    },
  });

  def.expression({
    name: 'datetime-shift',
    doc: 'Reinterprets datetimes holding local time of one time zone as local time of another (for example a naive local time read from a file into proper UTC).',
    args: ['expr', 'expr', 'expr'],
    check: (c) => {
      checkZone(c, 0);
      checkZone(c, 1);
    },
    emit: (e) => {
      const from = literalString(e, 0);
      const to = literalString(e, 1);
      if (from !== undefined && to !== undefined) {
        const fz = getTimeZone(from);
        const tz = getTimeZone(to);
        if (fz && tz) return `${e.use(datetimeShift)}(${e.use(fz)}, ${e.use(tz)}, ${e.arg(2)})`;
      }
      return `${e.use(datetimeShiftDynamic)}(${e.arg(0)}, ${e.arg(1)}, ${e.arg(2)})`;
    },
  });

  def.expression({
    name: 'is-datetime',
    doc: 'True when the value, or the first element of a list, is a datetime (or a date).',
    args: ['expr'],
    emit: (e) => `${e.use(isDatetime)}(${e.arg(0)})`,
  });

  def.expression({
    name: 'now',
    doc: 'The current time as a datetime; stable while one entity is evaluated.',
    args: [],
    emit: (e) => `${e.vars.X}.now(${e.use(currentTime)})`,
  });
});
