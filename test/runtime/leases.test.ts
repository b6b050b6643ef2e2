/**
 * Several runtimes on one MongoDB database: a pipe is run by one runtime at a time, they read each
 * other's datasets, and when the holder of a pipe is killed (SIGKILL) another takes it over after
 * the lease expires, losing and duplicating nothing.
 */
import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { mongodbAvailable, mongodbUri, openMongoStore } from '../support/mongodb.js';
import { collect } from '../support/runtime.js';
import { LEASE_ENTITIES } from './lease-config.js';

const child = fileURLToPath(new URL('./lease-child.ts', import.meta.url));

interface Runtime {
  proc: ChildProcess;
  ran: { pipe: string; written: number }[];
  ready: Promise<void>;
}

function startRuntime(database: string, name: string, leaseTtlMs = 2000): Runtime {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, mongodbUri(), database, name, String(leaseTtlMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const ran: Runtime['ran'] = [];
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const ready = new Promise<void>((resolve, reject) => {
    let buffer = '';
    proc.stdout!.on('data', (d) => {
      buffer += d;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        if (line === 'ready') resolve();
        const m = /^ran (\S+) (\d+)$/.exec(line);
        if (m) ran.push({ pipe: m[1], written: Number(m[2]) });
      }
    });
    proc.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL' && signal !== 'SIGTERM' && code !== 0) reject(new Error(`${name} exited with ${code}: ${err}`));
    });
  });
  return { proc, ran, ready };
}

async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('runtimes sharing a MongoDB database', () => {
  if (!mongodbAvailable()) return;

  it('takes over the pipes of a killed runtime without losing or duplicating entities', async () => {
    const database = `lease_${randomUUID().slice(0, 8)}`;
    const store = await openMongoStore(database);
    const names = Array.from({ length: LEASE_ENTITIES }, (_, i) => ({ _id: `n${i}`, name: `name ${i}` }));
    for (let i = 0; i < names.length; i += 1000) await store.write('names', names.slice(i, i + 1000));
    await store.markPopulated('names');

    const a = startRuntime(database, 'runtime-a');
    await a.ready;
    // A holds the pipes once it has written some of the first one.
    await until(async () => ((await store.datasetInfo('upper'))?.entityCount ?? 0) > 100, 120_000, 'runtime A to start writing');
    const b = startRuntime(database, 'runtime-b');
    await b.ready;
    a.proc.kill('SIGKILL');
    const killedAt = (await store.datasetInfo('upper'))?.entityCount ?? 0;
    expect(killedAt).toBeLessThan(LEASE_ENTITIES);

    await until(async () => ((await store.datasetInfo('initials'))?.entityCount ?? 0) === LEASE_ENTITIES, 300_000, 'runtime B to finish both pipes');
    b.proc.kill('SIGTERM');

    // B ran what A had been running: after the kill, only B completed runs.
    expect(b.ran.some((r) => r.pipe === 'upper' && r.written > 0)).toBe(true);
    for (const ds of ['upper', 'initials']) {
      const history = await collect(store.scan(ds, { history: true }));
      expect(history).toHaveLength(LEASE_ENTITIES);
      expect(new Set(history.map((e) => e._id)).size).toBe(LEASE_ENTITIES);
      for (let i = 1; i < history.length; i++) expect(history[i]._updated).toBeGreaterThan(history[i - 1]._updated);
    }
    expect((await store.get('initials', 'n7'))?.initial).toBe('N');
    await store.db.dropDatabase();
    await store.close();
  }, 600_000);

  it('runs each pipe in one runtime at a time while both read each other’s datasets', async () => {
    const database = `share_${randomUUID().slice(0, 8)}`;
    const store = await openMongoStore(database);
    await store.write('names', Array.from({ length: 200 }, (_, i) => ({ _id: `n${i}`, name: `name ${i}` })));
    await store.markPopulated('names');
    // Nobody dies here, so a lease long enough to survive a busy machine's late renewals.
    const a = startRuntime(database, 'runtime-a', 15_000);
    const b = startRuntime(database, 'runtime-b', 15_000);
    await Promise.all([a.ready, b.ready]);
    await until(async () => ((await store.datasetInfo('initials'))?.entityCount ?? 0) === 200, 120_000, 'both pipes to finish');
    await store.write('names', [{ _id: 'n0', name: 'zed' }]);
    await until(async () => (await store.get('initials', 'n0'))?.initial === 'Z', 60_000, 'the change to flow through');
    a.proc.kill('SIGTERM');
    b.proc.kill('SIGTERM');
    // Each pipe was run by exactly one of the two runtimes.
    for (const pipe of ['upper', 'initials']) {
      const runners = [a, b].filter((r) => r.ran.some((x) => x.pipe === pipe));
      expect(runners).toHaveLength(1);
    }
    for (const ds of ['upper', 'initials']) {
      const history = await collect(store.scan(ds, { history: true }));
      expect(history).toHaveLength(201);
    }
    await store.db.dropDatabase();
    await store.close();
  }, 300_000);
});
