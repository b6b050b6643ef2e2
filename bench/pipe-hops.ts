/**
 * bench pipe-hops: 200,000 customers joined by hops to 200,000 accounts. The first run builds the
 * output; then 1% of the accounts change and the pipe runs again, re-processing only the customers
 * dependency tracking finds.
 */
import pino from 'pino';
import { SluiceRuntime } from '../runtime/service/runtime.js';
import { entitiesToFiles } from '../runtime/service/config-files.js';
import { EmbeddedStore } from '../runtime/store/embedded/store.js';
import { openBenchStore } from './pipe.js';
import { log, option, perStore, round } from './util.js';

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const n = option(args, 'entities', 200_000);
  return perStore(args, 'pipe-hops', (storeKind) => runOn(storeKind, n));
}

async function runOn(storeKind: string, n: number): Promise<Record<string, unknown>> {
  const { store, cleanup } = await openBenchStore(storeKind, 'hops');
  try {
    log(`filling customers and accounts with ${n} entities each (${storeKind} store)`);
    for (let from = 0; from < n; from += 10_000) {
      const size = Math.min(10_000, n - from);
      await store.write('customers', Array.from({ length: size }, (_, i) => ({ _id: `c${from + i}`, name: `Customer ${from + i}`, segment: (from + i) % 7 })));
      await store.write('accounts', Array.from({ length: size }, (_, i) => ({ _id: `a${from + i}`, customer: `c${from + i}`, balance: (from + i) % 1000, currency: 'NOK' })));
    }
    if (store instanceof EmbeddedStore) store.checkpointWal();
    const rt = await SluiceRuntime.open({ store, logger: pino({ level: 'warn' }), schedule: false });
    const r = await rt.setConfigFiles(
      entitiesToFiles([
        {
          _id: 'customer-balance',
          type: 'pipe',
          source: { type: 'dataset', dataset: 'customers' },
          transform: {
            type: 'dtl',
            rules: {
              default: [
                ['copy', '_id'],
                ['copy', 'name'],
                ['add', 'account', ['first', ['apply-hops', 'account', { datasets: ['accounts a'], where: ['eq', '_S._id', 'a.customer'] }]]],
              ],
              account: [['copy', '_id'], ['copy', 'balance'], ['copy', 'currency']],
            },
          },
        },
      ]),
    );
    if (!r.ok) throw new Error(rt.describeErrors(r.diagnostics));
    let t0 = process.hrtime.bigint();
    let cpu0 = process.cpuUsage();
    const first = await rt.runPipe('customer-balance');
    // The first run's writes are merged from the write-ahead log into the database file here (SQLite
    // would otherwise do it at a later commit): the cost belongs to the first run.
    if (store instanceof EmbeddedStore) store.checkpointWal();
    const firstSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const firstCpu = cpuSeconds(cpu0);
    if (first.status !== 'completed' || first.written !== n) throw new Error(`first run: ${JSON.stringify(first)}`);
    log(`first run: ${n} entities in ${round(firstSeconds, 2)} s`);

    const changed = Math.floor(n / 100);
    const step = Math.floor(n / changed);
    await store.write('accounts', Array.from({ length: changed }, (_, k) => ({ _id: `a${k * step}`, customer: `c${k * step}`, balance: 5000 + k, currency: 'NOK' })));
    // Each timed run pays for merging its own writes into the database file, not for the setup's.
    if (store instanceof EmbeddedStore) store.checkpointWal();
    t0 = process.hrtime.bigint();
    cpu0 = process.cpuUsage();
    const rerun = await rt.runPipe('customer-balance');
    if (store instanceof EmbeddedStore) store.checkpointWal();
    const rerunSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const rerunCpu = cpuSeconds(cpu0);
    if (rerun.status !== 'completed' || rerun.tracked !== changed || rerun.written !== changed) throw new Error(`rerun: ${JSON.stringify(rerun)}`);
    log(`rerun after ${changed} joined entities changed: ${rerun.tracked} re-processed in ${round(rerunSeconds, 3)} s (${round((rerunSeconds / firstSeconds) * 100, 2)}% of the first run)`);
    await rt.close();
    return { bench: 'pipe-hops', store: storeKind, entities: n, first_run_seconds: round(firstSeconds, 3), rerun_1pct_seconds: round(rerunSeconds, 3),
      // CPU time of this process (on a shared machine it varies less than wall-clock time)
      first_run_cpu_seconds: round(firstCpu, 3),
      rerun_1pct_cpu_seconds: round(rerunCpu, 3),
    };
  } finally {
    await cleanup();
  }
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1e6;
}
