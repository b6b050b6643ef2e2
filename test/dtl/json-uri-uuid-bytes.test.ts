import { describe, expect, it } from 'vitest';
import { evalDtl, evalJson } from './helpers.js';
import { DtlFloat } from '../../compiler/values/types.js';
import { parseUuidText } from '../../compiler/dtl/functions/uuids.js';

describe('json and json-transit', () => {
  it('serialise each value, with or without transit tags', () => {
    const v = ['list', 'å', ['list', 1, null], { z: '~rhttp://e/', a: '~t2020-01-01' }, '~f1.25', '~bAQI=', '~:a:b', '~u9f598f65-eea5-4906-a8f5-82f6d8e69726'];
    expect(evalJson(['json', v])).toEqual(['"\\u00e5"', '[1, null]', '{"a": "2020-01-01", "z": "http://e/"}', '1.25', '"AQI="', '"a:b"', '"9f598f65-eea5-4906-a8f5-82f6d8e69726"']);
    expect(evalJson(['json-transit', v])).toEqual(['"\\u00e5"', '[1, null]', '{"a": "~t2020-01-01", "z": "~rhttp://e/"}', '"~f1.25"', '"~bAQI="', '"~:a:b"', '"~u9f598f65-eea5-4906-a8f5-82f6d8e69726"']);
  });

  it('keep null list elements as "null" but return null for a single null', () => {
    expect(evalJson(['json', '_S.v'], { source: { v: [null, true] } })).toEqual(['null', 'true']);
    expect(evalJson(['json', '_S.missing'])).toBe(null);
    expect(evalJson(['json', '_S.big'], { source: { big: 98765432109876543210n } })).toBe('98765432109876543210');
    expect(evalJson(['json-transit', { b: [], a: {} }])).toBe('{"a": {}, "b": []}');
  });
});

describe('json-parse and json-transit-parse', () => {
  it('parse each string; invalid ones are dropped or defaulted', () => {
    expect(evalJson(['json-parse', ['list', '[1, {"a": null}]', 'nope', '  2 ', 'null', 5]])).toEqual([[1, { a: null }], 2, null]);
    expect(evalJson(['json-parse', ['concat', 'bad: ', '_.'], ['list', '1', '{']])).toEqual([1, 'bad: {']);
    expect(evalJson(['json-parse', 'x', 5])).toBe('x');
    // No transit decoding: the result is the plain string, not an NI.
    expect(evalDtl(['json-parse', '"~:a:b"'])).toBe('~:a:b');
  });

  it('keep integers and floats apart and big integers exact', () => {
    const r = evalDtl(['json-parse', ['list', '1.0', '1', '12345678901234567890', '2.5e0']]) as unknown[];
    expect(r[0]).toBeInstanceOf(DtlFloat);
    expect(r[1]).toBe(1);
    expect(r[2]).toBe(12345678901234567890n);
    expect(r[3]).toBe(2.5);
  });

  it('json-transit-parse decodes typed values and round-trips json-transit', () => {
    expect(evalJson(['json-transit-parse', '{"t": "~t2020-01-01T00:00:00Z", "l": ["~u9F598F65EEA54906A8F582F6D8E69726"]}'])).toEqual({ t: '~t2020-01-01T00:00:00Z', l: ['~u9f598f65-eea5-4906-a8f5-82f6d8e69726'] });
    const value = { a: ['~f1.5', '~rhttp://x/', 3, '~bYWJj'], b: 'plain' };
    expect(evalJson(['json-transit-parse', ['json-transit', '_S.v']], { source: { v: value } })).toEqual(value);
    expect(evalJson(['json-transit-parse', ['bytes', '"~:n:1"']])).toBe('~:n:1');
  });
});

