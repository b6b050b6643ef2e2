/** The JSON grammar behind the lossless parser and the Python-style parser of the test runner. */
import { describe, expect, it } from 'vitest';
import { DtlFloat } from '../../compiler/values/types.js';
import { JsonSyntaxError, parseJsonLossless } from '../../compiler/values/lossless-json.js';
import { parsePyJson, PyFloat, PyInt } from '../../runtime/testing/pyjson.js';

describe('lossless JSON', () => {
  it('keeps big integers exact and marks integral floats on request', () => {
    const v = parseJsonLossless('{"big": 123456789012345678901, "f": 2.0, "e": 1e2, "x": 0.5}', true) as Record<string, unknown>;
    expect(v.big).toBe(123456789012345678901n);
    expect(v.f).toBeInstanceOf(DtlFloat);
    expect(v.e).toBeInstanceOf(DtlFloat);
    expect(v.x).toBe(0.5);
    expect((parseJsonLossless('[2.0]') as unknown[])[0]).toBe(2);
  });

  it('decodes every string escape as JSON.parse does', () => {
    const text = '["a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00", "plain", ""]';
    expect(parseJsonLossless(text)).toEqual(JSON.parse(text));
  });

  it('keeps a "__proto__" key as data', () => {
    const v = parseJsonLossless('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['{"a" 1}', "expecting ':' delimiter at offset 5", 5],
    ['[1 2]', "expecting ',' delimiter at offset 3", 3],
    ['{1: 2}', 'expecting property name enclosed in double quotes at offset 1', 1],
    ['"abc', 'unterminated string at offset 4', 4],
    ['"a\\qb"', 'invalid escape at offset 2', 2],
    ['"\\u12g4"', 'invalid \\u escape at offset 1', 1],
    ['"a\nb"', 'invalid control character in string at offset 2', 2],
    ['[1] x', 'extra data at offset 4', 4],
    ['NaN', 'expecting value at offset 0', 0],
    ['', 'expecting value at offset 0', 0],
  ])('refuses %j with the offset of the fault', (text, message, offset) => {
    const err = (() => {
      try {
        parseJsonLossless(text);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(JsonSyntaxError);
    expect((err as JsonSyntaxError).message).toBe(message);
    expect((err as JsonSyntaxError).offset).toBe(offset);
  });
});

describe('Python-style JSON', () => {
  it('accepts a byte order mark and Python’s words, telling ints from floats', () => {
    const v = parsePyJson('\ufeff[NaN, Infinity, -Infinity, 1, 1.0, -2]') as unknown[];
    expect((v[0] as PyFloat).value).toBeNaN();
    expect(v.slice(1, 3)).toEqual([new PyFloat(Infinity), new PyFloat(-Infinity)]);
    expect(v.slice(3)).toEqual([new PyInt(1n), new PyFloat(1), new PyInt(-2n)]);
  });

  it('keeps a repeated key at its first place with its last value', () => {
    const v = parsePyJson('{"a": 1, "b": 2, "a": 3}') as Map<string, unknown>;
    expect([...v.keys()]).toEqual(['a', 'b']);
    expect(v.get('a')).toEqual(new PyInt(3n));
  });

  it('names line and column of a fault as Python does', () => {
    expect(() => parsePyJson('{\n  "a": 1,\n  "b" 2\n}')).toThrow("expecting ':' delimiter (line 3 column 7)");
  });
});
