/**
 * Crash safety: SIGKILL the runtime twelve times during a large run, at points of its own progress
 * (in the middle of a commit and right after one), restart it each time, and compare the final
 * datasets with an uninterrupted run: the same latest entities, no duplicate versions, offsets
 * strictly increasing.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EmbeddedStore } from '../../runtime/store/embedded/store.js';
import { collect, tempDir } from '../support/runtime.js';
import { person } from './crash-config.js';

const child = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const N = 60_000;

async function seed(dir: string): Promise<void> {
  const store = new EmbeddedStore({ dataDir: dir });
  for (let i = 0; i < N; i += 5000) await store.write('people', Array.from({ length: 5000 }, (_, j) => person(i + j)) as never);
  await store.close();
}

/**
 * Runs the child; with `kill`, SIGKILLs it as soon as it prints `committing <kill.at>` (in the
 * middle of that commit) or `committed <kill.at>` (right after it). Resolves whether it finished on its own.
 */
function runChild(dir: string, kill?: { at: number; during: boolean }, workers = 1): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, dir, String(workers)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const trigger = kill ? `${kill.during ? 'committing' : 'committed'} ${kill.at}\n` : null;
    p.stdout.on('data', (d) => {
      out += d;
      if (trigger && out.includes(trigger)) p.kill('SIGKILL');
    });
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(false);
      else if (code === 0 && out.includes('all done')) resolve(true);
      else reject(new Error(`child exited with ${code}: ${err}`));
    });
  });
}

async function snapshot(dir: string) {
  const store = new EmbeddedStore({ dataDir: dir });
  const result: Record<string, { latest: [string, string, boolean][]; versions: number; offsets: number[] }> = {};
  for (const ds of ['enriched', 'summary']) {
    const history = await collect(store.scan(ds, { history: true }));
    const latest = (await collect(store.scan(ds))).map((e) => [e._id, e._hash, e._deleted === true] as [string, string, boolean]).sort(([a], [b]) => a.localeCompare(b));
    result[ds] = { latest, versions: history.length, offsets: history.map((e) => e._updated) };
  }
  await store.close();
  return result;
}

/** Two seeded data directories, and the datasets an uninterrupted run leaves in the first. */
async function cleanRunAndCrashTarget(prefix: string) {
  const clean = tempDir('sluice-crash-clean-');
  const crashed = tempDir(prefix);
  await seed(clean);
  await seed(crashed);
  expect(await runChild(clean)).toBe(true);
  return { crashed, expected: await snapshot(clean) };
}

/** The same latest entities as the uninterrupted run, one version each (nothing written twice), offsets rising. */
function expectSameAsUninterrupted(actual: Awaited<ReturnType<typeof snapshot>>, expected: Awaited<ReturnType<typeof snapshot>>): void {
  for (const ds of ['enriched', 'summary'] as const) {
    expect(actual[ds].latest).toEqual(expected[ds].latest);
    expect(actual[ds].versions).toBe(expected[ds].latest.length);
    const offs = actual[ds].offsets;
    for (let i = 1; i < offs.length; i++) expect(offs[i]).toBeGreaterThan(offs[i - 1]);
  }
}

describe('crash safety', () => {
  it('survives repeated SIGKILLs with the same result as an uninterrupted run', async () => {
    const { crashed, expected } = await cleanRunAndCrashTarget('sluice-crash-killed-');

    let kills = 0;
    let finished = false;
    // Twelve kills at the n-th commit of each restarted run, in the middle of it or right after it.
    // The two pipes commit about 104 times in all: the first kills fall into the start-up and the
    // first pipe, the last four into the second, and every restart still has commits left to reach.
    const killAt = [1, 8, 8, 8, 8, 8, 8, 8, 2, 4, 6, 8];
    for (let attempt = 0; !finished && attempt < 20; attempt++) {
      finished = await runChild(crashed, kills < killAt.length ? { at: killAt[kills], during: kills % 2 === 0 } : undefined);
      if (!finished) kills++;
    }
    expect(kills).toBe(12);
    expect(finished).toBe(true);
    expectSameAsUninterrupted(await snapshot(crashed), expected);
    expect(expected.enriched.latest.length).toBe(N - N / 10);
  }, 600_000);

  it('survives SIGKILLs while the pipes commit in worker threads, with the same result', async () => {
    const { crashed, expected } = await cleanRunAndCrashTarget('sluice-crash-workers-');
    // Killed right after the third commit it sees, six times; the seventh run finishes.
    let kills = 0;
    let finished = false;
    for (let attempt = 0; !finished && attempt < 20; attempt++) {
      finished = await runChild(crashed, kills < 6 ? { at: 3, during: false } : undefined, 2);
      if (!finished) kills++;
    }
    expect(kills).toBe(6);
    expect(finished).toBe(true);
    expectSameAsUninterrupted(await snapshot(crashed), expected);
  }, 600_000);
});
