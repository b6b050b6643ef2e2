/**
 * Conversions between database text forms and entity values that every SQL dialect shares:
 * date/time text with or without an offset (wall-clock times are read in the system's `timezone`),
 * integers, floats and decimals, and the text a value takes when it is written to a column.
 */
import type { TimeZone } from '../../../../compiler/dtl/functions/datetime-zones.js';
import { fromParts, NS_PER_SECOND, toParts } from '../../../../compiler/values/datetime.js';
import { stringifyValue } from '../../../../compiler/values/json.js';
import { parseJsonLossless } from '../../../../compiler/values/lossless-json.js';
import { decimalText } from '../../../../compiler/values/transit.js';
import { Bytes, DateTime, Decimal, DtlFloat, NI, normaliseInteger, Uri, Uuid, type Value } from '../../../../compiler/values/types.js';

const NS_PER_MS = 1_000_000n;

const DATETIME_RE = /^(\d{4,})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?( BC)?$/;

/**
 * A datetime from database text (`2024-05-01 10:20:30.123456`, with an optional `+02`/`+05:30`
 * offset). Text without an offset is a wall-clock time in `zone`. Null when it does not parse or is
 * out of the entity model's range (year 1 to 9999).
 */
export function parseSqlDateTime(text: string, zone: TimeZone | null): DateTime | null {
  const m = DATETIME_RE.exec(text);
  if (!m || m[9]) return null;
  const frac = m[7] ?? '';
  const wall = fromParts({ year: +m[1], month: +m[2], day: +m[3], hour: m[4] ? +m[4] : 0, minute: m[5] ? +m[5] : 0, second: m[6] ? +m[6] : 0, nanosecond: frac ? +frac.padEnd(9, '0') : 0 });
  if (!wall) return null;
  let ns = wall.ns;
  const offset = m[8];
  if (offset && offset !== 'Z') {
    const sign = offset[0] === '-' ? -1 : 1;
    const digits = offset.slice(1).replace(/:/g, '');
    const seconds = Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4) || 0) * 60 + Number(digits.slice(4, 6) || 0);
    ns -= BigInt(sign * seconds) * NS_PER_SECOND;
  } else if (!offset && zone && !zone.isUtc) {
    const wallMs = Number(ns / NS_PER_MS);
    ns -= BigInt(wallMs - zone.localToUtc(wallMs)) * NS_PER_MS;
  }
  return new DateTime(ns);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Wall-clock text of a datetime in `zone` (`2024-05-01 12:20:30.123456789`), for columns without a time zone. */
export function wallClockText(dt: DateTime, zone: TimeZone | null, fractionDigits = 9): string {
  let ns = dt.ns;
  if (zone && !zone.isUtc) ns += BigInt(zone.offsetAt(Number(ns / NS_PER_MS))) * NS_PER_SECOND;
  const p = toParts(new DateTime(ns));
  let s = `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
  const frac = pad(p.nanosecond, 9).slice(0, fractionDigits).replace(/0+$/, '');
  if (frac) s += `.${frac}`;
  return s;
}

/** UTC text with an explicit offset, for columns that store an instant. */
export function utcText(dt: DateTime, fractionDigits = 9): string {
  return `${wallClockText(dt, null, fractionDigits)}+00:00`;
}

/** The date part (`YYYY-MM-DD`) of a datetime in `zone`. */
export function dateText(dt: DateTime, zone: TimeZone | null): string {
  return dt.dateOnly ? wallClockText(dt, null).slice(0, 10) : wallClockText(dt, zone).slice(0, 10);
}

/** An integer from its decimal text: a number when it is exact, a bigint otherwise. */
export function integerFromText(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : normaliseInteger(BigInt(text));
}

/** A float from its text: integral values stay floats (DtlFloat); NaN and infinities, which JSON cannot hold, stay text. */
export function floatFromText(text: string): number | DtlFloat | string {
  const n = Number(text);
  if (!Number.isFinite(n)) return text;
  return Number.isInteger(n) ? new DtlFloat(n) : n;
}

/** A decimal from its text; NaN and infinities stay text. */
export function decimalFromText(text: string): Decimal | string {
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? new Decimal(text) : text;
}

/** Nested values from a JSON column: integers stay exact, and strings are not read as transit values. */
export function jsonFromText(text: string): Value {
  return parseJsonLossless(text, true) as Value;
}

/** JSON text of an entity value (typed values in their transit form), for JSON columns. */
export function jsonText(v: Value): string {
  return stringifyValue(v);
}

/** The plain text of a scalar for text-like columns; null for lists and dictionaries. */
export function scalarText(v: Value): string | null {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'bigint':
      return String(v);
    case 'boolean':
      return v ? 'true' : 'false';
  }
  if (v instanceof Decimal) return decimalText(v);
  if (v instanceof DtlFloat) return String(v.value);
  if (v instanceof Uuid || v instanceof NI || v instanceof Uri) return v.value;
  if (v instanceof DateTime) return v.dateOnly ? wallClockText(v, null).slice(0, 10) : `${wallClockText(v, null)}Z`.replace(' ', 'T');
  if (v instanceof Bytes) return Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength).toString('base64');
  return null;
}

/** Why a value cannot go into a column, for the entity's error message. */
export class ValueError extends Error {}

/** The number text of a numeric entity value (numbers, decimals, numeric strings). */
export function numberText(v: Value, column: string): string {
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (v instanceof DtlFloat) return String(v.value);
  if (v instanceof Decimal) return decimalText(v);
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(v)) return v.trim();
  throw new ValueError(`column "${column}" takes a number, not ${describe(v)}`);
}

/** Bytes of an entity value for binary columns (bytes, or text as UTF-8). */
export function bytesOf(v: Value, column: string): Buffer {
  if (v instanceof Bytes) return Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength);
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  throw new ValueError(`column "${column}" takes bytes, not ${describe(v)}`);
}

export function describe(v: Value): string {
  if (Array.isArray(v)) return 'a list';
  if (v instanceof DateTime) return 'a datetime';
  if (v instanceof Bytes) return 'bytes';
  if (v !== null && typeof v === 'object' && v.constructor === Object) return 'a dictionary';
  return `${typeof v} ${stringifyValue(v)}`;
}

/** A datetime from an entity value: datetimes, or ISO/database text. */
export function datetimeOf(v: Value, column: string, zone: TimeZone | null): DateTime {
  if (v instanceof DateTime) return v;
  if (typeof v === 'string') {
    const parsed = parseSqlDateTime(v.replace(/Z$/, '+00'), zone);
    if (parsed) return parsed;
  }
  throw new ValueError(`column "${column}" takes a datetime, not ${describe(v)}`);
}

/** Truthiness of an entity value for boolean columns. */
export function booleanOf(v: Value, column: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string' && /^(true|false|t|f|1|0|yes|no)$/i.test(v)) return /^(true|t|1|yes)$/i.test(v);
  throw new ValueError(`column "${column}" takes a boolean, not ${describe(v)}`);
}
