import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collect, configure, openRuntime, tempDir } from '../support/runtime.js';
import { EmbeddedStore } from '../../runtime/store/embedded/store.js';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';
import type { Entity } from '../../compiler/values/types.js';
import { encode } from '../../compiler/values/transit.js';

let rt: SluiceRuntime | undefined;
afterEach(async () => {
  await rt?.close();
  rt = undefined;
});

type Row = Record<string, unknown>;

/** Latest versions of a dataset, transit-encoded, without the store's bookkeeping fields. */
async function contents(r: SluiceRuntime, dataset: string, opts: { deleted?: boolean } = {}): Promise<Row[]> {
  const out: Row[] = [];
  for await (const e of r.store.scan(dataset, { deleted: opts.deleted ?? false })) {
    const { _updated, _ts, _hash, _previous, ...rest } = encode(e) as Row;
    void _updated, _ts, _hash, _previous;
    // Every stored version says whether it is deleted; these expectations name only deletions.
    if (rest._deleted === false) delete rest._deleted;
    out.push(rest);
  }
  return out.sort((a, b) => String(a._id).localeCompare(String(b._id)));
}

async function byId(r: SluiceRuntime, dataset: string): Promise<Record<string, Row>> {
  const out: Record<string, Row> = {};
  for (const e of await contents(r, dataset, { deleted: true })) out[String(e._id)] = e;
  return out;
}

async function put(r: SluiceRuntime, dataset: string, entities: Entity[]): Promise<void> {
  await r.store.write(dataset, entities);
}

const pipe = (id: string, source: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ _id: id, type: 'pipe', source, pump: { schedule_interval: 3600 }, ...extra });

describe('union_datasets source', () => {
  it('prefixes ids and continues every dataset from its own offset, across restarts', async () => {
    const dir = tempDir();
    rt = await openRuntime({ dataDir: dir });
    await put(rt, 'men', [{ _id: 'dave', age: 40 }]);
    await put(rt, 'women', [{ _id: 'claire', age: 35 }, { _id: 'anna', age: 50 }]);
    await configure(rt, [pipe('people', { type: 'union_datasets', datasets: ['men', 'women'] })]);
    expect(await rt.runPipe('people')).toMatchObject({ status: 'completed', syncType: 'full', read: 3, written: 3 });
    expect((await contents(rt, 'people')).map((e) => e._id)).toEqual(['men:dave', 'women:anna', 'women:claire']);
    const seen = (await rt.store.getPipeState('people'))!.last_seen as string;
    expect(JSON.parse(seen)).toEqual({ men: 0, women: 1 });

    // Only women changes: the incremental run reads just that change.
    await put(rt, 'women', [{ _id: 'claire', age: 36 }]);
    expect(await rt.runPipe('people')).toMatchObject({ syncType: 'incremental', read: 1, written: 1 });
    expect(JSON.parse((await rt.store.getPipeState('people'))!.last_seen as string)).toEqual({ men: 0, women: 2 });

    // After a restart the offsets still hold; a deletion is passed on with the prefixed id.
    await rt.close();
    rt = await openRuntime({ dataDir: dir });
    await put(rt, 'men', [{ _id: 'dave', _deleted: true }, { _id: 'bob', age: 20 }]);
    expect(await rt.runPipe('people')).toMatchObject({ syncType: 'incremental', read: 2 });
    const people = await byId(rt, 'people');
    expect(people['men:dave']._deleted).toBe(true);
    expect(people['men:bob']).toMatchObject({ age: 20 });
    expect(people['women:claire']).toMatchObject({ age: 36 });
    expect(await rt.runPipe('people')).toMatchObject({ read: 0, written: 0 });
  });

  it('can keep ids unprefixed, emit previous versions and read a dataset added later from its start', async () => {
    rt = await openRuntime();
    await put(rt, 'a', [{ _id: 'x', v: 1 }]);
    await put(rt, 'a', [{ _id: 'x', v: 2 }]);
    await put(rt, 'b', [{ _id: 'y', v: 1 }]);
    await configure(rt, [pipe('all', { type: 'union_datasets', datasets: ['a'], prefix_ids: false, include_previous_versions: true }, { sink: { type: 'null' } })]);
    expect(await rt.runPipe('all')).toMatchObject({ read: 2 });
    await configure(rt, [pipe('all', { type: 'union_datasets', datasets: ['a', 'b'], prefix_ids: false, include_previous_versions: true }, { sink: { type: 'null' } })]);
    // "a" continues after its offset, "b" is new to the token and read from its beginning.
    expect(await rt.runPipe('all')).toMatchObject({ syncType: 'incremental', read: 1 });
    expect(JSON.parse((await rt.store.getPipeState('all'))!.last_seen as string)).toEqual({ a: 1, b: 0 });
  });

  it('fails a full run of empty datasets when if_source_empty is "fail", keeping the sink', async () => {
    rt = await openRuntime();
    await put(rt, 'a', [{ _id: 'x' }]);
    await configure(rt, [pipe('u', { type: 'union_datasets', datasets: ['a'] })]);
    await rt.runPipe('u');
    await rt.store.deleteDataset('a');
    await configure(rt, [pipe('u', { type: 'union_datasets', datasets: ['a'], if_source_empty: 'fail' })]);
    const r = await rt.runPipe('u', { full: true });
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/pipe "u".*if_source_empty/);
    expect((await contents(rt, 'u')).map((e) => e._id)).toEqual(['a:x']);
  });

  it('rejects a since value that is not a map of offsets', async () => {
    rt = await openRuntime();
    await put(rt, 'a', [{ _id: 'x' }]);
    await configure(rt, [pipe('u', { type: 'union_datasets', datasets: ['a'] })]);
    await rt.runPipe('u');
    await rt.pump('u')!.operation('update-last-seen', { 'last-seen': 'garbage' });
    const r = await rt.runPipe('u');
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/union_datasets source.*"garbage"/);
  });
});

