/**
 * Test specs (`expected/<name>.test.json`) with the defaults Sesam's client gives them:
 *
 * - `pipe`: the file name without `.test.json`; `file`: `<name>.json` (both inside `expected/`);
 * - `endpoint`: `json` (entities from `/api/pipes/<pipe>/entities`; `excel` is read the same way;
 *   anything else is fetched from `/api/publishers/<pipe>/<endpoint>`);
 * - `stage`: none (the API's default, the sink stage); `ignore`: false; `ignore_deletes`: true;
 * - `fields_to_sort_by`: `["_id"]`; `blacklist`: none; `parameters`: none (publisher URL parameters).
 *
 * Only `true` counts for the booleans (`"ignore": "yes"` is false), as in the client.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { comparePy, dumpsPy, isPyDict, parsePyJson, PyFloat, PyInt, type PyDict, type PyValue } from './pyjson.js';

export class SpecError extends Error {}

export class TestSpec {
  /** The spec's own settings (with the defaults filled in). */
  readonly spec: PyDict;

  /**
   * @param dir the project folder
   * @param fileName the spec's file name inside `expected/` (e.g. `orders.test.json`)
   */
  constructor(
    readonly dir: string,
    readonly fileName: string,
  ) {
    const name = `expected/${fileName.slice(0, -'.test.json'.length)}`;
    this.spec = new Map<string, PyValue>([
      ['name', name],
      ['file', `${name}.json`],
      ['endpoint', 'json'],
      ['pipe', name.split('/').pop()!],
    ]);
    const text = readFileSync(join(dir, 'expected', fileName), 'utf8');
    let parsed: PyValue;
    try {
      parsed = parsePyJson(text);
    } catch (err) {
      throw new SpecError(`expected/${fileName}: not valid JSON: ${(err as Error).message}`);
    }
    if (!isPyDict(parsed)) throw new SpecError(`test spec 'expected/${fileName}' not in correct json format (it must be a JSON object)`);
    for (const [k, v] of parsed) this.spec.set(k, v);
  }

  private get(key: string): PyValue | undefined {
    return this.spec.get(key);
  }

  /** `expected/<name>.test.json` */
  get specFile(): string {
    return `expected/${this.fileName}`;
  }

  get name(): string {
    return String(this.get('name'));
  }

  /** The expected file, relative to the project folder (always inside `expected/`). */
  get file(): string {
    const f = String(this.get('file'));
    return f.startsWith('expected/') ? f : `expected/${f}`;
  }

  get pipe(): string {
    return String(this.get('pipe'));
  }

  get endpoint(): string {
    const e = this.get('endpoint');
    return typeof e === 'string' ? e : String(e);
  }

  get stage(): string | undefined {
    const s = this.get('stage');
    return s === undefined || s === null ? undefined : String(s);
  }

  get ignore(): boolean {
    return this.get('ignore') === true;
  }

  get ignoreDeletes(): boolean {
    const v = this.get('ignore_deletes');
    return v === undefined ? true : v === true;
  }

  get blacklist(): string[] | null {
    const b = this.get('blacklist');
    return Array.isArray(b) ? b.map((x) => String(x)) : null;
  }

  get fieldsToSortBy(): string[] {
    const f = this.get('fields_to_sort_by');
    return Array.isArray(f) ? f.map((x) => String(x)) : ['_id'];
  }

  /** Publisher URL parameters (bound to `_B`), or null. */
  get parameters(): PyDict | null {
    const p = this.get('parameters');
    return isPyDict(p) ? p : null;
  }

  /** Whether the JSON entities of `/api/pipes/<pipe>/entities` are compared (json and excel specs). */
  get comparesEntities(): boolean {
    return this.endpoint === 'json' || this.endpoint === 'excel';
  }

  expectedPath(): string {
    return join(this.dir, this.file);
  }

  expectedExists(): boolean {
    return existsSync(this.expectedPath());
  }

  expectedBytes(): Buffer {
    return readFileSync(this.expectedPath());
  }

  expectedEntities(): PyValue {
    return this.parseExpected(this.expectedText());
  }

  expectedText(): string {
    return readFileSync(this.expectedPath(), 'utf8');
  }

  /** The expected file's values; a JSON error names the file. */
  parseExpected(text: string): PyValue {
    try {
      return parsePyJson(text);
    } catch (err) {
      throw new SpecError(`${this.file}: not valid JSON: ${(err as Error).message}`);
    }
  }

  /** Whether a property path (keys from the entity root; list items add no key) is blacklisted. */
  isPathBlacklisted(path: string[]): boolean {
    const blacklist = this.blacklist;
    if (!blacklist) return false;
    const joined = path.join('.').split('\\.').join('.');
    return blacklist.some((pattern) => fnmatch(joined, pattern.split('[].').join('.*.')));
  }

  /** The sort key of an entity: the `fields_to_sort_by` values (dicts as sorted-key JSON), then the entity's sorted-key JSON. */
  sortKey(entity: PyValue, ensureAscii: boolean): PyValue[] {
    const key: PyValue[] = [];
    for (const field of this.fieldsToSortBy) {
      let v: PyValue = isPyDict(entity) ? (entity.get(field) ?? null) : null;
      if (isPyDict(v)) v = dumpsPy(v, { sortKeys: true, ensureAscii });
      key.push(v);
    }
    key.push(dumpsPy(entity, { sortKeys: true, ensureAscii }));
    return key;
  }

  /** Entities sorted the way the client sorts them (stable). */
  sorted(entities: PyValue[], ensureAscii: boolean): PyValue[] {
    const keyed = entities.map((e) => ({ e, k: this.sortKey(e, ensureAscii) }));
    keyed.sort((a, b) => comparePy(a.k, b.k));
    return keyed.map((x) => x.e);
  }
}

