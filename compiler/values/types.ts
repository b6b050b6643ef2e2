/**
 * In-memory representation of the entity data model.
 *
 * JSON-native values stay native (null, boolean, string, number, array, object) so that the hot
 * paths (paths, copy, add) touch plain JS values. Integers beyond 2^53 are `bigint`. A float whose
 * value happens to be integral is boxed in `DtlFloat`, because JS numbers cannot otherwise tell
 * `1.0` from `1` and DTL can (`is-float`). Extension types are small classes.
 */
import { Decimal } from './decimal.js';

export { Decimal };

/** A float with an integral value (e.g. `2.0`); non-integral floats are plain JS numbers. */
export class DtlFloat {
  constructor(readonly value: number) {}
}

/** Namespaced identifier: `~:ns:id` (the last colon separates namespace from identifier). */
export class NI {
  constructor(readonly value: string) {}
  get namespace(): string | null {
    const i = this.value.lastIndexOf(':');
    return i < 0 ? null : this.value.slice(0, i);
  }
  get identifier(): string {
    const i = this.value.lastIndexOf(':');
    return i < 0 ? this.value : this.value.slice(i + 1);
  }
}

export class Uri {
  constructor(readonly value: string) {}
}

export class Uuid {
  /** Always lower-case canonical 8-4-4-4-12 hex form. */
  constructor(readonly value: string) {}
}

export class Bytes {
  constructor(readonly data: Uint8Array) {}
}

/** Date or datetime in UTC with nanosecond precision, as nanoseconds since the Unix epoch. */
export class DateTime {
  constructor(
    readonly ns: bigint,
    /** True for the `~t2015-12-31` date form. */
    readonly dateOnly = false,
  ) {}
}

export type Scalar = null | boolean | string | number | bigint | DtlFloat | Decimal | NI | Uri | Uuid | Bytes | DateTime;
export type Value = Scalar | Value[] | Dict;
export interface Dict {
  [key: string]: Value;
}
export type Entity = Dict;

export type TypeName =
  | 'null'
  | 'boolean'
  | 'integer'
  | 'float'
  | 'decimal'
  | 'string'
  | 'datetime'
  | 'date'
  | 'ni'
  | 'uri'
  | 'uuid'
  | 'bytes'
  | 'list'
  | 'dict';

export function typeOf(v: unknown): TypeName {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
      return Number.isInteger(v) ? 'integer' : 'float';
    case 'boolean':
      return 'boolean';
    case 'bigint':
      return 'integer';
  }
  if (Array.isArray(v)) return 'list';
  if (v instanceof DtlFloat) return 'float';
  if (v instanceof Decimal) return 'decimal';
  if (v instanceof DateTime) return v.dateOnly ? 'date' : 'datetime';
  if (v instanceof NI) return 'ni';
  if (v instanceof Uri) return 'uri';
  if (v instanceof Uuid) return 'uuid';
  if (v instanceof Bytes) return 'bytes';
  return 'dict';
}

export function isDict(v: unknown): v is Dict {
  return v !== null && typeof v === 'object' && (v as object).constructor === Object;
}

export function isList(v: unknown): v is Value[] {
  return Array.isArray(v);
}

export function isString(v: unknown): v is string {
  return typeof v === 'string';
}

export function isInteger(v: unknown): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

export function isFloat(v: unknown): v is number | DtlFloat {
  return (typeof v === 'number' && !Number.isInteger(v)) || v instanceof DtlFloat;
}

export function isNumber(v: unknown): v is number | bigint | DtlFloat | Decimal {
  return typeof v === 'number' || typeof v === 'bigint' || v instanceof DtlFloat || v instanceof Decimal;
}

/** DTL truthiness: `false`, `null` and the empty list are false; everything else is true. */
export function truthy(v: Value | undefined): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

/** Normalises a value to a list: null becomes empty, a list stays, anything else is wrapped. */
export function toList(v: Value | undefined): Value[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** Wraps a bigint back into a number when it is exactly representable. */
export function normaliseInteger(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/** A float result: boxes integral values so they stay floats. */
export function makeFloat(n: number): number | DtlFloat {
  return Number.isInteger(n) ? new DtlFloat(n) : n;
}
