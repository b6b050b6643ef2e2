/**
 * The comparison rules of Sesam's client, as runtime/testing implements them. Expected values
 * here were checked against the client (sesam.py with Python's json, difflib and lxml).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareBytes, compareEntities, compareXml, filterEntity, fixDecimalToInts, parametersQuery, updatedEntitiesFile } from '../../runtime/testing/compare.js';
import { unifiedDiff } from '../../runtime/testing/diff.js';
import { formatPortalJson } from '../../runtime/testing/portal-format.js';
import { jsonFloat as floatRepr } from '../../compiler/dtl/functions/text.js';
import { comparePy, dumpsPy, parsePyJson, PyFloat, PyInt, type PyValue } from '../../runtime/testing/pyjson.js';
import { fnmatch, loadSpecFiles, TestSpec } from '../../runtime/testing/spec.js';
import { prettyXml } from '../../runtime/testing/xml.js';
import { tempDir } from '../support/runtime.js';

/** A spec `expected/<name>.test.json` with `settings`, and optionally its expected file. */
function spec(settings: Record<string, unknown>, expected?: string, name = 'out'): TestSpec {
  const dir = tempDir('sluice-spec-');
  mkdirSync(join(dir, 'expected'));
  writeFileSync(join(dir, 'expected', `${name}.test.json`), JSON.stringify(settings));
  const s = new TestSpec(dir, `${name}.test.json`);
  if (expected !== undefined) writeFileSync(s.expectedPath(), expected);
  return s;
}

const py = (text: string): PyValue => parsePyJson(text);
const text = (v: PyValue) => dumpsPy(v, { sortKeys: true });

describe('test spec defaults', () => {
  it('fills in pipe, file, endpoint, ignore, ignore_deletes, fields_to_sort_by', () => {
    const s = spec({}, undefined, 'orders');
    expect(s.pipe).toBe('orders');
    expect(s.file).toBe('expected/orders.json');
    expect(s.specFile).toBe('expected/orders.test.json');
    expect(s.endpoint).toBe('json');
    expect(s.stage).toBeUndefined();
    expect(s.ignore).toBe(false);
    expect(s.ignoreDeletes).toBe(true);
    expect(s.fieldsToSortBy).toEqual(['_id']);
    expect(s.blacklist).toBeNull();
    expect(s.parameters).toBeNull();
    expect(s.comparesEntities).toBe(true);
  });

  it('takes the settings of the file; only true counts for the booleans', () => {
    const s = spec({ pipe: 'p', file: 'x.csv', endpoint: 'csv', stage: 'source', ignore: 'yes', ignore_deletes: 'no', fields_to_sort_by: ['name'], parameters: { a: 1 } });
    expect([s.pipe, s.file, s.endpoint, s.stage]).toEqual(['p', 'expected/x.csv', 'csv', 'source']);
    expect(s.ignore).toBe(false);
    expect(s.ignoreDeletes).toBe(false);
    expect(s.fieldsToSortBy).toEqual(['name']);
    expect(s.comparesEntities).toBe(false);
    expect(spec({ endpoint: 'excel' }).comparesEntities).toBe(true);
  });

  it('refuses specs that are not JSON objects; loads expected/*.test.json in name order', () => {
    expect(() => spec([1, 2] as unknown as Record<string, unknown>)).toThrow(/not in correct json format/);
    const dir = tempDir('sluice-spec-');
    mkdirSync(join(dir, 'expected', 'sub'), { recursive: true });
    for (const n of ['b', 'a']) writeFileSync(join(dir, 'expected', `${n}.test.json`), '{}');
    writeFileSync(join(dir, 'expected', 'sub', 'c.test.json'), '{}');
    expect(loadSpecFiles(dir).map((s) => s.pipe)).toEqual(['a', 'b']);
  });
});

