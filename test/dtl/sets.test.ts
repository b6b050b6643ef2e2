import { describe, expect, it } from 'vitest';
import { evalJson } from './helpers.js';
import { DtlFloat } from '../../compiler/values/types.js';

const many = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('difference', () => {
  it('keeps values of the first argument missing from the second, duplicates included', () => {
    expect(evalJson(['difference', ['list', 'x', 'y', 'x', 'z'], ['list', 'y']])).toEqual(['x', 'x', 'z']);
    expect(evalJson(['difference', ['list', 'x'], null])).toEqual(['x']);
    expect(evalJson(['difference', null, ['list', 'x']])).toEqual([]);
    expect(evalJson(['difference', 'x', 'x'])).toEqual([]);
  });

  it('compares numbers by value and typed values by type', () => {
    expect(evalJson(['difference', ['list', 1, 2, '~f3', 4.5], ['list', new DtlFloat(1), 3, '4.5']])).toEqual([2, 4.5]);
    expect(evalJson(['difference', ['list', '~:a:b', 'a:b', '~ra:b'], ['list', 'a:b']])).toEqual(['~:a:b', '~ra:b']);
    expect(evalJson(['difference', ['list', { a: 1 }, { a: 2 }, null], ['list', { a: 1 }]])).toEqual([{ a: 2 }, null]);
  });

  it('handles long lists', () => {
    expect(evalJson(['difference', ['list', 'a3', 'b1', 'a39', 'a40', 12], ['list', ...many('a', 40), 12n]])).toEqual(['b1', 'a40']);
  });
});

describe('intersection and intersects', () => {
  it('intersection keeps values of the first argument found in the second, in order', () => {
    expect(evalJson(['intersection', ['list', 3, 1, 3, 2], ['list', 2, 3]])).toEqual([3, 3, 2]);
    expect(evalJson(['intersection', ['list', 1, '1'], ['list', '~f1.0']])).toEqual([1]);
    expect(evalJson(['intersection', null, ['list', null]])).toEqual([]);
    expect(evalJson(['intersection', ['list', null], ['list', null]])).toEqual([null]);
    expect(evalJson(['intersection', ['list', '~t2020-01-01', '~t2020-01-01T00:00:00Z'], ['list', ...many('x', 20), '~t2020-01-01T00:00:00Z']])).toEqual(['~t2020-01-01T00:00:00Z']);
  });

  it('intersects tells whether anything is shared', () => {
    expect(evalJson(['intersects', ['list', 1, 2], ['list', 2.0, 5]])).toBe(true);
    expect(evalJson(['intersects', ['list', 1, 2], ['list', '1', '2']])).toBe(false);
    expect(evalJson(['intersects', ['list'], ['list', 1]])).toBe(false);
    expect(evalJson(['intersects', null, null])).toBe(false);
    expect(evalJson(['intersects', 'x', ['list', ...many('x', 30), 'x']])).toBe(true);
    expect(evalJson(['intersects', ['list', ['list', 1, 2]], ['list', ['list', 1, 2]]])).toBe(true);
  });
});

describe('union', () => {
  it('keeps the first occurrence of each value, first argument first', () => {
    expect(evalJson(['union', ['list', 'b', 'a', 'b'], ['list', 'c', 'a', 'c']])).toEqual(['b', 'a', 'c']);
    expect(evalJson(['union', null, 'x'])).toEqual(['x']);
    expect(evalJson(['union', null, null])).toEqual([]);
    expect(evalJson(['union', ['list', 1, 2], ['list', new DtlFloat(2), '~f1', '2']])).toEqual([1, 2, '2']);
  });

  it('handles long lists with mixed types', () => {
    const left = ['list', ...many('v', 12), { k: 1 }];
    const right = ['list', 'v3', { k: 1 }, { k: 2 }, '~uc3b3a9b6-3b0a-4a37-9c57-8f0f1f6c3f11', 'v12'];
    expect(evalJson(['union', left, right])).toEqual([...many('v', 12), { k: 1 }, { k: 2 }, '~uc3b3a9b6-3b0a-4a37-9c57-8f0f1f6c3f11', 'v12']);
  });

  it('does not modify its inputs', () => {
    expect(evalJson(['list', ['union', '_S.a', '_S.b'], '_S.a'], { source: { a: [1], b: [2] } })).toEqual([[1, 2], [1]]);
  });
});
