import { describe, expect, it } from 'vitest';
import { diagnose, evalJson, transformJson } from './helpers.js';
import { ParseFormat, FormatFormat } from '../../compiler/dtl/functions/datetime-formats.js';
import { getTimeZone } from '../../compiler/dtl/functions/datetime-zones.js';
import { DateTime } from '../../compiler/values/types.js';
import { formatIsoDateTime, parseIsoDateTime } from '../../compiler/values/datetime.js';

const parse = (fmt: string, s: string, zone: string | null = null) => {
  const r = new ParseFormat(fmt).parse(s, zone ? getTimeZone(zone) : null);
  return r ? formatIsoDateTime(r) : null;
};
const format = (fmt: string, iso: string, zone: string | null = null) => new FormatFormat(fmt).format(parseIsoDateTime(iso)!, zone ? getTimeZone(zone) : null);

describe('datetime', () => {
  it('converts ISO strings, integers (ns since the epoch) and dates', () => {
    expect(evalJson(['datetime', '2001-02-03T04:05:06.7Z'])).toBe('~t2001-02-03T04:05:06.7Z');
    expect(evalJson(['datetime', '2001-02-03T04:05:06+01:30'])).toBe('~t2001-02-03T02:35:06Z');
    expect(evalJson(['datetime', '2001-02-03 04:05'])).toBe('~t2001-02-03T04:05:00Z');
    expect(evalJson(['datetime', '2001-02-03'])).toBe('~t2001-02-03T00:00:00Z');
    expect(evalJson(['datetime', 0])).toBe('~t1970-01-01T00:00:00Z');
    expect(evalJson(['datetime', -1])).toBe('~t1969-12-31T23:59:59.999999999Z');
    expect(evalJson(['datetime', 981173106000000001n])).toBe('~t2001-02-03T04:05:06.000000001Z');
    expect(evalJson(['datetime', '~t2001-02-03'])).toBe('~t2001-02-03T00:00:00Z');
  });

  it('drops what does not convert, or uses the default function', () => {
    expect(evalJson(['datetime', ['list', 'nope', null, 1.5, true, '2001-02-30', '2001-02-03T04:05:06Z']])).toEqual(['~t2001-02-03T04:05:06Z']);
    expect(evalJson(['datetime', 'nope'])).toBeNull();
    expect(evalJson(['datetime', null])).toBeNull();
    expect(evalJson(['datetime', ['literal', '~t1999-01-01T00:00:00Z'], ['list', 'x', 'y']])).toEqual(['~t1999-01-01T00:00:00Z', '~t1999-01-01T00:00:00Z']);
    // integers outside 0001-9999 are not datetimes
    expect(evalJson(['datetime', 999999999999999999999999])).toBeNull();
  });
});

