import { describe, expect, it } from 'vitest';
import { diagnose, evalJson, transformJson } from './helpers.js';

describe('transform functions', () => {
  it('add, copy, remove and rename shape the target', () => {
    const out = transformJson({ default: [['copy', '*', 'secret'], ['add', 'n', 1], ['remove', 'tmp'], ['rename', 'name', 'title']] }, [{ _id: 'a', name: 'x', tmp: 1, secret: 2 }]);
    expect(out).toEqual([{ _id: 'a', name: 'x', n: 1, title: 'x' }]);
  });

  it('filter marks entities for a dataset sink and drops them otherwise', () => {
    const rules = { default: [['copy', '_id'], ['filter', ['eq', '_S.keep', true]]] };
    expect(transformJson(rules, [{ _id: 'a', keep: false }])).toEqual([]);
    expect(transformJson(rules, [{ _id: 'a', keep: false }], { markFiltered: true })).toEqual([{ _id: 'a', _filtered: true }]);
  });

  it('requires a string _id when id_required is on', () => {
    expect(() => transformJson({ default: [['add', 'x', 1]] }, [{}], { idRequired: true })).toThrow(/_id/);
  });

  it('namespaced add qualifies property names and identities', () => {
    const ns = { identity: 'foo', property: 'bar' };
    expect(transformJson({ default: [['add', '_id', 'x'], ['add', 'age', 1], ['add', '::raw', 2]] }, [{}], { namespaces: ns })).toEqual([{ _id: 'foo:x', 'bar:age': 1, raw: 2 }]);
  });

  it('if and case pick one branch', () => {
    expect(evalJson(['if', ['gt', 2, 1], 'yes', 'no'])).toBe('yes');
    expect(transformJson({ default: [['case', ['gt', '_S.a', 5], ['add', 'k', 'big'], ['add', 'k', 'small']]] }, [{ a: 1 }])).toEqual([{ k: 'small' }]);
  });

  it('reports unknown functions with a suggestion, and arity errors', () => {
    const ds = diagnose({ default: [['ad', 'x', 1], ['add', 'x'], ['add', 'y', ['concta', 'a']]] });
    expect(ds.some((d) => d.includes('DTL_UNKNOWN_FUNCTION') && d.includes('did you mean "add"'))).toBe(true);
    expect(ds.some((d) => d.includes('DTL_ARITY'))).toBe(true);
  });
});

