/**
 * A config project in the layout Sesam's client works with:
 *
 *   pipes/**\/*.conf.json, systems/**\/*.conf.json, node-metadata.conf.json  the config (only
 *                                   `.conf.json` files, as the client zips them)
 *   <profile>-env.json              environment variables (profile "test" by default; required)
 *   ../.additional_parameters.json  optional: overrides env variables
 *   testdata/**\/<pipe>.json         entities posted to the receiver of pipe <pipe>
 *   expected/<name>.test.json       test specs, with their expected files in expected/
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { SourceFile } from '../../compiler/load/files.js';
import { sourceFilesFromEntries } from '../../compiler/load/files.js';
import { dumpsPy, isPyDict, parsePyJson, type PyDict, type PyValue } from './pyjson.js';

export class ProjectError extends Error {}

function toPosix(p: string): string {
  return p.split(sep).join('/');
}

function walk(dir: string, accept: (name: string) => boolean): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full, accept));
    else if (entry.isFile() && accept(entry.name)) out.push(full);
  }
  return out;
}

/** The config files the client uploads: pipes/ and systems/ `*.conf.json` (any depth) and node-metadata.conf.json. */
export function projectConfigEntries(dir: string): { path: string; text: string }[] {
  const entries: { path: string; text: string }[] = [];
  for (const sub of ['pipes', 'systems']) {
    for (const f of walk(join(dir, sub), (n) => n.endsWith('.conf.json'))) entries.push({ path: toPosix(relative(dir, f)), text: readFileSync(f, 'utf8') });
  }
  const meta = join(dir, 'node-metadata.conf.json');
  if (existsSync(meta)) entries.push({ path: 'node-metadata.conf.json', text: readFileSync(meta, 'utf8') });
  return entries;
}

export function projectConfigFiles(dir: string): SourceFile[] {
  return sourceFilesFromEntries(projectConfigEntries(dir));
}

/**
 * The environment variables the client uploads: `<profile>-env.json`, with the values of
 * `../.additional_parameters.json` (next to the project folder) replacing its values.
 */
export function projectEnv(dir: string, profile = 'test'): { env: PyDict; file: string; overridden: string[] } {
  const file = `${profile}-env.json`;
  const path = join(dir, file);
  if (!existsSync(path)) throw new ProjectError(`cannot find the profile file '${file}' in ${dir} (the env variables to upload; use {} for none)`);
  let env: PyValue;
  try {
    env = parsePyJson(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ProjectError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  if (!isPyDict(env)) throw new ProjectError(`${file}: must be a JSON object of environment variables`);
  const overridden: string[] = [];
  const extra = join(dir, '..', '.additional_parameters.json');
  if (existsSync(extra)) {
    let more: PyValue;
    try {
      more = parsePyJson(readFileSync(extra, 'utf8'));
    } catch (err) {
      throw new ProjectError(`../.additional_parameters.json: not valid JSON: ${(err as Error).message}`);
    }
    if (isPyDict(more)) {
      for (const [k, v] of more) {
        if (env.has(k)) overridden.push(k);
        env.set(k, v);
      }
    }
  }
  return { env, file, overridden };
}

/** The env as plain JSON (for the runtime and `PUT /api/env`). */
export function envObject(env: PyDict): Record<string, unknown> {
  return JSON.parse(dumpsPy(env)) as Record<string, unknown>;
}

export interface TestdataFile {
  /** Relative to the project, e.g. `testdata/orders.json`. */
  path: string;
  pipe: string;
}

/** Test data files: `testdata/**\/*.json` (any case of `.json`), each named after the pipe it is posted to. */
export function testdataFiles(dir: string): TestdataFile[] {
  return walk(join(dir, 'testdata'), (n) => n.toLowerCase().endsWith('.json')).map((f) => {
    const name = basename(f);
    return { path: toPosix(relative(dir, f)), pipe: name.slice(0, name.length - name.split('.').pop()!.length - 1) };
  });
}

export function hasTestdataFolder(dir: string): boolean {
  const p = join(dir, 'testdata');
  return existsSync(p) && statSync(p).isDirectory();
}

/**
 * The body the client posts for a test data file: the file's JSON as Python loads and `requests`
 * dumps it (floats re-printed, e.g. `1.50` as `1.5`), or null when the file holds `null`.
 */
export function testdataBody(dir: string, file: TestdataFile): string | null {
  let value: PyValue;
  try {
    value = parsePyJson(readFileSync(join(dir, file.path), 'utf8'));
  } catch (err) {
    throw new ProjectError(`${file.path}: not valid JSON: ${(err as Error).message}`);
  }
  return value === null ? null : dumpsPy(value);
}

/**
 * The zip the client uploads (`PUT /api/config`): the config files under their paths, with
 * node-metadata.conf.json (when there is one) rewritten with the settings the client adds:
 * `task_manager.disable_user_pipes` (true unless user pipes are enabled) and
 * `global_defaults.eager_load_microservices` false.
 */
export async function projectZip(dir: string, opts: { enableUserPipes?: boolean } = {}): Promise<Buffer> {
  const enc = new TextEncoder();
  const files: Record<string, Uint8Array> = {};
  for (const e of projectConfigEntries(dir)) {
    if (e.path === 'node-metadata.conf.json') {
      let meta: PyValue;
      try {
        meta = parsePyJson(e.text);
      } catch (err) {
        throw new ProjectError(`node-metadata.conf.json: not valid JSON: ${(err as Error).message}`);
      }
      if (!isPyDict(meta)) throw new ProjectError('node-metadata.conf.json must hold a JSON object');
      const section = (name: string): PyDict => {
        const s = meta.get(name);
        if (isPyDict(s)) return s;
        const fresh: PyDict = new Map();
        (meta as PyDict).set(name, fresh);
        return fresh;
      };
      section('task_manager').set('disable_user_pipes', opts.enableUserPipes !== true ? true : false);
      section('global_defaults').set('eager_load_microservices', false);
      files[e.path] = enc.encode(dumpsPy(meta, { ensureAscii: true }));
    } else files[e.path] = enc.encode(e.text);
  }
  // Loaded here: the client verbs (and with them `sluice run`) should not load fflate at start.
  const { zipSync } = await import('fflate');
  return Buffer.from(zipSync(files, { level: 6 }));
}

/** The project folder of a path (a folder, or a file inside one). */
export function projectDir(path: string): string {
  return existsSync(path) && statSync(path).isDirectory() ? path : dirname(path);
}
