/**
 * SQL systems against real servers: TLS per sslmode (a PostgreSQL server with a self-signed
 * certificate and one without), the shared pool's limits, a server that goes away in the middle
 * of a run and comes back, and the compiled config's documented defaults.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/compile.js';
import { entitiesToFiles } from '../../runtime/service/config-files.js';
import { closeSqlPools, sharedSystem } from '../../runtime/components/systems/sql/pool.js';
import '../../runtime/components/registry.js';
import { entities, mariaDb, postgresDb, runtimeWith, skipMariaDb, skipPostgres, useMariaDb, usePostgres, type TestDb } from './servers.js';

const plain = usePostgres();
const tls = usePostgres({ ssl: true });
const maria = useMariaDb();

/** A pipe that reports whether its own connection uses TLS. */
const tlsProbe = (system: string) => ({ _id: `probe-${system}`, type: 'pipe', source: { type: 'sql', system, query: 'SELECT pg_backend_pid() AS id, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', primary_key: 'id' } });

describe.skipIf(skipPostgres)('PostgreSQL sslmode', () => {
  it('uses TLS when the server offers it (prefer, require) and not with disable', async () => {
    const db = postgresDb(tls());
    const rt = await runtimeWith(db, ['prefer', 'require', 'disable', 'allow'].flatMap((mode) => [db.system({ _id: mode, sslmode: mode }), tlsProbe(mode)]));
    const seen: Record<string, unknown> = {};
    for (const mode of ['prefer', 'require', 'disable', 'allow']) {
      const o = await rt.runPipe(`probe-${mode}`);
      expect(o.status, o.error).toBe('completed');
      seen[mode] = (await entities(rt, `probe-${mode}`))[0].ssl;
    }
    expect(seen).toEqual({ prefer: true, require: true, disable: false, allow: false });
    await rt.close();
  });

  it('falls back to a plain connection with prefer, and fails clearly with require, when the server has no TLS', async () => {
    const db = postgresDb(plain());
    const rt = await runtimeWith(db, ['prefer', 'require'].flatMap((mode) => [db.system({ _id: mode, sslmode: mode }), tlsProbe(mode)]));
    const prefer = await rt.runPipe('probe-prefer');
    expect(prefer.status, prefer.error).toBe('completed');
    expect((await entities(rt, 'probe-prefer'))[0].ssl).toBe(false);
    const require = await rt.runPipe('probe-require');
    expect(require.status).toBe('failed');
    expect(require.error).toMatch(/cannot reach the PostgreSQL database "shop" .* of system "require": .*SSL/i);
    await rt.close();
  });
});

describe.skipIf(skipMariaDb)('MySQL sslmode', () => {
  it('connects with preferred and disabled to a server without TLS, and required fails clearly', async () => {
    const db = mariaDb(maria());
    db.sql('CREATE TABLE tls_probe (id INT PRIMARY KEY); INSERT INTO tls_probe VALUES (1)');
    const rt = await runtimeWith(db, ['preferred', 'disabled', 'required'].flatMap((mode) => [db.system({ _id: mode, sslmode: mode }), { _id: `probe-${mode}`, type: 'pipe', source: { type: 'sql', system: mode, table: 'tls_probe' } }]));
    expect((await rt.runPipe('probe-preferred')).status).toBe('completed');
    expect((await rt.runPipe('probe-disabled')).status).toBe('completed');
    const required = await rt.runPipe('probe-required');
    expect(required.status).toBe('failed');
    expect(required.error).toMatch(/of system "required": .*secure connection/i);
    await rt.close();
  });
});

describe.skipIf(skipPostgres)('the shared pool', () => {
  it('hands out at most pool_size + pool_max_overflow connections, waits pool_timeout, and reuses released ones', async () => {
    const db = postgresDb(plain());
    const config = { ...db.system({ pool_size: 1, pool_max_overflow: 1, pool_timeout: 1 }), password: plain().password! } as Record<string, unknown>;
    const system = sharedSystem({ id: 'db', type: 'system:postgresql', original: config, effective: config, config } as never);
    expect(sharedSystem({ id: 'db', type: 'system:postgresql', original: config, effective: config, config } as never)).toBe(system);
    const a = await system.pool.acquire();
    const b = await system.pool.acquire();
    await expect(system.pool.acquire()).rejects.toThrow(/no free connection within pool_timeout \(1 s\); all 2 connections/);
    const pid = (await a.conn.query('SELECT pg_backend_pid()')).rows[0][0];
    const waiting = system.pool.acquire();
    a.release();
    const c = await waiting;
    expect((await c.conn.query('SELECT pg_backend_pid()')).rows[0][0]).toBe(pid);
    c.release();
    b.release();
    expect(system.pool.size).toBe(2);
    await closeSqlPools();
    expect(system.pool.closed).toBe(true);
  });
});

/**
 * Rows 1..3000 of a view that stops at row 2000 while the test holds a lock (`gate`); rows before
 * it reach the pipe (servers hold back a network buffer's worth).
 */
