import { describe, expect, it } from 'vitest';
import { evalJson, transformJson } from './helpers.js';
import { UriNamespaces } from '../../compiler/dtl/functions/namespaces.js';

describe('is-ni', () => {
  it('tests the value or the first list element', () => {
    expect(evalJson(['is-ni', '~:a:b'])).toBe(true);
    expect(evalJson(['is-ni', ['ni', 'x']])).toBe(true);
    expect(evalJson(['is-ni', 'a:b'])).toBe(false);
    expect(evalJson(['is-ni', ['list', '~:a:b', 'text']])).toBe(true);
    expect(evalJson(['is-ni', ['list', 'text', '~:a:b']])).toBe(false);
    expect(evalJson(['is-ni', ['list']])).toBe(false);
    expect(evalJson(['is-ni', null])).toBe(false);
    expect(evalJson(['is-ni', '~rhttp://x.org/a'])).toBe(false);
  });
});

describe('ni', () => {
  it('makes NIs in a namespace from strings, as they are', () => {
    expect(evalJson(['ni', 'team', 'anna'])).toBe('~:team:anna');
    expect(evalJson(['ni', 'team', ['list', 'a', 'b:c', 7, null]])).toEqual(['~:team:a', '~:team:b:c']);
    expect(evalJson(['ni', '_S.ns', '_S.v'], { source: { ns: 'dyn', v: 'x' } })).toBe('~:dyn:x');
  });

  it('makes global NIs from strings without a namespace', () => {
    expect(evalJson(['ni', 'solo'])).toBe('~:solo');
    expect(evalJson(['ni', 'a:b'])).toBe('~:a:b');
    expect(evalJson(['ni', ['list', 'x', 1, true]])).toEqual(['~:x']);
  });

  it('ignores URIs when a namespace is given and values of other types', () => {
    expect(evalJson(['ni', 'team', '~rhttp://example.org/a'])).toBe(null);
    expect(evalJson(['ni', 'team', ['list', '~rhttp://example.org/a', 'b']])).toEqual(['~:team:b']);
    expect(evalJson(['ni', 'team', 12])).toBe(null);
    expect(evalJson(['ni', 'team', null])).toBe(null);
    expect(evalJson(['ni', null, 'x'])).toBe(null);
  });

  it('keeps NIs that are already NIs', () => {
    expect(evalJson(['ni', '~:p:q'])).toBe('~:p:q');
  });

  it('collapses URIs with known prefixes into their namespace', () => {
    expect(evalJson(['ni', '~rhttp://example.org/thing'])).toBe('~:_:thing');
    expect(evalJson(['ni', '~rhttp://xmlns.com/foaf/0.1/name'])).toBe('~:foaf:name');
    expect(evalJson(['ni', '~rhttp://www.w3.org/2000/01/rdf-schema#label'])).toBe('~:rdfs:label');
  });

  it('gives undeclared URI prefixes generated namespaces, numbered per pipe', () => {
    const out = evalJson(['list', ['ni', '~rhttp://a.test/x/1'], ['ni', '~rhttp://b.test/2'], ['ni', '~rhttp://a.test/x/3']]);
    expect(out).toEqual(['~:pipe-1:1', '~:pipe-2:2', '~:pipe-1:3']);
  });

  it('numbers generated namespaces after the pipe id', () => {
    const u = new UriNamespaces('my-pipe');
    expect(u.collapse('http://unknown.test/some/where').value).toBe('my-pipe-1:where');
    expect(u.collapse('http://other.test/x#frag').value).toBe('my-pipe-2:frag');
    expect(u.collapse('http://unknown.test/some/else').value).toBe('my-pipe-1:else');
    expect(new UriNamespaces('p', [['short', 'http://s.test/'], ['long', 'http://s.test/deep/']]).collapse('http://s.test/deep/x').value).toBe('long:x');
  });
});

describe('ni-id and ni-ns', () => {
  it('split NIs and strings at the last colon', () => {
    expect(evalJson(['ni-id', '~:a:b'])).toBe('b');
    expect(evalJson(['ni-ns', '~:a:b'])).toBe('a');
    expect(evalJson(['ni-id', 'a:b:c'])).toBe('c');
    expect(evalJson(['ni-ns', 'a:b:c'])).toBe('a:b');
    expect(evalJson(['ni-id', 'plain'])).toBe('plain');
    expect(evalJson(['ni-ns', 'plain'])).toBe('');
    expect(evalJson(['ni-ns', '~:global'])).toBe('');
    expect(evalJson(['ni-id', '~:global'])).toBe('global');
  });

  it('work per element and skip other types', () => {
    expect(evalJson(['ni-id', ['list', '~:a:b', 'c:d', 5, null, '~rhttp://x/y']])).toEqual(['b', 'd']);
    expect(evalJson(['ni-ns', ['list', '~:a:b', 'c:d', 5]])).toEqual(['a', 'c']);
    expect(evalJson(['ni-id', 5])).toBe(null);
    expect(evalJson(['ni-ns', null])).toBe(null);
  });

  it('round-trip with ni', () => {
    expect(evalJson(['ni-id', ['ni', 'space', 'thing']])).toBe('thing');
    expect(evalJson(['ni-ns', ['ni', 'space', 'thing']])).toBe('space');
  });
});

describe('namespace-aware transforms', () => {
  const ns = { identity: 'idns', property: 'pns' };

  it('rename and make-ni collect into a qualified or escaped target', () => {
    expect(transformJson({ default: [['rename', 'v', '::w']] }, [{ v: 1, 'a:v': [2, 3] }], { namespaces: ns })).toEqual([{ w: [1, 2, 3] }]);
    expect(transformJson({ default: [['rename', 'v', ':w']] }, [{ 'a:v': 2 }], { namespaces: ns })).toEqual([{ 'pns:w': 2 }]);
    expect(transformJson({ default: [['make-ni', 'n', 'r', ':out']] }, [{ r: 'x', 'a:r': 'y' }], { namespaces: ns })).toEqual([{ 'pns:out': ['~:n:x', '~:n:y'] }]);
    expect(transformJson({ default: [['make-ni', 'n', '::r']] }, [{ r: 'x', 'a:r': 'y' }], { namespaces: ns })).toEqual([{ 'r-ni': '~:n:x' }]);
  });

  it('rename and make-ni treat names literally (no wildcards)', () => {
    expect(transformJson({ default: [['rename', 'v*', 'w']] }, [{ vv: 1, 'v*': 2 }], { namespaces: ns })).toEqual([{ w: 2 }]);
    expect(transformJson({ default: [['make-ni', 'n', 'r?']] }, [{ ra: 'x' }], { namespaces: ns })).toEqual([{}]);
  });
});
