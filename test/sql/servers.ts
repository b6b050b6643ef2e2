/**
 * The real database servers of the SQL suites: a private PostgreSQL and MariaDB per test file,
 * started before its tests and stopped after. Without the server binaries the suites skip, except
 * in CI, where they fail.
 */
import { afterAll, beforeAll } from 'vitest';
import { hasMariaDb, startMariaDb, type RunningMariaDb } from '../../scripts/test-services/mariadb.js';
import { hasPostgres, startPostgres, type PostgresOptions, type RunningPostgres } from '../../scripts/test-services/postgres.js';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';
import type { ConfigEntity } from '../../runtime/service/config-files.js';
import { collect, configure, openRuntime } from '../support/runtime.js';

export const skipPostgres = !hasPostgres() && !process.env.CI;
export const skipMariaDb = !hasMariaDb() && !process.env.CI;

export const PG_PASSWORD = 'pg-test-password';

/** A PostgreSQL server for the file's tests (the getter is valid inside tests). */
export function usePostgres(options: PostgresOptions = {}): () => RunningPostgres {
  let server: RunningPostgres | undefined;
  beforeAll(async () => {
    if (!skipPostgres) server = await startPostgres({ database: 'shop', password: PG_PASSWORD, ...options });
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => server!;
}

export function useMariaDb(): () => RunningMariaDb {
  let server: RunningMariaDb | undefined;
  beforeAll(async () => {
    if (!skipMariaDb) server = await startMariaDb({ database: 'shop' });
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => server!;
}

/** One database as the suites see it: its system config and a way to run SQL on it. */
export interface TestDb {
  name: 'postgresql' | 'mysql';
  system(extra?: Record<string, unknown>): ConfigEntity;
  secrets: Record<string, string>;
  /** Runs statements as the superuser; returns rows as tab-separated lines. */
  sql(statements: string): string[];
}

export function postgresDb(pg: RunningPostgres): TestDb {
  return {
    name: 'postgresql',
    system: (extra = {}) => ({ _id: 'db', type: 'system:postgresql', host: pg.host, port: pg.port, database: pg.database, username: pg.user, password: '$SECRET(db-password)', ...extra }),
    secrets: { 'db-password': pg.password! },
    sql: (statements) => lines(pg.psql(statements).replace(/\|/g, '\t')),
  };
}

export function mariaDb(my: RunningMariaDb): TestDb {
  return {
    name: 'mysql',
    system: (extra = {}) => ({ _id: 'db', type: 'system:mysql', host: my.host, port: my.port, database: my.database, username: my.user, password: '$SECRET(db-password)', ...extra }),
    secrets: { 'db-password': my.password },
    sql: (statements) => lines(my.sql(statements, my.database)),
  };
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

/** A runtime on a fresh embedded store with the database's secret and the given config. */
export async function runtimeWith(db: TestDb, config: ConfigEntity[]): Promise<SluiceRuntime> {
  const rt = await openRuntime();
  await rt.setSecrets(db.secrets, false);
  await configure(rt, [db.system(), ...config]);
  return rt;
}

/** The latest entities of a dataset, sorted by `_id`, without the bookkeeping fields (`_deleted` only when true). */
export async function entities(rt: SluiceRuntime, dataset: string): Promise<Record<string, unknown>[]> {
  const all = await collect(rt.store.scan(dataset));
  return all
    .map(({ _updated: _u, _ts: _t, _hash: _h, _previous: _p, _deleted: deleted, ...rest }) => (deleted === true ? { ...rest, _deleted: true } : rest) as Record<string, unknown>)
    .sort((a, b) => String(a._id).localeCompare(String(b._id), 'en', { numeric: true }));
}
