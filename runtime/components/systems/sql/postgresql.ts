/**
 * The PostgreSQL dialect (`system:postgresql`) on node-postgres: connections with the documented
 * `sslmode` (disable, allow, prefer, require), results streamed through a server-side cursor
 * (pg-cursor, `fetch_size` rows per round trip) in text form and decoded by type OID, tables
 * described from the catalog, upserts with ON CONFLICT, and `use_bulk_operations` as COPY into a
 * staging table and one merge per batch (pg-copy-streams).
 */
import { createHash } from 'node:crypto';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import type Cursor from 'pg-cursor';
import type { from as copyFromType } from 'pg-copy-streams';
import schema from '../../../../schemas/systems/postgresql.schema.json' with { type: 'json' };
import type { TimeZone } from '../../../../compiler/dtl/functions/datetime-zones.js';
import { DateTime, type Value } from '../../../../compiler/values/types.js';
import type { BulkTarget, ColumnDefinition, ColumnKind, Dialect, Encoder, ErrorKind, ResultChunk, ResultField, SqlConnection, TableColumn, TableInfo } from './dialect.js';
import { integerDigits, integerRange, isEntityColumnType, nativeColumnType, type NativeTypes } from './definition.js';
import { sqlSystemSpec, type DialectOptions } from './pool.js';
import { copyField, formatArrayLiteral, parseArrayLiteral, resultField } from './postgresql-text.js';
import { booleanOf, bytesOf, dateText, datetimeOf, describe, jsonText, numberText, parseSqlDateTime, scalarText, utcText, ValueError, wallClockText } from './values.js';

/** Every value arrives as the server's text; decoding happens per column with the system's time zone. */
const RAW_TYPES = { getTypeParser: () => (text: string) => text };

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

interface PgDriver {
  pg: typeof pg;
  Cursor: typeof Cursor;
  copyFrom: typeof copyFromType;
}

/** The driver loads with the first connection: a runtime without PostgreSQL systems never needs it. */
let driver: Promise<PgDriver> | undefined;
function loadDriver(): Promise<PgDriver> {
  driver ??= Promise.all([import('pg'), import('pg-cursor'), import('pg-copy-streams')]).then(([p, c, s]) => ({ pg: p.default, Cursor: c.default, copyFrom: s.from }));
  return driver;
}

class PgConnection implements SqlConnection {
  broken = false;