async function serverGoesAway(db: TestDb, gateView: string, hold: () => Promise<{ waiting(): Promise<boolean>; release(): Promise<void> }>, halt: () => Promise<void>, resume: () => Promise<void>) {
  db.sql(`CREATE TABLE many (id INT PRIMARY KEY, v INT)`);
  db.sql(`INSERT INTO many VALUES ${Array.from({ length: 3000 }, (_, i) => `(${i + 1}, ${i})`).join(', ')}`);
  db.sql(gateView);
  const rt = await runtimeWith(db, [{ _id: 'many', type: 'pipe', batch_size: 50, source: { type: 'sql', system: 'db', table: 'many_gated', primary_key: 'id', blacklist: ['gate'], fetch_size: 50 } }]);
  const lock = await hold();
  const running = rt.runPipe('many');
  // Progress, not time: the source is stuck at row 2000 once the lock has a waiter, and the pipe has
  // taken in the rows before it as far as the network buffers let them through.
  const read = () => rt.scheduler.pumps.get('many')?.progress.read ?? 0;
  while (!(await lock.waiting()) || read() < 1000) await new Promise((r) => setTimeout(r, 20));
  await halt();
  const failed = await running;
  expect(failed.status).toBe('failed');
  expect(failed.error).toMatch(/^pipe "many": the sql source: cannot reach the (PostgreSQL|MySQL) database "shop"/);
  expect(failed.read).toBeGreaterThanOrEqual(1000);
  await resume();
  await lock.release();
  const again = await rt.runPipe('many');
  expect(again.status, again.error).toBe('completed');
  const got = await entities(rt, 'many');
  expect(got).toHaveLength(3000);
  expect(got[2999]).toEqual({ _id: '3000', id: 3000, v: 2999 });
  await rt.close();
}

describe.skipIf(skipPostgres)('PostgreSQL restarted during a run', () => {
  it('fails the run with a clear message and completes it once the server is back', async () => {
    const server = plain();
    const db = postgresDb(server);
    await serverGoesAway(
      db,
      `CREATE VIEW many_gated AS SELECT m.*, CASE WHEN m.id = 2000 THEN pg_advisory_lock_shared(77)::text END AS gate FROM many m`,
      async () => {
        const holder = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: server.database });
        await holder.connect();
        holder.on('error', () => undefined);
        await holder.query('SELECT pg_advisory_lock(77)');
        return {
          waiting: async () => (await holder.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)).rows[0].n > 0,
          release: () => holder.end().catch(() => undefined),
        };
      },
      async () => server.halt(),
      async () => server.resume(),
    );
  });
});

describe.skipIf(skipMariaDb)('MariaDB restarted during a run', () => {
  it('fails the run with a clear message and completes it once the server is back', async () => {
    const server = maria();
    const db = mariaDb(server);
    const mysql = (await import('mysql2/promise')).default;
    await serverGoesAway(
      db,
      `CREATE VIEW many_gated AS SELECT m.*, CASE WHEN m.id = 2000 THEN GET_LOCK('gate', 600) END AS gate FROM many m`,
      async () => {
        const holder = await mysql.createConnection({ host: server.host, port: server.port, user: server.user, password: server.password, database: server.database });
        holder.on('error', () => undefined);
        await holder.query(`SELECT GET_LOCK('gate', 10)`);
        return {
          waiting: async () => {
            const [rows] = await holder.query(`SELECT count(*) AS n FROM information_schema.PROCESSLIST WHERE STATE LIKE '%lock%' AND INFO LIKE '%many_gated%'`);
            return Number((rows as { n: number }[])[0].n) > 0;
          },
          release: async () => holder.destroy(),
        };
      },
      () => server.halt(),
      () => server.resume(),
    );
  });
});

describe('SQL system config', () => {
  it('fills in the documented defaults and refuses unknown properties', () => {
    const files = entitiesToFiles([
      { _id: 'pg', type: 'system:postgresql', host: 'db', database: 'x', username: 'u', password: '$SECRET(pw)' },
      { _id: 'my', type: 'system:mysql', host: 'db', database: 'x', username: 'u', password: '$SECRET(pw)' },
      { _id: 'p', type: 'pipe', source: { type: 'sql', system: 'pg', table: 't' }, sink: { type: 'sql', system: 'my', table: 't' } },
    ]);
    const r = compile(files, { env: {}, secrets: ['pw'] });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const systems = Object.fromEntries(r.plan!.systems.map((s) => [s.id, s.effective]));
    expect(systems.pg).toMatchObject({ port: 5432, sslmode: 'prefer', timezone: 'UTC', pool_size: 10, pool_timeout: 30, pool_max_overflow: 10, pool_recycle: 1800 });
    expect(systems.my).toMatchObject({ port: 3306, sslmode: 'preferred', timezone: 'UTC' });
    const pipe = r.plan!.pipes[0];
    expect(pipe.source.config).toMatchObject({ fetch_size: 1000, preserve_null_values: false });
    expect(pipe.sink.config).toMatchObject({ use_bulk_operations: false, timestamp: 'sesam-timestamp', remove_pk_char_trailing_spaces: true, create_table_if_missing: false });

    const bad = compile(entitiesToFiles([{ _id: 'pg', type: 'system:postgresql', host: 'db', database: 'x', username: 'u', password: 'p', sslmode: 'verify-all' }]), { env: {}, secrets: [] });
    expect(bad.diagnostics.map((d) => d.message).join('\n')).toMatch(/sslmode/);
  });
});