describe('merge_datasets source', () => {
  it('emits the latest version of each id across datasets, in timestamp order, incrementally', async () => {
    rt = await openRuntime();
    await put(rt, 'products', [{ _id: 'p1', name: 'Pen' }, { _id: 'p2', name: 'Ink' }]);
    await new Promise((r) => setTimeout(r, 2));
    await put(rt, 'products-metadata', [{ _id: 'p1', name: 'Pen (blue)' }]);
    await configure(rt, [pipe('merged', { type: 'merge_datasets', datasets: ['products', 'products-metadata'] })]);
    expect(await rt.runPipe('merged')).toMatchObject({ status: 'completed' });
    expect(await contents(rt, 'merged')).toEqual([
      { _id: 'p1', name: 'Pen (blue)' },
      { _id: 'p2', name: 'Ink' },
    ]);
    expect(JSON.parse((await rt.store.getPipeState('merged'))!.last_seen as string)).toEqual({ products: 1, 'products-metadata': 0 });
    await new Promise((r) => setTimeout(r, 2));
    await put(rt, 'products', [{ _id: 'p1', name: 'Pen v2' }]);
    expect(await rt.runPipe('merged')).toMatchObject({ syncType: 'incremental', read: 1, written: 1 });
    expect((await contents(rt, 'merged'))[0]).toEqual({ _id: 'p1', name: 'Pen v2' });
    // A deletion that is the newest version wins.
    await new Promise((r) => setTimeout(r, 2));
    await put(rt, 'products-metadata', [{ _id: 'p1', _deleted: true }]);
    await rt.runPipe('merged');
    expect((await byId(rt, 'merged')).p1._deleted).toBe(true);
  });

  it('strategy "all" keys every dataset\'s latest version under the dataset id', async () => {
    rt = await openRuntime();
    await put(rt, 'a', [{ _id: 'x', v: 1 }, { _id: 'y', v: 2 }]);
    await new Promise((r) => setTimeout(r, 2));
    await put(rt, 'b', [{ _id: 'x', w: 3 }]);
    await configure(rt, [pipe('m', { type: 'merge_datasets', datasets: ['a', 'b'], strategy: 'all' })]);
    await rt.runPipe('m');
    const m = await byId(rt, 'm');
    expect(m.x).toMatchObject({ a: { _id: 'x', v: 1 }, b: { _id: 'x', w: 3 } });
    expect(m.y).toMatchObject({ a: { _id: 'y', v: 2 } });
    expect(m.y.b).toBeUndefined();
    await put(rt, 'b', [{ _id: 'y', w: 4 }]);
    expect(await rt.runPipe('m')).toMatchObject({ read: 1, written: 1 });
    expect((await byId(rt, 'm')).y).toMatchObject({ a: { v: 2 }, b: { w: 4 } });
    await put(rt, 'a', [{ _id: 'x', _deleted: true }]);
    await put(rt, 'b', [{ _id: 'x', _deleted: true }]);
    await rt.runPipe('m');
    expect((await byId(rt, 'm')).x._deleted).toBe(true);
  });
});

