import schema from '../../../schemas/sinks/sql.schema.json' with { type: 'json' };
import { createHash } from 'node:crypto';
import { DateTime, type Entity, type Value } from '../../../compiler/values/types.js';
import { EntityError } from '../../datasets/content.js';
import type { EntityFailure, RunInfo, SinkResult, SinkSpec } from '../types.js';
import { matchName, SqlError, type ColumnDefinition, type Encoder, type SqlConnection, type TableColumn, type TableInfo } from '../systems/sql/dialect.js';
import { configValue } from '../systems/sql/definition.js';
import { pumpNumber, sqlSystemFor, withRetries, type SqlSystem } from '../systems/sql/pool.js';
import { ValueError } from '../systems/sql/values.js';
import { pipeOwnedDocument } from '../pipe-owned.js';

/** The run that truncated or recreated the table (once per full run). */
const firstRunDocument = pipeOwnedDocument((pipe) => `sql-sink:${pipe}`);

interface WriteColumn {
  column: TableColumn;
  /** The entity property the column takes its value from. */
  property: string;
  encode: Encoder;
  dflt?: Value;
  /** Identity columns are written only when an entity of the batch has a value for them. */
  optional: boolean;
  /** Filled with the time of the write (`timestamp`). */
  timestamp: boolean;
}

interface Target {
  runId: string;
  sql: string;
  label: string;
  columns: WriteColumn[];
  key: WriteColumn[];
  /** The key has a unique constraint: rows are upserted, otherwise replaced (deleted, then inserted). */
  unique: boolean;
  /** COPY straight into the table: its first run after truncation. */
  direct: boolean;
}

const ZERO: SinkResult = { written: 0, unchanged: 0, deleted: 0, failures: [] };

function names(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) && v.length ? (v as string[]) : undefined;
}

