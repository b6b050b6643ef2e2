/**
 * bench parallel: four independent dataset → DTL → dataset pipes of 200,000 entities each, run one
 * at a time in the main thread (a pool of 1, as before the pipe pool) and then all at once on a
 * pool of `--workers` threads (default: the machine's cores), on one embedded store. The source
 * datasets are filled beforehand and the workers are started (one small run each) before the clock.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { EmbeddedStore } from '../runtime/store/embedded/store.js';
import { SluiceRuntime } from '../runtime/service/runtime.js';
import { entitiesToFiles, type ConfigEntity } from '../runtime/service/config-files.js';
import { generateEntities, RULES } from './dtl.js';
import { log, option, round } from './util.js';

const PIPES = 4;

function pipes(prefix: string): ConfigEntity[] {
  const out: ConfigEntity[] = [];
  for (let i = 0; i < PIPES; i++) {
    out.push({ _id: `${prefix}-${i}`, type: 'pipe', source: { type: 'dataset', dataset: `source-${i}` }, transform: { type: 'dtl', rules: { default: [['copy', '_id'], ...RULES.default] } } });
  }
  // One small pipe per worker starts the threads before the timed runs.
  for (let i = 0; i < 16; i++) out.push({ _id: `${prefix}-warm-${i}`, type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'x' }] } });
  return out;
}

async function runtimeWith(store: EmbeddedStore, workers: number, prefix: string): Promise<SluiceRuntime> {
  const rt = await SluiceRuntime.open({ store, logger: pino({ level: 'warn' }), schedule: false, workers });
  const r = await rt.setConfigFiles(entitiesToFiles(pipes(prefix)));
  if (!r.ok) throw new Error(rt.describeErrors(r.diagnostics));
  await Promise.all(Array.from({ length: workers }, (_, i) => rt.runPipe(`${prefix}-warm-${i}`)));
  return rt;
}

/** Per thread of this process (Linux): milliseconds on a core and waiting for one. Elsewhere empty. */
function threadTimes(): Map<string, { cpu: number; queued: number }> {
  const out = new Map<string, { cpu: number; queued: number }>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const [cpu, queued] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      out.set(tid, { cpu: cpu / 1e6, queued: queued / 1e6 });
    }
  } catch {
    // No per-thread accounting here: the process totals remain.
  }
  return out;
}

/** The busiest threads' CPU seconds, and how long all threads waited for a core (the machine's other load). */
function describeThreads(before: Map<string, { cpu: number; queued: number }>): string {
  const deltas = [...threadTimes()].map(([tid, t]) => ({ cpu: t.cpu - (before.get(tid)?.cpu ?? 0), queued: t.queued - (before.get(tid)?.queued ?? 0) }));
  if (!deltas.length) return '';
  const busiest = deltas.map((d) => d.cpu).sort((a, b) => b - a).slice(0, 6);
  const queued = deltas.reduce((sum, d) => sum + d.queued, 0);
  return `; busiest threads ${busiest.map((ms) => round(ms / 1000, 2)).join(' ')} CPU s; threads waited ${round(queued / 1000, 2)} s for a core`;
}

async function timedRuns(rt: SluiceRuntime, prefix: string, n: number, together: boolean): Promise<number> {
  const ids = Array.from({ length: PIPES }, (_, i) => `${prefix}-${i}`);
  const threads0 = threadTimes();
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const outcomes = together ? await Promise.all(ids.map((id) => rt.runPipe(id))) : [];
  if (!together) for (const id of ids) outcomes.push(await rt.runPipe(id));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  // On a shared machine the process may get less than a core per thread: the CPU time it got says how much.
  log(`${together ? 'all at once' : 'one at a time'}: ${round((cpu.user + cpu.system) / 1e6, 2)} CPU seconds in ${round(seconds, 2)} s (${round((cpu.user + cpu.system) / 1e6 / seconds, 2)} cores busy${describeThreads(threads0)})`);
  for (const o of outcomes) if (o.status !== 'completed' || o.written !== n) throw new Error(`unexpected outcome ${JSON.stringify(o)}`);
  return seconds;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const n = option(args, 'entities', 200_000);
  const cores = option(args, 'workers', availableParallelism());
  const dir = join(tmpdir(), `sluice-bench-parallel-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  try {
    log(`filling ${PIPES} source datasets with ${n} entities each`);
    const fill = new EmbeddedStore({ dataDir: dir });
    for (let p = 0; p < PIPES; p++) {
      for (let from = 0; from < n; from += 10_000) await fill.write(`source-${p}`, generateEntities(Math.min(10_000, n - from)).map((e, i) => ({ ...e, _id: `c${from + i}` })));
    }
    fill.checkpointWal();
    await fill.close();

    const serialRt = await runtimeWith(new EmbeddedStore({ dataDir: dir }), 1, 'serial');
    const serial = await timedRuns(serialRt, 'serial', n, false);
    await serialRt.close();
    log(`one at a time: ${round(serial, 2)} s (load average ${loadavg().map((l) => round(l, 2)).join(' ')})`);

    const parallelStore = new EmbeddedStore({ dataDir: dir });
    const parallelRt = await runtimeWith(parallelStore, cores, 'parallel');
    const turns0 = parallelStore.writeTurnStats();
    const parallel = await timedRuns(parallelRt, 'parallel', n, true);
    const turns = parallelStore.writeTurnStats();
    // The writes cannot overlap: the share of the phase they held the write turn bounds the speed-up.
    if (turns && turns0) {
      const held = turns.heldSeconds - turns0.heldSeconds;
      log(`write turns: ${turns.turns - turns0.turns} taken, held ${round(held, 2)} s (${round((100 * held) / parallel)}% of the phase), waited for ${round(turns.waitedSeconds - turns0.waitedSeconds, 2)} s in all`);
    }
    await parallelRt.close();
    log(`all at once on ${cores} workers: ${round(parallel, 2)} s = ${round(serial / parallel, 2)}× (target ${round(0.85 * cores, 2)}×; load average ${loadavg().map((l) => round(l, 2)).join(' ')})`);
    return { bench: 'parallel', pipes: PIPES, cores, serial_seconds: round(serial, 3), parallel_seconds: round(parallel, 3) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
