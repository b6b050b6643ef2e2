/** The Jinja templates of the REST components: values, Python's semantics, filters and markers. */
import { describe, expect, it } from 'vitest';
import { evaluate, renderText, renderTree } from '../../runtime/components/jinja/jinja.js';
import { parseLinkHeader } from '../../runtime/components/systems/rest/exchange.js';
import { retryAfterSeconds } from '../../runtime/components/systems/rest/client.js';
import { valueAtPath } from '../../runtime/components/systems/rest/values.js';

const at = 'test';

describe('jinja templates', () => {
  it('gives a single expression its value and other templates their text', () => {
    expect(evaluate('{{ n }}', { n: 7 }, at)).toBe(7);
    expect(evaluate('{{ missing }}', {}, at)).toBeUndefined();
    expect(evaluate('{{ body.next }}', { body: { next: null } }, at)).toBeNull();
    expect(evaluate('n={{ n }}', { n: 7 }, at)).toBe('n=7');
    expect(evaluate('plain', {}, at)).toBe('plain');
  });

  it('writes values as Jinja does, with Python string methods and compatibility helpers', () => {
    expect(renderText('{{ t }} {{ f }} {{ none }} {{ n }}', { t: true, f: false, none: null, n: 1.5 }, at)).toBe('True False None 1.5');
    expect(renderText('{{ l }}|{{ d }}', { l: [1, 'a'], d: { a: 1 } }, at)).toBe('[1,"a"]|{"a":1}');
    expect(renderText("{{ s.strip().upper() }}|{{ s.split() | length }}|{{ 'a,b'.split(',')[1] }}|{{ s.startswith(' h') }}", { s: ' hello world ' }, at)).toBe('HELLO WORLD|2|b|True');
    expect(renderText("{{ '{}-{}'.format(a, b) }}|{{ x.replace('-', '_') }}", { a: 1, b: 2, x: 'a-b-c' }, at)).toBe('1-2|a_b_c');
    expect(renderText('{% if x is defined %}d{% else %}u{% endif %}{{ y | default("z") }}', {}, at)).toBe('uz');
    expect(renderText('{{ 7 // 2 }} {{ d.items() | length }} {{ True and not None }}', { d: { a: 1, b: 2 } }, at)).toBe('3 2 True');
  });

  it('renders plain `{{ name.path }}` templates without the engine exactly as the engine does', () => {
    const ctx = { _id: 'r1', n: 2, none: null, yes: true, d: { a: { b: 'deep' }, l: [1, 'x'] }, s: 'abc', when: new Date(0) };
    expect(renderText('records/{{ _id }}?n={{n}}&x={{ none }}&y={{ yes }}', ctx, at)).toBe('records/r1?n=2&x=None&y=True');
    expect(renderText('{{ d.a.b }}|{{ d.l }}|{{ d.a }}', ctx, at)).toBe('deep|[1,"x"]|{"b":"deep"}');
    // Values only the engine knows how to read: missing names, string members, members of other objects.
    expect(renderText('[{{ missing }}][{{ d.missing }}][{{ s.length }}][{{ none.x }}]', ctx, at)).toBe('[][][3][]');
    expect(renderText('{{ when.getTime }}', ctx, at)).toMatch(/function|getTime/);
    expect(evaluate('{{ d.l }}', ctx, at)).toEqual([1, 'x']);
    expect(evaluate(' {{ n }} ', ctx, at)).toBe(2);
    expect(evaluate('{{ d.missing }}', ctx, at)).toBeUndefined();
    expect(renderText('100% {{ _id }}#top', ctx, at)).toBe('100% r1#top');
  });

  it('has the documented bytes, base64 and datetime filters', () => {
    expect(renderText("{{ ('0:' + token) | bytes | base64_encode }}", { token: 'abc' }, at)).toBe(Buffer.from('0:abc').toString('base64'));
    expect(renderText('{{ s | base64_decode }}', { s: Buffer.from('hi').toString('base64') }, at)).toBe('hi');
    expect(renderText("{{ (ms * 1000 * 1000) | datetime | datetime_format('%Y-%m-%d %H:%M') }}", { ms: Date.UTC(2025, 1, 5, 12, 50) }, at)).toBe('2025-02-05 12:50');
    expect(renderText('{{ "2025-01-25T10:42:24Z" | datetime | datetime_format }}', {}, at)).toBe('2025-01-25T10:42:24Z');
    expect(renderText('{{ d | tojson }}', { d: { a: [1, null] } }, at)).toBe('{"a":[1,null]}');
  });

  it('renders trees with sesam:markskip and sesam:markjson', () => {
    const tree = {
      key: 'value',
      maybe: '{% if e.x is defined %}{{ e.x }}{% else %}sesam:markskip{% endif %}',
      'other{% if e.y is not defined %}sesam:markskip{% endif %}': 'v',
      num: '{{ e.n }}sesam:markjson',
      list: '[{{ e.n }}, "literal"]sesam:markjson',
      nested: [{ '{{ e.k }}': '{{ e.n + 1 }}' }, 'sesam:markskip'],
      kept: 5,
    };
    expect(renderTree(tree, { e: { n: 10, k: 'dyn' } }, at)).toEqual({ key: 'value', num: 10, list: [10, 'literal'], nested: [{ dyn: '11' }], kept: 5 });
    expect(() => renderTree({ x: '{{ e }}sesam:markjson' }, { e: 'not json' }, at)).toThrow('the text marked with sesam:markjson is not JSON');
  });

  it('reports bad templates with the template text', () => {
    expect(() => evaluate('{{ a ', {}, 'pipe "p"')).toThrow(/^pipe "p": the template "\{\{ a " is not valid Jinja/);
    expect(() => evaluate('{{ a.b() }}', { a: {} }, 'pipe "p"')).toThrow(/^pipe "p": rendering "\{\{ a.b\(\) \}\}" failed/);
  });
});

describe('REST helpers', () => {
  it('parses Link headers, Retry-After and payload_property paths', () => {
    expect(parseLinkHeader('<?page=1>; rel="prev", <https://h/x?page=3>; rel="next last"')).toEqual({ prev: '?page=1', next: 'https://h/x?page=3', last: 'https://h/x?page=3' });
    expect(retryAfterSeconds('120')).toBe(120);
    expect(retryAfterSeconds('Wed, 21 Oct 2015 07:28:10 GMT', Date.UTC(2015, 9, 21, 7, 28, 0))).toBe(10);
    expect(retryAfterSeconds('soon')).toBeNull();
    expect(valueAtPath({ a: { b: [1] } }, 'a.b')).toEqual([1]);
    expect(valueAtPath({ 'a.b': 'flat', a: { b: 'deep' } }, 'a.b')).toBe('flat');
    expect(valueAtPath({ a: { 'b.c': 2 } }, 'a.b.c')).toBe(2);
  });
});