describe('transforms: docs semantics and edge cases', () => {
  const ns = { identity: 'idns', property: 'pns' };

  it('comment takes any number of arguments and evaluates none of them', () => {
    expect(transformJson({ default: [['comment', 'one', 'two', ['add', 'x', ['unknown-fn']]], ['comment']] }, [{}])).toEqual([{}]);
  });

  it('add takes a computed name or a list of names; non-string names are ignored', () => {
    expect(transformJson({ default: [['add', '_S.k', 1], ['add', ['list', 'a', 2, 'b'], '_S.v'], ['add', null, 3]] }, [{ k: 'dyn', v: [1] }])).toEqual([{ dyn: 1, a: [1], b: [1] }]);
  });

  it('default only adds missing own properties', () => {
    expect(transformJson({ default: [['add', 'a', 1], ['default', 'a', 2], ['default', 'constructor', 3], ['default', '_S.k', 4]] }, [{ k: 'toString' }])).toEqual([{ a: 1, constructor: 3, toString: 4 }]);
  });

  it('a property named __proto__ is stored as data, not as the prototype', () => {
    expect(transformJson({ default: [['add', '__proto__', { x: 1 }], ['add', 'own', ['has-key', '__proto__', '_T.']], ['add', 'x', '_T.x']] }, [{}])).toEqual([JSON.parse('{"__proto__": {"x": 1}, "own": true, "x": null}')]);
  });

  it('add-if uses the condition on the value, defaulting to not null', () => {
    const rules = { default: [['add-if', 'a', '_S.a'], ['add-if', 'b', ['gt', '_.', 10], '_S.b']] };
    expect(transformJson(rules, [{ a: null, b: 5 }, { a: [], b: [11, 1] }])).toEqual([{}, { a: [], b: [11, 1] }]);
  });

  it('copy with include and exclude lists, nothing for an empty include', () => {
    expect(transformJson({ default: [['copy', ['list', 'a*', 'b?'], ['list', 'ab*']]] }, [{ a: 1, ab: 2, abc: 3, bx: 4, bxx: 5 }])).toEqual([{ a: 1, bx: 4 }]);
    expect(transformJson({ default: [['copy', ['list']]] }, [{ a: 1 }])).toEqual([{}]);
    expect(transformJson({ default: [['copy', '*', '_*']] }, [{ _id: 'x', _ts: 1, a: 1 }])).toEqual([{ a: 1 }]);
  });

  it('copy and remove patterns respect the namespace boundary', () => {
    const src = { v: 1, 'a:v': 2, 'ab:v': 3, 'a:w': 4 };
    expect(transformJson({ default: [['copy', 'a*:v']] }, [src], { namespaces: ns })).toEqual([{ 'a:v': 2, 'ab:v': 3 }]);
    expect(transformJson({ default: [['copy', '*'], ['remove', 'v']] }, [src], { namespaces: ns })).toEqual([{ 'a:w': 4 }]);
    expect(transformJson({ default: [['copy', '*'], ['remove', '::v']] }, [src], { namespaces: ns })).toEqual([{ 'a:v': 2, 'ab:v': 3, 'a:w': 4 }]);
  });

  it('add and default qualify names and _id values with namespaces', () => {
    expect(transformJson({ default: [['add', '_id', ['list', 'x', 'q:y']], ['add', ':n', 1], ['default', 'n', 2], ['default', 'm', 3]] }, [{}], { namespaces: ns })).toEqual([
      { _id: ['idns:x', 'q:y'], 'pns:n': 1, 'pns:m': 3 },
    ]);
  });

  it('rename without namespaces copies one property, missing ones are skipped', () => {
    expect(transformJson({ default: [['rename', 'a', 'b'], ['rename', 'missing', 'c'], ['rename', ['concat', 'x', '_S.s'], 'd']] }, [{ a: 1, xs: 2, s: 's' }])).toEqual([{ b: 1, d: 2 }]);
  });

  it('make-ni without namespaces: strings only, nothing when no NI could be made', () => {
    expect(transformJson({ default: [['make-ni', 'n', 'a'], ['make-ni', 'n', 'b', 'bb'], ['make-ni', 'n', 'c'], ['make-ni', 'n', 'd']] }, [{ a: 'x', b: ['y', 1, 'z'], c: 5, d: [1] }])).toEqual([
      { 'a-ni': '~:n:x', bb: ['~:n:y', '~:n:z'] },
    ]);
  });

  it('merge skips root underscore properties; merge-union collects values', () => {
    expect(transformJson({ default: [['merge', ['list', { _id: 'no', a: 1, n: { _x: 1 } }, 'skip', { a: 2 }]]] }, [{}])).toEqual([{ a: 2, n: { _x: 1 } }]);
    expect(transformJson({ default: [['add', 'a', 0], ['merge-union', ['list', { a: 1 }, { a: [1, 2], b: 3 }]]] }, [{}])).toEqual([{ a: [0, 1, 2], b: 3 }]);
  });

  it('create and create-child ignore non-dicts and need an _id only when required', () => {
    expect(transformJson({ default: [['create', ['list', { _id: 'c1' }, 5, { x: 1 }]], ['discard']] }, [{}])).toEqual([{ _id: 'c1' }, { x: 1 }]);
    expect(() => transformJson({ default: [['copy', '_id'], ['create', { x: 1 }]] }, [{ _id: 'a' }], { idRequired: true })).toThrow(/_id/);
    expect(transformJson({ default: [['create-child', '_S.c'], ['create-child', '_S.c'], ['create-child', 'x']] }, [{ c: [{ _id: 'k' }] }])).toEqual([{ $children: [{ _id: 'k' }] }]);
  });

  it('case-eq transform compares like eq', () => {
    const rules = { default: [['case-eq', '_S.v', 1, ['add', 'r', 'one'], ['list', 'a', 'b'], ['add', 'r', 'ab'], ['add', 'r', 'other']]] };
    expect(transformJson(rules, [{ v: 1.0 }, { v: [1] }, { v: ['a', 'b'] }, { v: ['b', 'a'] }, {}])).toEqual([{ r: 'one' }, { r: 'one' }, { r: 'ab' }, { r: 'other' }, { r: 'other' }]);
  });

  it('if with empty THEN and ELSE lists and case without ELSE', () => {
    expect(transformJson({ default: [['if', '_S.a', [], ['add', 'x', 1]], ['case', false, ['add', 'y', 1]]] }, [{ a: true }, { a: [] }])).toEqual([{}, { x: 1 }]);
  });

  it('filter and discard keep entities created before them', () => {
    expect(transformJson({ default: [['create', { _id: 'c' }], ['filter', ['list']]] }, [{}])).toEqual([{ _id: 'c' }]);
    expect(transformJson({ default: [['add', 'a', 1], ['discard', 'yes']] }, [{}])).toEqual([{ a: 1 }]);
  });

  it('fail! and trip! raise runtime errors; trip! marks the circuit breaker', () => {
    let err: unknown;
    try {
      transformJson({ default: [['trip!', 'stop']] }, [{}]);
    } catch (e) {
      err = e;
    }
    expect(String(err)).toMatch(/stop/);
    expect((err as { trip?: boolean }).trip).toBe(true);
    expect(() => transformJson({ default: [['fail!']] }, [{}])).toThrow();
  });

  it('sleep! accepts any number type', () => {
    expect(transformJson({ default: [['sleep!', 0], ['sleep!', '~f0.001'], ['sleep!', 'x'], ['add', 'ok', true]] }, [{}])).toEqual([{ ok: true }]);
  });
});

