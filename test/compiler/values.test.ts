import { describe, expect, it } from 'vitest';
import { Bytes, DateTime, Decimal, DtlFloat, NI, Uri, Uuid, typeOf } from '../../compiler/values/types.js';
import { decodeInPlace, decodeString, encode } from '../../compiler/values/transit.js';
import { parseEntityJson, stringifyValue } from '../../compiler/values/json.js';
import { formatIsoDateTime, parseIsoDateTime } from '../../compiler/values/datetime.js';
import { compareValues, valuesEqual } from '../../compiler/values/compare.js';

describe('typed values and transit encoding', () => {
  it('decodes every transit tag to its type and encodes it back unchanged', () => {
    const samples = ['~t2015-07-28T09:46:00.123456789Z', '~t1973-01-22T23:11:54Z', '~t2015-12-31', '~:crm:42', '~rhttp://example.org/x', '~u9f598f65-eea5-4906-a8f5-82f6d8e69726', '~bYWJj', '~f12345678901234567890.123456789'];
    const types = samples.map((s) => typeOf(decodeString(s)));
    expect(types).toEqual(['datetime', 'datetime', 'date', 'ni', 'uri', 'uuid', 'bytes', 'decimal']);
    expect(samples.map((s) => encode(decodeString(s)))).toEqual(samples);
  });

  it('keeps nanoseconds and trims trailing fraction zeros', () => {
    const dt = parseIsoDateTime('2015-07-28T09:46:00.120000000Z')!;
    expect(dt.ns % 1_000_000_000n).toBe(120_000_000n);
    expect(formatIsoDateTime(dt)).toBe('2015-07-28T09:46:00.12Z');
    expect(formatIsoDateTime(parseIsoDateTime('0001-01-01T00:00:00Z')!)).toBe('0001-01-01T00:00:00Z');
    expect(formatIsoDateTime(parseIsoDateTime('9999-12-31T23:59:59.123456789Z')!)).toBe('9999-12-31T23:59:59.123456789Z');
  });

  it('leaves unknown tags and malformed payloads as plain strings', () => {
    expect(decodeString('~xsomething')).toBe('~xsomething');
    expect(decodeString('~tnot-a-date')).toBe('~tnot-a-date');
    expect(decodeString('~unot-a-uuid')).toBe('~unot-a-uuid');
    expect(decodeString('plain')).toBe('plain');
  });

  it('parses big integers exactly and writes integral floats with a fraction', () => {
    const v = parseEntityJson('{"_id":"a","big":123456789012345678901234567890,"n":2}') as Record<string, unknown>;
    expect(v.big).toBe(123456789012345678901234567890n);
    expect(stringifyValue({ f: new DtlFloat(2), big: 2n ** 70n } as never)).toBe('{"f":2.0,"big":1180591620717411303424}');
  });

  it('serialises with sorted keys for hashing', () => {
    const a = stringifyValue({ b: 1, a: [new NI('x:y'), new Uri('http://a/')] } as never, true);
    expect(a).toBe('{"a":["~:x:y","~rhttp://a/"],"b":1}');
  });

  it('decodes nested entities in place', () => {
    const e = decodeInPlace(JSON.parse('{"a":["~:n:1",{"b":"~t2020-01-01T00:00:00Z"}]}')) as { a: [NI, { b: DateTime }] };
    expect(e.a[0]).toBeInstanceOf(NI);
    expect(e.a[1].b).toBeInstanceOf(DateTime);
  });

  it('compares numbers across integer, float and decimal, and orders mixed types', () => {
    expect(valuesEqual(1, new DtlFloat(1))).toBe(true);
    expect(valuesEqual(new Decimal('1.50'), 1.5)).toBe(true);
    expect(valuesEqual(true, 1)).toBe(false);
    expect(valuesEqual(new NI('a'), 'a')).toBe(false);
    const sorted = ['b', 1.5, null, 'a', 2, true, new Uuid('00000000-0000-0000-0000-000000000000'), new Bytes(new Uint8Array([1]))].sort(compareValues);
    expect(sorted.map((x) => typeOf(x))).toEqual(['null', 'boolean', 'float', 'integer', 'uuid', 'string', 'string', 'bytes']);
  });
});
