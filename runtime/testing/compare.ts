/**
 * The comparison rules of Sesam's client (`sesam verify` and `sesam update`), on Python-like values
 * (pyjson.ts), so that what passes here passes there:
 *
 * 1. Current entities: every key starting with `_` is removed at every depth, except `_id` and a
 *    `_deleted` that is `true`; blacklisted paths are removed (see TestSpec.isPathBlacklisted).
 * 2. `ignore_deletes`: deleted current entities are dropped unless the expected file lists their
 *    `_id` as deleted.
 * 3. Current values only: floats that print with a trailing `.0` become integers; integers of more
 *    than 16 characters pass through a float (the client's "large int bug", unless disabled).
 * 4. Both sides are sorted by the `fields_to_sort_by` values, then by the sorted-key JSON of the
 *    entity; then the counts are compared, then the two sides as JSON (indent 2, sorted keys).
 * 5. `update` writes the current side (after 1-3, deleted ones dropped with `ignore_deletes`)
 *    with indent 2, sorted keys and a final newline, with `<`, `>` and `&` as `\u003c`, `\u003e`,
 *    `\u0026` (unless that is disabled).
 *
 * XML endpoints compare lxml-style pretty printings (xml.ts), other endpoints their bytes.
 */
import { unifiedDiff } from './diff.js';
import { createHash } from 'node:crypto';
import { clonePy, dumpsPy, floatToIntegerText, isPyDict, parsePyJson, pyEquals, PyFloat, PyInt, type PyDict, type PyValue } from './pyjson.js';
import { JsonEntitySplitter, JsonStreamError } from '../components/sources/json-stream.js';
import { settleHeap } from '../executor/heap-budget.js';
import { jsonFloat } from '../../compiler/dtl/functions/text.js';
import type { TestSpec } from './spec.js';
import { prettyXml } from './xml.js';

export interface CompareOptions {
  /** Keep long integers exact (the client's `-no-large-int-bugs`). */
  noLargeIntBugs?: boolean;
  /** Write expected files with `\uXXXX` escapes (the client's `-unicode-encoding`). */
  unicodeEncoding?: boolean;
  /** Do not escape `<`, `>` and `&` in expected files (the client's `-disable-json-html-escape`). */
  disableJsonHtmlEscape?: boolean;
}

export interface Comparison {
  ok: boolean;
  /** Why it failed, one line. */
  message?: string;
  /** A unified diff from the expected file to the current output. */
  diff?: string;
  /** Counts (JSON comparisons). */
  expectedCount?: number;
  currentCount?: number;
}

// ------------------------------------------------------------------------------------- entities

/** Step 1: underscore keys and blacklisted paths removed (a copy). */
export function filterEntity(entity: PyValue, spec: Pick<TestSpec, 'isPathBlacklisted'>): PyValue {
  const walk = (path: string[], item: PyValue): PyValue => {
    if (isPyDict(item)) {
      const out: PyDict = new Map();
      for (const [key, value] of item) {
        const p = [...path, key];
        if (spec.isPathBlacklisted(p)) continue;
        if (key.startsWith('_')) {
          if (key === '_id' || (key === '_deleted' && value === true)) out.set(key, clonePy(value));
          continue;
        }
        out.set(key, walk(p, value));
      }
      return out;
    }
    if (Array.isArray(item)) return item.map((x) => walk(path, x));
    return item;
  };
  return walk([], entity);
}

/** Step 3 (the client's `_fix_decimal_to_ints`). */
export function fixDecimalToInts(value: PyValue, noLargeIntBugs = false): PyValue {
  if (isPyDict(value)) return new Map([...value].map(([k, v]) => [k, fixDecimalToInts(v, noLargeIntBugs)]));
  if (Array.isArray(value)) return value.map((v) => fixDecimalToInts(v, noLargeIntBugs));
  if (value instanceof PyFloat) {
    const text = jsonFloat(value.value);
    if (text.endsWith('.0')) return fixDecimalToInts(new PyInt(floatToIntegerText(value.value)), noLargeIntBugs);
    return value;
  }
  if (value instanceof PyInt && !noLargeIntBugs) {
    if (value.value.toString().length > '9007199254740991'.length) return new PyInt(floatToIntegerText(Number(value.value)));
  }
  return value;
}

function deleted(e: PyValue): boolean {
  return isPyDict(e) && e.get('_deleted') === true;
}

function listOf(v: PyValue, what: string): PyValue[] {
  if (!Array.isArray(v)) throw new Error(`${what} must be a JSON array of entities`);
  return v;
}

