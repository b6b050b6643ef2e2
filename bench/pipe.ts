/**
 * bench pipe: 200,000 entities through dataset → DTL → dataset on the chosen store, first run
 * (everything new). The source dataset is filled beforehand and not timed.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { EmbeddedStore } from '../runtime/store/embedded/store.js';
import type { Store } from '../runtime/store/contract.js';
import { SluiceRuntime } from '../runtime/service/runtime.js';
import { entitiesToFiles } from '../runtime/service/config-files.js';
import { generateEntities, RULES } from './dtl.js';
import { log, option, perStore, round } from './util.js';

export async function openBenchStore(kind: string, name: string): Promise<{ store: Store; cleanup(): Promise<void> }> {
  if (kind === 'embedded') {
    const dir = join(tmpdir(), `sluice-bench-${name}-${process.pid}`);
    rmSync(dir, { recursive: true, force: true });
    const store = new EmbeddedStore({ dataDir: dir });
    return { store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const { openStoreByName } = await import('./stores.js');
  return openStoreByName(kind, name);
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const n = option(args, 'entities', 200_000);
  return perStore(args, 'pipe', (storeKind) => runOn(storeKind, n));
}

async function runOn(storeKind: string, n: number): Promise<Record<string, unknown>> {
  const { store, cleanup } = await openBenchStore(storeKind, 'pipe');
  try {
    log(`filling the source dataset with ${n} entities (${storeKind} store)`);
    // Generated in slices so the timed run does not share its heap with 200,000 source objects.
    const slice = 10_000;
    for (let from = 0; from < n; from += slice) {
      const part = generateEntities(Math.min(slice, n - from)).map((e, i) => ({ ...e, _id: `c${from + i}` }));
      await store.write('customers', part);
    }
    // Start the timed run with the fill's write-ahead log already merged, as a long-running store would be.
    if (store instanceof EmbeddedStore) store.checkpointWal();
    const rt = await SluiceRuntime.open({ store, logger: pino({ level: 'warn' }), schedule: false });
    const r = await rt.setConfigFiles(entitiesToFiles([{ _id: 'customer-view', type: 'pipe', source: { type: 'dataset', dataset: 'customers' }, transform: { type: 'dtl', rules: { default: [['copy', '_id'], ...RULES.default] } } }]));
    if (!r.ok) throw new Error(rt.describeErrors(r.diagnostics));
    const t0 = process.hrtime.bigint();
    const outcome = await rt.runPipe('customer-view');
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (outcome.status !== 'completed' || outcome.written !== n) throw new Error(`unexpected outcome ${JSON.stringify(outcome)}`);
    log(`first run: ${n} entities in ${round(seconds, 2)} s = ${round(n / seconds)} entities/s`);
    await rt.close();
    return { bench: 'pipe', store: storeKind, entities: n, first_run_per_s: round(n / seconds), first_run_seconds: round(seconds, 3) };
  } finally {
    await cleanup();
  }
}
