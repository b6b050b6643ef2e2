import { describe, expect, it } from 'vitest';
import { evalJson } from './helpers.js';
import { castToString, floatText, toJsonText } from '../../compiler/dtl/functions/text.js';
import { Bytes, DateTime, Decimal, DtlFloat, NI, Uri, Uuid } from '../../compiler/values/types.js';

describe('string cast', () => {
  it('prints floats the way Python does', () => {
    expect(floatText(2)).toBe('2.0');
    expect(floatText(-0.25)).toBe('-0.25');
    expect(floatText(0.0001)).toBe('0.0001');
    expect(floatText(0.00001234)).toBe('1.234e-05');
    expect(floatText(1e15)).toBe('1000000000000000.0');
    expect(floatText(1e16)).toBe('1e+16');
    expect(floatText(-1.5e300)).toBe('-1.5e+300');
    expect(floatText(0)).toBe('0.0');
    expect(floatText(NaN)).toBe('nan');
  });

  it('casts every value type to text', () => {
    expect(castToString(new DtlFloat(3))).toBe('3.0');
    expect(castToString(12345678901234567890n)).toBe('12345678901234567890');
    expect(castToString(new Decimal('12.50'))).toBe('12.5');
    expect(castToString(new Decimal('1e-10'))).toBe('0.0000000001');
    expect(castToString(true)).toBe('true');
    expect(castToString(new DateTime(1_500_000_000_123_000_000n))).toBe('2017-07-14T02:40:00.123Z');
    expect(castToString(new DateTime(0n, true))).toBe('1970-01-01');
    expect(castToString(new NI('foo:bar'))).toBe('foo:bar');
    expect(castToString(new Uri('http://x/'))).toBe('http://x/');
    expect(castToString(new Uuid('9f598f65-eea5-4906-a8f5-82f6d8e69726'))).toBe('9f598f65-eea5-4906-a8f5-82f6d8e69726');
    expect(castToString(new Bytes(new TextEncoder().encode('blåbær')))).toBe('blåbær');
    expect(castToString(null)).toBe(null);
  });

  it('writes lists and dicts as JSON with sorted keys and Python separators', () => {
    expect(castToString([1, new DtlFloat(2), 'x', null, true])).toBe('[1, 2.0, "x", null, true]');
    expect(castToString({ b: { d: 1, c: [] }, a: 'å"\n' })).toBe('{"a": "\\u00e5\\"\\n", "b": {"c": [], "d": 1}}');
    expect(toJsonText([new Uri('u:1'), new Decimal('1.5'), new Bytes(Uint8Array.of(1, 2))], false)).toBe('["u:1", 1.5, "AQI="]');
    expect(toJsonText([new Uri('u:1'), new Decimal('1.5'), new Bytes(Uint8Array.of(1, 2))], true)).toBe('["~ru:1", "~f1.5", "~bAQI="]');
  });

  it('string maps lists, drops nulls and keeps strings as they are', () => {
    expect(evalJson(['string', '_S.v'], { source: { v: [1, null, 'a', ['x'], { k: 1 }, '~rhttp://e.org/'] } })).toEqual(['1', 'a', '["x"]', '{"k": 1}', 'http://e.org/']);
    expect(evalJson(['string', '_S.big'], { source: { big: 123456789012345678901234567890n } })).toBe('123456789012345678901234567890');
    expect(evalJson(['string', '_S.missing'])).toBe(null);
    expect(evalJson(['string', '~f0.10'])).toBe('0.1');
    expect(evalJson(['string', '~t2020-01-02T03:04:05Z'])).toBe('2020-01-02T03:04:05Z');
    expect(evalJson(['string', 42])).toBe('42');
  });
});

describe('concat and join', () => {
  it('concatenates strings and the strings of lists, ignoring everything else', () => {
    expect(evalJson(['concat', 'x-', '_S.a', ['list', 'b', 1, null, 'c'], 7, null, '_S.n'], { source: { a: 'A', n: 5 } })).toBe('x-Abc');
    expect(evalJson(['concat', '_S.missing'])).toBe('');
    expect(evalJson(['concat', 1, 2.5])).toBe('');
    expect(evalJson(['concat', '_S.tags'], { source: { tags: ['p', 'q'] } })).toBe('pq');
  });

  it('join uses the separator between strings only', () => {
    expect(evalJson(['join', ', ', ['list', 'a', 1, 'b', null, 'c']])).toBe('a, b, c');
    expect(evalJson(['join', '-', 'solo'])).toBe('solo');
    expect(evalJson(['join', '-', ['list']])).toBe('');
    expect(evalJson(['join', 1, ['list', 'a']])).toBe(null);
  });
});