  constructor(
    readonly client: pg.Client,
    private readonly zone: TimeZone | null,
    private readonly driver: PgDriver,
  ) {
    client.on('error', () => (this.broken = true));
    client.on('end', () => (this.broken = true));
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<{ rows: unknown[][]; rowCount: number }> {
    // Without parameters the simple protocol runs, which takes several statements at once.
    const r = await this.client.query({ text: sql, ...(params.length ? { values: params as unknown[] } : {}), rowMode: 'array', types: RAW_TYPES });
    if (Array.isArray(r)) return { rows: [], rowCount: 0 };
    return { rows: r.rows as unknown[][], rowCount: r.rowCount ?? 0 };
  }

  async *stream(sql: string, params: readonly unknown[], fetchSize: number): AsyncIterable<ResultChunk> {
    const cursor = this.client.query(new this.driver.Cursor<unknown[]>(sql, params as unknown[], { rowMode: 'array', types: RAW_TYPES }));
    let fields: ResultField[] | null = null;
    let failed = false;
    try {
      for (;;) {
        const { rows, result } = await new Promise<{ rows: unknown[][]; result: pg.QueryResult }>((resolve, reject) => cursor.read(fetchSize, (err, rows, result) => (err ? reject(err) : resolve({ rows, result }))));
        const first = fields === null;
        fields ??= result.fields.map((f) => resultField(f.name, f.dataTypeID, this.zone));
        if (rows.length || first) yield { fields, rows };
        if (rows.length < fetchSize) break;
      }
    } catch (err) {
      // A failed cursor leaves the connection in doubt (and a dead one never answers a close).
      failed = true;
      this.broken = true;
      throw err;
    } finally {
      if (!failed && !this.broken) await cursor.close().catch(() => (this.broken = true));
    }
  }

  async copyIn(sql: string, text: string): Promise<void> {
    const stream = this.client.query(this.driver.copyFrom(sql));
    stream.end(text);
    await finished(stream);
  }

  async close(): Promise<void> {
    await this.client.end();
  }

  destroy(): void {
    this.broken = true;
    void this.client.end().catch(() => undefined);
  }
}

const KINDS: Record<number, ColumnKind> = {
  16: 'boolean',
  17: 'bytes',
  20: 'integer',
  21: 'integer',
  23: 'integer',
  26: 'integer',
  700: 'float',
  701: 'float',
  1700: 'decimal',
  18: 'string',
  19: 'string',
  25: 'string',
  1043: 'string',
  1042: 'char',
  1114: 'datetime',
  1184: 'instant',
  1082: 'date',
  1083: 'time',
  1266: 'time',
  2950: 'uuid',
  114: 'json',
  3802: 'json',
  1560: 'bits',
  1562: 'bits',
};

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Text for a PostgreSQL value of `kind` (parameters and COPY both take text). */
function textEncoder(kind: ColumnKind, column: string, zone: TimeZone | null, element?: ColumnKind): (v: Value) => string | null {
  const base = (v: Value): string | null => {
    if (v === null || v === undefined) return null;
    switch (kind) {
      case 'integer':
      case 'float':
      case 'decimal':
        return numberText(v, column);
      case 'boolean':
        return booleanOf(v, column) ? 't' : 'f';
      case 'bits':
        // Booleans fill a bit(1) column, as Sesam's boolean columns are bits elsewhere.
        if (typeof v === 'boolean') return v ? '1' : '0';
        if ((typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'bigint' && v >= 0n)) return v.toString(2);
        if (typeof v === 'string' && /^[01]*$/.test(v)) return v;
        throw new ValueError(`column "${column}" takes a bit string (a boolean, a non-negative integer or a string of 0s and 1s), not ${describe(v)}`);
      case 'bytes':
        return `\\x${bytesOf(v, column).toString('hex')}`;
      case 'datetime':
        return typeof v === 'string' && !parseSqlDateTime(v.replace(/Z$/, '+00'), zone) ? v : wallClockText(datetimeOf(v, column, zone), zone);
      case 'instant':
        return typeof v === 'string' ? v : utcText(datetimeOf(v, column, zone));
      case 'date':
        return v instanceof DateTime ? dateText(v, null) : (scalarText(v) ?? jsonText(v));
      case 'time':
        return v instanceof DateTime ? wallClockText(v, null).slice(11) : (scalarText(v) ?? jsonText(v));
      case 'json':
        return jsonText(v);
      case 'array': {
        if (!Array.isArray(v)) throw new ValueError(`column "${column}" takes a list`);
        const inner = textEncoder(element ?? 'string', column, zone);
        return formatArrayLiteral(v, (x) => inner(x as Value));
      }
      default:
        return scalarText(v) ?? jsonText(v);
    }
  };
  return base;
}

function describeColumn(name: string, baseOid: number, typeName: string, category: string, elementOid: number, notNull: boolean, identity: boolean, typmod: number, generated: boolean): TableColumn {
  let kind: ColumnKind = KINDS[baseOid] ?? (category === 'E' || category === 'S' ? 'string' : 'other');
  let element: ColumnKind | undefined;
  if (category === 'A') {
    kind = 'array';
    element = KINDS[elementOid] ?? 'string';
  }
  const fractionDigits = kind === 'datetime' || kind === 'instant' ? (typmod >= 0 ? typmod : 6) : undefined;
  return { name, type: typeName, kind, nullable: !notNull, identity, generated, ...(fractionDigits !== undefined ? { fractionDigits } : {}), ...(element ? { element } : {}) };
}

function integerType(def: ColumnDefinition): string {
  const range = integerRange(def);
  if (!range) return 'bigint';
  const { min, max } = range;
  if (min >= -32768n && max <= 32767n) return 'smallint';
  if (min >= -2147483648n && max <= 2147483647n) return 'integer';
  if (min >= -(2n ** 63n) && max < 2n ** 63n) return 'bigint';
  return `numeric(${integerDigits(def)}, 0)`;
}

/** PostgreSQL's built-in column types, for schema definitions written with the database's own names. */
const NATIVE: NativeTypes = {
  names: new Set([
    'bigint', 'int8', 'bigserial', 'serial8', 'bit', 'bit varying', 'varbit', 'boolean', 'bool', 'box', 'bytea', 'character', 'char',
    'character varying', 'varchar', 'cidr', 'circle', 'date', 'double precision', 'float8', 'float', 'float4', 'inet', 'integer', 'int',
    'int4', 'interval', 'json', 'jsonb', 'line', 'lseg', 'macaddr', 'macaddr8', 'money', 'numeric', 'decimal', 'path', 'point', 'polygon',
    'real', 'smallint', 'int2', 'smallserial', 'serial2', 'serial', 'serial4', 'text', 'time', 'timetz', 'timestamp', 'timestamptz',
    'tsquery', 'tsvector', 'uuid', 'xml',
  ]),
  modifiers: new Set(['with', 'without', 'time', 'zone']),
  arrays: true,
};

export function postgresDialect(options: DialectOptions): Dialect {
  const c = options.config;
  const zone = options.zone;
  const sslmode = typeof c.sslmode === 'string' ? c.sslmode : 'prefer';
  const timeoutMs = (typeof c.pool_timeout === 'number' ? c.pool_timeout : 30) * 1000;
  /** Whether the server takes TLS, learnt by the first `prefer` connection. */
  let serverTls: boolean | undefined;

  const open = async (ssl: boolean): Promise<PgConnection> => {
    const loaded = await loadDriver();
    const client = new loaded.pg.Client({
      host: c.host as string,
      port: Number(c.port ?? 5432),
      user: c.username as string,
      password: c.password as string,
      database: c.database as string,
      ssl: ssl ? { rejectUnauthorized: false } : false,
      connectionTimeoutMillis: timeoutMs,
      application_name: 'sluice',
      // Fixed session settings make the text forms (and so since tokens) independent of the server's defaults.
      options: '-c TimeZone=UTC -c DateStyle=ISO,MDY -c IntervalStyle=postgres',
    });
    const conn = new PgConnection(client, zone, loaded);
    try {
      await client.connect();
    } catch (err) {
      conn.destroy();
      throw err;
    }
    return conn;
  };

  const noTls = (err: unknown) => /does not support SSL/i.test((err as Error)?.message ?? '');
  const needsTls = (err: unknown) => (err as { code?: string }).code === '28000' && /no encryption|SSL off/i.test((err as Error).message);

  const dialect: Dialect = {
    product: 'PostgreSQL',
    zone,
    maxParams: 65535,
    beginReadOnly: 'BEGIN TRANSACTION READ ONLY',
    async connect() {
      switch (sslmode) {
        case 'disable':
          return open(false);
        case 'require':
          return open(true);
        case 'allow':
          try {
            return await open(false);
          } catch (err) {
            if (!needsTls(err)) throw err;
            return open(true);
          }
        default:
          if (serverTls === false) return open(false);
          try {
            const conn = await open(true);
            serverTls = true;
            return conn;
          } catch (err) {
            if (!noTls(err)) throw err;
            serverTls = false;
            return open(false);
          }
      }
    },
    classify(err: unknown): ErrorKind {
      const e = (err ?? {}) as { code?: string; message?: string };
      const code = typeof e.code === 'string' ? e.code : '';
      if (code === '28P01' || code === '28000') return 'auth';
      if (code === '3D000') return 'database';
      if (code === '42P01' || code === '3F000') return 'table';
      if (code === '42703') return 'column';
      if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300' || NETWORK_CODES.has(code)) return 'connection';
      if (/does not support SSL|Connection terminated|connection timeout|timeout expired|encountered a connection error|not queryable|Client was closed/i.test(e.message ?? '')) return 'connection';
      if (code.startsWith('22') || code.startsWith('23')) return 'data';
      return 'other';
    },
    quote,
    table: (s, name) => (s ? `${quote(s)}.${quote(name)}` : quote(name)),
    param: (i) => `$${i}`,
    async defaultSchema(conn) {
      return (await conn.query('SELECT current_schema()')).rows[0][0] as string;
    },
    async describeTable(conn, schemaName, table): Promise<TableInfo | null> {
      const relations = `SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')`;
      let found = (await conn.query(`${relations} AND n.nspname = $1 AND c.relname = $2`, [schemaName, table])).rows;
      if (!found.length) {
        found = (await conn.query(`${relations} AND lower(n.nspname) = lower($1) AND lower(c.relname) = lower($2)`, [schemaName, table])).rows;
        if (found.length !== 1) return null;
      }
      const [oid, nspname, relname] = found[0] as [string, string, string];
      const columns = await conn.query(
        `SELECT a.attname, coalesce(nullif(t.typbasetype, 0), t.oid) AS base, format_type(a.atttypid, a.atttypmod), bt.typcategory, bt.typelem, a.attnotnull,
                a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%', a.atttypmod, a.attgenerated <> ''
           FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid JOIN pg_type bt ON bt.oid = coalesce(nullif(t.typbasetype, 0), t.oid)
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        [oid],
      );
      const keys = await conn.query(
        `SELECT array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o), i.indisprimary
           FROM pg_index i WHERE i.indrelid = $1 AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL ORDER BY NOT i.indisprimary`,
        [oid],
      );
      const uniqueKeys = keys.rows.map((r) => parseArrayLiteral(r[0] as string, (s) => s) as string[]);
      const primary = keys.rows.findIndex((r) => r[1] === 't');
      return {
        schema: nspname,
        name: relname,
        columns: columns.rows.map((r) => describeColumn(r[0] as string, Number(r[1]), r[2] as string, r[3] as string, Number(r[4]), r[5] === 't', r[6] === 't', Number(r[7]), r[8] === 't')),
        primaryKey: primary >= 0 ? uniqueKeys[primary] : [],
        uniqueKeys,
      };
    },
    encoder(column): Encoder {
      return textEncoder(column.kind, column.name, zone, column.element);
    },
    upsertSql(table, columns, key, rows) {
      const names = columns.map((col) => col.name);
      const others = columns.filter((col) => !key.includes(col.name));
      const conflict = `ON CONFLICT (${key.map(quote).join(', ')})`;
      const action = others.length ? `DO UPDATE SET ${others.map((col) => `${quote(col.name)} = EXCLUDED.${quote(col.name)}`).join(', ')} WHERE ${distinct(others)}` : 'DO NOTHING';
      return `INSERT INTO ${table} AS t (${names.map(quote).join(', ')}) VALUES ${valueRows(names.length, rows)} ${conflict} ${action}`;
    },
    insertSql(table, columns, rows) {
      return `INSERT INTO ${table} (${columns.map(quote).join(', ')}) VALUES ${valueRows(columns.length, rows)}`;
    },
    truncateSql: (table) => `TRUNCATE TABLE ${table}`,
    columnType(def) {
      if (!isEntityColumnType(def.type)) return nativeColumnType(def, 'PostgreSQL', NATIVE);
      switch (def.type) {
        case 'string':
          return def.max_size !== undefined && def.max_size <= 10_485_760 ? `varchar(${def.max_size})` : 'text';
        case 'integer':
          return integerType(def);
        case 'decimal':
          return def.precision !== undefined ? `numeric(${def.precision}, ${def.scale ?? 0})` : 'numeric';
        case 'float':
          return 'double precision';
        case 'binary':
          return 'bytea';
        case 'datetime':
          return 'timestamp';
        case 'date':
          return 'date';
        case 'time':
          return 'time';
        case 'uuid':
          return 'uuid';
        case 'boolean':
          return 'boolean';
      }
    },
    async bulkUpsert(conn, target, rows) {
      const pgConn = conn as PgConnection;
      const names = target.columns.map((col) => quote(col.name)).join(', ');
      const timeout = `SET LOCAL statement_timeout = ${Math.max(1, Math.round(target.timeoutSeconds * 1000))}`;
      const text = rows.map((r) => r.map((x) => copyField(x as string | null)).join('\t')).join('\n') + '\n';
      if (target.direct) {
        await conn.query(timeout);
        await pgConn.copyIn(`COPY ${target.table} (${names}) FROM STDIN`, text);
        return rows.length;
      }
      const stage = stagingTable(target);
      await conn.query(`${timeout}; CREATE TEMP TABLE IF NOT EXISTS ${stage} ON COMMIT DELETE ROWS AS SELECT ${names} FROM ${target.table} WITH NO DATA`);
      await pgConn.copyIn(`COPY ${stage} (${names}) FROM STDIN`, text);
      if (target.unique) {
        const others = target.columns.filter((col) => !target.key.includes(col.name));
        const action = others.length ? `DO UPDATE SET ${others.map((col) => `${quote(col.name)} = EXCLUDED.${quote(col.name)}`).join(', ')} WHERE ${distinct(others)}` : 'DO NOTHING';
        const r = await conn.query(`INSERT INTO ${target.table} AS t (${names}) SELECT ${names} FROM ${stage} ON CONFLICT (${target.key.map(quote).join(', ')}) ${action}`);
        return r.rowCount;
      }
      await conn.query(`DELETE FROM ${target.table} t USING ${stage} s WHERE ${target.key.map((k) => `t.${quote(k)} = s.${quote(k)}`).join(' AND ')}`);
      return (await conn.query(`INSERT INTO ${target.table} (${names}) SELECT ${names} FROM ${stage}`)).rowCount;
    },
  };
  return dialect;
}

/** `($1, $2), ($3, $4)` for `rows` rows of `width` parameters. */
function valueRows(width: number, rows: number): string {
  const out: string[] = [];
  let p = 1;
  for (let r = 0; r < rows; r++) {
    const row: string[] = [];
    for (let i = 0; i < width; i++) row.push(`$${p++}`);
    out.push(`(${row.join(', ')})`);
  }
  return out.join(', ');
}

/** Whether an incoming row differs from the stored one; types without equality (json, xml, ...) compare as text. */
function distinct(columns: TableColumn[]): string {
  const side = (alias: string) => columns.map((col) => (col.kind === 'other' || col.type === 'json' ? `${alias}.${quote(col.name)}::text` : `${alias}.${quote(col.name)}`)).join(', ');
  return `ROW(${side('t')}) IS DISTINCT FROM ROW(${side('EXCLUDED')})`;
}

/** A session-local staging table per target and column set, emptied at every commit. */
function stagingTable(target: BulkTarget): string {
  const digest = createHash('sha256')
    .update(`${target.table}\u0000${target.columns.map((col) => `${col.name}:${col.type}`).join('\u0000')}`)
    .digest('hex')
    .slice(0, 16);
  return `sluice_stage_${digest}`;
}

export const postgresqlSystem = sqlSystemSpec(
  'postgresql',
  'A PostgreSQL database: the sql sources and sinks that name it share its connection pool (pool_size, pool_max_overflow, pool_timeout, pool_recycle), its TLS mode (sslmode) and the time zone of its datetime columns without a zone (timezone).',
  schema,
  postgresDialect,
);
