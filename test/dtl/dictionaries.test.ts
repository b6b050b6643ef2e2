import { describe, expect, it } from 'vitest';
import { diagnose, evalJson, transformJson } from './helpers.js';

const NS = { identity: 'idns', property: 'pns' };

describe('dict', () => {
  it('builds empty dicts, dicts from pairs and from KEY, VALUE arguments', () => {
    expect(evalJson(['dict'])).toEqual({});
    expect(evalJson(['dict', ['list', ['list', 'x', 10], ['list', 'y', null]]])).toEqual({ x: 10, y: null });
    expect(evalJson(['dict', 'k', '_S.v', 'n', 2], { source: { v: ['a', 'b'] } })).toEqual({ k: ['a', 'b'], n: 2 });
  });

  it('ignores items that are not [string, value] pairs and lets later keys win', () => {
    expect(evalJson(['dict', ['list', 'q', 5, ['list', 'a'], ['list', 'a', 1, 2], ['list', 3, 'x'], ['list', 'a', 7], ['list', 'a', 8]]])).toEqual({ a: 8 });
    expect(evalJson(['dict', ['list', 'only', 'scalars']])).toEqual({});
    expect(evalJson(['dict', null])).toEqual({});
    expect(evalJson(['dict', 'a', 1, null, 2, 'a', 3])).toEqual({ a: 3 });
  });

  it('keeps typed values, big integers and decimals', () => {
    expect(evalJson(['dict', 'big', 123456789012345678901234567890n, 'd', '~f1.25', 'when', '~t2020-01-02T03:04:05Z'])).toEqual({
      big: 123456789012345678901234567890n,
      d: '~f1.25',
      when: '~t2020-01-02T03:04:05Z',
    });
  });

  it('rejects an odd number of KEY, VALUE arguments at compile time', () => {
    expect(diagnose({ default: [['add', 'x', ['dict', 'a', 1, 'b']]] }).some((d) => d.includes('DTL_ARITY'))).toBe(true);
  });
});

describe('has-key and is-dict', () => {
  it('looks at a dict or the first element of a list', () => {
    expect(evalJson(['has-key', 'x', { x: null }])).toBe(true);
    expect(evalJson(['has-key', 'y', { x: 1 }])).toBe(false);
    expect(evalJson(['has-key', 'x', ['list', { x: 1 }, 'other']])).toBe(true);
    expect(evalJson(['has-key', 'y', ['list', { x: 1 }, { y: 1 }]])).toBe(false);
  });

  it('returns null when the value is not a dict', () => {
    expect(evalJson(['has-key', 'x', ['list', 'other', { x: 1 }]])).toBe(null);
    expect(evalJson(['has-key', 'x', 'text'])).toBe(null);
    expect(evalJson(['has-key', 'x', null])).toBe(null);
    expect(evalJson(['has-key', 'x', ['list']])).toBe(null);
  });

  it('does not see inherited object properties as keys', () => {
    expect(evalJson(['has-key', 'constructor', {}])).toBe(false);
    expect(evalJson(['has-key', 'toString', '_S.'], { source: { a: 1 } })).toBe(false);
  });

  it('is-dict tests the value or the first list element', () => {
    expect(evalJson(['is-dict', '_S.'], { source: { _id: 'e1' } })).toBe(true);
    expect(evalJson(['is-dict', ['list', {}, 1]])).toBe(true);
    expect(evalJson(['is-dict', ['list', 1, {}]])).toBe(false);
    expect(evalJson(['is-dict', ['list']])).toBe(false);
    expect(evalJson(['is-dict', null])).toBe(false);
    expect(evalJson(['is-dict', '~:a:b'])).toBe(false);
  });
});

describe('items, keys, values, key-values', () => {
  const many = ['list', { p: 1, q: 2 }, 'skip', null, { r: '~f2.5' }];

  it('collect per key+value pair over a list, skipping non-dicts', () => {
    expect(evalJson(['items', many])).toEqual([['p', 1], ['q', 2], ['r', '~f2.5']]);
    expect(evalJson(['keys', many])).toEqual(['p', 'q', 'r']);
    expect(evalJson(['values', many])).toEqual([1, 2, '~f2.5']);
    expect(evalJson(['key-values', many])).toEqual([
      { key: 'p', value: 1 },
      { key: 'q', value: 2 },
      { key: 'r', value: '~f2.5' },
    ]);
  });

  it('always return a list for list input, even with one result', () => {
    expect(evalJson(['keys', ['list', { only: 1 }]])).toEqual(['only']);
    expect(evalJson(['key-values', ['list', 7, { only: 1 }]])).toEqual([{ key: 'only', value: 1 }]);
    expect(evalJson(['items', ['list']])).toEqual([]);
  });

  it('return a single result for a single dict with one property, else a list', () => {
    expect(evalJson(['key-values', { greeting: 'hi' }])).toEqual({ key: 'greeting', value: 'hi' });
    expect(evalJson(['keys', { k: 1 }])).toBe('k');
    expect(evalJson(['values', '_S.'], { source: { a: 1, b: [2, 3] } })).toEqual([1, [2, 3]]);
    expect(evalJson(['items', '_S.'], { source: { a: 1, b: 2 } })).toEqual([['a', 1], ['b', 2]]);
    expect(evalJson(['keys', {}])).toEqual([]);
  });

  it('return an empty list for values that are not dicts', () => {
    expect(evalJson(['keys', null])).toEqual([]);
    expect(evalJson(['values', 'text'])).toEqual([]);
  });

  it('keep big integers exact', () => {
    expect(evalJson(['values', ['list', { n: 98765432109876543210n }]])).toEqual([98765432109876543210n]);
  });
});

