/**
 * `pipe_cleanup_after_deletion` (node metadata, default true): a pipe deleted from the config loses
 * its pipe state (offsets), its execution log and the internal datasets it owned; its sink dataset
 * stays. A pipe that is only invalid is not deleted, and a pipe removed while the runtime was down
 * is cleaned up when the runtime loads the config again. With the setting false everything stays.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SluiceRuntime } from '../../runtime/service/runtime.js';
import { entitiesToFiles, type ConfigEntity } from '../../runtime/service/config-files.js';
import { configure, openRuntime, openTestStore, quietLogger, tempDir } from '../support/runtime.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function runtime(dataDir = tempDir()): Promise<SluiceRuntime> {
  const rt = await openRuntime({ dataDir });
  cleanups.push(() => rt.close());
  return rt;
}

const metadata = (extra: Record<string, unknown> = {}): ConfigEntity => ({ _id: 'node', type: 'metadata', ...extra });
const orders: ConfigEntity = { _id: 'orders', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'o1', k: 1 }, { _id: 'o2', k: 2 }] } };
const customers: ConfigEntity = { _id: 'customers', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'c1', k: 1 }] } };
// Reads orders from its last offset: what it reads on its first run after being added again shows whether its offset survived.
const copy: ConfigEntity = { _id: 'copy', type: 'pipe', source: { type: 'dataset', dataset: 'orders' }, pump: { use_dead_letter_dataset: true } };
const merged: ConfigEntity = { _id: 'merged', type: 'pipe', source: { type: 'merge', datasets: ['orders o', 'customers c'], equality: [['eq', 'o.k', 'c.k']] } };

async function datasets(rt: SluiceRuntime): Promise<string[]> {
  return (await rt.store.listDatasets()).map((d) => d.id).sort();
}

async function runAll(rt: SluiceRuntime, ids: string[]): Promise<void> {
  for (const id of ids) expect(await rt.runPipe(id), id).toMatchObject({ status: 'completed' });
}

describe('pipe_cleanup_after_deletion', () => {
  it('removes a deleted pipe state, execution log and internal datasets, and keeps its sink dataset', async () => {
    const rt = await runtime();
    await configure(rt, [metadata(), orders, customers, copy, merged]);
    await runAll(rt, ['orders', 'customers', 'copy', 'merged']);
    await rt.store.setMeta('webhook-token:copy', 'a-token');
    expect(await datasets(rt)).toEqual(expect.arrayContaining(['system:merge:merged', 'system:pump_execution:copy', 'system:pump_execution:merged']));
    expect(await rt.store.getPipeState('copy')).not.toBeNull();

    await configure(rt, [metadata(), orders, customers]);
    expect(await rt.store.getPipeState('copy')).toBeNull();
    expect(await rt.store.getPipeState('merged')).toBeNull();
    expect(await rt.store.getMeta('webhook-token:copy')).toBeNull();
    const left = await datasets(rt);
    expect(left.filter((d) => /copy|merged/.test(d))).toEqual(['copy', 'merged']);
    expect(left).toEqual(expect.arrayContaining(['system:pump_execution:orders', 'system:pump_execution:customers']));
    expect((await rt.store.datasetInfo('copy'))?.entityCount).toBe(2);

    // Added again, it starts over.
    await configure(rt, [metadata(), orders, customers, copy]);
    expect(await rt.runPipe('copy')).toMatchObject({ status: 'completed', read: 2 });
  });

  it('keeps everything when the node metadata sets it to false', async () => {
    const rt = await runtime();
    const keep = metadata({ pipe_cleanup_after_deletion: false });
    await configure(rt, [keep, orders, copy]);
    await runAll(rt, ['orders', 'copy']);
    await configure(rt, [keep, orders]);
    expect(await rt.store.getPipeState('copy')).not.toBeNull();
    expect(await datasets(rt)).toContain('system:pump_execution:copy');
    await configure(rt, [keep, orders, copy]);
    expect(await rt.runPipe('copy')).toMatchObject({ status: 'completed', read: 0 });
  });

  it('does not treat a pipe left out for errors as deleted', async () => {
    const rt = await runtime();
    await configure(rt, [metadata(), orders, copy]);
    await runAll(rt, ['orders', 'copy']);
    const broken = { ...copy, transform: { type: 'dtl', rules: { default: [['no-such-function']] } } };
    const result = await rt.setConfigFiles(entitiesToFiles([metadata(), orders, broken]), { force: true });
    expect(result.rejected).toEqual(['copy']);
    expect(await rt.store.getPipeState('copy')).not.toBeNull();
    expect(await datasets(rt)).toContain('system:pump_execution:copy');
  });

  it('cleans up after a pipe removed while the runtime was down', async () => {
    const dir = tempDir();
    const first = await openRuntime({ dataDir: dir });
    await configure(first, [metadata(), orders, copy]);
    await runAll(first, ['orders', 'copy']);
    await first.close();

    // A runtime that does not restore the config it last ran (as one serving a config folder, or a
    // runtime pod given its plan) first sees the new config, which no longer has the pipe.
    const second = await SluiceRuntime.open({ store: await openTestStore(dir), logger: quietLogger, schedule: false, replica: 0 });
    cleanups.push(() => second.close());
    expect(second.plan).toBeNull();
    await configure(second, [metadata(), orders]);
    expect(await second.store.getPipeState('copy')).toBeNull();
    expect(await datasets(second)).not.toContain('system:pump_execution:copy');
  });
});
