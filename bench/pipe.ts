/**
 * bench pipe: entities through dataset → DTL → dataset (200,000 by default, `--entities N`), first
 * run (everything new), in a runtime as users run it: `sluice run` in a process of its own on the
 * chosen store, the pipe started over the API. The source dataset is filled beforehand and not
 * timed. Reports the run's rate (from its execution log) and the runtime process's peak RSS.
 */
import { rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore } from '../runtime/store/embedded/store.js';
import type { Store } from '../runtime/store/contract.js';
import { generateEntities, RULES } from './dtl.js';
import { processCpuSeconds, runPipeOnce, startRuntime, writeConfigFolder } from './runtime-process.js';
import { log, option, perStore, round } from './util.js';

export interface BenchStore {
  store: Store;
  /** Where a runtime process finds the same store. */
  location: { dataDir: string } | { uri: string };
  cleanup(): Promise<void>;
}

export async function openBenchStore(kind: string, name: string): Promise<BenchStore> {
  if (kind === 'embedded') {
    const dir = join(tmpdir(), `sluice-bench-${name}-${process.pid}`);
    rmSync(dir, { recursive: true, force: true });
    const store = new EmbeddedStore({ dataDir: dir });
    return { store, location: { dataDir: dir }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const { openStoreByName } = await import('./stores.js');
  const opened = await openStoreByName(kind, name);
  return { ...opened, location: { uri: opened.uri } };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const n = option(args, 'entities', 200_000);
  return perStore(args, 'pipe', (storeKind) => runOn(storeKind, n));
}

/** Fills `dataset` with `n` generated customers, in slices so that the filling process stays small. */
export async function fillCustomers(store: Store, dataset: string, n: number): Promise<void> {
  const slice = 10_000;
  for (let from = 0; from < n; from += slice) {
    const part = generateEntities(Math.min(slice, n - from)).map((e, i) => ({ ...e, _id: `c${from + i}` }));
    await store.write(dataset, part);
  }
  // The timed run starts with the fill's write-ahead log merged, as a long-running store would.
  if (store instanceof EmbeddedStore) store.checkpointWal();
}

/** The benchmark's pipe: customers through the DTL of bench dtl into its own dataset, run on demand. */
export function customerViewPipe(id: string, source: string): Record<string, unknown> {
  return { _id: id, type: 'pipe', source: { type: 'dataset', dataset: source }, transform: { type: 'dtl', rules: { default: [['copy', '_id'], ...RULES.default] } }, pump: { mode: 'manual' } };
}

async function runOn(storeKind: string, n: number): Promise<Record<string, unknown>> {
  const bench = await openBenchStore(storeKind, 'pipe');
  const config = writeConfigFolder([customerViewPipe('customer-view', 'customers')]);
  try {
    log(`filling the source dataset with ${n} entities (${storeKind} store)`);
    await fillCustomers(bench.store, 'customers', n);
    await bench.store.close();
    const rt = await startRuntime(config.dir, bench.location);
    try {
      const idle = rt.memory();
      if (process.env.XMETRICS) log(String((await rt.call('GET', '/metrics')).json));
      const cpu0 = processCpuSeconds(rt.pid);
      const r = await runPipeOnce(rt, 'customer-view');
      if (r.written !== n) throw new Error(`the run wrote ${r.written} entities, not ${n}`);
      const memory = rt.memory();
      const cpu1 = processCpuSeconds(rt.pid);
      // On a machine shared with other work the rate moves with the load, the CPU time much less.
      const cpuPerEntity = cpu0 === null || cpu1 === null ? null : round(((cpu1 - cpu0) * 1e6) / n, 1);
      if (process.env.XMETRICS) log(String((await rt.call('GET', '/metrics')).json));
      log(`first run: ${n} entities in ${round(r.seconds, 2)} s = ${round(n / r.seconds)} entities/s; runtime RSS ${round(idle?.rssMb ?? NaN)} MB before, peak ${round(memory?.peakMb ?? NaN)} MB (after: ${round(memory?.anonMb ?? NaN)} MB anonymous, ${round(memory?.fileMb ?? NaN)} MB mapped files); runtime CPU per entity ${cpuPerEntity} µs (while the API is polled), load average ${loadavg()[0].toFixed(1)}`);
      return { bench: 'pipe', store: storeKind, entities: n, first_run_per_s: round(n / r.seconds), first_run_seconds: round(r.seconds, 3), peak_rss_mb: memory ? round(memory.peakMb) : null, idle_rss_mb: idle ? round(idle.rssMb) : null };
    } finally {
      await rt.stop();
    }
  } finally {
    config.remove();
    await bench.cleanup();
  }
}
