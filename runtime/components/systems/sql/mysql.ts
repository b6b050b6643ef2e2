/**
 * The MySQL dialect (`system:mysql`, MySQL and MariaDB servers) on mysql2: connections with the
 * documented `sslmode` (disabled, preferred, required) and the session in UTC, results streamed
 * row by row with the connection paused while the pipe catches up, raw column bytes decoded by
 * the documented type table (DOUBLE and REAL → decimal, DATE → datetime at midnight, BIT and
 * BOOLEAN → integer, SET → list), tables described from information_schema, and upserts with
 * ON DUPLICATE KEY UPDATE. It has no bulk path: `use_bulk_operations` writes multi-row statements.
 */
import type mysql from 'mysql2';
import schema from '../../../../schemas/systems/mysql.schema.json' with { type: 'json' };
import type { TimeZone } from '../../../../compiler/dtl/functions/datetime-zones.js';
import { parseIsoDateTime } from '../../../../compiler/values/datetime.js';
import { Bytes, DateTime, type Value } from '../../../../compiler/values/types.js';
import type { ColumnDefinition, ColumnKind, Dialect, ErrorKind, ResultChunk, ResultField, SqlConnection, TableColumn, TableInfo } from './dialect.js';
import { checkDatetimeRange, integerDigits, integerRange, isEntityColumnType, nativeColumnType, type NativeTypes } from './definition.js';
import { sqlSystemSpec, type DialectOptions } from './pool.js';
import { booleanOf, bytesOf, dateText, datetimeOf, decimalFromText, floatFromText, integerFromText, jsonFromText, jsonText, numberText, parseSqlDateTime, scalarText, ValueError, wallClockText } from './values.js';

/** mysql2's column type codes. */
const T = { DECIMAL: 0, TINY: 1, SHORT: 2, LONG: 3, FLOAT: 4, DOUBLE: 5, NULL: 6, TIMESTAMP: 7, LONGLONG: 8, INT24: 9, DATE: 10, TIME: 11, DATETIME: 12, YEAR: 13, NEWDATE: 14, BIT: 16, JSON: 245, NEWDECIMAL: 246, GEOMETRY: 255 };
const ENUM_FLAG = 256;
const SET_FLAG = 2048;
const BINARY_CHARSET = 63;

