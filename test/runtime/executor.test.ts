import { afterEach, describe, expect, it } from 'vitest';
import { collect, configure, openRuntime } from '../support/runtime.js';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';
import { encode } from '../../compiler/values/transit.js';

let rt: SluiceRuntime;
afterEach(async () => rt?.close());

const people = {
  _id: 'people',
  type: 'pipe',
  source: { type: 'embedded', entities: [{ _id: 'a', name: 'Ada', born: '1815-12-10' }, { _id: 'b', name: 'Bob', born: '1970-01-01' }] },
};
const names = {
  _id: 'names',
  type: 'pipe',
  source: { type: 'dataset', dataset: 'people' },
  transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['add', 'upper', ['upper', '_S.name']], ['add', 'born', ['datetime-parse', '%Y-%m-%d', '_S.born']]] } },
};

describe('pipe executor', () => {
  it('moves entities through dataset → DTL → dataset and records the run', async () => {
    rt = await openRuntime();
    await configure(rt, [people, names]);
    const r1 = await rt.runPipe('people');
    expect(r1).toMatchObject({ status: 'completed', syncType: 'full', read: 2, written: 2 });
    const r2 = await rt.runPipe('names');
    expect(r2).toMatchObject({ status: 'completed', read: 2, written: 2 });
    const out = (await collect(rt.store.scan('names'))).map((e) => encode(e) as Record<string, unknown>);
    expect(out.map((e) => [e._id, e.upper, e.born])).toEqual([
      ['a', 'ADA', '~t1815-12-10T00:00:00Z'],
      ['b', 'BOB', '~t1970-01-01T00:00:00Z'],
    ]);
    // Nothing new upstream: the incremental run reads nothing and writes nothing.
    expect(await rt.runPipe('names')).toMatchObject({ syncType: 'incremental', read: 0, written: 0 });
    const log = await rt.log.entries('names');
    expect(log[0]).toMatchObject({ _id: 'pump-completed', sync_type: 'incremental' });
  });

  it('deletes entities that disappear from a full run', async () => {
    rt = await openRuntime();
    await configure(rt, [people]);
    await rt.runPipe('people');
    await configure(rt, [{ ...people, source: { type: 'embedded', entities: [people.source.entities[0]] } }]);
    const r = await rt.runPipe('people');
    expect(r).toMatchObject({ deleted: 1 });
    expect((await rt.store.get('people', 'b'))!._deleted).toBe(true);
  });

  it('transforms only the entities that trigger_on selects and passes the others through unchanged', async () => {
    rt = await openRuntime();
    const entities = [
      { _id: 'a', name: 'ann', meta: { state: 'new-1' } },
      { _id: 'b', name: 'bob', meta: { state: 'old' } },
      { _id: 'c', name: 'cy', meta: { state: 7 } },
    ];
    const transform = { type: 'dtl', trigger_on: { key: 'meta.state', value: 'new-*' }, rules: { default: [['copy', '_id'], ['add', 'name', ['upper', '_S.name']]] } };
    await configure(rt, [{ _id: 'shout', type: 'pipe', source: { type: 'embedded', entities }, transform }]);
    expect(await rt.runPipe('shout')).toMatchObject({ status: 'completed', written: 3 });
    const out = await collect(rt.store.scan('shout'));
    expect(out.map((e) => [e._id, e.name, e.meta])).toEqual([
      ['a', 'ANN', undefined],
      ['b', 'bob', { state: 'old' }],
      ['c', 'cy', { state: 7 }],
    ]);
  });
});
