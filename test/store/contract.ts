/**
 * The store contract suite. Every Store implementation runs it: `defineStoreContract(name, open)`
 * where `open(dir)` opens (or reopens) a store persisted under `dir`.
 */
import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store, StoredEntity } from '../../runtime/store/contract.js';
import { decodeInPlace, encode } from '../../compiler/values/transit.js';
import { EntityError } from '../../runtime/datasets/content.js';
import type { Entity } from '../../compiler/values/types.js';

export type StoreOpener = (dir: string, name: string) => Promise<Store>;

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function e(id: string, body: Record<string, unknown> = {}): Entity {
  return decodeInPlace({ _id: id, ...body }) as Entity;
}

export function defineStoreContract(name: string, open: StoreOpener): void {
  describe(`store contract: ${name}`, () => {
    let dir: string;
    let store: Store;
    let ds: string;
    let counter = 0;

    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'sluice-store-'));
      ds = `ds-${process.pid}-${Date.now()}-${counter++}`;
      store = await open(dir, ds);
    });
    afterEach(async () => {
      await store.close();
    });

    it('appends versions with increasing offsets from 0 and the reserved fields', async () => {
      await store.ensureDataset(ds);
      expect((await store.datasetInfo(ds))!.lastOffset).toBe(-1);
      const r = await store.write(ds, [e('a', { n: 1 }), e('b', { n: 2 })], { now: 1_000_000 });
      expect(r).toMatchObject({ written: 2, unchanged: 0, deleted: 0, changedIds: ['a', 'b'], lastOffset: 1 });
      const [a, b] = await all(store.scan(ds));
      // As the documented entity model: the first version has offset 0, and `_deleted` is always there.
      expect(a).toMatchObject({ _id: 'a', n: 1, _deleted: false, _updated: 0, _ts: 1_000_000, _previous: null });
      expect(JSON.parse((await all(store.scanJson(ds)))[0])).toMatchObject({ _id: 'a', _deleted: false, _updated: 0 });
      expect(await all(store.scan(ds, { since: -1 }))).toHaveLength(2);
      expect(await all(store.scan(ds, { since: 0 }))).toHaveLength(1);
      expect(b._updated).toBeGreaterThan(a._updated);
      expect(typeof a._hash).toBe('string');
    });

    it('stores a new version only when the content changed', async () => {
      await store.write(ds, [e('a', { n: 1 })]);
      const again = await store.write(ds, [e('a', { n: 1, _updated: 99, _ts: 5, _hash: 'x', _previous: 3, _filtered: false, _deleted: false })]);
      expect(again).toMatchObject({ written: 0, unchanged: 1 });
      const changed = await store.write(ds, [e('a', { n: 2 })]);
      expect(changed.written).toBe(1);
      const versions = await store.history(ds, 'a');
      expect(versions.map((v) => v.n)).toEqual([1, 2]);
      expect(versions[1]._previous).toBe(versions[0]._updated);
    });

    it('keeps every version when one batch holds an entity twice', async () => {
      await store.write(ds, [e('a', { v: 0 })]);
      const r = await store.write(ds, [e('a', { v: 1 }), e('b'), e('a', { v: 2 }), e('a', { v: 2 })]);
      expect(r).toMatchObject({ written: 3, unchanged: 1 });
      expect((await store.history(ds, 'a')).map((x) => x.v)).toEqual([0, 1, 2]);
      expect((await all(store.scan(ds))).map((x) => [x._id, x.v])).toEqual([['b', undefined], ['a', 2]]);
      expect((await store.datasetInfo(ds))!).toMatchObject({ entityCount: 2, versionCount: 4 });
    });

    it('treats key order as irrelevant and a true _deleted as a change', async () => {
      await store.write(ds, [e('a', { x: 1, y: 2 })]);
      expect((await store.write(ds, [e('a', { y: 2, x: 1 })])).written).toBe(0);
      const del = await store.write(ds, [e('a', { x: 1, y: 2, _deleted: true })]);
      expect(del).toMatchObject({ written: 1, deleted: 1 });
      expect((await store.get(ds, 'a'))!._deleted).toBe(true);
      expect((await store.datasetInfo(ds))!).toMatchObject({ entityCount: 0, deletedCount: 1, versionCount: 2 });
    });

    it('streams by offset with since, limit, history, deleted and reverse', async () => {
      for (let i = 0; i < 30; i++) await store.write(ds, [e(`e${i % 10}`, { i })]);
      await store.write(ds, [e('e0', { i: 0, _deleted: true })]);
      const latest = await all(store.scan(ds));
      expect(latest).toHaveLength(10);
      expect(latest.map((x) => x._updated)).toEqual([...latest.map((x) => x._updated)].sort((a, b) => a - b));
      expect(await all(store.scan(ds, { history: true }))).toHaveLength(31);
      expect(await all(store.scan(ds, { deleted: false }))).toHaveLength(9);
      const firstFive = await all(store.scan(ds, { history: true, limit: 5 }));
      const next = await all(store.scan(ds, { history: true, since: firstFive[4]._updated, limit: 5 }));
      expect(next[0]._updated).toBeGreaterThan(firstFive[4]._updated);
      const rev = await all(store.scan(ds, { history: true, reverse: true, limit: 3 }));
      expect(rev.map((x) => x._updated)).toEqual([...rev.map((x) => x._updated)].sort((a, b) => b - a));
      const json = await all(store.scanJson(ds, { limit: 2 }));
      expect(JSON.parse(json[0])._updated).toBe(latest[0]._updated);
    });

    it('streams more than a page', async () => {
      const batch = Array.from({ length: 2500 }, (_, i) => e(`p${i}`, { i }));
      await store.write(ds, batch);
      const out = await all(store.scan(ds));
      expect(out).toHaveLength(2500);
      expect(new Set(out.map((x) => x._id)).size).toBe(2500);
    });

    it('reads single entities, several, and history', async () => {
      await store.write(ds, [e('a', { v: 1 }), e('b', { v: 1 })]);
      await store.write(ds, [e('a', { v: 2 })]);
      expect((await store.get(ds, 'a'))!.v).toBe(2);
      expect(await store.get(ds, 'nope')).toBeNull();
      expect(await store.get('no-such-dataset', 'a')).toBeNull();
      const many = await store.getMany(ds, ['a', 'b', 'c']);
      expect([...many.keys()].sort()).toEqual(['a', 'b']);
      expect((await store.history(ds, 'a')).map((x) => x.v)).toEqual([1, 2]);
    });

    it('keeps typed values exactly', async () => {
      const typed = { when: '~t2015-07-28T09:46:00.123456789Z', who: '~:crm:42', amount: '~f10.25', big: 123456789012345678901234567890n, link: '~rhttp://example.org/', f: 1.5 };
      await store.write(ds, [e('t', typed)]);
      const back = (await store.get(ds, 't'))!;
      const { _updated, _ts, _hash, _previous, _deleted, ...rest } = encode(back) as Record<string, unknown>;
      expect(_deleted).toBe(false);
      void _updated;
      void _ts;
      void _hash;
      void _previous;
      expect(rest).toEqual({ _id: 't', ...typed });
    });

    it('rejects a batch with an entity without a string _id, writing nothing', async () => {
      await expect(store.write(ds, [e('ok'), { name: 'no id' } as Entity])).rejects.toBeInstanceOf(EntityError);
      expect(await all(store.scan(ds))).toHaveLength(0);
    });

    it('deletes entities a full run did not see (deletion tracking)', async () => {
      await store.write(ds, [e('a'), e('b'), e('c')], { seenRun: 'run1' });
      await store.write(ds, [e('a'), e('c', { changed: true })], { seenRun: 'run2' });
      const r = await store.deleteUnseen(ds, 'run2');
      expect(r).toMatchObject({ written: 1, deleted: 1, changedIds: ['b'] });
      expect((await store.get(ds, 'b'))!._deleted).toBe(true);
      expect((await store.get(ds, 'a'))!._deleted).toBe(false);
      // Raw JSON reads say the same, and a child dict that says "_deleted": true does not count.
      await store.write(ds, [e('k', { child: { _id: 'x', _deleted: true } })], { seenRun: 'run2' });
      const raw = (await all(store.scanJson(ds, { history: false }))).map((t) => JSON.parse(t) as { _id: string; _deleted: boolean });
      expect(Object.fromEntries(raw.map((x) => [x._id, x._deleted]))).toEqual({ a: false, b: true, c: false, k: false });
      expect((await store.deleteUnseen(ds, 'run2')).written).toBe(0);
    });

    it('writes entities and deletes what the run did not see in one call, saving the checkpoint', async () => {
      await store.write(ds, [e('a'), e('b'), e('c')], { seenRun: 'run1' });
      const r = await store.write(ds, [e('a'), e('d')], { seenRun: 'run2', deleteUnseen: { mark: { $gone: true } }, checkpoint: { pipeId: `${ds}-pipe`, state: { last_seen: 7 } } });
      expect(r).toMatchObject({ written: 3, unchanged: 1, deleted: 2 });
      expect(r.changedIds.sort()).toEqual(['b', 'c', 'd']);
      expect((await store.get(ds, 'b'))!).toMatchObject({ _deleted: true, $gone: true });
      expect(await store.getPipeState(`${ds}-pipe`)).toEqual({ last_seen: 7 });
      expect((await store.datasetInfo(ds))!).toMatchObject({ entityCount: 2, deletedCount: 2 });
    });

    it('compacts old versions, keeping the newest ones', async () => {
      for (let v = 1; v <= 5; v++) await store.write(ds, [e('a', { v }), e('b', { v: v % 2 === 0 ? 1 : 0 })]);
      const removed = await store.compact(ds, { keepVersions: 2 });
      expect(removed).toBe(3 + 3);
      expect((await store.history(ds, 'a')).map((x) => x.v)).toEqual([4, 5]);
      expect((await store.get(ds, 'a'))!.v).toBe(5);
      expect((await store.datasetInfo(ds))!.versionCount).toBe(4);
    });

    it('does not compact beyond a given offset', async () => {
      for (let v = 1; v <= 4; v++) await store.write(ds, [e('a', { v })]);
      const first = (await store.history(ds, 'a'))[0]._updated;
      expect(await store.compact(ds, { keepVersions: 1, upTo: first })).toBe(1);
      expect((await store.history(ds, 'a')).map((x) => x.v)).toEqual([2, 3, 4]);
    });

    it('maintains secondary indexes for lookups', async () => {
      await store.write(ds, [e('o1', { cust: 'c1', tags: ['x', 'y'], n: 1 }), e('o2', { cust: 'c2', tags: ['y'], n: 2.5 })]);
      await store.ensureIndex(ds, ['cust']);
      await store.ensureIndex(ds, ['tags']);
      await store.ensureIndex(ds, ['n']);
      const ids = async (path: string[], values: unknown[]) => (await store.lookup(ds, path, values as never)).map((x: StoredEntity) => x._id).sort();
      expect(await ids(['cust'], ['c1'])).toEqual(['o1']);
      expect(await ids(['tags'], ['y'])).toEqual(['o1', 'o2']);
      expect(await ids(['n'], [1.0])).toEqual(['o1']);
      await store.write(ds, [e('o3', { cust: 'c1' }), e('o1', { cust: 'c9', tags: [] })]);
      expect(await ids(['cust'], ['c1'])).toEqual(['o3']);
      await store.write(ds, [e('o3', { cust: 'c1', _deleted: true })]);
      expect(await ids(['cust'], ['c1', 'c9'])).toEqual(['o1']);
      expect((await store.datasetInfo(ds))!.indexes.length).toBe(3);
      // A dropped index is gone from the dataset; a lookup builds it again from the latest versions.
      expect(await store.dropIndex(ds, ['cust'])).toBe(true);
      expect(await store.dropIndex(ds, ['cust'])).toBe(false);
      expect((await store.datasetInfo(ds))!.indexes).toEqual([['tags'], ['n']]);
      expect(await ids(['cust'], ['c9'])).toEqual(['o1']);
      expect((await store.datasetInfo(ds))!.indexes.length).toBe(3);
    });

    it('saves a checkpoint with the write and keeps pipe state and metadata', async () => {
      await store.write(ds, [e('a')], { checkpoint: { pipeId: `${ds}-pipe`, state: { last_seen: 42 } } });
      expect(await store.getPipeState(`${ds}-pipe`)).toEqual({ last_seen: 42 });
      await store.setPipeState(`${ds}-pipe`, { last_seen: 'x', disabled: true });
      expect((await store.getPipeState(`${ds}-pipe`))!.disabled).toBe(true);
      await store.setPipeState(`${ds}-pipe`, null);
      expect(await store.getPipeState(`${ds}-pipe`)).toBeNull();
      await store.setMeta(`${ds}-env`, { a: 1 });
      expect(await store.getMeta(`${ds}-env`)).toEqual({ a: 1 });
    });

    it('lists, marks populated and deletes datasets', async () => {
      await store.write(ds, [e('a')]);
      expect((await store.listDatasets()).map((d) => d.id)).toContain(ds);
      expect((await store.datasetInfo(ds))!.populated).toBe(false);
      await store.markPopulated(ds);
      expect((await store.datasetInfo(ds))!.populated).toBe(true);
      expect(await store.deleteDataset(ds)).toBe(true);
      expect(await store.datasetInfo(ds)).toBeNull();
      expect(await store.deleteDataset(ds)).toBe(false);
    });

    it('persists across reopening', async () => {
      await store.write(ds, [e('a', { v: 1 })]);
      await store.ensureIndex(ds, ['v']);
      await store.close();
      store = await open(dir, ds);
      expect((await store.get(ds, 'a'))!.v).toBe(1);
      expect((await store.lookup(ds, ['v'], [1])).map((x) => x._id)).toEqual(['a']);
      const r = await store.write(ds, [e('b')]);
      expect(r.lastOffset).toBe(1);
    });
  });
}