describe('datetime-parse', () => {
  it('reads common formats, with nanosecond fractions', () => {
    expect(evalJson(['datetime-parse', '%Y-%m-%dT%H:%M:%S.%fZ', '2020-01-02T03:04:05.000000007Z'])).toBe('~t2020-01-02T03:04:05.000000007Z');
    expect(evalJson(['datetime-parse', '%d/%m/%Y %H:%M', '9/3/2021 7:05'])).toBe('~t2021-03-09T07:05:00Z');
    expect(evalJson(['datetime-parse', '%B %d, %Y', 'FEBRUARY 1, 2000'])).toBe('~t2000-02-01T00:00:00Z');
    expect(evalJson(['datetime-parse', '%a %b %e %H:%M:%S %Y', 'Tue Jul  4 10:00:00 2017'])).toBe('~t2017-07-04T10:00:00Z');
    expect(evalJson(['datetime-parse', '%I:%M %p', '12:15 AM'])).toBe('~t1900-01-01T00:15:00Z');
    expect(evalJson(['datetime-parse', '%I:%M %p', '12:15 pm'])).toBe('~t1900-01-01T12:15:00Z');
    expect(evalJson(['datetime-parse', '%Y %j', '2016 366'])).toBe('~t2016-12-31T00:00:00Z');
    expect(evalJson(['datetime-parse', '100%% %Y', '100% 2016'])).toBe('~t2016-01-01T00:00:00Z');
  });

  it('maps two-digit years like POSIX', () => {
    expect(evalJson(['datetime-parse', '%y', '00'])).toBe('~t2000-01-01T00:00:00Z');
    expect(evalJson(['datetime-parse', '%y', '68'])).toBe('~t2068-01-01T00:00:00Z');
    expect(evalJson(['datetime-parse', '%y', '69'])).toBe('~t1969-01-01T00:00:00Z');
  });

  it('applies %z offsets, which win over the time zone argument', () => {
    expect(evalJson(['datetime-parse', '%Y-%m-%d %H:%M%z', '2020-06-01 12:00-0230'])).toBe('~t2020-06-01T14:30:00Z');
    expect(evalJson(['datetime-parse', '%Y-%m-%d %H:%M%z', '2020-06-01 12:00+05:00'])).toBe('~t2020-06-01T07:00:00Z');
    expect(evalJson(['datetime-parse', '%Y-%m-%d %H:%M%z', '2020-06-01 12:00Z'])).toBe('~t2020-06-01T12:00:00Z');
    expect(evalJson(['datetime-parse', 'Asia/Tokyo', '%Y-%m-%d %H:%M%z', '2020-06-01 12:00+0000'])).toBe('~t2020-06-01T12:00:00Z');
    expect(evalJson(['datetime-parse', '%H:%M%z', '12:00+01:0030'])).toBeNull();
  });

  it('reads local time in a time zone, resolving DST gaps and overlaps', () => {
    expect(evalJson(['datetime-parse', 'Asia/Tokyo', '%Y-%m-%d %H:%M', '2020-06-01 09:00'])).toBe('~t2020-06-01T00:00:00Z');
    expect(evalJson(['datetime-parse', 'Europe/Oslo', '%Y-%m-%d %H:%M', '2020-01-15 12:00'])).toBe('~t2020-01-15T11:00:00Z');
    // autumn overlap: the standard-time reading
    expect(evalJson(['datetime-parse', 'America/New_York', '%Y-%m-%d %H:%M', '2018-11-04 01:30'])).toBe('~t2018-11-04T06:30:00Z');
    // spring gap: the offset before the jump
    expect(evalJson(['datetime-parse', 'America/New_York', '%Y-%m-%d %H:%M', '2018-03-11 02:30'])).toBe('~t2018-03-11T07:30:00Z');
  });

  it('skips non-strings and strings that do not match, in lists too', () => {
    expect(evalJson(['datetime-parse', '%Y-%m-%d', ['list', '2015-02-29', '2016-02-29', 5, null, '2016-2-3', '2016-02-03x']])).toEqual(['~t2016-02-29T00:00:00Z', '~t2016-02-03T00:00:00Z']);
    expect(evalJson(['datetime-parse', '%Y-%m-%d', 20160203])).toBeNull();
    expect(evalJson(['datetime-parse', '%Y-%m-%d', null])).toBeNull();
    expect(evalJson(['datetime-parse', '%H:%M:%S', '12:00:60'])).toBeNull();
  });

  it('accepts computed formats and time zones', () => {
    expect(evalJson(['datetime-parse', '_S.tz', '_S.f', '_S.v'], { source: { tz: 'Europe/Oslo', f: '%d.%m.%Y %H', v: '01.07.2020 14' } })).toBe('~t2020-07-01T12:00:00Z');
    expect(() => evalJson(['datetime-parse', '_S.tz', '%Y', '2020'], { source: { tz: 'Mars/Olympus' } })).toThrow(/time zone/);
    // a missing zone means the default, UTC
    expect(evalJson(['datetime-parse', '_S.tz', '%Y', '2020'], { source: {} })).toBe('~t2020-01-01T00:00:00Z');
    expect(evalJson(['datetime-format', '_S.tz', '_S.f', '~t2020-01-01T00:00:00Z'], { source: { tz: 'Asia/Tokyo', f: '%H' } })).toBe('09');
  });

  it('rejects unknown literal time zones and warns about bad directives', () => {
    expect(diagnose({ default: [['add', 'x', ['datetime-parse', 'Mars/Olympus', '%Y', '_S.x']]] }).join('\n')).toMatch(/time zone/);
    expect(diagnose({ default: [['add', 'x', ['datetime-parse', '%Y-%Q', '_S.x']]] }).join('\n')).toMatch(/warning.*%Q/);
    expect(evalJson(['datetime-parse', '%Y-%Q', '2020-x'])).toBeNull();
  });

  it('backtracks like Python when a greedy reading fails', () => {
    expect(parse('%d%m%Y', '2912015')).toBe('2015-01-29T00:00:00Z');
    expect(parse('%d%m%Y', '11122015')).toBe('2015-12-11T00:00:00Z');
    expect(parse('%H%M', '123')).toBe('1900-01-01T12:03:00Z');
    expect(parse('%m%d', '1310')).toBeNull();
  });

  it('supports week-based directives', () => {
    expect(parse('%G-W%V-%u', '2020-W01-1')).toBe('2019-12-30T00:00:00Z');
    expect(parse('%Y %W %a', '2021 00 Fri')).toBe('2021-01-01T00:00:00Z');
    expect(parse('%Y %U %w', '2021 10 0')).toBe('2021-03-07T00:00:00Z');
    expect(parse('%V', '10')).toBeNull();
  });

  it('matches case-insensitively and treats format whitespace as one or more spaces', () => {
    expect(parse('%Y-%m-%dT%H:%M:%SZ', '2020-01-02t03:04:05z')).toBe('2020-01-02T03:04:05Z');
    expect(parse('%Y %m', '2020 \t 7')).toBe('2020-07-01T00:00:00Z');
    expect(parse('%Y %m', '20207')).toBeNull();
  });
});