const docsA: Entity[] = [
  { _id: 'a1', f1: 1 },
  { _id: 'a2', f1: 2 },
];
const docsB: Entity[] = [
  { _id: 'b1', f1: 1, f2: 'x' },
  { _id: 'b2', f1: 3 },
];
const docsC: Entity[] = [
  { _id: 'c1', f3: 'X' },
  { _id: 'c2', _deleted: true, f3: 'Y' },
  { _id: 'c3', _deleted: true, f3: 'X' },
];
const docsMerge = (extra: Record<string, unknown> = {}) =>
  pipe('result', {
    type: 'merge',
    datasets: ['A a', 'B b', 'C c'],
    equality: [
      ['eq', 'a.f1', 'b.f1'],
      ['eq', 'b.f2', ['lower', 'c.f3']],
    ],
    ...extra,
  });

async function docsSetup(r: SluiceRuntime, extra: Record<string, unknown> = {}): Promise<void> {
  await put(r, 'A', docsA);
  await put(r, 'B', docsB);
  await put(r, 'C', docsC);
  await configure(r, [docsMerge(extra)]);
}

describe('merge source', () => {
  it('merges the documentation example', async () => {
    rt = await openRuntime();
    await docsSetup(rt);
    const r = await rt.runPipe('result');
    expect(r).toMatchObject({ status: 'completed', syncType: 'full', read: 5, written: 5 });
    const out: Row[] = [];
    for await (const e of rt.store.scan('result')) {
      const { _ts, _hash, _previous, _updated, ...rest } = encode(e) as Row;
      void _ts, _hash, _previous, _updated;
      if (rest._deleted === false) delete rest._deleted;
      out.push(rest);
    }
    // In the order the source produced them, as in the documentation.
    expect(out).toEqual([
      { $ids: ['~:a1', '~:b1', '~:c1'], _id: '0|a1|1|b1|2|c1', f1: [1, 1], f2: 'x', f3: 'X' },
      { $ids: ['~:a2'], _id: '0|a2', f1: 2 },
      { $ids: ['~:b2'], _id: '1|b2', f1: 3 },
      { $ids: ['~:c2'], _deleted: true, _id: '2|c2', f3: 'Y' },
      { $ids: ['~:c3'], _deleted: true, _id: '2|c3', f3: 'X' },
    ]);
    // Nothing changed: nothing is read or written.
    expect(await rt.runPipe('result')).toMatchObject({ syncType: 'incremental', read: 0, written: 0 });
    expect((await rt.store.datasetInfo('system:merge:result'))).not.toBeNull();
  });

  it('emits only the merged entities a change affects', async () => {
    rt = await openRuntime();
    await docsSetup(rt);
    await rt.runPipe('result');
    await put(rt, 'B', [{ _id: 'b2', f1: 3, extra: true }]);
    const r = await rt.runPipe('result');
    expect(r).toMatchObject({ syncType: 'incremental', read: 1, written: 1 });
    expect((await byId(rt, 'result'))['1|b2']).toMatchObject({ f1: 3, extra: true });
    // The untouched merged entity still has its one version.
    expect(await rt.store.history('result', '0|a1|1|b1|2|c1')).toHaveLength(1);
  });

  it('splits and joins groups when an entity changes, deleting replaced ids with $replaced', async () => {
    rt = await openRuntime();
    await docsSetup(rt);
    await rt.runPipe('result');
    // b1 now matches a2 instead of a1: a1 leaves the group, a2 joins b1 and c1.
    await put(rt, 'B', [{ _id: 'b1', f1: 2, f2: 'x' }]);
    const r = await rt.runPipe('result');
    expect(r).toMatchObject({ status: 'completed', read: 4 });
    const out = await byId(rt, 'result');
    expect(out['0|a1']).toEqual({ _id: '0|a1', $ids: ['~:a1'], f1: 1 });
    expect(out['0|a2|1|b1|2|c1']).toEqual({ _id: '0|a2|1|b1|2|c1', $ids: ['~:a2', '~:b1', '~:c1'], f1: [2, 2], f2: 'x', f3: 'X' });
    expect(out['0|a1|1|b1|2|c1']).toMatchObject({ _deleted: true, $replaced: true });
    expect(out['0|a2']).toMatchObject({ _deleted: true, $replaced: true, f1: 2 });
    expect(Object.values(out).filter((e) => e._deleted !== true).map((e) => e._id).sort()).toEqual(['0|a1', '0|a2|1|b1|2|c1', '1|b2']);
  });

  it('deleted input entities are never merged and stand alone as deletions', async () => {
    rt = await openRuntime();
    await docsSetup(rt);
    await rt.runPipe('result');
    await put(rt, 'C', [{ _id: 'c1', _deleted: true, f3: 'X' }]);
    await rt.runPipe('result');
    let out = await byId(rt, 'result');
    expect(out['0|a1|1|b1']).toEqual({ _id: '0|a1|1|b1', $ids: ['~:a1', '~:b1'], f1: [1, 1], f2: 'x' });
    expect(out['2|c1']).toEqual({ _id: '2|c1', $ids: ['~:c1'], _deleted: true, f3: 'X' });
    expect(out['0|a1|1|b1|2|c1']).toMatchObject({ _deleted: true, $replaced: true });
    // Undeleted, it joins again.
    await put(rt, 'C', [{ _id: 'c1', f3: 'X' }]);
    await rt.runPipe('result');
    out = await byId(rt, 'result');
    expect(out['0|a1|1|b1|2|c1']._deleted).toBeUndefined();
    expect(out['0|a1|1|b1|2|c1'].$replaced).toBeUndefined();
    expect(out['0|a1|1|b1']).toMatchObject({ _deleted: true, $replaced: true });
    expect(out['2|c1']).toMatchObject({ _deleted: true, $replaced: true });
  });

  it('merges transitively across three datasets with equality_sets; identity "first" picks the first id', async () => {
    rt = await openRuntime();
    await put(rt, 'crm', [{ _id: 'c-1', email: 'ada@example.org', name: 'Ada' }, { _id: 'c-2', email: 'bob@example.org' }]);
    await put(rt, 'erp', [{ _id: 'e-1', mail: 'ADA@example.org', ssn: '111' }]);
    await put(rt, 'hr', [{ _id: 'h-1', ssn: '111', dept: 'R&D' }, { _id: 'h-0', ssn: '222' }]);
    await configure(rt, [
      pipe('person', {
        type: 'merge',
        version: 2,
        identity: 'first',
        datasets: ['crm c', 'erp e', 'hr h'],
        equality_sets: [['c.email', ['lower', 'e.mail']], ['e.ssn', 'h.ssn']],
      }),
    ]);
    await rt.runPipe('person');
    let out = await byId(rt, 'person');
    expect(out['c-1']).toEqual({ _id: 'c-1', $ids: ['~:c-1', '~:e-1', '~:h-1'], email: 'ada@example.org', name: 'Ada', mail: 'ADA@example.org', ssn: ['111', '111'], dept: 'R&D' });
    expect(Object.keys(out).sort()).toEqual(['c-1', 'c-2', 'h-0']);
    // h-0 takes over ssn 111 too: it joins; "c-1" stays the first id.
    await put(rt, 'hr', [{ _id: 'h-0', ssn: '111' }]);
    await rt.runPipe('person');
    out = await byId(rt, 'person');
    expect(out['c-1'].$ids).toEqual(['~:c-1', '~:e-1', '~:h-0', '~:h-1']);
    expect(out['h-0']).toMatchObject({ _deleted: true, $replaced: true });
    // The erp entity that linked crm and hr goes away: the group falls apart into its parts.
    await put(rt, 'erp', [{ _id: 'e-1', _deleted: true }]);
    await rt.runPipe('person');
    out = await byId(rt, 'person');
    // (hr entities only matched each other through erp.)
    expect(out['c-1']).toEqual({ _id: 'c-1', $ids: ['~:c-1'], email: 'ada@example.org', name: 'Ada' });
    expect(out['e-1']).toEqual({ _id: 'e-1', $ids: ['~:e-1'], _deleted: true });
    expect(out['h-0']).toEqual({ _id: 'h-0', $ids: ['~:h-0'], ssn: '111' });
    expect(out['h-1']).toEqual({ _id: 'h-1', $ids: ['~:h-1'], ssn: '111', dept: 'R&D' });
  });

  it('keeps upstream $ids, and supports the compact and list strategies', async () => {
    rt = await openRuntime();
    await put(rt, 'A', [{ _id: 'x', $ids: ['~:up1', '~:up2'], y: [2, 1], k: 'a' }]);
    await put(rt, 'B', [{ _id: 'z', k: 'a', y: 2, z: [3, 3], e: [] }]);
    const merge = (extra: Record<string, unknown>) => pipe('m', { type: 'merge', datasets: ['A a', 'B b'], equality: [['eq', 'a.k', 'b.k']], ...extra });
    await configure(rt, [merge({ strategy: 'compact' })]);
    await rt.runPipe('m');
    expect((await contents(rt, 'm'))[0]).toEqual({ _id: '0|x|1|z', $ids: ['~:up1', '~:up2', '~:z'], k: 'a', y: [2, 1], z: 3 });
    await configure(rt, [merge({ strategy: 'list' })]);
    await rt.runPipe('m', { full: true });
    expect((await contents(rt, 'm'))[0]).toEqual({
      _id: '0|x|1|z',
      $ids: ['~:up1', '~:up2', '~:z'],
      $merged: [
        { _id: 'x', $ids: ['~:up1', '~:up2'], y: [2, 1], k: 'a' },
        { _id: 'z', k: 'a', y: 2, z: [3, 3], e: [] },
      ],
    });
    await configure(rt, [merge({ strategy: 'list', include_internal_properties: true })]);
    await rt.runPipe('m', { full: true });
    const merged = (await contents(rt, 'm'))[0].$merged as Row[];
    expect(merged[0]).toHaveProperty('_ts');
    expect(merged[0]).toHaveProperty('_updated');
  });

  it('fails when more than max_merged entities would merge, and when ids collide under identity "first"', async () => {
    rt = await openRuntime();
    await put(rt, 'A', [{ _id: 'a1', k: 1 }, { _id: 'a2', k: 1 }]);
    await put(rt, 'B', [{ _id: 'b1', k: 1 }]);
    await configure(rt, [pipe('m', { type: 'merge', version: 2, max_merged: 2, datasets: ['A a', 'B b'], equality: [['eq', 'a.k', 'b.k']] })]);
    const r = await rt.runPipe('m');
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/pipe "m" \(merge source\): 3 entities would be merged into one, more than max_merged \(2\)/);

    await put(rt, 'C', [{ _id: 'same' }]);
    await put(rt, 'D', [{ _id: 'same' }]);
    await configure(rt, [pipe('f', { type: 'merge', version: 2, identity: 'first', datasets: ['C c', 'D d'], equality: [['eq', 'c.k', 'd.k']] })]);
    const f = await rt.runPipe('f');
    expect(f.status).toBe('failed');
    expect(f.error).toMatch(/"same" of dataset "C" and "same" of dataset "D" would both become the merged entity "same"/);
    // With equality on _id the same ids merge into one entity.
    await configure(rt, [pipe('f', { type: 'merge', version: 2, identity: 'first', datasets: ['C c', 'D d'], equality: [['eq', 'c._id', 'd._id']] })]);
    expect(await rt.runPipe('f', { full: true })).toMatchObject({ status: 'completed', written: 1 });
    expect(await contents(rt, 'f')).toEqual([{ _id: 'same', $ids: ['~:same'] }]);
  });

  it('refuses equality rules that do not join one alias to another', async () => {
    rt = await openRuntime();
    await configure(rt, [pipe('bad', { type: 'merge', datasets: ['A a', 'B b'], equality: [['eq', 'a.x', 'z.y']] })]);
    expect(rt.instantiationErrors.get('bad')).toMatch(/pipe "bad" \(merge source\): each side of the equality rule \["eq","a.x","z.y"\] must refer to exactly one dataset alias \(a, b\); "z.y" refers to none/);
    await configure(rt, [pipe('bad', { type: 'merge', datasets: ['A a', 'B b'], equality: [['eq', ['concat', 'a.x', 'b.y'], 'b.y']] })]);
    expect(rt.instantiationErrors.get('bad')).toMatch(/refers to "a" and "b"/);
    await configure(rt, [pipe('bad', { type: 'merge', datasets: ['A a', 'B b'], equality: [['eq', ['no-such-fn', 'a.x'], 'b.y']] })]);
    expect(rt.instantiationErrors.get('bad')).toMatch(/is not valid DTL: unknown function "no-such-fn"/);
  });

  it('keeps its state across restarts and continues incrementally', async () => {
    const dir = tempDir();
    rt = await openRuntime({ dataDir: dir });
    await docsSetup(rt);
    await rt.runPipe('result');
    await rt.close();
    rt = await openRuntime({ dataDir: dir });
    await put(rt, 'A', [{ _id: 'a3', f1: 3 }]);
    const r = await rt.runPipe('result');
    // a3 joins b2: one new merged entity and one replaced.
    expect(r).toMatchObject({ status: 'completed', syncType: 'incremental', read: 2 });
    const out = await byId(rt, 'result');
    expect(out['0|a3|1|b2']).toEqual({ _id: '0|a3|1|b2', $ids: ['~:a3', '~:b2'], f1: [3, 3] });
    expect(out['1|b2']).toMatchObject({ _deleted: true, $replaced: true });
    expect(out['0|a1|1|b1|2|c1']._deleted).toBeUndefined();
  });

  it('re-emits what a failed run computed but never delivered', async () => {
    rt = await openRuntime();
    await docsSetup(rt);
    const failing = { type: 'dtl', rules: { default: [['if', ['eq', '_S.f1', 99], ['fail!', 'boom']], ['copy', '*']] } };
    await configure(rt, [{ ...docsMerge({}), transform: failing }]);
    await rt.runPipe('result');
    await put(rt, 'B', [{ _id: 'b2', f1: 99 }]);
    const failed = await rt.runPipe('result');
    expect(failed.status).toBe('failed');
    // The merge state has moved on, the sink has not.
    expect((await byId(rt, 'result'))['1|b2'].f1).toBe(3);
    await configure(rt, [{ ...docsMerge({}), transform: { type: 'dtl', rules: { default: [['copy', '*']] } } }]);
    const again = await rt.runPipe('result');
    expect(again).toMatchObject({ status: 'completed', syncType: 'incremental', read: 1, written: 1 });
    expect((await byId(rt, 'result'))['1|b2'].f1).toBe(99);
    // Setting the offset back replays the merged entities changed since then; the sink finds them unchanged.
    await rt.pump('result')!.operation('update-last-seen', { 'last-seen': '0' });
    expect(await rt.runPipe('result')).toMatchObject({ status: 'completed', read: 5, written: 0 });
  });

  it('rebuilds everything on a full run and lets deletion tracking remove merged entities of removed datasets', async () => {
    rt = await openRuntime();
    await docsSetup(rt);
    await rt.runPipe('result');
    await configure(rt, [pipe('result', { type: 'merge', datasets: ['A a', 'B b'], equality: [['eq', 'a.f1', 'b.f1']] })]);
    const r = await rt.runPipe('result', { full: true });
    expect(r).toMatchObject({ status: 'completed', syncType: 'full' });
    expect((await contents(rt, 'result')).map((e) => e._id)).toEqual(['0|a1|1|b1', '0|a2', '1|b2']);
    const members = await collect(rt.store.scan('system:merge:result'));
    expect(members.some((m) => String(m._id).startsWith('m|C|'))).toBe(false);
  });
});