describe('path', () => {
  const orders = {
    orders: [
      { lines: [{ sku: 'a' }, { sku: 'b' }] },
      { lines: { sku: 'c' } },
      { lines: null },
      'not a dict',
    ],
  };

  it('traverses a single dict to a single value, lists to flattened lists', () => {
    expect(evalJson(['path', 'n', { n: 5 }])).toBe(5);
    expect(evalJson(['path', 'n', ['list', { n: 5 }, { m: 1 }, { n: [6, 7] }]])).toEqual([5, 6, 7]);
    expect(evalJson(['path', ['list', 'lines', 'sku'], '_S.orders'], { source: orders })).toEqual(['a', 'b', 'c']);
    expect(evalJson(['path', ['list', 'orders', 'lines', 'sku'], '_S.'], { source: orders })).toEqual(['a', 'b', 'c']);
  });

  it('ignores non-string path elements; an empty path returns VALUES', () => {
    expect(evalJson(['path', ['list', 2, 'n', null, true], { n: 5 }])).toBe(5);
    expect(evalJson(['path', ['list', 9], { n: 5 }])).toEqual({ n: 5 });
    expect(evalJson(['path', null, ['list', 1, 2]])).toEqual([1, 2]);
  });

  it('returns null for missing properties and non-dict values', () => {
    expect(evalJson(['path', 'missing', { n: 5 }])).toBe(null);
    expect(evalJson(['path', 'n', 'text'])).toBe(null);
    expect(evalJson(['path', ['list', 'a', 'b'], { a: null }])).toBe(null);
  });

  it('takes the path from an expression and treats names literally', () => {
    expect(evalJson(['path', '_S.p', '_S.d'], { source: { p: ['x.y', "it's"], d: { 'x.y': { "it's": 1 } } } })).toBe(1);
    expect(evalJson(['path', 'a*', { 'a*': 1, ab: 2 }])).toBe(1);
  });

  it('is namespace aware when namespaced identifiers are on', () => {
    const d = { v: 1, 'ns1:v': 2, 'pns:v': [3, 4], 'ns2:w': 5 };
    expect(evalJson(['path', 'v', d], { namespaces: NS })).toEqual([1, 2, 3, 4]);
    expect(evalJson(['path', 'ns1:v', d], { namespaces: NS })).toBe(2);
    expect(evalJson(['path', '::v', d], { namespaces: NS })).toBe(1);
    expect(evalJson(['path', ':v', d], { namespaces: NS })).toEqual([3, 4]);
    expect(evalJson(['path', 'w', d], { namespaces: NS })).toBe(5);
    expect(evalJson(['path', 'zz', d], { namespaces: NS })).toBe(null);
    expect(evalJson(['path', ['list', 'a', 'v'], ['list', { 'x:a': { 'y:v': 1 } }, { a: [{ v: 2 }, { 'q:v': null }] }]], { namespaces: NS })).toEqual([1, 2]);
    expect(evalJson(['path', '_S.p', d], { namespaces: NS, source: { p: ':v' } })).toEqual([3, 4]);
  });

  it('matches names exactly when namespaced identifiers are off', () => {
    expect(evalJson(['path', 'v', { 'ns1:v': 2 }])).toBe(null);
  });
});

