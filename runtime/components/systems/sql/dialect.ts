/**
 * What the SQL source and sink need from a database: a dialect module (postgresql.ts, mysql.ts)
 * connects, describes tables, decodes result columns into entity values, encodes entity values
 * for columns, and writes the statements its database speaks. Everything else (pooling, retries,
 * the source's and sink's logic) is shared.
 */
import type { TimeZone } from '../../../../compiler/dtl/functions/datetime-zones.js';
import type { Value } from '../../../../compiler/values/types.js';

export type SqlErrorCode =
  | 'SQL_CONFIG'
  | 'SQL_SECRET_UNSET'
  | 'SQL_CONNECT'
  | 'SQL_AUTH'
  | 'SQL_POOL_TIMEOUT'
  | 'SQL_UNKNOWN_DATABASE'
  | 'SQL_UNKNOWN_TABLE'
  | 'SQL_UNKNOWN_COLUMN'
  | 'SQL_QUERY'
  | 'SQL_DATA';

/** A failure talking to a database, with a stable code; `fatal` ones end the run rather than being retried entity by entity. */
export class SqlError extends Error {
  fatal?: boolean;
  constructor(
    message: string,
    readonly code: SqlErrorCode,
    options?: { cause?: unknown; fatal?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.fatal) this.fatal = true;
  }
}

/** How a driver error is to be treated: connection problems are retried, the rest are reported. */
export type ErrorKind = 'connection' | 'auth' | 'database' | 'table' | 'column' | 'data' | 'other';

/** A column of a result set, with its decoding into entity values. */
export interface ResultField {
  name: string;
  /** The database's type name, for messages. */
  type: string;
  decode(raw: unknown): Value;
  /** The `since` token of a value of this column: integers as numbers, anything else as the database's text. */
  token(raw: unknown): string | number;
  /** An order key for tokens of this column (numbers, datetimes as nanoseconds, text). */
  rank(token: string | number): number | bigint | string;
}

export interface ResultChunk {
  fields: ResultField[];
  rows: unknown[][];
}

/** One connection of a pool. Errors thrown are the driver's own; `classify` tells them apart. */
export interface SqlConnection {
  query(sql: string, params?: readonly unknown[]): Promise<{ rows: unknown[][]; rowCount: number }>;
  /** Streams a result in chunks of about `fetchSize` rows without holding it all in memory. */
  stream(sql: string, params: readonly unknown[], fetchSize: number): AsyncIterable<ResultChunk>;
  close(): Promise<void>;
  destroy(): void;
  /** The server closed the connection or a protocol error left it unusable. */
  readonly broken: boolean;
}

/** How the sink treats a column's values (`bits`: a bit string, which booleans and integers fill). */
export type ColumnKind = 'integer' | 'float' | 'decimal' | 'boolean' | 'string' | 'char' | 'bytes' | 'bits' | 'datetime' | 'instant' | 'date' | 'time' | 'uuid' | 'json' | 'array' | 'other';

export interface TableColumn {
  name: string;
  /** The database's type name. */
  type: string;
  kind: ColumnKind;
  nullable: boolean;
  /** Filled in by the database unless a value is given (identity, serial, auto_increment). */
  identity: boolean;
  /** Computed by the database; never written. */
  generated?: boolean;
  /** Digits after the decimal point a datetime column keeps. */
  fractionDigits?: number;
  /** The element's kind for array columns. */
  element?: ColumnKind;
}

export interface TableInfo {
  schema: string;
  name: string;
  columns: TableColumn[];
  primaryKey: string[];
  /** Column sets of unique constraints and unique indexes (the primary key included). */
  uniqueKeys: string[][];
}

/** One entry of the sink's `schema_definition` (see definition.ts for its `type` and range). */
export interface ColumnDefinition {
  source_property?: string;
  name: string;
  /** An entity type (string, integer, ...) or a column type of the database. */
  type: string;
  max_size?: number;
  /** A value of the column's type: a number, or a string (transit-encoded for decimals and datetimes). */
  max_value?: number | bigint | string;
  min_size?: number;
  min_value?: number | bigint | string;
  precision?: number;
  scale?: number;
  allow_null?: boolean;
  primary_key?: boolean;
  index?: boolean;
  /** Written when the entity lacks the property (transit strings are decoded). */
  default?: unknown;
}

/** Encodes an entity value for a column; throws ValueError when it does not fit. */
export type Encoder = (v: Value) => unknown;

export interface Dialect {
  /** The product name for messages. */
  readonly product: string;
  readonly zone: TimeZone | null;
  connect(): Promise<SqlConnection>;
  classify(err: unknown): ErrorKind;
  quote(identifier: string): string;
  /** The qualified table name. */
  table(schema: string | null, name: string): string;
  /** The i-th (1-based) parameter marker. */
  param(i: number): string;
  /** How many parameters one statement may carry. */
  readonly maxParams: number;
  readonly beginReadOnly: string;
  /** The schema a table without `schema` lives in. */
  defaultSchema(conn: SqlConnection): Promise<string>;
  /** The table, found by exact name or else by a unique case-insensitive match; null when missing. */
  describeTable(conn: SqlConnection, schema: string, table: string): Promise<TableInfo | null>;
  encoder(column: TableColumn): Encoder;
  /** INSERT of `rows` rows that updates rows whose `key` exists (the key has a unique constraint). */
  upsertSql(table: string, columns: TableColumn[], key: string[], rows: number): string;
  insertSql(table: string, columns: string[], rows: number): string;
  truncateSql(table: string): string;
  /** The column type for a `schema_definition` entry; throws a SqlError (SQL_CONFIG) for a type or range the database cannot have. */
  columnType(def: ColumnDefinition, key: boolean): string;
  /** Optional fast path for `use_bulk_operations`: loads encoded rows and merges them into the table in the open transaction. */
  bulkUpsert?(conn: SqlConnection, target: BulkTarget, rows: unknown[][]): Promise<number>;
}

export interface BulkTarget {
  table: string;
  columns: TableColumn[];
  key: string[];
  /** The key has a unique constraint (merge with an upsert), otherwise old rows are deleted first. */
  unique: boolean;
  /** Load straight into the table (its first run after truncation: nothing to merge with). */
  direct: boolean;
  timeoutSeconds: number;
}

/** The name in `available` that `name` means: an exact match, else the one case-insensitive match. */
export function matchName(name: string, available: readonly string[]): string | undefined {
  if (available.includes(name)) return name;
  const folded = available.filter((a) => a.toLowerCase() === name.toLowerCase());
  return folded.length === 1 ? folded[0] : undefined;
}

export const DEFAULT_POOL = { pool_size: 10, pool_timeout: 30, pool_max_overflow: 10, pool_recycle: 1800 };