describe('conditional expressions', () => {
  it('if returns THEN, ELSE or null and evaluates only the chosen branch', () => {
    expect(evalJson(['if', ['list'], 'y', 'n'])).toBe('n');
    expect(evalJson(['if', 0, 'y', 'n'])).toBe('y');
    expect(evalJson(['if', null, 'y'])).toBe(null);
    expect(evalJson(['if', true, 'ok', ['apply', 'boom', {}]], { rules: { boom: [['fail!', 'evaluated']] } })).toBe('ok');
  });

  it('case picks the first true condition', () => {
    const e = ['case', ['gte', '_S.n', 10], 'big', ['gte', '_S.n', 1], 'small', 'none'];
    expect(evalJson(e, { source: { n: 10 } })).toBe('big');
    expect(evalJson(e, { source: { n: 3 } })).toBe('small');
    expect(evalJson(e, { source: {} })).toBe('none');
    expect(evalJson(['case', false, 1])).toBe(null);
  });

  it('case-eq compares with eq semantics across number types', () => {
    const e = ['case-eq', '_S.v', 2, 'two', '~f3.0', 'three', 'a', 'letter'];
    expect(evalJson(e, { source: { v: 2.0 } })).toBe('two');
    expect(evalJson(e, { source: { v: 3 } })).toBe('three');
    expect(evalJson(e, { source: { v: ['a'] } })).toBe('letter');
    expect(evalJson(e, { source: { v: 'b' } })).toBe(null);
    expect(evalJson(['case-eq', '_S.v', null, 'nothing', 'x'], { source: {} })).toBe('nothing');
  });
});

describe('boolean logic and booleans', () => {
  it('and, or, not use DTL truthiness', () => {
    expect(evalJson(['and', 1, 'x', ['list', 0]])).toBe(true);
    expect(evalJson(['and', true, ['list']])).toBe(false);
    expect(evalJson(['or', null, false, ['list']])).toBe(false);
    expect(evalJson(['or', null, 0])).toBe(true);
    expect(evalJson(['not', true, null])).toBe(true);
    expect(evalJson(['not', true, 1])).toBe(false);
  });

  it('all and any over values or a function of them', () => {
    expect(evalJson(['all', ['list']])).toBe(true);
    expect(evalJson(['any', ['list']])).toBe(false);
    expect(evalJson(['all', ['list', 1, null]])).toBe(false);
    expect(evalJson(['any', ['gt', '_.amount', 5], '_S.o'], { source: { o: [{ amount: 1 }, { amount: 9 }] } })).toBe(true);
    expect(evalJson(['all', ['gt', '_.', 0], 5])).toBe(true);
  });

  it('boolean parses strings case-insensitively and uses the default for the rest', () => {
    expect(evalJson(['boolean', ['list', 'TRUE', 'fAlSe', 'yes', 1, null, true]])).toEqual([true, false, true]);
    expect(evalJson(['boolean', 'nope'])).toBe(null);
    expect(evalJson(['boolean', false, ['list', 'x', 'true']])).toEqual([false, true]);
    expect(evalJson(['is-boolean', ['list', false, 'x']])).toBe(true);
    expect(evalJson(['is-boolean', ['list']])).toBe(false);
  });
});

describe('comparisons', () => {
  it('eq and neq compare as lists', () => {
    expect(evalJson(['eq', 'a', ['list', 'a']])).toBe(true);
    expect(evalJson(['eq', ['list', 1, 2], ['list', 2, 1]])).toBe(false);
    expect(evalJson(['eq', 1, 1.0])).toBe(true);
    expect(evalJson(['eq', '~f2.50', 2.5])).toBe(true);
    expect(evalJson(['eq', 12345678901234567890123n, 12345678901234567890123n])).toBe(true);
    expect(evalJson(['eq', 12345678901234567890123n, 12345678901234567890124n])).toBe(false);
    expect(evalJson(['eq', 1, true])).toBe(false);
    expect(evalJson(['eq', '~:a:b', 'a:b'])).toBe(false);
    expect(evalJson(['eq', { a: [1] }, { a: [1.0] }])).toBe(true);
    expect(evalJson(['eq', '_S.missing', null])).toBe(true);
    expect(evalJson(['neq', '_S.a', 'x'], { source: { a: 'y' } })).toBe(true);
  });

  it('gt, gte, lt, lte compare first values with the mixed-type ordering', () => {
    expect(evalJson(['gt', ['list', 5, 0], ['list', 4, 100]])).toBe(true);
    expect(evalJson(['lt', 1, '~f1.5'])).toBe(true);
    expect(evalJson(['gte', 2, 2.0])).toBe(true);
    expect(evalJson(['lte', 12345678901234567890123n, 1e30])).toBe(true);
    expect(evalJson(['gt', '~t2020-01-02', '~t2020-01-01T23:59:59Z'])).toBe(true);
    expect(evalJson(['gt', 'abc', 'abd'])).toBe(false);
    expect(evalJson(['gt', 'a', 100])).toBe(true);
  });

  it('gt, gte, lt, lte are false when either side has no value', () => {
    for (const fn of ['gt', 'gte', 'lt', 'lte']) {
      expect(evalJson([fn, null, 1])).toBe(false);
      expect(evalJson([fn, 1, ['list']])).toBe(false);
    }
  });
});