describe('case, length and predicates', () => {
  it('lower and upper work per string', () => {
    expect(evalJson(['lower', 'ÆØÅ Abc'])).toBe('æøå abc');
    expect(evalJson(['upper', ['list', 'a', 1, null, 'b']])).toEqual(['A', 'B']);
    expect(evalJson(['upper', 5])).toBe(null);
    expect(evalJson(['lower', null])).toBe(null);
  });

  it('length counts characters, not UTF-16 units', () => {
    expect(evalJson(['length', '😀ab'])).toBe(3);
    expect(evalJson(['length', ['list', 'abc', 3, '']])).toEqual([3, 0]);
    expect(evalJson(['length', 10])).toBe(null);
  });

  it('is-string looks at the value or the first element', () => {
    expect(evalJson(['is-string', ['list', 'a', 1]])).toBe(true);
    expect(evalJson(['is-string', ['list']])).toBe(false);
    expect(evalJson(['is-string', null])).toBe(false);
    expect(evalJson(['is-string', ['uri', 'x:y']])).toBe(false);
  });
});

describe('padding and stripping', () => {
  it('ljust and rjust pad to the width with one fill character', () => {
    expect(evalJson(['ljust', 4, '.', ['list', 'a', 'abcdef', 3]])).toEqual(['a...', 'abcdef']);
    expect(evalJson(['rjust', 3, '😀', 'a'])).toBe('😀😀a');
    expect(evalJson(['rjust', 3, 'ab', 'a'])).toBe(null);
    expect(evalJson(['rjust', '3', '0', 'a'])).toBe(null);
    expect(evalJson(['rjust', -2, '0', 'a'])).toBe('a');
    expect(() => evalJson(['ljust', 1_000_000_000, ' ', 'a'])).toThrow(/too large/);
  });

  it('strip uses Python whitespace by default and a character set when given', () => {
    expect(evalJson(['strip', '\u3000\t x \x1f'])).toBe('x');
    expect(evalJson(['strip', '\ufeffx'])).toBe('\ufeffx');
    expect(evalJson(['lstrip', ['list', '  a ', 5]])).toEqual(['a ']);
    expect(evalJson(['rstrip', '-]', '--a]-]'])).toBe('--a');
    expect(evalJson(['strip', '^\\', '^\\x\\^'])).toBe('x');
    expect(evalJson(['strip', '', ' a '])).toBe(' a ');
    expect(evalJson(['strip', '_S.chars', 'xxaxx'], { source: { chars: 'x' } })).toBe('a');
    expect(evalJson(['strip', 5, 'a'])).toBe(null);
  });
});

describe('matches, replace, split and substring', () => {
  it('matches needs every value to be a matching string', () => {
    expect(evalJson(['matches', 'a?c*', ['list', 'abc', 'axcdef']])).toBe(true);
    expect(evalJson(['matches', 'a?c*', ['list', 'abc', 1]])).toBe(false);
    expect(evalJson(['matches', 'a.c', 'abc'])).toBe(false);
    expect(evalJson(['matches', '[x]', '[x]'])).toBe(true);
    expect(evalJson(['matches', '?', '😀'])).toBe(true);
    expect(evalJson(['matches', ['list', 'b*', 'a*'], 'abc'])).toBe(false);
    expect(evalJson(['matches', '_S.p', 'line1\nline2'], { source: { p: 'line*' } })).toBe(true);
    expect(evalJson(['matches', 1, '1'])).toBe(false);
  });

  it('replace swaps substrings literally, or pairs from a dict in order', () => {
    expect(evalJson(['replace', '.', '$&', 'a.b.c'])).toBe('a$&b$&c');
    expect(evalJson(['replace', '', '-', 'ab'])).toBe('-a-b-');
    expect(evalJson(['replace', 'a', 'b', ['list', 'aa', 2, 'ca']])).toEqual(['bb', 'cb']);
    expect(evalJson(['replace', { a: 'b', b: 'c' }, 'ab'])).toBe('cc');
    expect(evalJson(['replace', 'a', 1, 'abc'])).toBe(null);
    expect(evalJson(['replace', 'x', 'abc'])).toBe(null);
  });

  it('split returns one flat list', () => {
    expect(evalJson(['split', ',', 'a,,b'])).toEqual(['a', '', 'b']);
    expect(evalJson(['split', '', '😀x'])).toEqual(['😀', 'x']);
    expect(evalJson(['split', ' \n a  b\u00a0c '])).toEqual(['a', 'b', 'c']);
    expect(evalJson(['split', '-', ['list', 'a-b', 3, 'c']])).toEqual(['a', 'b', 'c']);
    expect(evalJson(['split', '-', 3])).toBe(null);
    expect(evalJson(['split', '-', ''])).toEqual(['']);
  });

  it('substring slices like Python', () => {
    expect(evalJson(['substring', 1, 3, ['list', 'abcd', 5, 'xy']])).toEqual(['bc', 'y']);
    expect(evalJson(['substring', -2, 'abcd'])).toBe('cd');
    expect(evalJson(['substring', 3, 1, 'abcd'])).toBe('');
    expect(evalJson(['substring', 0, 100, 'abc'])).toBe('abc');
    expect(evalJson(['substring', 1, '😀ab'])).toBe('ab');
    expect(evalJson(['substring', 1.5, 'abc'])).toBe(null);
    expect(evalJson(['substring', -100, '_S.n'], { source: { n: 'ab' } })).toBe('ab');
  });
});
