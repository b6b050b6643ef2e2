/**
 * Crash safety of the sql sink: a child runtime copies a dataset into a PostgreSQL table in
 * batches and is killed with SIGKILL while a batch is held up inside the database (a trigger waits
 * on an advisory lock the test holds), twice at different places, then runs to the end. The table
 * then has every entity exactly once, and no more than one batch per crash was sent again.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../runtime/store/embedded/store.js';
import { tempDir } from '../support/runtime.js';
import { postgresDb, skipPostgres, usePostgres } from './servers.js';

const child = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const N = 3000;
const BATCH = 100;

function runChild(dir: string, config: unknown, password: string): { done: Promise<boolean>; kill(): void } {
  const p = spawn(process.execPath, ['--import', 'tsx', child, dir, JSON.stringify(config), password], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  const done = new Promise<boolean>((resolve, reject) => {
    p.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(false);
      else if (code === 0 && out.includes('all done')) resolve(true);
      else reject(new Error(`child exited with ${code}: ${err}`));
    });
  });
  return { done, kill: () => p.kill('SIGKILL') };
}

const server = usePostgres();

describe.skipIf(skipPostgres)('sql sink crash safety', () => {
  it('re-sends at most the last batch after SIGKILLs and leaves no duplicate rows', async () => {
    const pgs = server();
    const db = postgresDb(pgs);
    // No unique key: a batch written twice would show as duplicate rows.
    db.sql(`CREATE TABLE exported (id INT, name TEXT, n INT);
      CREATE SEQUENCE insert_attempts;
      CREATE TABLE gate (stop_at INT);
      CREATE FUNCTION hold_up() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM nextval('insert_attempts');
        IF NEW.id = (SELECT stop_at FROM gate) THEN PERFORM pg_advisory_lock_shared(4242); PERFORM pg_advisory_unlock_shared(4242); END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER hold_up BEFORE INSERT ON exported FOR EACH ROW EXECUTE FUNCTION hold_up();`);
    const dir = tempDir('sluice-sql-crash-');
    const store = new EmbeddedStore({ dataDir: dir });
    for (let i = 0; i < N; i += 1000) await store.write('people', Array.from({ length: 1000 }, (_, j) => ({ _id: `p${i + j}`, id: i + j, name: `Person ${i + j}`, n: (i + j) % 13 })));
    await store.close();
    const config = [db.system(), { _id: 'export', type: 'pipe', batch_size: BATCH, source: { type: 'dataset', dataset: 'people' }, sink: { type: 'sql', system: 'db', table: 'exported', primary_key: 'id' } }];

    const holder = new pg.Client({ host: pgs.host, port: pgs.port, user: pgs.user, password: pgs.password, database: pgs.database });
    await holder.connect();
    let kills = 0;
    for (const stopAt of [1234, 2345]) {
      db.sql(`DELETE FROM gate; INSERT INTO gate VALUES (${stopAt})`);
      await holder.query('SELECT pg_advisory_lock(4242)');
      const run = runChild(dir, config, pgs.password!);
      // Progress, not time: wait until the child's batch is waiting for the lock inside its transaction.
      for (;;) {
        const waiting = await holder.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`);
        if (waiting.rows[0].n > 0) break;
        const finished = await Promise.race([run.done, new Promise((r) => setTimeout(() => r('pending'), 50))]);
        if (finished !== 'pending') throw new Error('the child finished before it reached the held-up batch');
      }
      run.kill();
      expect(await run.done).toBe(false);
      kills++;
      await holder.query('SELECT pg_advisory_unlock(4242)');
      const committed = Number(db.sql('SELECT count(*) FROM exported')[0]);
      // Every batch before the held-up one is committed; the held-up one is not.
      expect(committed).toBe(Math.floor(stopAt / BATCH) * BATCH);
    }
    await holder.end();
    db.sql('DELETE FROM gate');
    expect(await runChild(dir, config, pgs.password!).done).toBe(true);
    expect(db.sql('SELECT count(*), count(DISTINCT id), sum(n) FROM exported')).toEqual([`${N}\t${N}\t${Array.from({ length: N }, (_, i) => i % 13).reduce((a, b) => a + b, 0)}`]);
    const attempts = Number(db.sql('SELECT last_value FROM insert_attempts')[0]);
    expect(kills).toBe(2);
    expect(attempts).toBeLessThanOrEqual(N + kills * BATCH);
  }, 180_000);
});