describe('datetime-format', () => {
  it('formats with strftime directives', () => {
    expect(evalJson(['datetime-format', '%Y-%m-%dT%H:%M:%S.%fZ', '~t2020-01-02T03:04:05.123456789Z'])).toBe('2020-01-02T03:04:05.123456Z');
    expect(evalJson(['datetime-format', '%N', '~t2020-01-02T03:04:05.123456789Z'])).toBe('123456789');
    expect(evalJson(['datetime-format', '%a %A %b %B %j %p %I %y %%', '~t2021-12-31T15:00:00Z'])).toBe('Fri Friday Dec December 365 PM 03 21 %');
    expect(evalJson(['datetime-format', '%c', '~t2017-07-04T10:00:00Z'])).toBe('Tue Jul  4 10:00:00 2017');
    expect(evalJson(['datetime-format', '%-d/%-m %e %z %Z %s', '~t2017-07-04T10:00:00Z'])).toBe('4/7  4 +0000 UTC 1499162400');
    expect(evalJson(['datetime-format', '%G-W%V-%u', '~t2019-12-30T00:00:00Z'])).toBe('2020-W01-1');
    expect(evalJson(['datetime-format', '%Y', '~t0042-01-01T00:00:00Z'])).toBe('0042');
  });

  it('formats in a time zone', () => {
    expect(evalJson(['datetime-format', 'America/New_York', '%Y-%m-%d %H:%M %z', '~t2020-07-01T12:00:00Z'])).toBe('2020-07-01 08:00 -0400');
    expect(evalJson(['datetime-format', 'America/New_York', '%H:%M %Z', '~t2020-01-01T12:00:00Z'])).toBe('07:00 EST');
    expect(evalJson(['datetime-format', 'Asia/Kolkata', '%H:%M %:z', '~t2020-01-01T12:00:00Z'])).toBe('17:30 +05:30');
    expect(format('%H:%M %Z', '2020-07-01T12:00:00Z', 'Europe/Oslo')).toBe('14:00 CEST');
  });

  it('formats dates as their calendar day and skips other values', () => {
    expect(evalJson(['datetime-format', 'Asia/Tokyo', '%Y-%m-%d %H:%M|%z', '~t2015-12-31'])).toBe('2015-12-31 00:00|');
    expect(evalJson(['datetime-format', '%Y', ['list', '~t2015-12-31T00:00:00Z', '2015', 7, null]])).toEqual(['2015']);
    expect(evalJson(['datetime-format', '%Y', '2015-12-31T00:00:00Z'])).toBeNull();
  });

  it('round-trips with datetime-parse', () => {
    const fmt = '%Y-%m-%dT%H:%M:%S.%N';
    expect(evalJson(['datetime-parse', fmt, ['datetime-format', fmt, '~t1801-05-06T07:08:09.000000123Z']])).toBe('~t1801-05-06T07:08:09.000000123Z');
  });

  it('writes unknown directives as they are', () => {
    expect(format('%Q %-Q 100%', '2020-01-01T00:00:00Z')).toBe('%Q %-Q 100%');
  });
});