describe('filtering current entities', () => {
  it('removes underscore keys at every depth except _id and a true _deleted', () => {
    const e = py('{"_id":"1","_updated":3,"_ts":1,"_deleted":false,"a":{"_id":"x","_hash":"h","b":[{"_deleted":true,"_x":1,"c":2}]}}');
    expect(text(filterEntity(e, spec({})))).toBe('{"_id": "1", "a": {"_id": "x", "b": [{"_deleted": true, "c": 2}]}}');
  });

  it('removes blacklisted paths: dotted, with *, with [] (list items add no key) and \\. in keys', () => {
    const e = py('{"_id":"1","a":{"b":1,"c":2},"x.y":1,"list":[{"price":1,"name":"n"}],"ts":5,"deep":{"k":{"ts":1}}}');
    expect(text(filterEntity(e, spec({ blacklist: ['a.b', 'ts'] })))).toBe('{"_id": "1", "a": {"c": 2}, "deep": {"k": {"ts": 1}}, "list": [{"name": "n", "price": 1}], "x.y": 1}');
    expect(text(filterEntity(e, spec({ blacklist: ['*.ts'] })))).toBe('{"_id": "1", "a": {"b": 1, "c": 2}, "deep": {"k": {}}, "list": [{"name": "n", "price": 1}], "ts": 5, "x.y": 1}');
    // The client turns "list[].price" into "list.*.price"; list items add no key, so it does not match "list.price".
    expect(text(filterEntity(e, spec({ blacklist: ['list[].price'] })))).toContain('"price": 1');
    expect(text(filterEntity(e, spec({ blacklist: ['list.price'] })))).not.toContain('"price"');
    expect(text(filterEntity(e, spec({ blacklist: ['x.y'] })))).not.toContain('x.y');
    // A blacklisted _id goes too (the blacklist is checked first).
    expect(text(filterEntity(e, spec({ blacklist: ['_id'] })))).not.toContain('_id');
  });

  it('fnmatch: *, ?, [seq], [!seq]; everything else literal', () => {
    expect(fnmatch('a.b.c', 'a.*')).toBe(true);
    expect(fnmatch('ab', 'a?')).toBe(true);
    expect(fnmatch('a1', 'a[0-9]')).toBe(true);
    expect(fnmatch('ax', 'a[!0-9]')).toBe(true);
    expect(fnmatch('a(b)+', 'a(b)+')).toBe(true);
    expect(fnmatch('a[', 'a[')).toBe(true);
    expect(fnmatch('abc', 'ab')).toBe(false);
  });
});

describe('number normalisation (current output only)', () => {
  it('turns floats that print with .0 into ints, and passes long ints through a float', () => {
    const v = fixDecimalToInts(py('[1.0, 2.5, 1e16, -0.0, 100.0, 12345678901234567890, 1234567890123456, -1234567890123456, 12345678901234567, true]'));
    expect(dumpsPy(v)).toBe('[1, 2.5, 1e+16, 0, 100, 12345678901234567168, 1234567890123456, -1234567890123456, 12345678901234568, true]'.replace('12345678901234567168', '12345678901234567000'));
    expect(dumpsPy(fixDecimalToInts(py('[12345678901234567890]'), true))).toBe('[12345678901234567890]');
  });

  it('prints floats as Python does', () => {
    expect([1e16, 1e-5, 0.0001, 123.0, 1e15, 1.5e300, -2.5, 0.1 + 0.2].map(floatRepr)).toEqual(['1e+16', '1e-05', '0.0001', '123.0', '1000000000000000.0', '1.5e+300', '-2.5', '0.30000000000000004']);
  });

  it('keeps ints and floats apart when parsing, and compares them as Python', () => {
    expect(parsePyJson('1')).toBeInstanceOf(PyInt);
    expect(parsePyJson('1.0')).toBeInstanceOf(PyFloat);
    expect(parsePyJson('1e2')).toBeInstanceOf(PyFloat);
    expect(comparePy(new PyInt(1n), new PyFloat(1.5))).toBeLessThan(0);
    expect(comparePy(new PyInt(2n), new PyFloat(1.5))).toBeGreaterThan(0);
    expect(comparePy(new PyInt(2n), new PyFloat(2))).toBe(0);
    expect(comparePy(new PyInt(10n ** 20n), new PyFloat(1e20))).toBe(0);
    expect(comparePy(null, 'a')).toBeLessThan(0);
    expect(comparePy('\u{1F600}', '\uffff')).toBeGreaterThan(0);
  });
});