/** The specs of a project: `expected/*.test.json` (not recursive), in name order. */
export function loadSpecFiles(dir: string): TestSpec[] {
  const folder = join(dir, 'expected');
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith('.test.json'))
    .map((d) => d.name)
    .sort()
    .map((name) => new TestSpec(dir, name));
}

// ------------------------------------------------------------------------------------- fnmatch

const translated = new Map<string, RegExp>();

/** Python's `fnmatch.fnmatchcase`: `*`, `?`, `[seq]` and `[!seq]`; everything else is literal. */
export function fnmatch(name: string, pattern: string): boolean {
  let re = translated.get(pattern);
  if (!re) {
    re = new RegExp(`^${translateGlob(pattern)}$`, 's');
    if (translated.size < 1000) translated.set(pattern, re);
  }
  return re.test(name);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function translateGlob(pat: string): string {
  let out = '';
  let i = 0;
  const n = pat.length;
  while (i < n) {
    const c = pat[i++];
    if (c === '*') {
      while (pat[i] === '*') i++;
      out += '.*';
    } else if (c === '?') out += '.';
    else if (c === '[') {
      let j = i;
      if (pat[j] === '!') j++;
      if (pat[j] === ']') j++;
      while (j < n && pat[j] !== ']') j++;
      if (j >= n) out += '\\[';
      else {
        let stuff = pat.slice(i, j).replace(/\\/g, '\\\\');
        i = j + 1;
        if (stuff.startsWith('!')) stuff = '^' + stuff.slice(1);
        else if (stuff.startsWith('^')) stuff = '\\' + stuff;
        out += `[${stuff.replace(/\]/g, '\\]')}]`;
      }
    } else out += escapeRe(c);
  }
  return out;
}

// ------------------------------------------------------------------------------------- values

/** Whether a value is the boolean `true` (Python's `is True`). */
export function isTrue(v: PyValue | undefined): boolean {
  return v === true;
}

export { PyFloat, PyInt };
