/**
 * bench sql, on a private PostgreSQL: a table of 200,000 rows with ten columns of mixed types read
 * into a dataset by the sql source (`source_per_s`), that dataset written to a table by the sql
 * sink without and with bulk operations (`sink_per_s`, `bulk_sink_per_s`), the dataset → DTL →
 * dataset pipe of `bench pipe` in the same run (`pipe_per_s`), and PostgreSQL's own COPY of the
 * same rows out of the table and into another one (`copy_per_s`). Then 1% of the rows change and
 * the source runs again (its time as a fraction of the first run). `--rss` also measures the peak
 * memory of a source run in a fresh process at 200,000 and 1,000,000 rows. Extra figures go to
 * stderr; the last line of stdout is the result.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { finished } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import pino from 'pino';
import { EmbeddedStore } from '../runtime/store/embedded/store.js';
import { SluiceRuntime } from '../runtime/service/runtime.js';
import { entitiesToFiles, type ConfigEntity } from '../runtime/service/config-files.js';
import { startPostgres, type RunningPostgres } from '../scripts/test-services/postgres.js';
import { log, option, round } from './util.js';

const COLUMNS = `id BIGINT PRIMARY KEY, name TEXT, email VARCHAR(80), amount NUMERIC(12, 2), score DOUBLE PRECISION, active BOOLEAN,
  created TIMESTAMP, updated TIMESTAMP, category INTEGER, tags TEXT[]`;

function fill(server: RunningPostgres, table: string, rows: number): void {
  server.psql(`CREATE TABLE ${table} (${COLUMNS});
    INSERT INTO ${table} SELECT i, 'Customer ' || i, 'c' || i || '@example.org', (i % 100000) / 100.0, i * 0.37, i % 3 = 0,
      timestamp '2020-01-01' + i * interval '1 second', timestamp '2024-01-01' + i * interval '1 millisecond', i % 17, ARRAY['t' || (i % 5), 'x']
    FROM generate_series(1, ${rows}) i;
    CREATE INDEX ON ${table} (updated); ANALYZE ${table}`);
}

function system(server: RunningPostgres): ConfigEntity {
  return { _id: 'bench-db', type: 'system:postgresql', host: server.host, port: server.port, database: server.database, username: server.user, password: 'unused' };
}

async function openRuntime(name: string): Promise<{ rt: SluiceRuntime; store: EmbeddedStore; cleanup(): Promise<void> }> {
  const dir = join(tmpdir(), `sluice-bench-sql-${name}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  const store = new EmbeddedStore({ dataDir: dir });
  const rt = await SluiceRuntime.open({ store, logger: pino({ level: 'warn' }), schedule: false });
  return { rt, store, cleanup: async () => (await rt.close(), rmSync(dir, { recursive: true, force: true })) };
}

async function configure(rt: SluiceRuntime, entities: ConfigEntity[]): Promise<void> {
  const r = await rt.setConfigFiles(entitiesToFiles(entities));
  if (!r.ok) throw new Error(rt.describeErrors(r.diagnostics));
}

async function timedRun(rt: SluiceRuntime, store: EmbeddedStore, pipe: string, expectRead: number | null): Promise<number> {
  store.checkpointWal();
  const t0 = process.hrtime.bigint();
  const outcome = await rt.runPipe(pipe);
  store.checkpointWal();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (outcome.status !== 'completed' || (expectRead !== null && outcome.read !== expectRead)) throw new Error(`${pipe}: ${JSON.stringify(outcome)}`);
  return seconds;
}

/** PostgreSQL's COPY of the table to the client and into an empty copy of it. */
async function copySeconds(server: RunningPostgres, rows: number): Promise<number> {
  server.psql(`CREATE TABLE bench_copy (${COLUMNS})`);
  const client = new pg.Client({ host: server.host, port: server.port, user: server.user, database: server.database });
  await client.connect();
  const t0 = process.hrtime.bigint();
  const chunks: Buffer[] = [];
  const out = client.query(copyTo('COPY bench_source TO STDOUT'));
  for await (const c of out) chunks.push(c as Buffer);
  const into = client.query(copyFrom('COPY bench_copy FROM STDIN'));
  for (const c of chunks) into.write(c);
  into.end();
  await finished(into);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await client.end();
  const copied = Number(server.psql('SELECT count(*) FROM bench_copy').trim());
  if (copied !== rows) throw new Error(`COPY copied ${copied} rows`);
  return seconds;
}

/**
 * Peak RSS (MB) of fresh processes that read a table of `rows` rows with the sql source: into the
 * null sink (the source alone) and into a dataset (the embedded store's own memory included).
 */
function sourceRss(server: RunningPostgres, rows: number): { source: number; toDataset: number } {
  const table = `bench_rss_${rows}`;
  fill(server, table, rows);
  const child = fileURLToPath(import.meta.url);
  const measure = (sink: string): number => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, '--rss-child', JSON.stringify({ system: system(server), table, rows, sink })], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`the source run of ${rows} rows failed:\n${r.stderr}`);
    return Number(r.stdout.trim().split('\n').pop());
  };
  const result = { source: measure('null'), toDataset: measure('dataset') };
  server.psql(`DROP TABLE ${table}`);
  return result;
}