describe('comparing JSON entities', () => {
  const current = '[{"_id":"b","n":2.0,"_updated":2},{"_id":"a","n":1,"_updated":1},{"_id":"c","_deleted":true,"_updated":3}]';

  it('passes when equal after filtering, normalising and sorting', () => {
    const s = spec({}, '[{"_id":"a","n":1},{"_id":"b","n":2}]');
    expect(compareEntities(s, s.expectedEntities(), current)).toMatchObject({ ok: true, expectedCount: 2, currentCount: 2 });
  });

  it('ignore_deletes: unexpected deletes are dropped; deletes the expected file lists stay', () => {
    const listed = spec({}, '[{"_id":"a","n":1},{"_id":"b","n":2},{"_id":"c","_deleted":true}]');
    expect(compareEntities(listed, listed.expectedEntities(), current).ok).toBe(true);
    const strict = spec({ ignore_deletes: false }, '[{"_id":"a","n":1},{"_id":"b","n":2}]');
    const r = compareEntities(strict, strict.expectedEntities(), current);
    expect(r).toMatchObject({ ok: false, expectedCount: 2, currentCount: 3 });
    expect(r.message).toMatch(/length mismatch for test spec 'expected\/out.test.json': expected 2 got 3/);
    expect(r.diff).toContain('+    "_deleted": true,');
  });

  it('expected values are not normalised: an expected 2.0 fails against a current 2.0', () => {
    const s = spec({}, '[{"_id":"a","n":1},{"_id":"b","n":2.0}]');
    const r = compareEntities(s, s.expectedEntities(), current);
    expect(r.ok).toBe(false);
    expect(r.diff).toBe(['--- expected/out.json', '+++ current-output.json', '@@ -5,6 +5,6 @@', '   },', '   {', '     "_id": "b",', '-    "n": 2.0', '+    "n": 2', '   }', ' ]', ''].join('\n'));
  });

  it('sorts by fields_to_sort_by, then by the sorted-key JSON (dict values as JSON, missing as None)', () => {
    const s = spec({ fields_to_sort_by: ['k', 'o'] });
    const sorted = s.sorted([py('{"_id":"1","k":2}'), py('{"_id":"2","k":1,"o":{"b":1}}'), py('{"_id":"3","k":1,"o":{"a":2}}'), py('{"_id":"0","k":1}')], false);
    expect(sorted.map((e) => (e as Map<string, PyValue>).get('_id'))).toEqual(['0', '3', '2', '1']);
  });

  it('answers the same for the expected file given as text (entity by entity) as for its values', () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{}, '[{"_id":"a","n":1},{"_id":"b","n":2}]', current],
      [{ ignore_deletes: false }, '[{"_id":"a","n":1},{"_id":"b","n":2}]', current],
      [{}, '[{"_id":"a","n":1},{"_id":"b","n":2.0}]', current],
      // The decimal fix changes the order: 1.5 and 2.0 sort before and after the fix differently.
      [{ fields_to_sort_by: ['v'] }, '[{"_id":"x","v":2},{"_id":"y","v":10}]', '[{"_id":"y","v":10.0},{"_id":"x","v":2.0}]'],
      [{ fields_to_sort_by: ['v'] }, '[{"_id":"x","v":10},{"_id":"y","v":2}]', '[{"_id":"y","v":2.0},{"_id":"x","v":10}]'],
      // Not an array of objects: parsed whole, as before.
      [{}, '[1, {"_id":"a"}]', '[{"_id":"a"}]'],
      [{}, '{"_id":"a"}', '[{"_id":"a"}]'],
      [{}, '[]', '[]'],
      [{ blacklist: ['n'] }, '[{"_id":"a"},{"_id":"b"}]', current],
    ];
    for (const [settings, expected, cur] of cases) {
      const s = spec(settings, expected);
      const attempt = (f: () => unknown) => {
        try {
          return f();
        } catch (err) {
          return `error: ${(err as Error).message}`;
        }
      };
      expect(attempt(() => compareEntities(s, s.expectedText(), cur))).toEqual(attempt(() => compareEntities(s, s.expectedEntities(), cur)));
    }
    const broken = spec({}, '[{"_id":"a"},\n {"_id": }]');
    expect(() => compareEntities(broken, broken.expectedText(), current)).toThrow(/expected\/out.json: not valid JSON: .*line 2/);
    const s = spec({});
    expect(() => compareEntities(s, '[]', '[{"_id":"a"}, {"_id": ]')).toThrow(/line 1/);
  });

  it('update writes indent 2, sorted keys, a final newline, and escapes <, > and &', () => {
    const s = spec({});
    const out = updatedEntitiesFile(s, '[{"_id":"b","t":"<a & b>","æ":1.0},{"_id":"a","_deleted":true},{"_id":"c"}]').toString('utf8');
    expect(out).toBe('[\n  {\n    "_id": "b",\n    "t": "\\u003ca \\u0026 b\\u003e",\n    "æ": 1\n  },\n  {\n    "_id": "c"\n  }\n]\n');
    const ascii = updatedEntitiesFile(s, '[{"_id":"æ<"}]', { unicodeEncoding: true, disableJsonHtmlEscape: true }).toString('utf8');
    expect(ascii).toBe('[\n  {\n    "_id": "\\u00e6<"\n  }\n]\n');
    const keepDeletes = updatedEntitiesFile(spec({ ignore_deletes: false }), '[{"_id":"a","_deleted":true}]').toString('utf8');
    expect(keepDeletes).toContain('"_deleted": true');
  });
});

