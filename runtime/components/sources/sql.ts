import schema from '../../../schemas/sources/sql.schema.json' with { type: 'json' };
import type { Entity } from '../../../compiler/values/types.js';
import type { Since, SourceSpec } from '../types.js';
import { matchName, SqlError, type ResultChunk, type ResultField, type SqlConnection } from '../systems/sql/dialect.js';
import { pumpNumber, sqlSystemFor, withRetries, type Lease, type SqlSystem } from '../systems/sql/pool.js';
import { COMPOUND_KEY_SEPARATOR } from './csv.js';

/** A `query`/`updated_query` given as a list of lines. */
function queryText(v: unknown): string | undefined {
  if (Array.isArray(v)) return v.join('\n');
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

function names(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) && v.length ? (v as string[]) : undefined;
}

interface ReadPlan {
  sql: string;
  params: unknown[];
  /** What a failing statement is blamed on. */
  property: string;
  table?: string;
  key: string[];
}

export const sqlSource: SourceSpec = {
  kind: 'source',
  type: 'sql',
  doc: 'Reads a table, view or query of a SQL system (PostgreSQL, MySQL/MariaDB) through a server-side cursor (fetch_size rows at a time). Each row becomes an entity whose `_id` is its primary key (compound keys joined with "-"); with `updated_column` (and `updated_query` for queries) incremental runs read only rows changed since the last run. Column types map to entity types (numeric → decimal, timestamps → datetime in the system\'s time zone, binary → bytes, JSON → nested values, arrays → lists).',
  schema,
  create(component, ctx) {
    const c = component.config;
    const what = `pipe "${ctx.pipe.id}": the sql source`;
    sqlSystemFor(ctx, c.system, what);
    const table = typeof c.table === 'string' && c.table !== '' ? c.table : undefined;
    const query = queryText(c.query);
    const updatedQuery = queryText(c.updated_query);
    const configuredKey = names(c.primary_key);
    if (!table && !query) throw new SqlError(`${what} needs "table" or "query"`, 'SQL_CONFIG');
    if (!table && !configuredKey) throw new SqlError(`${what} reads a "query" and so needs "primary_key" (the column or columns that give each row its _id)`, 'SQL_CONFIG');
    const updatedColumn = typeof c.updated_column === 'string' && c.updated_column !== '' ? c.updated_column : undefined;
    if (!table && updatedColumn && !updatedQuery) ctx.logger.warn({ pipe: ctx.pipe.id }, 'the sql source has "updated_column" and a "query" but no "updated_query": it reads everything on every run');
    const canContinue = updatedColumn !== undefined && (table !== undefined || updatedQuery !== undefined);
    const supportsSince = canContinue && c.supports_since !== false;
    const chronological = supportsSince && ((c.is_chronological as boolean | undefined) ?? table !== undefined);
    const chronologicalFull = chronological && c.is_chronological_full !== false;
    const fetchSize = typeof c.fetch_size === 'number' && c.fetch_size > 0 ? c.fetch_size : 1000;
    const keepNulls = c.preserve_null_values === true;
    const whitelist = Array.isArray(c.whitelist) ? new Set(c.whitelist as string[]) : null;
    const blacklist = new Set(Array.isArray(c.blacklist) ? (c.blacklist as string[]) : []);
    const failIfEmpty = c.if_source_empty === 'fail';

    /** The statement of this run; for tables, checks the names the config uses against the table. */
    async function plan(system: SqlSystem, conn: SqlConnection, since: Since, ordered: boolean): Promise<ReadPlan> {
      const d = system.dialect;
      const incremental = supportsSince && since !== null;
      if (!table) {
        const sql = incremental ? updatedQuery! : query!;
        const params: unknown[] = [];
        const text = sql.replace(/(?<![:\w]):since\b/g, () => {
          params.push(since);
          return d.param(params.length);
        });
        if (incremental && !params.length) throw new SqlError(`${what}'s "updated_query" has no ":since" parameter`, 'SQL_CONFIG');
        return { sql: text, params, property: incremental ? 'updated_query' : 'query', key: configuredKey! };
      }
      const schemaName = typeof c.schema === 'string' && c.schema !== '' ? c.schema : await d.defaultSchema(conn);
      const info = await d.describeTable(conn, schemaName, table);
      if (!info) throw new SqlError(`${what}'s "table": there is no table or view "${table}" in schema "${schemaName}" of the ${d.product} ${system.where} (system "${system.id}")`, 'SQL_UNKNOWN_TABLE');
      const columns = info.columns.map((col) => col.name);
      const qualified = `${info.schema}.${info.name}`;
      const column = (name: string, property: string): string => {
        const found = matchName(name, columns);
        if (found === undefined) throw new SqlError(`${what}'s "${property}": table "${qualified}" has no column "${name}" (columns: ${columns.join(', ')})`, 'SQL_UNKNOWN_COLUMN');
        return found;
      };
      const key = configuredKey ? configuredKey.map((k) => column(k, 'primary_key')) : info.primaryKey;
      if (!key.length) throw new SqlError(`${what}: table "${qualified}" has no primary key, so "primary_key" must name the column or columns that identify its rows`, 'SQL_CONFIG');
      const updated = updatedColumn !== undefined ? column(updatedColumn, 'updated_column') : undefined;
      let sql = `SELECT * FROM ${d.table(info.schema, info.name)}`;
      const params: unknown[] = [];
      if (incremental && updated) {
        params.push(since);
        sql += ` WHERE ${d.quote(updated)} >= ${d.param(1)}`;
      }
      if (ordered && updated) sql += ` ORDER BY ${d.quote(updated)}`;
      return { sql, params, property: 'table', table: qualified, key };
    }

    return {
      supportsSince,
      datasets: [],
      async *read({ since, batchSize, run }) {
        const system = sqlSystemFor(ctx, c.system, what);
        const start: Since = supportsSince ? since : null;
        const ordered = run.full ? chronologicalFull : chronological;
        const retries = pumpNumber(ctx.pipe, 'max_read_retries', 0);
        const delay = pumpNumber(ctx.pipe, 'read_retry_delay', 0);
        let lease: Lease | null = null;
        let chunks: AsyncIterator<ResultChunk> | null = null;
        let first: ResultChunk | undefined;
        let readPlan: ReadPlan | undefined;
        const open = async () => {
          let opened: Lease | null = null;
          try {
            opened = await system.pool.acquire();
            readPlan = await plan(system, opened.conn, start, ordered);
            await opened.conn.query(system.dialect.beginReadOnly);
            chunks = opened.conn.stream(readPlan.sql, readPlan.params, fetchSize)[Symbol.asyncIterator]();
            first = (await chunks.next()).value as ResultChunk;
            lease = opened;
          } catch (err) {
            opened?.release(true);
            throw system.wrapError(err, what, { property: readPlan?.property, table: readPlan?.table });
          }
        };
        await withRetries(system, retries, delay, run.signal, open, (err, n) => ctx.logger.warn({ pipe: ctx.pipe.id, attempt: n, err: (err as Error).message }, 'the sql source could not read; retrying (max_read_retries)'));
        const held = lease as unknown as Lease;
        const p = readPlan!;
        let broken = true;
        try {
          const fields = first!.fields;
          const fieldNames = fields.map((f) => f.name);
          const index = (name: string, property: string): number => {
            const found = matchName(name, fieldNames);
            if (found === undefined) throw new SqlError(`${what}'s "${property}": the result of the ${p.property === 'table' ? 'table' : `"${p.property}"`} has no column "${name}" (columns: ${fieldNames.join(', ')})`, 'SQL_UNKNOWN_COLUMN');
            return fieldNames.indexOf(found);
          };
          const keyIndexes = p.key.map((k) => index(k, 'primary_key'));
          const updatedIndex = updatedColumn !== undefined ? index(updatedColumn, 'updated_column') : -1;
          const updatedField: ResultField | undefined = fields[updatedIndex];
          const kept = fields.map((f) => (!whitelist || whitelist.has(f.name)) && !blacklist.has(f.name));

          let batch: Entity[] = [];
          let total = 0;
          let last: Since = start;
          let best: Since = start;
          let bestRank = start !== null && updatedField ? updatedField.rank(start) : null;
          const toEntity = (row: unknown[]): Entity => {
            const e: Entity = {};
            for (let i = 0; i < fields.length; i++) {
              if (!kept[i]) continue;
              const raw = row[i];
              if (raw === null || raw === undefined) {
                if (keepNulls) e[fields[i].name] = null;
              } else e[fields[i].name] = fields[i].decode(raw);
            }
            const parts: string[] = [];
            for (const k of keyIndexes) {
              const raw = row[k];
              if (raw === null || raw === undefined) throw new SqlError(`${what}: a row has no value in the primary key column "${fields[k].name}" ("primary_key")`, 'SQL_DATA');
              parts.push(String(fields[k].token(raw)));
            }
            e._id = parts.join(COMPOUND_KEY_SEPARATOR);
            if (updatedField) {
              const raw = row[updatedIndex];
              if (raw !== null && raw !== undefined) {
                const token = updatedField.token(raw);
                e._updated = token;
                if (ordered) last = token;
                else {
                  const rank = updatedField.rank(token);
                  if (bestRank === null || rank > bestRank) {
                    best = token;
                    bestRank = rank;
                  }
                }
              }
            }
            return e;
          };
          // Out-of-order results only move the since value once the whole result was read.
          const token = (): Since => (!supportsSince ? null : ordered ? last : start);
          let chunk: ResultChunk | undefined = first;
          while (chunk) {
            for (const row of chunk.rows) {
              batch.push(toEntity(row));
              total++;
              if (batch.length >= batchSize) {
                yield { entities: batch, since: token() };
                batch = [];
              }
            }
            if (run.signal.aborted) break;
            const next: IteratorResult<ResultChunk> = await chunks!.next();
            chunk = next.done ? undefined : next.value;
          }
          if (!run.signal.aborted) await held.conn.query('COMMIT');
          broken = run.signal.aborted;
          if (total === 0 && failIfEmpty && run.full) throw new SqlError(`${what} read no rows and if_source_empty is "fail"`, 'SQL_DATA');
          const final: Since = !supportsSince ? null : ordered ? last : best;
          if (batch.length || final !== token()) yield { entities: batch, since: final };
        } catch (err) {
          throw system.wrapError(err, what, { property: p.property, table: p.table });
        } finally {
          await (chunks as AsyncIterator<ResultChunk> | null)?.return?.();
          held.release(broken);
        }
      },
    };
  },
};
