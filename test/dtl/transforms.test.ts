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