/** The JSON text the client compares (indent 2, sorted keys, non-ASCII as is). */
export function comparisonJson(entities: PyValue[]): string {
  return dumpsPy(entities, { indent: 2, sortKeys: true, ensureAscii: false });
}

/** Entities compared between looks at the heap. */
const SETTLE_EVERY = 2000;

/**
 * The entities of a JSON array text, one at a time, without the whole array's values in memory:
 * the text is split into entity texts (checked first to be an array of objects), each parsed on
 * its own. Other texts are parsed whole, and invalid JSON fails as the whole text fails.
 */
function forEachEntity(text: string, what: string, visit: (e: PyValue) => void, parseWhole: (text: string) => PyValue = parsePyJson): void {
  const SLICE = 1 << 20;
  const split = (each: (entityText: string) => void) => {
    const splitter = new JsonEntitySplitter();
    for (let at = 0; at < text.length; at += SLICE) for (const t of splitter.push(text.slice(at, at + SLICE))) each(t);
    splitter.end(false);
  };
  try {
    if (!/^[\s\ufeff]*\[/.test(text)) throw new JsonStreamError('not a JSON array');
    split(() => undefined);
  } catch (err) {
    if (!(err instanceof JsonStreamError)) throw err;
    for (const e of listOf(parseWhole(text), what)) visit(e);
    return;
  }
  let seen = 0;
  split((entityText) => {
    // Each entity leaves its parsed values and dumps behind: collected as they pile up, not at the end.
    if (++seen % SETTLE_EVERY === 0) settleHeap();
    let value: PyValue;
    try {
      value = parsePyJson(entityText);
    } catch (err) {
      // The whole text is invalid too: its error says where.
      parseWhole(text);
      throw err;
    }
    visit(value);
  });
}

/**
 * An entity's identity for comparing: a digest of its JSON with sorted keys. Two sorted lists dump
 * to the same text exactly when they hold the same entities as many times each, so comparing the
 * sorted digests decides what comparing the client's dumps decides, in a fraction of the memory.
 */
function digestOf(e: PyValue): string {
  return createHash('sha256').update(dumpsPy(e, { sortKeys: true })).digest('base64');
}

function sameEntities(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  a.sort();
  b.sort();
  return a.every((d, i) => d === b[i]);
}

/**
 * Compares the current output of a json (or excel) spec, given as the API's JSON text (a list of
 * entities), with the spec's expected file (its values, or its text, read one entity at a time).
 * Only a digest of each entity is kept; the whole lists are sorted and dumped for a diff when the
 * two differ.
 */
export function compareEntities(spec: TestSpec, expected: PyValue | string, currentText: string, options: CompareOptions = {}): Comparison {
  const expectedDigests: string[] = [];
  const expectedDeletes: PyValue[] = [];
  const addExpected = (e: PyValue) => {
    if (spec.ignoreDeletes && deleted(e)) expectedDeletes.push((e as PyDict).get('_id') ?? null);
    expectedDigests.push(digestOf(e));
  };
  const parseExpected = (text: string) => spec.parseExpected(text);
  if (typeof expected === 'string') forEachEntity(expected, spec.file, addExpected, parseExpected);
  else for (const e of listOf(expected, spec.file)) addExpected(e);

  const currentDigests: string[] = [];
  forEachEntity(currentText, `the current output of pipe "${spec.pipe}"`, (raw) => {
    const e = filterEntity(raw, spec);
    if (spec.ignoreDeletes && deleted(e) && !expectedDeletes.some((id) => pyEquals(id, (e as PyDict).get('_id') ?? null))) return;
    currentDigests.push(digestOf(fixDecimalToInts(e, options.noLargeIntBugs)));
  });
  if (sameEntities(expectedDigests, currentDigests)) return { ok: true, expectedCount: expectedDigests.length, currentCount: currentDigests.length };
  return wholeComparison(spec, typeof expected === 'string' ? parseExpected(expected) : expected, currentText, options);
}

/** The comparison of the whole lists, as the client makes it: sorted, dumped and diffed. */
function wholeComparison(spec: TestSpec, expected: PyValue, currentText: string, options: CompareOptions): Comparison {
  const ascii = options.unicodeEncoding === true;
  const expectedList = listOf(expected, spec.file);
  const expectedOutput = spec.sorted(expectedList, ascii);
  const raw = listOf(parsePyJson(currentText), `the current output of pipe "${spec.pipe}"`);
  let current = raw.map((e) => filterEntity(e, spec));
  if (spec.ignoreDeletes) {
    const expectedDeletes = expectedList.filter(deleted).map((e) => (e as PyDict).get('_id') ?? null);
    current = current.filter((e) => !deleted(e) || expectedDeletes.some((id) => pyEquals(id, (e as PyDict).get('_id') ?? null)));
  }
  // Sorted before and after the decimal fix, as the client does: the fix can change the order.
  const fixed = spec.sorted(spec.sorted(current, ascii).map((e) => fixDecimalToInts(e, options.noLargeIntBugs)), ascii);
  const expectedJson = comparisonJson(expectedOutput);
  const currentJson = comparisonJson(fixed);
  const counts = { expectedCount: expectedOutput.length, currentCount: fixed.length };
  if (fixed.length !== expectedOutput.length) {
    return { ok: false, ...counts, message: `length mismatch for test spec '${spec.specFile}': expected ${expectedOutput.length} got ${fixed.length}`, diff: unifiedDiff(expectedJson, currentJson, spec.file, 'current-output.json') };
  }
  if (expectedJson !== currentJson) {
    return { ok: false, ...counts, message: `content mismatch for test spec '${spec.file}'`, diff: unifiedDiff(expectedJson, currentJson, spec.file, 'current-output.json') };
  }
  return { ok: true, ...counts };
}

/** The expected file `update` writes for a json (or excel) spec. */
export function updatedEntitiesFile(spec: TestSpec, currentText: string, options: CompareOptions = {}): Buffer {
  const ascii = options.unicodeEncoding === true;
  const raw = listOf(parsePyJson(currentText), `the current output of pipe "${spec.pipe}"`);
  let current = fixDecimalToInts(raw.map((e) => filterEntity(e, spec)), options.noLargeIntBugs) as PyValue[];
  if (spec.ignoreDeletes) current = current.filter((e) => !deleted(e));
  let text = dumpsPy(spec.sorted(current, ascii), { indent: 2, sortKeys: true, ensureAscii: ascii }) + '\n';
  if (options.disableJsonHtmlEscape !== true) text = text.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  return Buffer.from(text, 'utf8');
}

// ------------------------------------------------------------------------------------- published

function decodeForDiff(a: Buffer, b: Buffer): [string, string] | null {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  try {
    return [utf8.decode(a), utf8.decode(b)];
  } catch {
    // latin-1 decodes any bytes
    return [a.toString('latin1'), b.toString('latin1')];
  }
}

/** Compares published XML: pretty-printed on both sides, bytes when either side does not parse. */
export function compareXml(spec: TestSpec, expected: Buffer, current: Buffer): Comparison {
  let e: string;
  let c: string;
  try {
    e = prettyXml(expected);
    c = prettyXml(current);
  } catch (err) {
    if (expected.equals(current)) return { ok: true };
    return { ok: false, message: `content mismatch for test spec '${spec.file}' (compared byte for byte: ${(err as Error).message})` };
  }
  if (e === c) return { ok: true };
  return { ok: false, message: `content mismatch for test spec '${spec.file}'`, diff: unifiedDiff(e, c, spec.file, 'current_data.xml') };
}

/** Compares other published output (CSV, ...) byte for byte. */
export function compareBytes(spec: TestSpec, expected: Buffer, current: Buffer): Comparison {
  if (expected.equals(current)) return { ok: true };
  const texts = decodeForDiff(expected, current);
  return { ok: false, message: `content mismatch for test spec '${spec.file}'`, diff: texts ? unifiedDiff(texts[0], texts[1], spec.file, 'current_data.txt') : undefined };
}

/** The expected file `update` writes for an xml spec (the pretty-printed document). */
export function updatedXmlFile(current: Buffer): Buffer {
  return Buffer.from(prettyXml(current), 'utf8');
}

/** The publisher URL query of a spec's `parameters` (as Python's requests encodes a dict). */
export function parametersQuery(parameters: PyDict | null): string {
  if (!parameters) return '';
  const q = new URLSearchParams();
  const text = (v: PyValue): string | null => {
    if (v === null) return null;
    if (typeof v === 'string') return v;
    if (typeof v === 'boolean') return v ? 'True' : 'False';
    if (v instanceof PyInt) return v.value.toString();
    if (v instanceof PyFloat) return jsonFloat(v.value);
    return dumpsPy(v);
  };
  for (const [k, v] of parameters) {
    for (const x of Array.isArray(v) ? v : [v]) {
      const t = text(x);
      if (t !== null) q.append(k, t);
    }
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
