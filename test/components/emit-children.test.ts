/** The emit_children transform: `$children` expanded into standalone entities. */
import { afterEach, describe, expect, it } from 'vitest';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';
import { emitChildrenTransform } from '../../runtime/components/transforms/emit_children.js';
import type { ComponentContext, RunInfo } from '../../runtime/components/types.js';
import { collect, configure, openRuntime } from '../support/runtime.js';

let rt: SluiceRuntime | undefined;
afterEach(async () => {
  await rt?.close();
  rt = undefined;
});

const run: RunInfo = { id: 'r', pipeId: 'p', full: true, signal: new AbortController().signal };

async function latest(dataset: string): Promise<Record<string, unknown>[]> {
  return (await collect(rt!.store.scan(dataset, { history: false }))).map(({ _id, _deleted, ...rest }) => {
    const out: Record<string, unknown> = { _id };
    if (_deleted) out._deleted = true;
    for (const [k, v] of Object.entries(rest)) if (!k.startsWith('_')) out[k] = v;
    return out;
  });
}

describe('emit_children transform', () => {
  it('emits the children that have an _id, never the parent', async () => {
    const t = emitChildrenTransform.create({ type: 'emit_children', config: { type: 'emit_children' } }, {} as ComponentContext);
    const child = { _id: 'c1', v: 1 };
    const r = await t.apply(
      [
        { _id: 'p1', $children: [child, { no: 'id' }, 'not an entity', null, { _id: 'c2', _deleted: true }] },
        { _id: 'p2' },
        { _id: 'p3', $children: { _id: 'single' } },
        { _id: 'p4', _deleted: true, $children: [{ _id: 'c4' }] },
        { _id: 'p5', $children: [] },
      ],
      run,
    );
    expect(r.failures).toEqual([]);
    expect(r.entities).toEqual([{ _id: 'c1', v: 1 }, { _id: 'c2', _deleted: true }, { _id: 'single' }, { _id: 'c4', _deleted: true }]);
    // Children are copies: changing the output does not change the parent.
    r.entities[0].v = 2;
    expect(child.v).toBe(1);
  });

  it('expands children made with create-child into their own dataset, deletions included', async () => {
    rt = await openRuntime();
    const orders = (list: Record<string, unknown>[]) => ({ _id: 'orders', type: 'pipe', source: { type: 'embedded', entities: list } });
    const config = (list: Record<string, unknown>[]) => [
      orders(list),
      {
        _id: 'with-lines',
        type: 'pipe',
        source: { type: 'dataset', dataset: 'orders' },
        transform: {
          type: 'dtl',
          rules: {
            default: [['copy', '_id'], ['create-child', ['apply', 'line', '_S.lines']]],
            line: [['add', '_id', '_S.id'], ['add', 'item', '_S.item']],
          },
        },
      },
      { _id: 'lines', type: 'pipe', source: { type: 'dataset', dataset: 'with-lines' }, transform: { type: 'emit_children' } },
    ];
    await configure(rt, config([
      { _id: 'o1', lines: [{ id: 'o1-1', item: 'apple' }, { id: 'o1-2', item: 'pear' }] },
      { _id: 'o2', lines: [{ id: 'o2-1', item: 'plum' }] },
    ]));
    for (const p of ['orders', 'with-lines', 'lines']) expect(await rt.runPipe(p)).toMatchObject({ status: 'completed' });
    expect(await latest('lines')).toEqual([
      { _id: 'o1-1', item: 'apple' },
      { _id: 'o1-2', item: 'pear' },
      { _id: 'o2-1', item: 'plum' },
    ]);

    // Unchanged parents emit unchanged children: a second full run writes nothing.
    expect(await rt.runPipe('lines', { full: true })).toMatchObject({ status: 'completed', written: 0, deleted: 0 });
  });

  it('emits the children of a deleted parent as deleted', async () => {
    rt = await openRuntime();
    const parents = (list: Record<string, unknown>[]) => ({ _id: 'parents', type: 'pipe', source: { type: 'embedded', entities: list } });
    const children = { _id: 'children', type: 'pipe', source: { type: 'dataset', dataset: 'parents' }, transform: { type: 'emit_children' } };
    const o1 = { _id: 'o1', $children: [{ _id: 'o1-1', item: 'apple' }] };
    const o2 = { _id: 'o2', $children: [{ _id: 'o2-1', item: 'plum' }, { _id: 'o2-2', item: 'fig' }] };
    await configure(rt, [parents([o1, o2]), children]);
    await rt.runPipe('parents');
    expect(await rt.runPipe('children')).toMatchObject({ status: 'completed', written: 3 });
    // o2 disappears upstream; its deleted version still holds its children, which become deleted too.
    await configure(rt, [parents([o1]), children]);
    expect(await rt.runPipe('parents')).toMatchObject({ deleted: 1 });
    expect(await rt.runPipe('children')).toMatchObject({ status: 'completed', syncType: 'incremental', read: 1, deleted: 2 });
    expect(await latest('children')).toEqual([
      { _id: 'o1-1', item: 'apple' },
      { _id: 'o2-1', _deleted: true, item: 'plum' },
      { _id: 'o2-2', _deleted: true, item: 'fig' },
    ]);
  });

  it('keeps children the parent marks as deleted deleted', async () => {
    rt = await openRuntime();
    await configure(rt, [
      { _id: 'parents', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'p', $children: [{ _id: 'kept', n: 1 }, { _id: 'gone', _deleted: true, n: 2 }, { n: 3 }] }] } },
      { _id: 'children', type: 'pipe', source: { type: 'dataset', dataset: 'parents' }, transform: { type: 'emit_children' } },
    ]);
    await rt.runPipe('parents');
    expect(await rt.runPipe('children')).toMatchObject({ status: 'completed', read: 1 });
    expect(await latest('children')).toEqual([
      { _id: 'kept', n: 1 },
      { _id: 'gone', _deleted: true, n: 2 },
    ]);
  });
});