describe('datetime-plus', () => {
  it('adds fixed units with nanosecond precision', () => {
    expect(evalJson(['datetime-plus', 'nanosecond', 1, '~t2020-01-01T00:00:00Z'])).toBe('~t2020-01-01T00:00:00.000000001Z');
    expect(evalJson(['datetime-plus', 'week', -2, '~t2020-01-01T00:00:00Z'])).toBe('~t2019-12-18T00:00:00Z');
    expect(evalJson(['datetime-plus', 'millisecond', 1500, '~t2020-01-01T00:00:00Z'])).toBe('~t2020-01-01T00:00:01.5Z');
    expect(evalJson(['datetime-plus', 'hour', 1.5, '~t2020-01-01T00:00:00Z'])).toBe('~t2020-01-01T01:30:00Z');
  });

  it('adds months and years, clamping to the end of the month', () => {
    expect(evalJson(['datetime-plus', 'month', 1, '~t2016-01-31T10:00:00Z'])).toBe('~t2016-02-29T10:00:00Z');
    expect(evalJson(['datetime-plus', 'year', 1, '~t2016-02-29T00:00:00Z'])).toBe('~t2017-02-28T00:00:00Z');
    expect(evalJson(['datetime-plus', 'month', -13, '~t2016-03-31T00:00:00Z'])).toBe('~t2015-02-28T00:00:00Z');
    expect(evalJson(['datetime-plus', 'month', 1.5, '~t2016-03-31T00:00:00Z'])).toBeNull();
  });

  it('keeps dates as dates for whole days', () => {
    expect(evalJson(['datetime-plus', 'day', 1, '~t2016-02-28'])).toBe('~t2016-02-29');
    expect(evalJson(['datetime-plus', 'hour', 1, '~t2016-02-28'])).toBe('~t2016-02-28T01:00:00Z');
  });

  it('skips non-datetimes and results out of range', () => {
    expect(evalJson(['datetime-plus', 'day', 1, ['list', '~t2020-01-01T00:00:00Z', 'x', null, '~t9999-12-31T12:00:00Z']])).toEqual(['~t2020-01-02T00:00:00Z']);
    expect(evalJson(['datetime-plus', 'day', 1, 'x'])).toBeNull();
    expect(evalJson(['datetime-plus', 'day', null, '~t2020-01-01T00:00:00Z'])).toBeNull();
    expect(evalJson(['datetime-plus', 'day', 99999999999999999999, '~t2020-01-01T00:00:00Z'])).toBeNull();
  });

  it('checks the date part', () => {
    expect(diagnose({ default: [['add', 'x', ['datetime-plus', 'fortnight', 1, '_S.x']]] }).join('\n')).toMatch(/date part/);
    expect(() => evalJson(['datetime-plus', '_S.p', 1, '~t2020-01-01T00:00:00Z'], { source: { p: 'fortnight' } })).toThrow(/date part/);
    expect(evalJson(['datetime-plus', '_S.p', 1, '~t2020-01-01T00:00:00Z'], { source: { p: 'year' } })).toBe('~t2021-01-01T00:00:00Z');
  });
});

describe('datetime-diff', () => {
  it('counts whole units from the second argument to the first, truncated towards zero', () => {
    expect(evalJson(['datetime-diff', 'day', '~t2020-01-01T00:00:00Z', '~t2020-01-03T12:00:00Z'])).toBe(-2);
    expect(evalJson(['datetime-diff', 'day', '~t2020-01-03T12:00:00Z', '~t2020-01-01T00:00:00Z'])).toBe(2);
    expect(evalJson(['datetime-diff', 'week', '~t2020-01-09T00:00:00Z', '~t2020-01-01T00:00:00Z'])).toBe(1);
    expect(evalJson(['datetime-diff', 'week', '~t2020-01-01T00:00:00Z', '~t2020-01-09T00:00:00Z'])).toBe(-1);
    expect(evalJson(['datetime-diff', 'millisecond', '~t2020-01-01T00:00:00.0025Z', '~t2020-01-01T00:00:00Z'])).toBe(2);
  });

  it('counts calendar months and years', () => {
    expect(evalJson(['datetime-diff', 'month', '~t2020-03-31T00:00:00Z', '~t2020-02-29T00:00:00Z'])).toBe(1);
    expect(evalJson(['datetime-diff', 'month', '~t2020-03-30T00:00:00Z', '~t2020-02-29T00:00:01Z'])).toBe(1);
    expect(evalJson(['datetime-diff', 'month', '~t2020-03-28T00:00:00Z', '~t2020-02-29T00:00:00Z'])).toBe(0);
    expect(evalJson(['datetime-diff', 'year', '~t2020-12-31T00:00:00Z', '~t2020-01-01T00:00:00Z'])).toBe(0);
    expect(evalJson(['datetime-diff', 'year', '~t1990-06-15T00:00:00Z', '~t2020-06-14T00:00:00Z'])).toBe(-29);
    expect(evalJson(['datetime-diff', 'year', '~t1990-06-15T00:00:00Z', '~t2020-06-15T00:00:00Z'])).toBe(-30);
  });

  it('returns big integers exactly and null for non-datetimes', () => {
    expect(evalJson(['datetime-diff', 'nanosecond', '~t9999-01-01T00:00:00Z', '~t0001-01-01T00:00:00Z'])).toBe(315506361600000000000n);
    expect(evalJson(['datetime-diff', 'day', '2020-01-01', '~t2020-01-01T00:00:00Z'])).toBeNull();
    expect(evalJson(['datetime-diff', 'day', null, '~t2020-01-01T00:00:00Z'])).toBeNull();
    expect(evalJson(['datetime-diff', 'day', '~t2020-01-02', '~t2020-01-01T00:00:00Z'])).toBe(1);
  });
});

