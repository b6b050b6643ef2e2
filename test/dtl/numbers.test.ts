import { describe, expect, it } from 'vitest';
import { evalDtl, evalJson } from './helpers.js';
import { DtlFloat } from '../../compiler/values/types.js';

describe('decimal', () => {
  it('converts numbers and numeric strings', () => {
    expect(evalJson(['decimal', '1.50'])).toBe('~f1.5');
    expect(evalJson(['decimal', ['list', 1, 2.1, ' 3e2 ', '-.5', '~f7']])).toEqual(['~f1', '~f2.1', '~f300', '~f-0.5', '~f7']);
    expect(evalJson(['decimal', '_S.n'], { source: { n: 123456789012345678901234567890n } })).toBe('~f123456789012345678901234567890');
  });

  it('drops values that do not convert, or uses the default function', () => {
    expect(evalJson(['decimal', ['list', 'one', true, '~rhttp://x/', '1.2.3', 'NaN', 'Infinity', null, 4]])).toEqual(['~f4']);
    expect(evalJson(['decimal', 'x'])).toBe(null);
    expect(evalJson(['decimal', null])).toBe(null);
    expect(evalJson(['decimal', ['if', true, 0], ['list', '2', 'x', null]])).toEqual(['~f2', 0]);
    expect(evalJson(['decimal', ['eq', '_.', 'x'], ['list', 'x', 'y']])).toEqual([true, false]);
  });
});

describe('float', () => {
  it('converts numbers and numeric strings to floats', () => {
    expect(evalJson(['float', ['list', '1.0', 3, '~f2.5', ' 1e3 ']])).toEqual([1, 3, 2.5, 1000]);
    expect(evalDtl(['float', 3])).toEqual(new DtlFloat(3));
    expect(evalJson(['is-float', ['float', '2']])).toBe(true);
    expect(evalJson(['float', '_S.n'], { source: { n: 9007199254740993n } })).toBe(9007199254740992);
  });

  it('drops non-numeric and out-of-range values, or uses the default', () => {
    expect(evalJson(['float', ['list', 'inf', 'nan', '1e400', 'FALSE', false]])).toEqual([]);
    expect(evalJson(['float', ['if', true, 'n/a'], ['list', '1.5', '~rhttp://x/']])).toEqual([1.5, 'n/a']);
  });
});

describe('integer', () => {
  it('converts integer strings and truncates numbers', () => {
    expect(evalJson(['integer', ['list', '12', ' -3 ', '+4', '007', 2.9, -2.9, '~f-7.99']])).toEqual([12, -3, 4, 7, 2, -2, -7]);
    expect(evalJson(['integer', '123456789012345678901234567890'])).toBe(123456789012345678901234567890n);
    expect(evalJson(['integer', 1e300])).toBe(BigInt(1e300));
    expect(evalJson(['is-integer', ['integer', ['float', 3]]])).toBe(true);
  });

  it('parses 0x strings as two\'s complement', () => {
    expect(evalJson(['integer', ['list', '0x00ff', '0xff', '0x7f', '0x80', '0x0080', '0xFFFE', '0x1', '0xabc']])).toEqual([255, -1, 127, -128, 128, -2, 1, 2748]);
    expect(evalJson(['integer', '0xffffffffffffffffffff'])).toBe(-1);
    expect(evalJson(['integer', '0x7fffffffffffffffff'])).toBe(2361183241434822606847n);
  });

  it('drops values that do not parse, or uses the default', () => {
    expect(evalJson(['integer', ['list', '1.5', '1_000', '10^2', '0x', '0xg1', true, '~rhttp://x/']])).toEqual([]);
    expect(evalJson(['integer', ['integer', 0], ['list', '1', 'x']])).toEqual([1, 0]);
    expect(evalJson(['integer', 'x'])).toBe(null);
  });
});

describe('hex', () => {
  it('formats the shortest two\'s complement bytes', () => {
    expect(evalJson(['hex', ['list', 0, 1, 127, 128, 255, 256, -1, -128, -129, 12345]])).toEqual(['0x00', '0x01', '0x7f', '0x0080', '0x00ff', '0x0100', '0xff', '0x80', '0xff7f', '0x3039']);
    expect(evalJson(['hex', '_S.n'], { source: { n: 18446744073709551615n } })).toBe('0x00ffffffffffffffff');
  });

  it('round-trips through integer', () => {
    for (const n of [-65536, -300, -1, 0, 5, 65535, 9007199254740991]) expect(evalJson(['integer', ['hex', n]])).toBe(n);
  });

  it('ignores non-integers', () => {
    expect(evalJson(['hex', ['list', 1.5, '12', '~f3', null, true]])).toEqual([]);
    expect(evalJson(['hex', 2.5])).toBe(null);
  });
});

describe('type tests', () => {
  it('look at the value or the first list element', () => {
    expect(evalJson(['is-decimal', '~f1'])).toBe(true);
    expect(evalJson(['is-decimal', 1.5])).toBe(false);
    expect(evalJson(['is-decimal', ['list', ['decimal', 2], 'x']])).toBe(true);
    expect(evalJson(['is-float', 1.5])).toBe(true);
    expect(evalJson(['is-float', ['list', ['float', 1]]])).toBe(true);
    expect(evalJson(['is-float', 1])).toBe(false);
    expect(evalJson(['is-integer', '_S.n'], { source: { n: 2n ** 70n } })).toBe(true);
    expect(evalJson(['is-integer', 1.5])).toBe(false);
    expect(evalJson(['is-integer', ['list']])).toBe(false);
    expect(evalJson(['is-integer', null])).toBe(false);
    expect(evalJson(['is-integer', true])).toBe(false);
  });
});