describe('merge source, incremental against a from-scratch reference', () => {
  /** Small deterministic PRNG (mulberry32). */
  function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const rules: [string, string, string, string][] = [
    ['a', 'x', 'b', 'x'],
    ['b', 'y', 'c', 'y'],
    ['c', 'x', 'c', 'x'],
  ];
  const aliases: Record<string, { dataset: string; index: number }> = { a: { dataset: 'A', index: 0 }, b: { dataset: 'B', index: 1 }, c: { dataset: 'C', index: 2 } };

  /** Ids of the groups the documented rules give (deleted entities alone). */
  function expectedIds(state: Record<string, Map<string, Row>>, identity: string): string[] {
    const nodes: { alias: string; id: string; e: Row }[] = [];
    for (const [alias, map] of Object.entries(state)) for (const [id, e] of map) nodes.push({ alias, id, e });
    const parent = nodes.map((_, i) => i);
    const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
    const values = (v: unknown) => (Array.isArray(v) ? v : [v]).filter((x) => x !== null && x !== undefined);
    nodes.forEach((p, i) =>
      nodes.forEach((q, j) => {
        if (p.e._deleted || q.e._deleted) return;
        for (const [la, lp, ra, rp] of rules) {
          if (p.alias !== la || q.alias !== ra) continue;
          const lv = values(p.e[lp]);
          if (values(q.e[rp]).some((v) => lv.includes(v))) parent[find(i)] = find(j);
        }
      }),
    );
    const groups = new Map<number, typeof nodes>();
    nodes.forEach((n, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), n]));
    return [...groups.values()]
      .filter((g) => !g[0].e._deleted)
      .map((g) =>
        g
          .map((n) => ({ index: aliases[n.alias].index, id: n.id }))
          .sort((x, y) => x.index - y.index || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
          .map((p) => (identity === 'first' ? p.id : `${p.index}|${p.id}`))
          .slice(0, identity === 'first' ? 1 : undefined)
          .join('|'),
      )
      .sort();
  }

  it.each([
    [20240611, 'composite', 2],
    [7, 'first', 3],
    [99, 'composite', 50],
  ])('matches the documented grouping after every random change, with small batches, stops and failed runs (seed %i, identity %s)', async (seed, identity, batchSize) => {
    const dir = tempDir();
    rt = await openRuntime({ dataDir: dir });
    const source = { type: 'merge', version: 2, identity, datasets: ['A a', 'B b', 'C c'], equality: rules.map(([la, lp, ra, rp]) => ['eq', `${la}.${lp}`, `${ra}.${rp}`]) };
    const failOn = { type: 'dtl', rules: { default: [['if', ['eq', '_S.boom', true], ['fail!', 'injected']], ['copy', '*']] } };
    await configure(rt, [
      { _id: 'inc', type: 'pipe', batch_size: batchSize, source, transform: failOn, pump: { schedule_interval: 3600 } },
      { _id: 'fresh', type: 'pipe', source, pump: { schedule_interval: 3600 } },
    ]);
    const rnd = prng(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
    const state: Record<string, Map<string, Row>> = { a: new Map(), b: new Map(), c: new Map() };
    const small = () => (rnd() < 0.15 ? null : rnd() < 0.15 ? [pick([0, 1, 2, 3, 4, 5]), pick([0, 1, 2, 3, 4, 5])] : pick([0, 1, 2, 3, 4, 5]));
    for (let step = 0; step < 40; step++) {
      const changes = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < changes; k++) {
        const alias = pick(['a', 'b', 'c']);
        const id = `${alias}${Math.floor(rnd() * 6)}`;
        const e: Row = rnd() < 0.15 ? { _id: id, _deleted: true } : { _id: id, x: small(), y: small(), n: step };
        state[alias].set(id, e);
        await put(rt, aliases[alias].dataset, [e as Entity]);
      }
      // Sometimes the incremental pipe fails half-way (the merged entity with "boom"), then runs again.
      if (rnd() < 0.2) {
        const victim = pick(['a', 'b', 'c']);
        const id = `${victim}9`;
        await put(rt, aliases[victim].dataset, [{ _id: id, boom: true }]);
        if (step > 0) expect((await rt.runPipe('inc')).status).toBe('failed');
        await put(rt, aliases[victim].dataset, [{ _id: id, _deleted: true }]);
        state[victim].set(id, { _id: id, _deleted: true });
      }
      // Sometimes a run is stopped right after it starts, and left to the next one.
      if (rnd() < 0.15) {
        const run = rt.runPipe('inc');
        await rt.pump('inc')!.stop();
        expect(['stopped', 'completed']).toContain((await run).status);
      }
      // Sometimes the pipe restarts in between.
      if (rnd() < 0.15) {
        await rt.close();
        rt = await openRuntime({ dataDir: dir });
      }
      const r = await rt.runPipe('inc');
      expect(r.status, r.error).toBe('completed');
      if (step > 0) expect(r.syncType).toBe('incremental');
      const live = (await contents(rt, 'inc')).map((e) => String(e._id)).sort();
      expect(live, `step ${step}`).toEqual(expectedIds(state, identity));
      if (step % 10 === 9) {
        await rt.runPipe('fresh', { full: true });
        expect(await contents(rt, 'inc'), `step ${step}`).toEqual(await contents(rt, 'fresh'));
      }
    }
  });
});

