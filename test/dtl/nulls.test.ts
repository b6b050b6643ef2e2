import { describe, expect, it } from 'vitest';
import { evalJson } from './helpers.js';

describe('coalesce', () => {
  it('returns the first non-null value', () => {
    expect(evalJson(['coalesce', ['list', null, null, 3, 4]])).toBe(3);
    expect(evalJson(['coalesce', ['list', null, ['list'], 3]])).toEqual([]);
    expect(evalJson(['coalesce', 'x'])).toBe('x');
    expect(evalJson(['coalesce', null])).toBe(null);
    expect(evalJson(['coalesce', ['list', null]])).toBe(null);
    expect(evalJson(['coalesce', '_S.tags'], { source: { tags: [null, false] } })).toBe(false);
  });

  it('with a function returns the first value for which it is true', () => {
    const source = { hobbies: [{ name: 'a', expenses: 10 }, { name: 'b', expenses: 2000 }, { name: 'c', expenses: 5000 }] };
    expect(evalJson(['coalesce', ['gt', '_.expenses', 1000], '_S.hobbies'], { source })).toEqual({ name: 'b', expenses: 2000 });
    expect(evalJson(['coalesce', ['gt', '_.expenses', 9000], '_S.hobbies'], { source })).toBe(null);
    expect(evalJson(['coalesce', ['eq', '_.', 2], 2])).toBe(2);
  });
});

describe('coalesce-args', () => {
  it('returns the first argument that is not null', () => {
    expect(evalJson(['coalesce-args', '_S.a', '_S.b', '_S.c'], { source: { b: 0, c: 1 } })).toBe(0);
    expect(evalJson(['coalesce-args', null, ['list', null], 1])).toEqual([null]);
    expect(evalJson(['coalesce-args', null, '_S.x'])).toBe(null);
    expect(evalJson(['coalesce-args', 5])).toBe(5);
  });

  it('does not evaluate arguments after the first non-null one', () => {
    // ["^", 10, 10^9] would refuse to compute; it must never run.
    expect(evalJson(['coalesce-args', null, 1, ['^', 3, 1000000000000]])).toBe(1);
  });
});

describe('if-null', () => {
  it('returns the fallback for null, empty lists and lists starting with null', () => {
    expect(evalJson(['if-null', '_S.x', 'fb'])).toBe('fb');
    expect(evalJson(['if-null', ['list'], 'fb'])).toBe('fb');
    expect(evalJson(['if-null', ['list', null, 1], 'fb'])).toBe('fb');
    expect(evalJson(['if-null', false, 'fb'])).toBe(false);
    expect(evalJson(['if-null', 0, 'fb'])).toBe(0);
    expect(evalJson(['if-null', ['list', 1, null], 'fb'])).toEqual([1, null]);
    expect(evalJson(['if-null', null, null])).toBe(null);
  });

  it('evaluates the fallback only when needed', () => {
    expect(evalJson(['if-null', 1, ['^', 3, 1000000000000]])).toBe(1);
  });
});

describe('is-null and is-not-null', () => {
  it('look at the value or the first list element', () => {
    for (const [v, isNull] of [
      [null, true],
      [['list'], true],
      [['list', null], true],
      [['list', null, 1], true],
      [['list', 1, null], false],
      [0, false],
      [false, false],
      ['', false],
      [{}, false],
    ] as const) {
      expect(evalJson(['is-null', v])).toBe(isNull);
      expect(evalJson(['is-not-null', v])).toBe(!isNull);
    }
    expect(evalJson(['is-null', '_S.missing'])).toBe(true);
    expect(evalJson(['is-not-null', '_S.x'], { source: { x: 'y' } })).toBe(true);
  });
});
