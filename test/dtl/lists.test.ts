import { describe, expect, it } from 'vitest';
import { evalDtl, evalJson } from './helpers.js';
import { Decimal, DtlFloat, type Value } from '../../compiler/values/types.js';
import { ValueIndex } from '../../compiler/dtl/functions/list-keys.js';
import { floatText as pythonFloatText, toJsonText } from '../../compiler/dtl/functions/text.js';

/** The text a group-by key becomes (group-by without a string function). */
const groupKeyText = (v: Value): string => toJsonText(v, true);

describe('combine and flatten', () => {
  it('splices list arguments one level and drops null arguments', () => {
    expect(evalJson(['combine', null, 'x', ['list', 'y', ['list', 'z']], null])).toEqual(['x', 'y', ['z']]);
    expect(evalJson(['combine', ['list']])).toEqual([]);
  });

  it('flatten keeps deeper lists and drops null elements', () => {
    expect(evalJson(['flatten', ['list', ['list', 'a'], null, 'b', ['list', ['list', 'c']]]])).toEqual(['a', 'b', ['c']]);
    expect(evalJson(['flatten', null])).toEqual([]);
    expect(evalJson(['flatten', 'solo'])).toEqual(['solo']);
  });
});

describe('count, first, last, nth', () => {
  it('count treats null as empty and a single value as one', () => {
    expect(evalJson(['count', '_S.xs'], { source: { xs: [1, null, 3] } })).toBe(3);
    expect(evalJson(['count', '_S.missing'])).toBe(0);
    expect(evalJson(['count', { a: 1 }])).toBe(1);
  });

  it('first and last', () => {
    expect(evalJson(['first', ['list']])).toBeNull();
    expect(evalJson(['last', ['list']])).toBeNull();
    expect(evalJson(['last', 'solo'])).toBe('solo');
    expect(evalJson(['first', null])).toBeNull();
  });

  it('nth counts from zero, from the end when negative, and gives null out of range', () => {
    expect(evalJson(['nth', 0, ['list', 'a', 'b']])).toBe('a');
    expect(evalJson(['nth', -1, ['list', 'a', 'b']])).toBe('b');
    expect(evalJson(['nth', -3, ['list', 'a', 'b']])).toBeNull();
    expect(evalJson(['nth', 0, 'solo'])).toBe('solo');
    expect(evalJson(['nth', 1, 'solo'])).toBeNull();
    expect(evalJson(['nth', 123456789012345678901234567890n, ['list', 'a']])).toBeNull();
  });

  it('nth fails on a non-integer INDEX', () => {
    expect(() => evalJson(['nth', 1.5, ['list', 'a', 'b']])).toThrow(/INDEX/);
    expect(() => evalJson(['nth', '1', ['list', 'a', 'b']])).toThrow(/integer/);
    expect(() => evalJson(['nth', null, ['list', 'a']])).toThrow();
  });
});