async function rssChild(arg: string): Promise<void> {
  const { system: sys, table, rows, sink: sinkType } = JSON.parse(arg) as { system: ConfigEntity; table: string; rows: number; sink: string };
  const { rt, store, cleanup } = await openRuntime('rss');
  const sink = sinkType === 'null' ? { sink: { type: 'null' } } : {};
  await configure(rt, [sys, { _id: 'read', type: 'pipe', source: { type: 'sql', system: 'bench-db', table }, ...sink }]);
  await timedRun(rt, store, 'read', rows);
  const peak = process.resourceUsage().maxRSS / 1024;
  await cleanup();
  process.stdout.write(`${round(peak)}\n`);
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const n = option(args, 'rows', 200_000);
  const pipePerS = ((await (await import('./pipe.js')).run(['--entities', String(n)])) as { first_run_per_s: number }).first_run_per_s;
  const server = await startPostgres({ database: 'bench' });
  try {
    log(`filling a table of ${n} rows with ten columns`);
    fill(server, 'bench_source', n);
    const copy = await copySeconds(server, n);
    log(`PostgreSQL COPY out and in: ${round(copy, 2)} s = ${round(n / copy)} rows/s`);

    const { rt, store, cleanup } = await openRuntime('main');
    server.psql(`CREATE TABLE bench_target (${COLUMNS}); CREATE TABLE bench_bulk (${COLUMNS})`);
    await configure(rt, [
      system(server),
      { _id: 'read', type: 'pipe', source: { type: 'sql', system: 'bench-db', table: 'bench_source', updated_column: 'updated' } },
      // Pipe batches of the sink's batch_size (1000 with bulk operations): one transaction, one COPY and one merge each.
      { _id: 'write', type: 'pipe', batch_size: 1000, source: { type: 'dataset', dataset: 'read' }, sink: { type: 'sql', system: 'bench-db', table: 'bench_target' } },
      { _id: 'write-bulk', type: 'pipe', batch_size: 1000, source: { type: 'dataset', dataset: 'read' }, sink: { type: 'sql', system: 'bench-db', table: 'bench_bulk', use_bulk_operations: true } },
    ]);
    const source = await timedRun(rt, store, 'read', n);
    log(`sql source: ${n} rows in ${round(source, 2)} s = ${round(n / source)} rows/s`);
    const sink = await timedRun(rt, store, 'write', n);
    log(`sql sink: ${n} entities in ${round(sink, 2)} s = ${round(n / sink)} entities/s`);
    const bulk = await timedRun(rt, store, 'write-bulk', n);
    log(`sql sink with bulk operations (COPY + merge): ${n} entities in ${round(bulk, 2)} s = ${round(n / bulk)} entities/s`);
    for (const t of ['bench_target', 'bench_bulk']) {
      const diff = server.psql(`SELECT count(*) FROM (SELECT * FROM bench_source EXCEPT SELECT * FROM ${t}) d`).trim();
      if (diff !== '0') throw new Error(`${t} differs from bench_source in ${diff} rows`);
    }

    const changed = Math.floor(n / 100);
    server.psql(`UPDATE bench_source SET amount = amount + 1, updated = timestamp '2025-01-01' + id * interval '1 millisecond' WHERE id % 100 = 0`);
    // ">=" also re-reads the rows at the last since value: at most a few more than the changed ones.
    const rerun = await timedRun(rt, store, 'read', null);
    const reread = rt.pump('read')!.lastOutcome!.read;
    if (reread < changed || reread > changed + 1) throw new Error(`the rerun read ${reread} rows, not the ${changed} changed ones`);
    log(`rerun after ${changed} rows (1%) changed: ${round(rerun, 3)} s, ${round((rerun / source) * 100, 2)}% of the first run`);
    await cleanup();

    const extra: Record<string, unknown> = { bench: 'sql-extra', rerun_1pct_seconds: round(rerun, 3), rerun_1pct_fraction: round(rerun / source, 4) };
    if (args.includes('--rss')) {
      for (const rows of [200_000, 1_000_000]) {
        log(`peak RSS of a source run over ${rows} rows (fresh process)...`);
        const rss = sourceRss(server, rows);
        extra[`source_peak_rss_mb_${rows}`] = rss.source;
        extra[`source_to_dataset_peak_rss_mb_${rows}`] = rss.toDataset;
      }
    }
    log(JSON.stringify(extra));
    return { bench: 'sql', rows: n, source_per_s: round(n / source), sink_per_s: round(n / sink), bulk_sink_per_s: round(n / bulk), pipe_per_s: pipePerS, copy_per_s: round(n / copy) };
  } finally {
    await server.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--rss-child') await rssChild(process.argv[3]);
