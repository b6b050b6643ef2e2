/**
 * How an entry of the sql sink's `schema_definition` becomes a column type. Sesam's entity types
 * (string, integer, decimal, ...) are mapped by each dialect, using the sizes and the range the
 * entry gives; any other `type` is a column type of the database itself (configs written for one
 * database use its names, such as "datetime2" or "bit"), used as written when the dialect knows
 * it. The range bounds are written as values of the column's type: numbers, transit decimals
 * ("~f12.5"), transit datetimes ("~t2020-01-01T00:00:00Z"), or plain strings.
 */
import { decodeString } from '../../../../compiler/values/transit.js';
import { DateTime, Decimal, DtlFloat, type Value } from '../../../../compiler/values/types.js';
import { formatIsoDateTime } from '../../../../compiler/values/datetime.js';
import { SqlError, type ColumnDefinition } from './dialect.js';

export const ENTITY_COLUMN_TYPES = ['string', 'integer', 'decimal', 'float', 'binary', 'datetime', 'date', 'time', 'uuid', 'boolean'] as const;
export type EntityColumnType = (typeof ENTITY_COLUMN_TYPES)[number];

export function isEntityColumnType(type: string): type is EntityColumnType {
  return (ENTITY_COLUMN_TYPES as readonly string[]).includes(type);
}

/** A configured value of the column's type: transit strings decoded, numbers as they are. */
export function configValue(v: unknown): Value | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' ? decodeString(v) : (v as Value);
}

function integerOf(v: Value | undefined): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? BigInt(Math.trunc(v)) : undefined;
  if (v instanceof DtlFloat) return BigInt(Math.trunc(v.value));
  if (v instanceof Decimal) return v.isFinite() ? BigInt(v.trunc().toFixed()) : undefined;
  if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return BigInt(v.trim());
  return undefined;
}

/** The range of an integer column (min_value/max_value, else min_size/max_size); undefined when an end is not given. */
export function integerRange(def: ColumnDefinition): { min: bigint; max: bigint } | undefined {
  const min = integerOf(configValue(def.min_value ?? def.min_size));
  const max = integerOf(configValue(def.max_value ?? def.max_size));
  return min === undefined || max === undefined ? undefined : { min, max };
}

/** The digits before the decimal point of the largest bound of a numeric column (0 when none is a number). */
export function integerDigits(def: ColumnDefinition): number {
  let digits = 0;
  for (const bound of [def.min_value, def.max_value]) {
    const n = integerOf(configValue(bound));
    if (n !== undefined) digits = Math.max(digits, (n < 0n ? -n : n).toString().length);
  }
  return digits;
}

/**
 * Checks that the datetime bounds of a datetime or date column lie in what the database's column
 * holds (`earliest`, `latest`); bounds that are not datetimes say nothing and are skipped.
 */
export function checkDatetimeRange(def: ColumnDefinition, product: string, columnType: string, earliest: DateTime, latest: DateTime): void {
  for (const [property, bound] of [['min_value', def.min_value], ['max_value', def.max_value]] as const) {
    const v = configValue(bound);
    if (!(v instanceof DateTime)) continue;
    if (v.ns < earliest.ns || v.ns > latest.ns) {
      throw new SqlError(
        `column "${def.name}": its ${property} ${formatIsoDateTime(v)} is outside what a ${product} ${columnType} column holds (${formatIsoDateTime(earliest)} to ${formatIsoDateTime(latest)})`,
        'SQL_CONFIG',
        { fatal: true },
      );
    }
  }
}

/** The column type names a database has, for `type`s that are not entity types. */
export interface NativeTypes {
  /** Base type names in lower case, several words where the name has them ("double precision"). */
  names: ReadonlySet<string>;
  /** Words that may follow the name or its size ("unsigned", "with time zone"). */
  modifiers: ReadonlySet<string>;
  /** Whether `name[]` makes an array column. */
  arrays: boolean;
}

// A name of words, an optional size or precision in parentheses, trailing words, an optional [].
const NATIVE_TYPE = /^([A-Za-z][A-Za-z0-9_]*(?:\s+[A-Za-z][A-Za-z0-9_]*)*)\s*(\(\s*\d+(?:\s*,\s*\d+)?\s*\))?((?:\s+[A-Za-z]+)*)\s*(\[\])?$/;

/**
 * A database column type written in `type`, as the DDL writes it; throws a SqlError naming the
 * column when the database has no type of that name (or when it is not a plain type name at all).
 */
export function nativeColumnType(def: ColumnDefinition, product: string, native: NativeTypes): string {
  const refuse = (): never => {
    throw new SqlError(
      `column "${def.name}" has type "${def.type}", which is neither one of the entity types (${ENTITY_COLUMN_TYPES.join(', ')}) nor a column type ${product} has`,
      'SQL_CONFIG',
      { fatal: true },
    );
  };
  const m = NATIVE_TYPE.exec(def.type.trim());
  if (!m || (m[4] && !native.arrays)) return refuse();
  const words = m[1].toLowerCase().split(/\s+/);
  const trailing = m[3].trim() ? m[3].trim().toLowerCase().split(/\s+/) : [];
  // The longest leading run of words that names a type; the rest must be modifiers.
  for (let n = words.length; n > 0; n--) {
    if (!native.names.has(words.slice(0, n).join(' '))) continue;
    const rest = [...words.slice(n), ...trailing];
    if (rest.every((w) => native.modifiers.has(w))) return [words.join(' '), m[2]?.replace(/\s+/g, '') ?? '', trailing.length ? ` ${trailing.join(' ')}` : '', m[4] ?? ''].join('');
  }
  return refuse();
}
