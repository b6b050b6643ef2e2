/**
 * One data directory, two connections (the runtime's and a pipe worker's): each sees what the
 * other committed (datasets, offsets, counts, indexes) before it reads or writes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../runtime/store/embedded/store.js';
import { collect, tempDir } from '../support/runtime.js';

const open: EmbeddedStore[] = [];
afterEach(async () => {
  for (const s of open.splice(0).reverse()) await s.close();
});

function pair(): [EmbeddedStore, EmbeddedStore] {
  const dir = tempDir('sluice-shared-store-');
  const main = new EmbeddedStore({ dataDir: dir });
  const worker = new EmbeddedStore({ dataDir: dir, joinRuntime: true, writeTurn: main.allowOtherWriters() });
  open.push(main, worker);
  return [main, worker];
}

describe('embedded store shared by threads', () => {
  it('allocates offsets from what the other connection committed, and counts both', async () => {
    const [main, worker] = pair();
    await main.write('people', [{ _id: 'a', n: 1 }]);
    await worker.write('people', [{ _id: 'b', n: 2 }, { _id: 'a', n: 3 }]);
    await main.write('people', [{ _id: 'c', n: 4 }, { _id: 'b', _deleted: true }]);
    const history = await collect(worker.scan('people', { history: true }));
    expect(history.map((e) => [e._id, e._updated])).toEqual([['a', 0], ['b', 1], ['a', 2], ['c', 3], ['b', 4]]);
    for (const s of [main, worker]) expect(await s.datasetInfo('people')).toMatchObject({ lastOffset: 4, entityCount: 2, deletedCount: 1, versionCount: 5 });
    expect((await main.listDatasets()).map((d) => d.id)).toEqual(['people']);
  });

  it('keeps an index the other connection made up to date, and forgets one it dropped', async () => {
    const [main, worker] = pair();
    await main.write('orders', [{ _id: 'o1', cust: 'c1' }]);
    await worker.ensureIndex('orders', ['cust']);
    // The main connection writes after the worker made the index: its entries must be indexed.
    await main.write('orders', [{ _id: 'o2', cust: 'c1' }, { _id: 'o3', cust: 'c2' }]);
    expect((await worker.lookup('orders', ['cust'], ['c1'])).map((e) => e._id).sort()).toEqual(['o1', 'o2']);
    expect((await main.datasetInfo('orders'))?.indexes).toEqual([['cust']]);
    expect(await main.dropIndex('orders', ['cust'])).toBe(true);
    expect((await worker.datasetInfo('orders'))?.indexes).toEqual([]);
    expect(await main.deleteDataset('orders')).toBe(true);
    expect(await worker.datasetInfo('orders')).toBeNull();
  });

  it('adds up the write turns of both connections, and sees index paths of many datasets after the other committed', async () => {
    const [main, worker] = pair();
    expect(main.writeTurnStats()).toEqual({ turns: 0, waitedSeconds: 0, heldSeconds: 0 });
    for (let i = 0; i < 3; i++) await main.write(`d${i}`, [{ _id: 'x', k: i }]);
    await worker.ensureIndex('d1', ['k']);
    await worker.ensureIndex('d2', ['k']);
    await worker.ensureIndex('d2', ['_id']);
    // One write turn per transaction: three writes and three new indexes.
    const stats = main.writeTurnStats()!;
    expect(stats.turns).toBe(6);
    expect(stats.heldSeconds).toBeGreaterThan(0);
    expect(worker.writeTurnStats()).toEqual(stats);
    expect((await main.listDatasets()).map((d) => [d.id, d.indexes])).toEqual([
      ['d0', []],
      ['d1', [['k']]],
      ['d2', [['_id'], ['k']]],
    ]);
  });
});