describe('datetime-shift', () => {
  it('moves wall-clock times between zones', () => {
    expect(evalJson(['datetime-shift', 'Asia/Tokyo', 'UTC', '~t2020-01-01T09:00:00Z'])).toBe('~t2020-01-01T00:00:00Z');
    expect(evalJson(['datetime-shift', 'UTC', 'America/New_York', '~t2020-07-01T12:00:00.123456789Z'])).toBe('~t2020-07-01T08:00:00.123456789Z');
    expect(evalJson(['datetime-shift', 'Europe/Oslo', 'America/New_York', ['list', '~t2020-07-01T12:00:00Z', 'x', null]])).toEqual(['~t2020-07-01T06:00:00Z']);
    expect(evalJson(['datetime-shift', 'UTC', 'UTC', '~t2020-07-01T12:00:00Z'])).toBe('~t2020-07-01T12:00:00Z');
    expect(evalJson(['datetime-shift', 'UTC', 'Asia/Tokyo', 'x'])).toBeNull();
  });

  it('checks zone names', () => {
    expect(diagnose({ default: [['add', 'x', ['datetime-shift', 'UTC', 'Nowhere', '_S.x']]] }).join('\n')).toMatch(/Nowhere/);
    expect(() => evalJson(['datetime-shift', 'UTC', '_S.z', '~t2020-01-01T00:00:00Z'], { source: { z: 5 } })).toThrow(/time zone/);
  });
});

describe('is-datetime and now', () => {
  it('tests the value or the first element', () => {
    expect(evalJson(['is-datetime', '~t2020-01-01T00:00:00Z'])).toBe(true);
    expect(evalJson(['is-datetime', ['list', '~t2020-01-01T00:00:00Z', 1]])).toBe(true);
    expect(evalJson(['is-datetime', ['list', 1, '~t2020-01-01T00:00:00Z']])).toBe(false);
    expect(evalJson(['is-datetime', '2020-01-01T00:00:00Z'])).toBe(false);
    expect(evalJson(['is-datetime', []])).toBe(false);
    expect(evalJson(['is-datetime', null])).toBe(false);
  });

  it('now is the current time and stable within one entity', () => {
    const before = Date.now();
    const [a, b] = evalJson(['list', ['now'], ['now']]) as string[];
    expect(a).toBe(b);
    const ms = Date.parse(a.slice(2));
    expect(ms).toBeGreaterThanOrEqual(before - 1);
    expect(ms).toBeLessThanOrEqual(Date.now() + 1);
    const out = transformJson({ default: [['add', 'a', ['now']], ['add', 'b', ['datetime-plus', 'second', 0, ['now']]], ['add', 'ok', ['is-datetime', ['now']]]] }, [{ _id: '1' }]) as { a: string; b: string; ok: boolean }[];
    expect(out[0].a).toBe(out[0].b);
    expect(out[0].ok).toBe(true);
  });
});

describe('time zones', () => {
  it('knows aliases case-insensitively and rejects bare offsets', () => {
    expect(getTimeZone('europe/oslo')).not.toBeNull();
    expect(getTimeZone('US/Eastern')).not.toBeNull();
    expect(getTimeZone('Etc/GMT+5')!.offsetAt(0)).toBe(-5 * 3600);
    expect(getTimeZone('+01:00')).toBeNull();
    expect(getTimeZone('Mars/Olympus')).toBeNull();
  });

  it('finds transitions to the second', () => {
    const ny = getTimeZone('America/New_York')!;
    const t = Date.UTC(2018, 2, 11, 7, 0, 0); // 02:00 EST becomes 03:00 EDT
    expect(ny.offsetAt(t - 1000)).toBe(-5 * 3600);
    expect(ny.offsetAt(t)).toBe(-4 * 3600);
  });

  it('keeps sub-millisecond precision through zone conversion', () => {
    const dt = new DateTime(1593604800123456789n);
    expect(new FormatFormat('%H:%M:%S.%N').format(dt, getTimeZone('Asia/Kathmandu'))).toBe('17:45:00.123456789');
  });
});