describe('enumerate, insert, range, reversed, slice', () => {
  it('enumerate numbers values from START', () => {
    expect(evalJson(['enumerate', -1, ['list', 'a', null]])).toEqual([
      { key: -1, value: 'a' },
      { key: 0, value: null },
    ]);
    expect(evalJson(['enumerate', null])).toBeNull();
    expect(evalJson(['enumerate', 9007199254740991, ['list', 'a', 'b']])).toEqual([
      { key: 9007199254740991, value: 'a' },
      { key: 9007199254740992n, value: 'b' },
    ]);
    expect(() => evalJson(['enumerate', 'one', ['list', 'a']])).toThrow(/START/);
  });

  it('insert clamps the position like Python list.insert', () => {
    expect(evalJson(['insert', 10, ['list', 1, 2], 3])).toEqual([1, 2, 3]);
    expect(evalJson(['insert', -10, ['list', 1, 2], 0])).toEqual([0, 1, 2]);
    expect(evalJson(['insert', 0, null, 'x'])).toEqual(['x']);
    expect(evalJson(['insert', -1, ['list', 1, 2], null])).toEqual([1, null, 2]);
  });

  it('insert does not modify its input list', () => {
    expect(evalJson(['list', ['insert', 0, '_S.xs', 0], '_S.xs'], { source: { xs: [1] } })).toEqual([[0, 1], [1]]);
  });

  it('range counts up or down and excludes STOP', () => {
    expect(evalJson(['range', 0, 10, 3])).toEqual([0, 3, 6, 9]);
    expect(evalJson(['range', 5, 1, -2])).toEqual([5, 3]);
    expect(evalJson(['range', 3, 3])).toEqual([]);
    expect(evalJson(['range', 3, 0])).toEqual([]);
    expect(evalJson(['range', 9007199254740991, 9007199254740994n])).toEqual([9007199254740991, 9007199254740992n, 9007199254740993n]);
  });

  it('range rejects a zero step, non-integers and huge ranges', () => {
    expect(() => evalJson(['range', 0, 4, 0])).toThrow(/STEP/);
    expect(() => evalJson(['range', 0, new DtlFloat(4)])).toThrow(/integer/);
    expect(() => evalJson(['range', 0, '4'])).toThrow(/integer/);
    expect(() => evalJson(['range', 0, 100000000000])).toThrow(/more than/);
  });

  it('reversed copies lists and passes other values through', () => {
    expect(evalJson(['reversed', ['list', 1, 2, 3]])).toEqual([3, 2, 1]);
    expect(evalJson(['reversed', 'abc'])).toBe('abc');
    expect(evalJson(['reversed', null])).toBeNull();
  });

  it('slice follows Python slicing', () => {
    const xs = ['list', 0, 1, 2, 3, 4, 5];
    expect(evalJson(['slice', -2, xs])).toEqual([4, 5]);
    expect(evalJson(['slice', 1, 3, xs])).toEqual([1, 2]);
    expect(evalJson(['slice', null, null, -1, xs])).toEqual([5, 4, 3, 2, 1, 0]);
    expect(evalJson(['slice', 4, 0, -2, xs])).toEqual([4, 2]);
    expect(evalJson(['slice', 10, xs])).toEqual([]);
    expect(evalJson(['slice', 0, 'solo'])).toEqual(['solo']);
    expect(() => evalJson(['slice', 0, 4, 0, xs])).toThrow(/STRIDE/);
  });
});

describe('emptiness and type tests', () => {
  it('is-empty and is-not-empty take the value as a list', () => {
    expect(evalJson(['is-empty', null])).toBe(true);
    expect(evalJson(['is-empty', ['list']])).toBe(true);
    expect(evalJson(['is-empty', ''])).toBe(false);
    expect(evalJson(['is-not-empty', ['list', null]])).toBe(true);
    expect(evalJson(['is-not-empty', {}])).toBe(true);
  });

  it('is-list', () => {
    expect(evalJson(['is-list', ['list']])).toBe(true);
    expect(evalJson(['is-list', null])).toBe(false);
    expect(evalJson(['is-list', { a: [1] }])).toBe(false);
  });
});

