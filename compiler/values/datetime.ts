import { DateTime } from './types.js';

export const NS_PER_SECOND = 1_000_000_000n;
export const NS_PER_DAY = 86_400n * NS_PER_SECOND;

/** Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: era * 400 + yoe + (month <= 2 ? 1 : 0), month, day };
}

export function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeapYear(y) ? 29 : 28) : MONTH_DAYS[m - 1];
}

export interface DateTimeParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanosecond: number;
}

export const MIN_NS = BigInt(daysFromCivil(1, 1, 1)) * NS_PER_DAY;
export const MAX_NS = BigInt(daysFromCivil(9999, 12, 31) + 1) * NS_PER_DAY - 1n;

/** Builds a datetime from calendar parts; returns null when a part is out of range. */
export function fromParts(p: DateTimeParts, dateOnly = false): DateTime | null {
  if (p.month < 1 || p.month > 12 || p.day < 1 || p.day > daysInMonth(p.year, p.month)) return null;
  if (p.hour < 0 || p.hour > 23 || p.minute < 0 || p.minute > 59 || p.second < 0 || p.second > 59) return null;
  if (p.year < 1 || p.year > 9999) return null;
  const days = daysFromCivil(p.year, p.month, p.day);
  const seconds = days * 86400 + p.hour * 3600 + p.minute * 60 + p.second;
  return new DateTime(BigInt(seconds) * NS_PER_SECOND + BigInt(p.nanosecond), dateOnly);
}

export function toParts(dt: DateTime): DateTimeParts {
  let seconds = dt.ns / NS_PER_SECOND;
  let nanos = dt.ns % NS_PER_SECOND;
  if (nanos < 0n) {
    nanos += NS_PER_SECOND;
    seconds -= 1n;
  }
  const s = Number(seconds);
  const days = Math.floor(s / 86400);
  const secOfDay = s - days * 86400;
  const { year, month, day } = civilFromDays(days);
  return {
    year,
    month,
    day,
    hour: Math.floor(secOfDay / 3600),
    minute: Math.floor((secOfDay % 3600) / 60),
    second: secOfDay % 60,
    nanosecond: Number(nanos),
  };
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z)?$/;

/** Parses the transit text of a date (`2015-12-31`) or UTC datetime (`2015-01-02T03:04:05.123Z`). */
export function parseIsoDateTime(text: string): DateTime | null {
  const m = ISO_RE.exec(text);
  if (!m) return null;
  const dateOnly = m[4] === undefined;
  const frac = m[7] ?? '';
  return fromParts(
    {
      year: +m[1],
      month: +m[2],
      day: +m[3],
      hour: dateOnly ? 0 : +m[4],
      minute: dateOnly ? 0 : +m[5],
      second: dateOnly ? 0 : +m[6],
      nanosecond: frac ? +frac.padEnd(9, '0') : 0,
    },
    dateOnly,
  );
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Formats as transit text without the `~t` tag; fraction digits are trimmed of trailing zeros. */
export function formatIsoDateTime(dt: DateTime): string {
  const p = toParts(dt);
  const date = `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}`;
  if (dt.dateOnly) return date;
  let s = `${date}T${pad(p.hour, 2)}:${pad(p.minute, 2)}:${pad(p.second, 2)}`;
  if (p.nanosecond) s += '.' + pad(p.nanosecond, 9).replace(/0+$/, '');
  return s + 'Z';
}

export function dateTimeFromEpochMillis(ms: number): DateTime {
  return new DateTime(BigInt(Math.trunc(ms)) * 1_000_000n);
}

export function epochMicros(dt: DateTime): bigint {
  const q = dt.ns / 1000n;
  return dt.ns < 0n && q * 1000n !== dt.ns ? q - 1n : q;
}