describe('apply-ns and strip-ns', () => {
  const entity = { _id: 'e1', name: 'x', 'other:name': 'y', _meta: { a: 1 }, $ref: { b: 2 }, nested: [{ c: 3 }, 4], sub: { _id: 's', d: 5 } };

  it('namespaces keys recursively and `_id` values, leaving _ and $ keys and qualified names alone', () => {
    expect(evalJson(['apply-ns', 'ns', entity])).toEqual({
      _id: 'ns:e1',
      'ns:name': 'x',
      'other:name': 'y',
      _meta: { a: 1 },
      $ref: { b: 2 },
      'ns:nested': [{ 'ns:c': 3 }, 4],
      'ns:sub': { _id: 'ns:s', 'ns:d': 5 },
    });
  });

  it('follows the config dict', () => {
    const cfg = { property_namespace: 'p', identity_namespace: 'i', skip_underscore: false, skip_dollar: true, recursive: false };
    expect(evalJson(['apply-ns', cfg, entity])).toEqual({
      'p:_id': 'i:e1',
      'p:name': 'x',
      'other:name': 'y',
      'p:_meta': { a: 1 },
      $ref: { b: 2 },
      'p:nested': [{ c: 3 }, 4],
      'p:sub': { _id: 's', d: 5 },
    });
    expect(evalJson(['apply-ns', { property_namespace: null, identity_namespace: 'i' }, { _id: 'a', k: 1 }])).toEqual({ _id: 'i:a', k: 1 });
  });

  it('takes defaults from the pipe namespaces', () => {
    expect(evalJson(['apply-ns', { skip_underscore: true }, { _id: 'a', k: 1 }], { namespaces: NS })).toEqual({ _id: 'idns:a', 'pns:k': 1 });
  });

  it('works per dict in a list and ignores other values', () => {
    expect(evalJson(['apply-ns', 'n', ['list', { a: 1 }, 'text', { b: 2 }]])).toEqual([{ 'n:a': 1 }, { 'n:b': 2 }]);
    expect(evalJson(['apply-ns', 'n', 'text'])).toBe(null);
    expect(evalJson(['apply-ns', 'n', null])).toBe(null);
  });

  it('accepts a config computed at run time', () => {
    expect(evalJson(['apply-ns', '_S.ns', { a: 1 }], { source: { ns: 'dyn' } })).toEqual({ 'dyn:a': 1 });
  });

  it('strip-ns removes namespaces from keys recursively and leaves values alone', () => {
    expect(evalJson(['strip-ns', { 'a:b': 1, 'x:y:c': { 'q:d': ['~:n:v', { 'r:e': 2 }] }, plain: 'k:v' }])).toEqual({ b: 1, c: { d: ['~:n:v', { e: 2 }] }, plain: 'k:v' });
    expect(evalJson(['strip-ns', ['list', { 'a:b': 1 }, 5]])).toEqual([{ b: 1 }]);
    expect(evalJson(['strip-ns', null])).toBe(null);
  });

  it('strip-ns undoes apply-ns', () => {
    expect(evalJson(['strip-ns', ['apply-ns', 'z', { k: { m: 1 } }]])).toEqual({ k: { m: 1 } });
  });
});

describe('apply', () => {
  const rules = {
    line: [
      ['copy', 'sku'],
      ['add', 'customer', '_P._S.customer'],
      ['add', 'root', '_R._S.customer'],
      ['filter', ['neq', '_S.sku', 'skip']],
    ],
  };

  it('applies a rule to each dict of a list, dropping filtered ones and non-dicts', () => {
    expect(evalJson(['apply', 'line', '_S.lines'], { rules, source: { customer: 'c1', lines: [{ sku: 'a' }, { sku: 'skip' }, 5, { sku: 'b' }] } })).toEqual([
      { sku: 'a', customer: 'c1', root: 'c1' },
      { sku: 'b', customer: 'c1', root: 'c1' },
    ]);
  });

  it('returns a dict for a single dict, null when it is filtered or not a dict', () => {
    expect(evalJson(['apply', 'line', '_S.lines'], { rules, source: { customer: 'c', lines: { sku: 'a' } } })).toEqual({ sku: 'a', customer: 'c', root: 'c' });
    expect(evalJson(['apply', 'line', { sku: 'skip' }], { rules })).toBe(null);
    expect(evalJson(['apply', 'line', null], { rules })).toBe(null);
    expect(evalJson(['apply', 'line', ['list']], { rules })).toEqual([]);
  });

  it('chains parent contexts through nested apply', () => {
    const nested = {
      outer: [['add', 'inner', ['apply', 'inner', '_S.child']]],
      inner: [
        ['add', 'parent', '_P._S.name'],
        ['add', 'grandparent', '_P._P._S.name'],
        ['add', 'has_pp', ['is-dict', '_P._P']],
      ],
    };
    expect(evalJson(['apply', 'outer', '_S.kid'], { rules: nested, source: { name: 'root', kid: { name: 'kid', child: { name: 'grandkid' } } } })).toEqual({
      inner: { parent: 'kid', grandparent: 'root', has_pp: true },
    });
  });

  it('can feed create and merge in a transform', () => {
    const out = transformJson(
      {
        default: [['copy', '_id'], ['create', ['apply', 'order', '_S.orders']], ['merge', ['apply', 'flat', '_S.']]],
        order: [['add', '_id', ['concat', 'o-', '_S.n']], ['add', 'amount', '_S.amount']],
        flat: [['add', 'count', ['count', '_S.orders']]],
      },
      [{ _id: 'p', orders: [{ n: '1', amount: 10 }, { n: '2', amount: 20 }] }],
    );
    expect(out).toEqual([{ _id: 'o-1', amount: 10 }, { _id: 'o-2', amount: 20 }, { _id: 'p', count: 2 }]);
  });

  it('propagates failures from the applied rule', () => {
    expect(() => evalJson(['apply', 'bad', { a: 1 }], { rules: { bad: [['fail!', 'no']] } })).toThrow(/no/);
  });

  it('reports unknown rules at compile time', () => {
    expect(diagnose({ default: [['add', 'x', ['apply', 'nope', '_S.']]] }).some((d) => d.includes('DTL_UNKNOWN_RULE'))).toBe(true);
  });
});