describe('published output', () => {
  it('CSV (and other endpoints) compare bytes, with a diff of the text', () => {
    const s = spec({ endpoint: 'csv', file: 'o.csv' });
    expect(compareBytes(s, Buffer.from('a,b\r\n1,2\r\n'), Buffer.from('a,b\r\n1,2\r\n')).ok).toBe(true);
    const r = compareBytes(s, Buffer.from('a,b\r\n1,2\r\n'), Buffer.from('a,b\r\n1,3\r\n'));
    expect(r.ok).toBe(false);
    expect(r.diff).toBe('--- expected/o.csv\n+++ current_data.txt\n@@ -1,2 +1,2 @@\n a,b\r\n-1,2\r\n+1,3\r\n');
  });

  it('XML compares lxml pretty printings: whitespace between elements does not matter', () => {
    const s = spec({ endpoint: 'xml', file: 'o.xml' });
    const compact = Buffer.from('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><orders><order id="1"><total currency="NOK">5</total></order><order id="2"/></orders>');
    const pretty = prettyXml(compact);
    expect(pretty).toBe(`<?xml version='1.0' encoding='utf-8' standalone='yes'?>\n<orders>\n  <order id="1">\n    <total currency="NOK">5</total>\n  </order>\n  <order id="2"/>\n</orders>\n`);
    expect(compareXml(s, Buffer.from(pretty), compact).ok).toBe(true);
    const r = compareXml(s, Buffer.from(pretty), Buffer.from(compact.toString().replace('>5<', '>6<')));
    expect(r.ok).toBe(false);
    expect(r.diff).toContain('-    <total currency="NOK">5</total>\n+    <total currency="NOK">6</total>');
    // Unparsable XML falls back to bytes.
    expect(compareXml(s, Buffer.from('<a>'), Buffer.from('<a>')).ok).toBe(true);
    const bytes = compareXml(s, Buffer.from('<a>'), Buffer.from('<b>'));
    expect(bytes.ok).toBe(false);
    expect(bytes.diff).toBeUndefined();
  });

  it('XML: elements with text keep their content as it is; namespaces come first', () => {
    expect(prettyXml(Buffer.from('<a x="1" xmlns="u">t<b/><c><d/></c></a>'))).toBe('<a xmlns="u" x="1">t<b/><c><d/></c></a>\n');
    expect(prettyXml(Buffer.from('<a><!--c--><b at="x&#10;y">&lt;&amp;</b></a>'))).toBe('<a>\n  <!--c-->\n  <b at="x&#10;y">&lt;&amp;</b>\n</a>\n');
  });

  it('parameters become the query as Python requests encodes them', () => {
    expect(parametersQuery(parsePyJson('{"a": 1, "b": "x y", "c": true, "d": [1, 2], "e": null}') as Map<string, PyValue>)).toBe('?a=1&b=x+y&c=True&d=1&d=2');
    expect(parametersQuery(null)).toBe('');
  });
});

describe('diffs and formats', () => {
  it('unified diffs as difflib prints them', () => {
    expect(unifiedDiff('a\nb\nc\n', 'a\nb\nc\n', 'x', 'y')).toBe('');
    expect(unifiedDiff('1\n2\n3\n4\n5\n6\n7\n8\n9\n', '1\n2\n3\n4\nX\n6\n7\n8\n9\n', 'x', 'y')).toBe('--- x\n+++ y\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+X\n 6\n 7\n 8\n');
    expect(unifiedDiff('a\n', '', 'x', 'y')).toBe('--- x\n+++ y\n@@ -1 +0,0 @@\n-a\n');
  });

  it('formats config JSON as the portal does', () => {
    const v = parsePyJson('{"sink":{"type":"dataset"},"_id":"p","zeta":[[1,2],[3]],"list":[{"b":1,"a":2}],"type":"pipe","_x":1,"e":{},"n":[]}');
    expect(formatPortalJson(v)).toBe(
      ['{', '  "_id": "p",', '  "type": "pipe",', '  "sink": {', '    "type": "dataset"', '  },', '  "e": {},', '  "list": [{', '    "a": 2,', '    "b": 1', '  }],', '  "n": [],', '  "zeta": [', '    [1, 2],', '    [3]', '  ],', '  "_x": 1', '}', ''].join('\n'),
    );
  });
});
