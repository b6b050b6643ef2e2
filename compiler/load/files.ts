/**
 * Reading config text. The compiler proper works on `SourceFile`s (pure); this module is the thin
 * I/O edge that collects them from a folder in Sesam's layout or from a single file.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join, relative, sep } from 'node:path';
import { readTextFile, withoutByteOrderMark } from './text.js';

export type SourceFormat = 'json' | 'yaml';

export interface SourceFile {
  /** Path shown in diagnostics: relative to the config root, with forward slashes. */
  path: string;
  text: string;
  format: SourceFormat;
  /** Where the file sits in Sesam's layout; `single` is one file holding an array of entities. */
  role: 'node-metadata' | 'pipe' | 'system' | 'single';
}

export class ConfigIoError extends Error {
  readonly code = 'CONFIG_IO';
}

const CONFIG_EXT = /\.conf\.(json|ya?ml)$/;

export function formatOf(path: string): SourceFormat {
  return /\.ya?ml$/i.test(path) ? 'yaml' : 'json';
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...walk(full));
    else if (CONFIG_EXT.test(name)) out.push(full);
  }
  return out;
}

function toPosix(p: string): string {
  return p.split(sep).join('/');
}

/** Files of a config folder: node-metadata.conf.json, pipes/**, systems/** (JSON or YAML). */
export function readConfigFolder(dir: string): SourceFile[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigIoError(`${dir}: not a directory`);
  const files: SourceFile[] = [];
  for (const name of ['node-metadata.conf.json', 'node-metadata.conf.yaml', 'node-metadata.conf.yml']) {
    const p = join(dir, name);
    if (existsSync(p)) files.push({ path: name, text: readTextFile(p), format: formatOf(name), role: 'node-metadata' });
  }
  for (const [sub, role] of [
    ['pipes', 'pipe'],
    ['systems', 'system'],
  ] as const) {
    for (const p of walk(join(dir, sub))) files.push({ path: toPosix(relative(dir, p)), text: readTextFile(p), format: formatOf(p), role });
  }
  return files;
}

/** A single JSON or YAML file holding an array of config entities (the shape of `/api/config`). */
export function readConfigFile(path: string): SourceFile[] {
  if (!existsSync(path)) throw new ConfigIoError(`${path}: no such file`);
  return [{ path: basename(path), text: readTextFile(path), format: formatOf(path), role: 'single' }];
}

/** A folder in Sesam's layout, or a single file. */
export function readConfig(path: string): SourceFile[] {
  if (!existsSync(path)) throw new ConfigIoError(`${path}: no such file or directory`);
  return statSync(path).isDirectory() ? readConfigFolder(path) : readConfigFile(path);
}

/** Files given in memory (API uploads, zip archives): roles follow the folder layout. */
export function sourceFilesFromEntries(entries: { path: string; text: string }[]): SourceFile[] {
  const out: SourceFile[] = [];
  for (const { path, text: raw } of entries) {
    const p = toPosix(path).replace(/^\.\//, '');
    const text = withoutByteOrderMark(raw);
    if (/^node-metadata\.conf\.(json|ya?ml)$/.test(p)) out.push({ path: p, text, format: formatOf(p), role: 'node-metadata' });
    else if (/^pipes\/.*\.conf\.(json|ya?ml)$/.test(p)) out.push({ path: p, text, format: formatOf(p), role: 'pipe' });
    else if (/^systems\/.*\.conf\.(json|ya?ml)$/.test(p)) out.push({ path: p, text, format: formatOf(p), role: 'system' });
  }
  return out;
}

export function isConfigExtension(p: string): boolean {
  return CONFIG_EXT.test(p) || ['.json', '.yaml', '.yml'].includes(extname(p));
}