export const sqlSink: SinkSpec = {
  kind: 'sink',
  type: 'sql',
  doc: 'Writes entities as rows of a table of a SQL system (PostgreSQL, MySQL/MariaDB): changed entities are upserted by primary key and `_deleted` ones deleted, each batch in one transaction. It can create the table from `schema_definition`, truncate it on the first run, fill a `timestamp` column, skip identity columns, and on PostgreSQL load batches with COPY into a staging table merged in one statement (`use_bulk_operations`).',
  schema,
  create(component, ctx) {
    const c = component.config;
    const what = `pipe "${ctx.pipe.id}": the sql sink`;
    sqlSystemFor(ctx, c.system, what);
    const tableName = c.table as string;
    const bulk = c.use_bulk_operations === true;
    const statementRows = typeof c.batch_size === 'number' && c.batch_size > 0 ? c.batch_size : bulk ? 1000 : 100;
    const definition = Array.isArray(c.schema_definition) && c.schema_definition.length ? (c.schema_definition as ColumnDefinition[]) : undefined;
    const createIfMissing = c.create_table_if_missing === true;
    const recreate = createIfMissing && c.recreate_table_on_first_run === true;
    const truncateFirst = c.truncate_table_on_first_run === true;
    const skipIdentity = c.skip_identity_columns === true;
    const timestampName = typeof c.timestamp === 'string' && c.timestamp !== '' ? c.timestamp : undefined;
    const trimCharKeys = c.remove_pk_char_trailing_spaces !== false;
    const whitelist = Array.isArray(c.whitelist) ? new Set(c.whitelist as string[]) : null;
    const blacklist = new Set(Array.isArray(c.blacklist) ? (c.blacklist as string[]) : []);
    const bulkTimeout = typeof c.bulk_operation_timeout === 'number' ? c.bulk_operation_timeout : 600;
    const configuredKey = names(c.primary_key);
    if (createIfMissing && !definition) throw new SqlError(`${what} has "create_table_if_missing" and so needs a "schema_definition" to create the table from`, 'SQL_CONFIG');
    if (createIfMissing && !configuredKey && !definition!.some((d) => d.primary_key === true)) throw new SqlError(`${what}'s "schema_definition" needs at least one column with "primary_key": true`, 'SQL_CONFIG');
    const metaKey = firstRunDocument(ctx.pipe.id);
    let target: Target | null = null;
    let warnedNoBulk = false;

    const retries = (): { count: number; delay: number } => ({ count: pumpNumber(ctx.pipe, 'batch_retries', 3), delay: pumpNumber(ctx.pipe, 'write_retry_delay', 0) });

    /** Runs `fn` on a pooled connection, retrying while the database cannot be reached; a lasting outage ends the run. */
    async function onConnection<T>(system: SqlSystem, run: RunInfo, property: string, fn: (conn: SqlConnection) => Promise<T>): Promise<T> {
      const { count, delay } = retries();
      try {
        return await withRetries(
          system,
          count,
          delay,
          run.signal,
          async () => {
            try {
              return await system.use(fn);
            } catch (err) {
              throw system.wrapError(err, what, { property, table: target?.label });
            }
          },
          (err, n) => ctx.logger.warn({ pipe: ctx.pipe.id, attempt: n, err: (err as Error).message }, 'the sql sink could not write; retrying (batch_retries)'),
        );
      } catch (err) {
        if (err instanceof SqlError && (err.code === 'SQL_CONNECT' || err.code === 'SQL_POOL_TIMEOUT' || err.code === 'SQL_AUTH' || err.code === 'SQL_UNKNOWN_DATABASE')) err.fatal = true;
        throw err;
      }
    }

    function createTableSql(system: SqlSystem, table: string, key: string[]): string[] {
      const d = system.dialect;
      const defs = definition!;
      const cols = defs.map((def) => {
        const isKey = key.includes(def.name);
        let type: string;
        try {
          type = d.columnType(def, isKey);
        } catch (err) {
          if (err instanceof SqlError) throw new SqlError(`${what}'s "schema_definition": ${err.message}`, err.code, { fatal: true });
          throw err;
        }
        return `${d.quote(def.name)} ${type}${isKey || def.allow_null === false ? ' NOT NULL' : ''}`;
      });
      const statements = [`CREATE TABLE ${table} (${cols.join(', ')}, PRIMARY KEY (${key.map(d.quote).join(', ')}))`];
      for (const def of defs.filter((x) => x.index === true && !key.includes(x.name))) {
        const name = `ix_${createHash('sha256').update(`${table}.${def.name}`).digest('hex').slice(0, 12)}`;
        statements.push(`CREATE INDEX ${d.quote(name)} ON ${table} (${d.quote(def.name)})`);
      }
      return statements;
    }

    /** The columns written and the key, from `schema_definition` or the table's own columns. */
    function mapColumns(system: SqlSystem, info: TableInfo, label: string): Pick<Target, 'columns' | 'key' | 'unique'> {
      const available = info.columns.map((col) => col.name);
      const find = (name: string, property: string): TableColumn => {
        const found = matchName(name, available);
        if (found === undefined) throw new SqlError(`${what}'s "${property}": table "${label}" has no column "${name}" (columns: ${available.join(', ')})`, 'SQL_UNKNOWN_COLUMN');
        return info.columns.find((col) => col.name === found)!;
      };
      const make = (column: TableColumn, property: string, dflt?: Value): WriteColumn => ({
        column,
        property,
        encode: system.dialect.encoder(column),
        ...(dflt !== undefined ? { dflt } : {}),
        optional: column.identity,
        timestamp: timestampName !== undefined && property === timestampName,
      });
      let columns: WriteColumn[];
      if (definition) columns = definition.map((def) => make(find(def.name, 'schema_definition'), def.source_property ?? def.name, configValue(def.default)));
      else columns = info.columns.filter((col) => !col.generated).map((col) => make(col, col.name));
      if (timestampName && !columns.some((w) => w.timestamp)) {
        const col = matchName(timestampName, available);
        if (col !== undefined) columns.push(make(info.columns.find((x) => x.name === col)!, timestampName));
      }
      const keyNames = (configuredKey ?? (definition?.some((d) => d.primary_key) ? definition.filter((d) => d.primary_key).map((d) => d.name) : info.primaryKey)).map((k) => find(k, 'primary_key').name);
      if (!keyNames.length) throw new SqlError(`${what}: table "${label}" has no primary key, so "primary_key" must name the column or columns that identify a row`, 'SQL_CONFIG');
      columns = columns.filter((w) => keyNames.includes(w.column.name) || ((!skipIdentity || !w.column.identity) && (!whitelist || whitelist.has(w.column.name)) && !blacklist.has(w.column.name)));
      const key = keyNames.map((k) => {
        const w = columns.find((x) => x.column.name === k);
        if (!w) throw new SqlError(`${what}'s "primary_key": column "${k}" of table "${label}" is not among the columns written`, 'SQL_CONFIG');
        return w;
      });
      for (const k of key) k.optional = false;
      const unique = info.uniqueKeys.some((u) => u.length === keyNames.length && u.every((x) => keyNames.includes(x)));
      return { columns, key, unique };
    }

    async function prepareTarget(run: RunInfo): Promise<Target> {
      if (target?.runId === run.id) return target;
      const system = sqlSystemFor(ctx, c.system, what);
      const d = system.dialect;
      // Truncation and re-creation happen once per first run, also when a crash makes the run resume.
      const done = (await ctx.store.getMeta<{ run?: string }>(metaKey))?.run;
      const firstRun = run.full && done !== run.id;
      let direct = false;
      const resolved = await onConnection(system, run, 'table', async (conn) => {
        const schemaName = typeof c.schema === 'string' && c.schema !== '' ? c.schema : await d.defaultSchema(conn);
        let info = await d.describeTable(conn, schemaName, tableName);
        const sqlName = d.table(schemaName, info?.name ?? tableName);
        if (info && recreate && firstRun) {
          await conn.query(`DROP TABLE ${sqlName}`);
          info = null;
        }
        if (!info && createIfMissing) {
          const key = configuredKey ?? definition!.filter((x) => x.primary_key).map((x) => x.name);
          for (const statement of createTableSql(system, sqlName, key)) await conn.query(statement);
          ctx.logger.info({ pipe: ctx.pipe.id, table: `${schemaName}.${tableName}` }, 'the sql sink created its table from schema_definition');
          info = await d.describeTable(conn, schemaName, tableName);
        }
        if (!info) throw new SqlError(`${what}'s "table": there is no table "${tableName}" in schema "${schemaName}" of the ${d.product} ${system.where} (system "${system.id}")`, 'SQL_UNKNOWN_TABLE');
        const label = `${info.schema}.${info.name}`;
        const sql = d.table(info.schema, info.name);
        const mapped = mapColumns(system, info, label);
        if (truncateFirst && firstRun) {
          await conn.query(d.truncateSql(sql));
          direct = bulk && mapped.unique && d.bulkUpsert !== undefined;
        }
        return { sql, label, ...mapped };
      });
      if (firstRun && (truncateFirst || recreate)) await ctx.store.setMeta(metaKey, { run: run.id });
      if (bulk && !d.bulkUpsert && !warnedNoBulk) {
        warnedNoBulk = true;
        ctx.logger.warn({ pipe: ctx.pipe.id, system: system.id }, `use_bulk_operations: ${d.product} has no bulk path here; batches are written with multi-row statements`);
      }
      target = { runId: run.id, direct, ...resolved };
      return target;
    }

    /** Encoded key values of an entity (null when it has none), for deletes and de-duplication. */
    function keyOf(t: Target, e: Entity): unknown[] {
      return t.key.map((k) => {
        let v = e[k.property];
        if (v === undefined || v === null) v = k.dflt ?? null;
        if (v === null) throw new EntityError(`entity "${String(e._id)}" has no value for the primary key column "${k.column.name}" (property "${k.property}")`, e._id);
        if (trimCharKeys && k.column.kind === 'char' && typeof v === 'string') v = v.replace(/ +$/, '');
        return k.encode(v);
      });
    }

    async function writeBatch(entities: Entity[], run: RunInfo): Promise<SinkResult> {
      const t = await prepareTarget(run);
      const system = sqlSystemFor(ctx, c.system, what);
      const d = system.dialect;
      const failures: EntityFailure[] = [];
      const latest = new Map<string, { entity: Entity; key: unknown[]; deleted: boolean }>();
      for (const e of entities) {
        try {
          const key = keyOf(t, e);
          const id = JSON.stringify(key.map((k) => (Buffer.isBuffer(k) ? k.toString('hex') : k)));
          latest.delete(id);
          latest.set(id, { entity: e, key, deleted: e._deleted === true || e._filtered === true });
        } catch (err) {
          failures.push({ entity: e, error: err as Error });
        }
      }
      const now = new DateTime(BigInt(Date.now()) * 1_000_000n);
      const upserts: { entity: Entity; key: unknown[] }[] = [];
      const deletes: unknown[][] = [];
      for (const x of latest.values()) (x.deleted ? deletes.push(x.key) : upserts.push(x));
      const columns = t.columns.filter((w) => !w.optional || upserts.some((u) => u.entity[w.property] !== undefined && u.entity[w.property] !== null));
      const rows: unknown[][] = [];
      const rowKeys: unknown[][] = [];
      for (const u of upserts) {
        try {
          rows.push(
            columns.map((w) => {
              let v: Value | undefined = w.timestamp ? now : u.entity[w.property];
              if (v === undefined || v === null) v = w.dflt ?? null;
              return v === null ? null : w.encode(v);
            }),
          );
          rowKeys.push(u.key);
        } catch (err) {
          if (!(err instanceof ValueError)) throw err;
          failures.push({ entity: u.entity, error: new EntityError(`entity "${String(u.entity._id)}": ${err.message}`, u.entity._id) });
        }
      }
      if (!rows.length && !deletes.length) return { ...ZERO, failures };
      const keyNames = t.key.map((k) => d.quote(k.column.name));
      const keyMatch = (count: number): string => {
        let p = 0;
        const tuple = () => `(${t.key.map(() => d.param(++p)).join(', ')})`;
        return `(${keyNames.join(', ')}) IN (${Array.from({ length: count }, tuple).join(', ')})`;
      };
      const deleteKeys = async (conn: SqlConnection, keys: unknown[][]): Promise<number> => {
        let deleted = 0;
        const per = Math.max(1, Math.min(statementRows, Math.floor(d.maxParams / t.key.length)));
        for (let i = 0; i < keys.length; i += per) {
          const part = keys.slice(i, i + per);
          deleted += (await conn.query(`DELETE FROM ${t.sql} WHERE ${keyMatch(part.length)}`, part.flat())).rowCount;
        }
        return deleted;
      };
      const result = await onConnection(system, run, 'table', async (conn) => {
        await conn.query('BEGIN');
        try {
          const deleted = deletes.length ? await deleteKeys(conn, deletes) : 0;
          let written = 0;
          if (rows.length && bulk && d.bulkUpsert) {
            const cols = columns.map((w) => w.column);
            const keyOrder = t.key.map((k) => k.column.name);
            for (let i = 0; i < rows.length; i += statementRows) written += await d.bulkUpsert(conn, { table: t.sql, columns: cols, key: keyOrder, unique: t.unique, direct: t.direct, timeoutSeconds: bulkTimeout }, rows.slice(i, i + statementRows));
          } else if (rows.length) {
            if (!t.unique) await deleteKeys(conn, rowKeys);
            const per = Math.max(1, Math.min(statementRows, Math.floor(d.maxParams / columns.length)));
            for (let i = 0; i < rows.length; i += per) {
              const part = rows.slice(i, i + per);
              const sql = t.unique ? d.upsertSql(t.sql, columns.map((w) => w.column), t.key.map((k) => k.column.name), part.length) : d.insertSql(t.sql, columns.map((w) => w.column.name), part.length);
              written += (await conn.query(sql, part.flat())).rowCount;
            }
          }
          await conn.query('COMMIT');
          return { written, deleted };
        } catch (err) {
          await conn.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      });
      return { written: result.written, unchanged: Math.max(0, rows.length - result.written), deleted: result.deleted, failures };
    }

    return {
      dataset: null,
      atomicCheckpoint: false,
      tracksDeletions: false,
      async beginRun(run) {
        target = null;
        await prepareTarget(run);
      },
      async write(entities, run, checkpoint) {
        // Each pipe batch is one transaction (in statements of at most batch_size rows); its
        // checkpoint is saved once it is committed, so a crash re-sends at most this batch.
        const r = entities.length ? await writeBatch(entities, run) : ZERO;
        if (checkpoint) await ctx.store.setPipeState(checkpoint.pipeId, checkpoint.state);
        return r;
      },
      async endRun(_run, checkpoint) {
        await ctx.store.setPipeState(checkpoint.pipeId, checkpoint.state);
        return ZERO;
      },
    };
  },
};