describe('uris', () => {
  it('uri casts strings and keeps URIs', () => {
    expect(evalJson(['uri', ['list', 'a b', 1, ['uri', 'x:y'], null]])).toEqual(['~ra b', '~rx:y']);
    expect(evalJson(['uri', 5])).toBe(null);
    expect(evalJson(['is-uri', '~rhttp://x/'])).toBe(true);
    expect(evalJson(['is-uri', ['list']])).toBe(false);
  });

  it('url-quote encodes UTF-8 and keeps unreserved and safe characters', () => {
    expect(evalJson(['url-quote', "a-b_c.d~e f/g?h=i&j'"])).toBe('a-b_c.d~e%20f%2Fg%3Fh%3Di%26j%27');
    expect(evalJson(['url-quote', '/?', 'a/b?c d'])).toBe('a/b?c%20d');
    expect(evalJson(['url-quote', 'å', 'å/'])).toBe('%C3%A5%2F');
    expect(evalJson(['url-quote', '😀'])).toBe('%F0%9F%98%80');
    expect(evalJson(['url-quote', 3])).toBe(null);
    expect(evalJson(['url-quote', 3, 'a b'])).toBe(null);
  });

  it('url-unquote decodes escapes and leaves malformed ones', () => {
    expect(evalJson(['url-unquote', '100%25 %zz %4 a+b %e2%82%ac'])).toBe('100% %zz %4 a+b €');
    expect(evalJson(['url-unquote', '%ff'])).toBe('\ufffd');
    expect(evalJson(['url-unquote', ['list', '%41', 1]])).toEqual(['A']);
  });
});

describe('uuids', () => {
  it('uuid without arguments makes a new random version 4 UUID', () => {
    const a = evalJson(['uuid']) as string;
    const b = evalJson(['uuid']) as string;
    expect(a).toMatch(/^~u[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
  });

  it('uuid casts the spellings Python accepts and ignores the rest', () => {
    expect(parseUuidText('{9F598F65-EEA5-4906-A8F5-82F6D8E69726}')).toBe('9f598f65-eea5-4906-a8f5-82f6d8e69726');
    expect(parseUuidText('urn:uuid:9f598f65eea54906a8f582f6d8e69726')).toBe('9f598f65-eea5-4906-a8f5-82f6d8e69726');
    expect(parseUuidText('9f598f65-eea5-4906-a8f5-82f6d8e6972')).toBe(null);
    expect(evalJson(['uuid', ['list', 'nope', 7, '~u9f598f65-eea5-4906-a8f5-82f6d8e69726', '00000000000000000000000000000000']])).toEqual(['~u9f598f65-eea5-4906-a8f5-82f6d8e69726', '~u00000000-0000-0000-0000-000000000000']);
    expect(evalJson(['uuid', '_S.missing'])).toBe(null);
    expect(evalJson(['is-uuid', '9f598f65-eea5-4906-a8f5-82f6d8e69726'])).toBe(false);
  });
});

describe('bytes', () => {
  it('bytes encodes strings as UTF-8 and keeps bytes', () => {
    expect(evalJson(['bytes', ['list', 'å', 1, '~bAA==']])).toEqual(['~bw6U=', '~bAA==']);
    expect(evalJson(['bytes', null])).toBe(null);
  });

  it('base64-decode accepts padded base64 only', () => {
    expect(evalJson(['base64-decode', ['list', 'YW Jj\n', 'YWJjZA==', 'YWJjZA', 'a$==', '']])).toEqual(['~bYWJj', '~bYWJjZA==', '~b']);
    expect(evalJson(['base64-decode', ['bytes', 'YWJj']])).toBe(null);
  });

  it('base64-encode takes bytes only', () => {
    expect(evalJson(['base64-encode', ['list', '~b/+8=', 'text']])).toEqual(['/+8=']);
    expect(evalJson(['base64-encode', 'YWJj'])).toBe(null);
  });

  it('is-bytes looks at the value or the first element', () => {
    expect(evalJson(['is-bytes', ['base64-decode', 'AA==']])).toBe(true);
    expect(evalJson(['is-bytes', ['list', 1, '~bAA==']])).toBe(false);
    expect(evalJson(['is-bytes', null])).toBe(false);
  });
});