describe('function expressions: filter, map, map-dict, map-values', () => {
  const people = ['list', { name: 'a', age: 30 }, { name: 'b', age: 50 }, null, { name: 'c' }];

  it('filter keeps values whose FUNCTION result is truthy', () => {
    expect(evalJson(['filter', ['gt', '_.age', 40], people])).toEqual([{ name: 'b', age: 50 }]);
    expect(evalJson(['filter', '_.age', people])).toEqual([
      { name: 'a', age: 30 },
      { name: 'b', age: 50 },
    ]);
    expect(evalJson(['filter', ['eq', '_.', null], people])).toEqual([null]);
    expect(evalJson(['filter', true, 'x'])).toEqual(['x']);
    expect(evalJson(['filter', true, null])).toEqual([]);
  });

  it('filter may use the source entity inside FUNCTION', () => {
    expect(evalJson(['filter', ['gt', '_.', '_S.limit'], ['list', 1, 5, 9]], { source: { limit: 4 } })).toEqual([5, 9]);
  });

  it('map builds one result per value, nulls included', () => {
    expect(evalJson(['map', '_.name', people])).toEqual(['a', 'b', null, 'c']);
    expect(evalJson(['map', ['list', '_.', '_.'], 'x'])).toEqual([['x', 'x']]);
  });

  it('nested function expressions rebind _', () => {
    expect(evalJson(['map', ['filter', ['gt', '_.', 1], '_.'], ['list', ['list', 1, 2], ['list', 3, 0]]])).toEqual([[2], [3]]);
  });

  it('map-dict drops pairs with non-string keys and empty dicts', () => {
    const expr = ['map-dict', ['if', ['eq', '_.', 'drop'], null, '_.'], ['list', '_.', '_.'], ['list', { keep: 1, drop: 2 }, { drop: 3 }, 'not a dict']];
    expect(evalJson(expr)).toEqual([{ keep: [1, 1] }]);
    expect(evalJson(['map-dict', 1, '_.', { a: 1 }])).toBeNull();
    expect(evalJson(['map-dict', '_.', '_.', null])).toBeNull();
  });

  it('map-dict handles a __proto__ key as data', () => {
    const out = evalDtl(['map-dict', '__proto__', '_.', { a: 1 }]) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it('map-values maps values of dicts only', () => {
    expect(evalJson(['map-values', ['list', '_.'], ['list', { a: 1, b: 2 }, 3, null, { c: null }]])).toEqual([[1], [2], [null]]);
    expect(evalJson(['map-values', '_.', 'x'])).toEqual([]);
  });
});

describe('distinct', () => {
  it('keeps the first of equal values, numbers equal across types', () => {
    expect(evalJson(['distinct', ['list', 1, new DtlFloat(1), '~f1', '1', true, null, null]])).toEqual([1, '1', true, null]);
    expect(evalJson(['distinct', ['list', { a: [1] }, { a: [new DtlFloat(1)] }, { a: [2] }]])).toEqual([{ a: [1] }, { a: [2] }]);
  });

  it('with a FUNCTION compares its results and returns the original values', () => {
    expect(evalJson(['distinct', '_.k', ['list', { k: 1, v: 'a' }, { k: 2, v: 'b' }, { k: 1, v: 'c' }, { v: 'd' }, { v: 'e' }]])).toEqual([
      { k: 1, v: 'a' },
      { k: 2, v: 'b' },
      { v: 'd' },
    ]);
  });

  it('works on long lists of mixed types (hashed lookup)', () => {
    const values = [1, 2, '2', '~f2.0', 2.5, '~f2.5', 12345678901234567890n, '~f12345678901234567890', '~:a:b', '~ra:b', '~:a:b', '~t2020-01-01T00:00:00Z', '~t2020-01-01T00:00:00.000Z', { x: 1 }, { x: new DtlFloat(1) }, ['list', 1], ['list', 1], '~bYWJj', '~bYWJj', '~u9f598f65-eea5-4906-a8f5-82f6d8e69726', '~t2020-01-01'];
    expect(evalJson(['distinct', ['list', ...values]])).toEqual([1, 2, '2', 2.5, 12345678901234567890n, '~:a:b', '~ra:b', '~t2020-01-01T00:00:00Z', { x: 1 }, [1], '~bYWJj', '~u9f598f65-eea5-4906-a8f5-82f6d8e69726', '~t2020-01-01']);
  });

  it('non-list input gives a list', () => {
    expect(evalJson(['distinct', 'a'])).toEqual(['a']);
    expect(evalJson(['distinct', null])).toEqual([]);
  });
});

describe('group and group-by', () => {
  it('group collects VALUE_FUNCTION results per key in order of first appearance', () => {
    const rows = ['list', { k: 'b', v: 1 }, { k: 'a', v: 2 }, { k: 'b', v: 3 }, { v: 4 }];
    expect(evalJson(['group', '_.k', '_.v', rows])).toEqual([
      ['b', [1, 3]],
      ['a', [2]],
      [null, [4]],
    ]);
    expect(evalJson(['group', '_.', '_.', null])).toEqual([]);
  });

  it('group treats numerically equal keys as one key', () => {
    expect(evalJson(['group', '_.k', '_.v', ['list', { k: 1, v: 'a' }, { k: new DtlFloat(1), v: 'b' }, { k: '~f1', v: 'c' }]])).toEqual([[1, ['a', 'b', 'c']]]);
  });

  it('group-by keys are transit JSON text', () => {
    const rows = ['list', { k: 'x', v: 1 }, { k: 2, v: 2 }, { k: 2.5, v: 3 }, { v: 4 }, { k: [1, 'a'], v: 5 }, { k: '~rhttp://e.org/', v: 6 }];
    expect(evalJson(['group-by', '_.k', rows])).toEqual({
      '"x"': [{ k: 'x', v: 1 }],
      '2': [{ k: 2, v: 2 }],
      '2.5': [{ k: 2.5, v: 3 }],
      null: [{ v: 4 }],
      '[1, "a"]': [{ k: [1, 'a'], v: 5 }],
      '"~rhttp://e.org/"': [{ k: '~rhttp://e.org/', v: 6 }],
    });
  });

  it('group-by without a function groups values by themselves', () => {
    expect(evalJson(['group-by', ['list', 'a', 'b', 'a']])).toEqual({ '"a"': ['a', 'a'], '"b"': ['b'] });
  });

  it('group-by with STRING_FUNCTION uses its string result and skips non-strings', () => {
    const expr = ['group-by', '_.age', ['if', ['gt', '_.', 40], 'old', ['if', ['eq', '_.', null], null, 'young']], ['list', { age: 30 }, { age: 50 }, { age: 20 }, {}]];
    expect(evalJson(expr)).toEqual({ young: [{ age: 30 }, { age: 20 }], old: [{ age: 50 }] });
  });

  it('groupKeyText follows Python json.dumps layout', () => {
    expect(groupKeyText({ b: 2, a: [new DtlFloat(1), null, true] } as never)).toBe('{"a": [1.0, null, true], "b": 2}');
    expect(groupKeyText(new DtlFloat(2))).toBe('2.0');
    expect(groupKeyText('blå')).toBe('"bl\\u00e5"');
    expect(groupKeyText(new Decimal('1.5'))).toBe('"~f1.5"');
    expect(groupKeyText(12345678901234567890n)).toBe('12345678901234567890');
  });

  it('pythonFloatText matches Python float repr', () => {
    expect(pythonFloatText(0.1)).toBe('0.1');
    expect(pythonFloatText(1e-5)).toBe('1e-05');
    expect(pythonFloatText(0.0001)).toBe('0.0001');
    expect(pythonFloatText(1e16)).toBe('1e+16');
    expect(pythonFloatText(1e15)).toBe('1000000000000000.0');
    expect(pythonFloatText(-1.5e300)).toBe('-1.5e+300');
    expect(pythonFloatText(123.456)).toBe('123.456');
    expect(pythonFloatText(-0)).toBe('-0.0');
  });
});

describe('in', () => {
  it('is true when every value is among ITEMS', () => {
    expect(evalJson(['in', ['list', 1, 2], ['list', new DtlFloat(2), '~f1', 3]])).toBe(true);
    expect(evalJson(['in', 1, '1'])).toBe(false);
    expect(evalJson(['in', 'a', null])).toBe(false);
    expect(evalJson(['in', { a: 1 }, ['list', { a: 1 }]])).toBe(true);
  });

  it('works against long ITEMS lists', () => {
    const items = ['list', ...Array.from({ length: 50 }, (_, i) => `v${i}`), '~:ns:x'];
    expect(evalJson(['in', ['list', 'v3', 'v49', '~:ns:x'], items])).toBe(true);
    expect(evalJson(['in', ['list', 'v3', 'v50'], items])).toBe(false);
    expect(evalJson(['in', '~rns:x', items])).toBe(false);
  });
});

describe('ordering: sorted, sorted-descending, min, max', () => {
  it('sorts mixed types by type rank, then value', () => {
    const mixed = ['list', 'b', '~t2020-01-01T00:00:00Z', null, 3, true, { a: 1 }, ['list', 1], '~f2.5', 2];
    expect(evalJson(['sorted', mixed])).toEqual([null, true, 2, '~f2.5', 3, '~t2020-01-01T00:00:00Z', 'b', { a: 1 }, [1]]);
    expect(evalJson(['sorted-descending', mixed])).toEqual([[1], { a: 1 }, 'b', '~t2020-01-01T00:00:00Z', 3, '~f2.5', 2, true, null]);
  });

  it('sorts numbers numerically and strings by code unit', () => {
    expect(evalJson(['sorted', ['list', 10, 9, -1, 0.5]])).toEqual([-1, 0.5, 9, 10]);
    expect(evalJson(['sorted', ['list', 'b', 'B', 'a', 'A']])).toEqual(['A', 'B', 'a', 'b']);
    expect(evalJson(['sorted', ['list', 12345678901234567891n, 12345678901234567890n, 1]])).toEqual([1, 12345678901234567890n, 12345678901234567891n]);
  });

  it('is stable with a key function, also descending', () => {
    const rows = ['list', { k: 1, id: 'a' }, { k: 0, id: 'b' }, { k: 1, id: 'c' }, { id: 'd' }];
    expect((evalJson(['sorted', '_.k', rows]) as { id: string }[]).map((r) => r.id)).toEqual(['d', 'b', 'a', 'c']);
    expect((evalJson(['sorted-descending', '_.k', rows]) as { id: string }[]).map((r) => r.id)).toEqual(['a', 'c', 'b', 'd']);
  });

  it('returns non-lists unchanged and does not modify its input', () => {
    expect(evalJson(['sorted', 'x'])).toBe('x');
    expect(evalJson(['sorted-descending', null])).toBeNull();
    expect(evalJson(['list', ['sorted', '_S.xs'], '_S.xs'], { source: { xs: [2, 1] } })).toEqual([[1, 2], [2, 1]]);
  });

  it('min and max skip nulls and return the first extreme value', () => {
    expect(evalJson(['min', ['list', null, 3, 1, 2]])).toBe(1);
    expect(evalJson(['max', ['list', null]])).toBeNull();
    expect(evalJson(['max', ['list']])).toBeNull();
    expect(evalJson(['max', 7])).toBe(7);
    const rows = ['list', { k: 2, id: 'a' }, { id: 'b' }, { k: 2, id: 'c' }, { k: 1, id: 'd' }];
    expect(evalJson(['max', '_.k', rows])).toEqual({ k: 2, id: 'a' });
    expect(evalJson(['min', '_.k', rows])).toEqual({ k: 1, id: 'd' });
  });

  it('min and max compare across number types', () => {
    expect(evalJson(['max', ['list', 1, '~f1.5', 1.25, 12345678901234567890n]])).toBe(12345678901234567890n);
    expect(evalJson(['min', ['list', 1, '~f0.5', 1.25]])).toBe('~f0.5');
  });
});

describe('sum', () => {
  it('adds integers exactly, beyond 2^53 too', () => {
    expect(evalJson(['sum', ['list', 1, 2, 3]])).toBe(6);
    expect(evalJson(['sum', ['list', 9007199254740991, 1, 1]])).toBe(9007199254740993n);
    expect(evalJson(['sum', ['list', 12345678901234567890n, -12345678901234567889n]])).toBe(1);
  });

  it('ignores non-numeric values and gives 0 for nothing', () => {
    expect(evalJson(['sum', ['list', 1, '2', true, null, { a: 3 }, ['list', 4], 5]])).toBe(6);
    expect(evalJson(['sum', ['list']])).toBe(0);
    expect(evalJson(['sum', null])).toBe(0);
    expect(evalJson(['sum', 'x'])).toBe(0);
    expect(evalJson(['sum', 4])).toBe(4);
  });

  it('a float makes the result a float, also when integral', () => {
    const r = evalDtl(['sum', ['list', 1, 1.5, 0.5]]);
    expect(r).toBeInstanceOf(DtlFloat);
    expect((r as DtlFloat).value).toBe(3);
    expect(evalJson(['sum', ['list', 0.1, 0.2]])).toBe(0.1 + 0.2);
    expect(evalDtl(['sum', ['list', new DtlFloat(2)]])).toBeInstanceOf(DtlFloat);
    expect(evalDtl(['sum', ['list', 12345678901234567890n, 0.5]])).toBeInstanceOf(DtlFloat);
  });

  it('a decimal makes the result a decimal', () => {
    expect(evalJson(['sum', ['list', '~f0.1', '~f0.2']])).toBe('~f0.3');
    expect(evalJson(['sum', ['list', 1, '~f0.10', 2]])).toBe('~f3.1');
    expect(evalJson(['sum', ['list', 0.5, '~f0.25', 12345678901234567890n]])).toBe('~f12345678901234567890.75');
    expect(evalJson(['sum', '~f1.5'])).toBe('~f1.5');
  });

  it('sums a path over a list of dicts', () => {
    expect(evalJson(['sum', '_S.orders.amount'], { source: { orders: [{ amount: 10 }, { amount: 2.5 }, {}, { amount: 7 }] } })).toBe(19.5);
  });
});

describe('ValueIndex', () => {
  it('finds equal values before and after switching to hashing', () => {
    const ix = new ValueIndex();
    for (let i = 0; i < 20; i++) ix.add(i % 2 ? `s${i}` : i);
    expect(ix.size).toBe(20);
    expect(ix.indexOf(new DtlFloat(4))).toBe(4);
    expect(ix.indexOf(new Decimal('4'))).toBe(4);
    expect(ix.indexOf('s5')).toBe(5);
    expect(ix.indexOf('4')).toBe(-1);
    expect(ix.add(new Decimal('6.0'))).toBe(false);
  });
});