interface FieldMeta {
  name: string;
  columnType: number;
  flags: number;
  characterSet: number;
  extendedFormat?: string;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN', 'ER_CONNECTION_KILLED']);
const DATA_CODES = new Set(['ER_DUP_ENTRY', 'ER_TRUNCATED_WRONG_VALUE', 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD', 'ER_BAD_NULL_ERROR', 'ER_DATA_TOO_LONG', 'ER_WARN_DATA_OUT_OF_RANGE', 'ER_NO_REFERENCED_ROW_2', 'ER_ROW_IS_REFERENCED_2', 'ER_NO_DEFAULT_FOR_FIELD', 'ER_INVALID_JSON_TEXT', 'ER_CONSTRAINT_FAILED']);

function text(raw: unknown): string {
  return (raw as Buffer).toString('utf8');
}

function typeName(f: FieldMeta): string {
  if (f.extendedFormat === 'json' || f.columnType === T.JSON) return 'json';
  const names = Object.entries(T).find(([, v]) => v === f.columnType)?.[0];
  return (names ?? `type ${f.columnType}`).toLowerCase();
}

function decoderFor(f: FieldMeta, zone: TimeZone | null): (raw: unknown) => Value {
  if (f.extendedFormat === 'json' || f.columnType === T.JSON) return (raw) => jsonFromText(text(raw));
  switch (f.columnType) {
    case T.TINY:
    case T.SHORT:
    case T.LONG:
    case T.INT24:
    case T.YEAR:
      return (raw) => Number(text(raw));
    case T.LONGLONG:
      return (raw) => integerFromText(text(raw));
    case T.DECIMAL:
    case T.NEWDECIMAL:
    case T.DOUBLE:
      return (raw) => decimalFromText(text(raw));
    case T.FLOAT:
      return (raw) => floatFromText(text(raw));
    case T.BIT:
      return (raw) => {
        let n = 0n;
        for (const b of raw as Buffer) n = (n << 8n) | BigInt(b);
        return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
      };
    case T.TIMESTAMP:
      return (raw) => parseSqlDateTime(text(raw), null) ?? text(raw);
    case T.DATETIME:
      return (raw) => parseSqlDateTime(text(raw), zone) ?? text(raw);
    case T.DATE:
    case T.NEWDATE:
      return (raw) => parseSqlDateTime(text(raw), null) ?? text(raw);
    case T.TIME:
      return text;
    case T.NULL:
      return () => null;
    case T.GEOMETRY:
      return (raw) => new Bytes(new Uint8Array(raw as Buffer));
  }
  if (f.flags & SET_FLAG) return (raw) => (text(raw) === '' ? [] : text(raw).split(','));
  if (f.characterSet === BINARY_CHARSET && !(f.flags & ENUM_FLAG)) return (raw) => new Bytes(new Uint8Array(raw as Buffer));
  return text;
}

function resultField(f: FieldMeta, zone: TimeZone | null): ResultField {
  const decode = decoderFor(f, zone);
  const integer = [T.TINY, T.SHORT, T.LONG, T.INT24, T.YEAR, T.LONGLONG].includes(f.columnType);
  const temporal = [T.TIMESTAMP, T.DATETIME, T.DATE, T.NEWDATE].includes(f.columnType);
  const numeric = [T.DECIMAL, T.NEWDECIMAL, T.DOUBLE, T.FLOAT].includes(f.columnType);
  return {
    name: f.name,
    type: typeName(f),
    decode: (raw) => (raw === null ? null : decode(raw)),
    token: integer
      ? (raw) => {
          const v = integerFromText(text(raw));
          return typeof v === 'bigint' ? text(raw) : v;
        }
      : (raw) => text(raw),
    rank: integer
      ? (t) => (typeof t === 'number' ? t : BigInt(t))
      : temporal
        ? (t) => parseSqlDateTime(String(t), f.columnType === T.DATETIME ? zone : null)?.ns ?? String(t)
        : numeric
          ? Number
          : String,
  };
}

type RawConnection = mysql.Connection;

class MysqlConnection implements SqlConnection {
  broken = false;

  constructor(
    private readonly conn: RawConnection,
    private readonly zone: TimeZone | null,
  ) {
    conn.on('error', () => (this.broken = true));
    conn.on('end', () => (this.broken = true));
  }

  query(sql: string, params: readonly unknown[] = []): Promise<{ rows: unknown[][]; rowCount: number }> {
    return new Promise((resolve, reject) => {
      this.conn.query({ sql, values: params as unknown[], rowsAsArray: true, typeCast: false }, (err, result) => {
        if (err) {
          if ((err as { fatal?: boolean }).fatal) this.broken = true;
          return reject(err);
        }
        if (Array.isArray(result)) return resolve({ rows: result as unknown[][], rowCount: result.length });
        resolve({ rows: [], rowCount: writtenRows(result as mysql.ResultSetHeader) });
      });
    });
  }

  async *stream(sql: string, params: readonly unknown[], fetchSize: number): AsyncIterable<ResultChunk> {
    let fields: ResultField[] | null = null;
    let rows: unknown[][] = [];
    let ended = false;
    let failure: unknown = null;
    let wake: (() => void) | null = null;
    const notify = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const query = this.conn.query({ sql, values: params as unknown[], rowsAsArray: true, typeCast: false });
    query.on('fields', (f: FieldMeta[]) => {
      fields = f.map((x) => resultField(x, this.zone));
      notify();
    });
    query.on('result', (row: unknown) => {
      rows.push(row as unknown[]);
      if (rows.length >= fetchSize) {
        this.conn.pause();
        notify();
      }
    });
    query.on('error', (err: unknown) => {
      failure = err;
      if ((err as { fatal?: boolean }).fatal) this.broken = true;
      notify();
    });
    query.on('end', () => {
      ended = true;
      notify();
    });
    // A lost connection is reported on the connection, not on a streaming query.
    const lost = (err?: unknown) => {
      failure ??= err ?? Object.assign(new Error('the connection was closed during the query'), { code: 'PROTOCOL_CONNECTION_LOST' });
      this.broken = true;
      notify();
    };
    this.conn.on('error', lost);
    this.conn.on('end', lost);
    let yielded = false;
    try {
      for (;;) {
        while (!failure && !ended && rows.length < fetchSize) await new Promise<void>((r) => (wake = r));
        if (failure) throw failure;
        if (rows.length || (!yielded && ended)) {
          const chunk = rows;
          rows = [];
          yielded = true;
          yield { fields: fields ?? [], rows: chunk };
        }
        if (ended && !rows.length) return;
        this.conn.resume();
      }
    } finally {
      this.conn.off('error', lost);
      this.conn.off('end', lost);
      // A consumer that stops early leaves rows on the wire: this connection cannot be reused.
      if (!ended) {
        this.broken = true;
        this.conn.destroy();
      }
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.conn.end(() => resolve()));
  }

  destroy(): void {
    this.broken = true;
    this.conn.destroy();
  }
}

/** Rows inserted or changed, from the counts the server reports (`Records: n  Duplicates: d`). */
function writtenRows(r: mysql.ResultSetHeader): number {
  const m = /Records:\s*(\d+)\s+Duplicates:\s*(\d+)/.exec(r.info ?? '');
  if (!m) return r.affectedRows;
  const inserted = Number(m[1]) - Number(m[2]);
  return inserted + Math.max(0, (r.affectedRows - inserted) / 2);
}

const quote = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

function kindOf(dataType: string): ColumnKind {
  switch (dataType) {
    case 'tinyint':
    case 'smallint':
    case 'mediumint':
    case 'int':
    case 'integer':
    case 'bigint':
    case 'year':
    case 'bit':
      return 'integer';
    case 'decimal':
    case 'numeric':
    case 'double':
    case 'real':
      return 'decimal';
    case 'float':
      return 'float';
    case 'char':
    case 'varchar':
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
    case 'enum':
      return 'string';
    case 'set':
      return 'array';
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return 'bytes';
    case 'datetime':
      return 'datetime';
    case 'timestamp':
      return 'instant';
    case 'date':
      return 'date';
    case 'time':
      return 'time';
    case 'json':
      return 'json';
    default:
      return 'other';
  }
}

function paramEncoder(column: TableColumn, zone: TimeZone | null): (v: Value) => unknown {
  const name = column.name;
  const digits = column.fractionDigits ?? 6;
  return (v) => {
    if (v === null || v === undefined) return null;
    switch (column.kind) {
      case 'integer': {
        // A number, not its text: BIT columns read text as bytes.
        const t = numberText(v, name);
        const n = Number(t);
        return Number.isSafeInteger(n) ? n : t;
      }
      case 'float':
      case 'decimal':
        return numberText(v, name);
      case 'bytes':
        return bytesOf(v, name);
      case 'datetime':
        return typeof v === 'string' && !parseSqlDateTime(v.replace(/Z$/, '+00'), zone) ? v : wallClockText(datetimeOf(v, name, zone), zone, digits);
      case 'instant':
        return typeof v === 'string' && !parseSqlDateTime(v.replace(/Z$/, '+00'), null) ? v : wallClockText(datetimeOf(v, name, null), null, digits);
      case 'date':
        return v instanceof DateTime ? dateText(v, null) : (scalarText(v) ?? jsonText(v));
      case 'time':
        return v instanceof DateTime ? wallClockText(v, null, digits).slice(11) : (scalarText(v) ?? jsonText(v));
      case 'json':
        return jsonText(v);
      case 'array':
        if (!Array.isArray(v)) throw new ValueError(`column "${name}" takes a list of set members`);
        return v.map((x) => scalarText(x) ?? jsonText(x)).join(',');
      default:
        if (typeof v === 'boolean') return booleanOf(v, name) ? 1 : 0;
        return scalarText(v) ?? jsonText(v);
    }
  };
}

function integerType(def: ColumnDefinition): string {
  const range = integerRange(def);
  if (!range) return 'bigint';
  const { min, max } = range;
  if (min >= 0n && max <= 255n) return 'tinyint unsigned';
  if (min >= -32768n && max <= 32767n) return 'smallint';
  if (min >= -2147483648n && max <= 2147483647n) return 'int';
  if (min >= -(2n ** 63n) && max < 2n ** 63n) return 'bigint';
  if (min >= 0n && max < 2n ** 64n) return 'bigint unsigned';
  return `decimal(${Math.min(65, integerDigits(def))}, 0)`;
}

/** What DATETIME and DATE columns hold. */
const EARLIEST = parseIsoDateTime('1000-01-01T00:00:00Z')!;
const LATEST = parseIsoDateTime('9999-12-31T23:59:59.999999Z')!;

/** MySQL's and MariaDB's column types, for schema definitions written with the database's own names. */
const NATIVE: NativeTypes = {
  names: new Set([
    'tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'decimal', 'dec', 'numeric', 'fixed', 'float', 'double', 'double precision',
    'real', 'bit', 'bool', 'boolean', 'serial', 'date', 'datetime', 'timestamp', 'time', 'year', 'char', 'character', 'varchar',
    'character varying', 'nchar', 'nvarchar', 'national char', 'national varchar', 'binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob',
    'longblob', 'tinytext', 'text', 'mediumtext', 'longtext', 'json', 'uuid', 'inet4', 'inet6',
  ]),
  modifiers: new Set(['unsigned', 'signed', 'zerofill']),
  arrays: false,
};

export function mysqlDialect(options: DialectOptions): Dialect {
  const c = options.config;
  const zone = options.zone;
  const sslmode = typeof c.sslmode === 'string' ? c.sslmode : 'preferred';
  const timeoutMs = (typeof c.pool_timeout === 'number' ? c.pool_timeout : 30) * 1000;
  let serverTls: boolean | undefined;

  const open = async (ssl: boolean): Promise<MysqlConnection> => {
    // The driver loads with the first connection: a runtime without MySQL systems never needs it.
    const { default: driver } = await import('mysql2');
    return new Promise((resolve, reject) => {
      const raw = driver.createConnection({
        host: c.host as string,
        port: Number(c.port ?? 3306),
        user: c.username as string,
        password: c.password as string,
        database: c.database as string,
        ssl: ssl ? { rejectUnauthorized: false } : undefined,
        connectTimeout: timeoutMs,
        charset: 'UTF8MB4_GENERAL_CI',
        supportBigNumbers: true,
        bigNumberStrings: true,
        // Affected-row counts then tell inserted and changed rows from unchanged ones.
        flags: ['-FOUND_ROWS'],
      });
      const conn = new MysqlConnection(raw, zone);
      raw.connect((err) => {
        if (err) {
          conn.destroy();
          return reject(err);
        }
        conn.query(`SET time_zone = '+00:00'`).then(
          () => resolve(conn),
          (e: unknown) => {
            conn.destroy();
            reject(e);
          },
        );
      });
    });
  };

  const dialect: Dialect = {
    product: 'MySQL',
    zone,
    maxParams: 65535,
    beginReadOnly: 'START TRANSACTION READ ONLY',
    async connect() {
      if (sslmode === 'disabled' || serverTls === false) return open(false);
      if (sslmode === 'required') return open(true);
      try {
        const conn = await open(true);
        serverTls = true;
        return conn;
      } catch (err) {
        if ((err as { code?: string }).code !== 'HANDSHAKE_NO_SSL_SUPPORT') throw err;
        serverTls = false;
        return open(false);
      }
    },
    classify(err: unknown): ErrorKind {
      const e = (err ?? {}) as { code?: string; sqlState?: string; fatal?: boolean; message?: string };
      const code = e.code ?? '';
      if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR' || code === 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR') return 'auth';
      if (code === 'ER_BAD_DB_ERROR') return 'database';
      if (code === 'ER_NO_SUCH_TABLE' || code === 'ER_BAD_TABLE_ERROR') return 'table';
      if (code === 'ER_BAD_FIELD_ERROR') return 'column';
      if (NETWORK_CODES.has(code) || e.fatal === true || /closed state|connection lost/i.test(e.message ?? '')) return 'connection';
      if (DATA_CODES.has(code) || e.sqlState?.startsWith('22') || e.sqlState?.startsWith('23')) return 'data';
      return 'other';
    },
    quote,
    table: (s, name) => (s ? `${quote(s)}.${quote(name)}` : quote(name)),
    param: () => '?',
    async defaultSchema(conn) {
      const current = (await conn.query('SELECT DATABASE()')).rows[0][0];
      return current === null ? String(c.database) : text(current);
    },
    async describeTable(conn, schemaName, table): Promise<TableInfo | null> {
      const tables = 'SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES';
      let found = (await conn.query(`${tables} WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`, [schemaName, table])).rows;
      if (!found.length) {
        found = (await conn.query(`${tables} WHERE lower(TABLE_SCHEMA) = lower(?) AND lower(TABLE_NAME) = lower(?)`, [schemaName, table])).rows;
        if (found.length !== 1) return null;
      }
      const [s, t] = found[0].map((x) => text(x));
      const columns = await conn.query(
        'SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, EXTRA, DATETIME_PRECISION FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
        [s, t],
      );
      const keys = await conn.query('SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX', [s, t]);
      // MariaDB's JSON is longtext with a json_valid() check.
      const jsonColumns = new Set<string>();
      try {
        const checks = await conn.query('SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?', [s, t]);
        for (const r of checks.rows) {
          const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(text(r[0]));
          if (m) jsonColumns.add(m[1].replace(/``/g, '`'));
        }
      } catch {
        // MySQL has no TABLE_NAME there; its JSON columns say so in DATA_TYPE.
      }
      const byIndex = new Map<string, string[]>();
      for (const r of keys.rows) {
        const index = text(r[0]);
        byIndex.set(index, [...(byIndex.get(index) ?? []), text(r[1])]);
      }
      return {
        schema: s,
        name: t,
        columns: columns.rows.map((r) => {
          const name = text(r[0]);
          const dataType = text(r[1]).toLowerCase();
          const extra = r[4] === null ? '' : text(r[4]).toLowerCase();
          const kind = jsonColumns.has(name) ? 'json' : kindOf(dataType);
          return {
            name,
            type: text(r[2]),
            kind,
            nullable: text(r[3]) === 'YES',
            identity: extra.includes('auto_increment'),
            generated: /\b(virtual|stored|persistent)\b/.test(extra),
            ...(r[5] !== null && (kind === 'datetime' || kind === 'instant' || kind === 'time') ? { fractionDigits: Number(text(r[5])) } : {}),
            ...(kind === 'array' ? { element: 'string' as ColumnKind } : {}),
          };
        }),
        primaryKey: byIndex.get('PRIMARY') ?? [],
        uniqueKeys: [...byIndex.values()],
      };
    },
    encoder(column) {
      return paramEncoder(column, zone);
    },
    upsertSql(table, columns, key, rows) {
      const names = columns.map((col) => quote(col.name));
      const others = columns.filter((col) => !key.includes(col.name));
      const update = (others.length ? others : columns.slice(0, 1)).map((col) => `${quote(col.name)} = VALUES(${quote(col.name)})`).join(', ');
      return `INSERT INTO ${table} (${names.join(', ')}) VALUES ${valueRows(names.length, rows)} ON DUPLICATE KEY UPDATE ${update}`;
    },
    insertSql(table, columns, rows) {
      return `INSERT INTO ${table} (${columns.map(quote).join(', ')}) VALUES ${valueRows(columns.length, rows)}`;
    },
    truncateSql: (table) => `TRUNCATE TABLE ${table}`,
    columnType(def, key) {
      if (!isEntityColumnType(def.type)) return nativeColumnType(def, 'MySQL/MariaDB', NATIVE);
      switch (def.type) {
        case 'string':
          return def.max_size !== undefined && def.max_size <= 16383 ? `varchar(${def.max_size})` : key || def.index ? 'varchar(255)' : 'longtext';
        case 'integer':
          return integerType(def);
        case 'decimal':
          if (def.precision !== undefined) return `decimal(${def.precision}, ${def.scale ?? 0})`;
          // DECIMAL holds 65 digits: as many after the point as the range leaves, up to 30.
          return `decimal(65, ${Math.max(0, Math.min(30, 65 - integerDigits(def)))})`;
        case 'float':
          return 'double';
        case 'binary':
          return def.max_size !== undefined && def.max_size <= 65535 ? `varbinary(${def.max_size})` : key || def.index ? 'varbinary(255)' : 'longblob';
        case 'datetime':
          checkDatetimeRange(def, 'MySQL/MariaDB', 'DATETIME', EARLIEST, LATEST);
          return 'datetime(6)';
        case 'date':
          checkDatetimeRange(def, 'MySQL/MariaDB', 'DATE', EARLIEST, LATEST);
          return 'date';
        case 'time':
          return 'time(6)';
        case 'uuid':
          return 'char(36)';
        case 'boolean':
          return 'boolean';
      }
    },
  };
  return dialect;
}

function valueRows(width: number, rows: number): string {
  const row = `(${new Array(width).fill('?').join(', ')})`;
  return new Array(rows).fill(row).join(', ');
}

export const mysqlSystem = sqlSystemSpec(
  'mysql',
  'A MySQL or MariaDB database: the sql sources and sinks that name it share its connection pool (pool_size, pool_max_overflow, pool_timeout, pool_recycle), its TLS mode (sslmode) and the time zone of its DATETIME columns (timezone).',
  schema,
  mysqlDialect,
);