describe('merge source, crash safety', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const N = 2000;
  const config = [
    {
      _id: 'merged',
      type: 'pipe',
      batch_size: 500,
      source: { type: 'merge', version: 2, datasets: ['A a', 'B b', 'C c'], equality_sets: [['a.k', 'b.k'], ['b.j', 'c.j']] },
      pump: { schedule_interval: 3600 },
    },
  ];

  /** A child process that runs the pipe until a run finds nothing new (written to a temp file, run from the repo root). */
  function childScript(): string {
    const file = join(tempDir('sluice-merge-child-'), 'child.mts');
    const support = JSON.stringify(join(root, 'test/support/runtime.ts'));
    writeFileSync(
      file,
      `import { writeSync } from 'node:fs';
import { configure, openRuntime } from ${support};
// The writes are counted on this thread's store: the pipe runs here, whatever SLUICE_TEST_WORKERS says.
const rt = await openRuntime({ dataDir: process.argv[2], workers: 1 });
await configure(rt, ${JSON.stringify(config)});
// Every store write (merge state, sink commits, execution log) is announced before it happens.
const write = rt.store.write.bind(rt.store);
let writes = 0;
rt.store.write = (dataset, entities, options) => {
  writeSync(1, 'write ' + ++writes + '\\n');
  return write(dataset, entities, options);
};
process.stdout.write('ready\\n');
for (;;) {
  const o = await rt.runPipe('merged');
  if (o.status !== 'completed') throw new Error(o.error);
  if (o.read === 0 && o.syncType !== 'full') break;
}
await rt.close();
process.stdout.write('all done\\n');
`,
    );
    return file;
  }

  /**
   * Runs the child; with `killAtWrite`, SIGKILLs it as it announces that store write (the run's own
   * progress decides the moment, not a clock). Resolves whether it finished, and its store writes.
   */
  function runChild(file: string, dir: string, killAtWrite?: number): Promise<{ done: boolean; writes: number }> {
    return new Promise((resolve, reject) => {
      const p = spawn(process.execPath, ['--import', 'tsx', file, dir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      let writes = 0;
      p.stdout.on('data', (d) => {
        out += d;
        writes = out.split('\n').filter((l) => l.startsWith('write ')).length;
        if (killAtWrite !== undefined && writes >= killAtWrite) p.kill('SIGKILL');
      });
      p.stderr.on('data', (d) => (err += d));
      p.on('exit', (code, signal) => {
        if (signal === 'SIGKILL') resolve({ done: false, writes });
        else if (code === 0 && out.includes('all done')) resolve({ done: true, writes });
        else reject(new Error(`child exited with ${code}: ${err}`));
      });
    });
  }

  async function change(dir: string, phase: number): Promise<void> {
    const store = new EmbeddedStore({ dataDir: dir });
    const rows = (prefix: string, f: (i: number) => Row | null) =>
      Array.from({ length: N }, (_, i) => f(i))
        .map((e, i) => (e ? { _id: `${prefix}${i}`, ...e } : null))
        .filter((e): e is Row & { _id: string } => e !== null) as Entity[];
    if (phase === 1) {
      await store.write('A', rows('a', (i) => ({ k: i % 1500, n: i })));
      await store.write('B', rows('b', (i) => ({ k: (i * 7) % 2000, j: i % 900 })));
      await store.write('C', rows('c', (i) => ({ j: (i * 3) % 1200 })));
    } else {
      // Joins, splits and deletions.
      await store.write('A', rows('a', (i) => (i % 5 === 0 ? { k: (i + 1) % 1500, n: i } : null)));
      await store.write('B', rows('b', (i) => (i % 7 === 0 ? { _deleted: true } : i % 11 === 0 ? { k: null, j: i % 900 } : null)));
      await store.write('C', rows('c', (i) => (i % 4 === 0 ? { j: i % 50 } : null)));
    }
    await store.close();
  }

  async function snapshot(dir: string) {
    const store = new EmbeddedStore({ dataDir: dir });
    const latest = (await collect(store.scan('merged'))).map((e) => [e._id, e._hash, e._deleted === true]).sort(([a], [b]) => String(a).localeCompare(String(b)));
    const versions = (await collect(store.scan('merged', { history: true }))).length;
    await store.close();
    return { latest, versions };
  }

  it('gives the same merged entities after repeated SIGKILLs as an uninterrupted run', { timeout: 600_000 }, async () => {
    const file = childScript();
    const clean = tempDir('sluice-merge-clean-');
    const crashed = tempDir('sluice-merge-killed-');
    const rnd = (() => {
      let x = 12345;
      return () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    })();
    let kills = 0;
    for (const phase of [1, 2]) {
      await change(clean, phase);
      await change(crashed, phase);
      const reference = await runChild(file, clean);
      expect(reference.done).toBe(true);
      for (let attempt = 0; ; attempt++) {
        // Killed at a random moment of the work (ingest, recompute, emission, sink commits).
        const { done } = await runChild(file, crashed, attempt < 3 ? 1 + Math.floor(rnd() * reference.writes * 0.6) : undefined);
        if (!done) kills++;
        if (done) break;
      }
      const a = await snapshot(clean);
      const b = await snapshot(crashed);
      expect(b.latest.length).toBeGreaterThan(1000);
      expect(b.latest).toEqual(a.latest);
      expect(b.versions).toBe(a.versions);
    }
    expect(kills).toBeGreaterThanOrEqual(2);
  });
});
