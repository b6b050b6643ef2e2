/**
 * The pipe pool: pipes on worker threads (real threads, one data directory) give the same datasets
 * as the same pipes run one at a time in the main thread, and a worker that dies fails only its run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../runtime/store/embedded/store.js';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';
import type { ConfigEntity } from '../../runtime/service/config-files.js';
import { PipePool } from '../../runtime/executor/pool.js';
import { collect, configure, openRuntime, tempDir } from '../support/runtime.js';

let rt: SluiceRuntime | undefined;
afterEach(async () => {
  await rt?.close();
  rt = undefined;
});

const CUSTOMERS = 3000;

async function seed(dir: string): Promise<void> {
  const store = new EmbeddedStore({ dataDir: dir });
  const customers = Array.from({ length: CUSTOMERS }, (_, i) => ({ _id: `c${i}`, name: `customer ${i}`, region: `r${i % 7}` }));
  const orders = Array.from({ length: CUSTOMERS * 2 }, (_, i) => ({ _id: `o${i}`, cust: `c${i % CUSTOMERS}`, amount: (i % 13) + 1 }));
  for (let i = 0; i < customers.length; i += 1000) await store.write('customers', customers.slice(i, i + 1000));
  for (let i = 0; i < orders.length; i += 1000) await store.write('orders', orders.slice(i, i + 1000));
  await store.close();
}

/** Independent pipes; two join `orders`, one filters, one writes to a dataset another pipe reads later. */
const config: ConfigEntity[] = [
  { _id: 'totals', type: 'pipe', source: { type: 'dataset', dataset: 'customers' }, transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['add', 'total', ['sum', ['path', 'amount', ['hops', { datasets: ['orders o'], where: ['eq', '_S._id', 'o.cust'] }]]]]] } } },
  { _id: 'counts', type: 'pipe', source: { type: 'dataset', dataset: 'customers' }, transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['add', 'n', ['count', ['hops', { datasets: ['orders o'], where: ['eq', '_S._id', 'o.cust'] }]]]] } } },
  { _id: 'big-orders', type: 'pipe', source: { type: 'dataset', dataset: 'orders' }, transform: { type: 'dtl', rules: { default: [['filter', ['gt', '_S.amount', 10]], ['copy', '*']] } } },
  { _id: 'regions', type: 'pipe', source: { type: 'dataset', dataset: 'customers' }, transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['add', 'region', ['upper', '_S.region']]] } } },
  { _id: 'region-names', type: 'pipe', source: { type: 'dataset', dataset: 'regions' }, transform: { type: 'dtl', rules: { default: [['copy', '*'], ['add', 'label', ['concat', '_S.region', ':', '_S._id']]] } } },
];
const independent = ['totals', 'counts', 'big-orders', 'regions'];
const sinks = ['totals', 'counts', 'big-orders', 'regions', 'region-names'];

async function datasets(runtime: SluiceRuntime): Promise<Record<string, { ids: [string, string][]; versions: number }>> {
  const out: Record<string, { ids: [string, string][]; versions: number }> = {};
  for (const ds of sinks) {
    const latest = await collect(runtime.store.scan(ds));
    out[ds] = { ids: latest.map((e) => [e._id, e._hash] as [string, string]).sort(([a], [b]) => a.localeCompare(b)), versions: (await collect(runtime.store.scan(ds, { history: true }))).length };
  }
  return out;
}

async function runAll(workers: number, together: boolean) {
  const dir = tempDir('sluice-pool-');
  await seed(dir);
  rt = await openRuntime({ dataDir: dir, workers });
  await configure(rt, config);
  const outcomes = together ? await Promise.all(independent.map((id) => rt!.runPipe(id))) : [];
  if (!together) for (const id of independent) outcomes.push(await rt.runPipe(id));
  outcomes.push(await rt.runPipe('region-names'));
  // A second round changes nothing, wherever it runs.
  const again = await Promise.all(independent.map((id) => rt!.runPipe(id)));
  const result = { outcomes, again, data: await datasets(rt), tasks: rt.pool?.tasks ?? 0, log: (await rt.log.entries('totals')).map((e) => e.event_type) };
  await rt.close();
  rt = undefined;
  return result;
}

describe('pipe pool', () => {
  it('runs independent pipes on worker threads with the same datasets as one at a time in this thread', async () => {
    const serial = await runAll(1, false);
    const parallel = await runAll(2, true);
    expect(serial.tasks).toBe(0);
    // Every pipe run went to a worker: 4 + 1 + 4.
    expect(parallel.tasks).toBe(9);
    for (const o of [...serial.outcomes, ...parallel.outcomes]) expect(o).toMatchObject({ status: 'completed', failed: 0 });
    expect(parallel.outcomes.map((o) => o.written)).toEqual(serial.outcomes.map((o) => o.written));
    expect(serial.outcomes[0].written).toBe(CUSTOMERS);
    for (const o of [...serial.again, ...parallel.again]) expect(o).toMatchObject({ status: 'completed', syncType: 'incremental', written: 0 });
    expect(parallel.data).toEqual(serial.data);
    expect(parallel.data.totals.ids.length).toBe(CUSTOMERS);
    expect(parallel.log).toEqual(serial.log);
  });

  it('keeps offsets strictly increasing and counts right when threads take turns writing a dataset', async () => {
    const dir = tempDir('sluice-pool-shared-');
    await seed(dir);
    rt = await openRuntime({ dataDir: dir, workers: 2 });
    const tag = (value: string): ConfigEntity => ({ _id: 'tagged', type: 'pipe', source: { type: 'dataset', dataset: 'customers' }, transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['add', 'tag', value]] } } });
    await configure(rt, [tag('one')]);
    expect(await rt.runPipe('tagged')).toMatchObject({ status: 'completed', written: CUSTOMERS });
    // This thread's connection writes after a worker's commits without reusing an offset...
    await rt.store.write('tagged', [{ _id: 'late', tag: 'api' }]);
    expect((await rt.store.get('tagged', 'late'))!._updated).toBe(CUSTOMERS);
    // ...and a worker writes after it, the same way (a changed config makes every entity new).
    await configure(rt, [tag('two')]);
    expect(await rt.runPipe('tagged', { full: true })).toMatchObject({ status: 'completed', written: CUSTOMERS + 1, deleted: 1 });
    const history = await collect(rt.store.scan('tagged', { history: true }));
    expect(history.length).toBe(2 * CUSTOMERS + 2);
    expect(history.every((e, i) => e._updated === i)).toBe(true);
    expect(await rt.store.datasetInfo('tagged')).toMatchObject({ entityCount: CUSTOMERS, deletedCount: 1, versionCount: 2 * CUSTOMERS + 2, lastOffset: 2 * CUSTOMERS + 1 });
    expect(rt.pool!.tasks).toBe(2);
  });

  it.each([1, 2])('stops a run on request and resumes it in the next run (pool of %i)', async (workers) => {
    const dir = tempDir('sluice-pool-stop-');
    await seed(dir);
    rt = await openRuntime({ dataDir: dir, workers });
    await configure(rt, config);
    const pump = rt.pump('big-orders')!;
    const running = pump.start({ reason: 'manual' });
    await pump.stop();
    expect(await running).toMatchObject({ status: 'stopped' });
    expect((await rt.store.getPipeState('big-orders'))?.run).toMatchObject({ full: true });
    expect(await rt.runPipe('big-orders')).toMatchObject({ status: 'completed' });
    const kept = (await collect(rt.store.scan('big-orders'))).length;
    expect(kept).toBe(Array.from({ length: 2 * CUSTOMERS }, (_, i) => (i % 13) + 1).filter((amount) => amount > 10).length);
    expect(rt.pool?.tasks ?? 0).toBe(workers === 1 ? 0 : 2);
  });

  it('fails the run of a worker that dies, with the reason, and keeps serving', async () => {
    rt = await openRuntime({ dataDir: tempDir('sluice-pool-crash-'), workers: 2, workerModule: new URL('./fixtures/crashing-pool-worker.mjs', import.meta.url) });
    await configure(rt, [
      { _id: 'people', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'a' }] } },
      // A null sink keeps this pipe in the main thread.
      { _id: 'in-thread', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'b' }] }, sink: { type: 'null' } },
    ]);
    expect(PipePool.canRun(rt.pipe('people')!)).toBe(true);
    expect(PipePool.canRun(rt.pipe('in-thread')!)).toBe(false);
    const failed = await rt.runPipe('people');
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('the worker thread running pipe "people" failed: the worker fell over');
    expect((await rt.store.getPipeState('people'))?.last_run).toMatchObject({ status: 'failed' });
    expect((await rt.log.entries('people'))[0]).toMatchObject({ event_type: 'pump-failed' });
    expect(rt.pump('people')!.running).toBe(false);
    // The runtime goes on: other pipes run, and the pool takes the next run (which fails the same way).
    expect(await rt.runPipe('in-thread')).toMatchObject({ status: 'completed', read: 1 });
    expect((await rt.runPipe('people')).status).toBe('failed');
  });
});
