/**
 * A config folder as the source of truth (`sluice run <folder>`). The runtime loads the folder; a
 * config change made through the API is written back into the folder's files (Sesam's layout:
 * `pipes/<id>.conf.json`, `systems/<id>.conf.json`, `node-metadata.conf.json`), so that the next
 * reload, or the next start, finds it there. A change the folder cannot take without rewriting
 * what someone wrote by hand (a YAML file, a file holding several entities, a single config
 * file instead of a folder) is refused before anything changes, saying why.
 */
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { readConfig, type SourceFile } from '../../compiler/load/files.js';
import { entitiesOf } from './config-files.js';

/** A config change the folder refuses (the API answers 409 with the message). */
export class ConfigFolderError extends Error {
  readonly code = 'CONFIG_FOLDER';
}

export interface FileChange {
  path: string;
  /** The new text, or null to delete the file. */
  text: string | null;
}

export class ConfigFolder {
  readonly path: string;

  constructor(path: string) {
    this.path = resolve(path);
  }

  /** Whether the config is a folder (a single file cannot take API changes). */
  get isFolder(): boolean {
    try {
      return statSync(this.path).isDirectory();
    } catch {
      return false;
    }
  }

  read(): SourceFile[] {
    return readConfig(this.path);
  }

  /** What going from `previous` to `next` does to the folder's files; throws ConfigFolderError when the folder cannot take it. */
  changes(next: SourceFile[], previous: SourceFile[]): FileChange[] {
    if (!this.isFolder) throw new ConfigFolderError(`this node runs the config file ${this.path}, which API changes are not written into: edit that file (or run a config folder)`);
    const before = new Map(previous.map((f) => [f.path, f]));
    const after = new Map(next.map((f) => [f.path, f]));
    const nextIds = new Set(entitiesOf(next).map((e) => e.entity._id));
    const out: FileChange[] = [];
    const handWritten = (f: SourceFile, action: string) => {
      const ids = entitiesOf([f]).map((e) => e.entity._id);
      if (f.format !== 'json') throw new ConfigFolderError(`${action} would rewrite ${f.path}, a YAML file in ${this.path}; edit it there`);
      if (ids.length > 1) throw new ConfigFolderError(`${action} would rewrite ${f.path} in ${this.path}, which holds ${ids.length} entities (${ids.join(', ')}); edit it there, or give each entity a file of its own`);
    };
    for (const [path, f] of before) {
      if (after.has(path)) continue;
      // A file whose entities all went away can go; one that still holds some would be rewritten.
      if (entitiesOf([f]).some((e) => nextIds.has(e.entity._id))) handWritten(f, 'this change');
      out.push({ path, text: null });
    }
    for (const [path, f] of after) {
      const old = before.get(path);
      if (old && old.text === f.text) continue;
      if (old) handWritten(old, 'this change');
      out.push({ path: this.inside(path), text: f.text });
    }
    return out;
  }

  /** The relative path, refused when it would leave the folder. */
  private inside(path: string): string {
    const full = resolve(this.path, path);
    const rel = relative(this.path, full);
    if (rel.startsWith('..') || rel === '' || rel.split(sep).includes('..')) throw new ConfigFolderError(`the config file "${path}" would be written outside ${this.path}`);
    return path;
  }

  /** Writes the changes (each file replaced whole, so a reload never sees half a file). */
  apply(changes: FileChange[]): void {
    for (const c of changes) {
      const full = join(this.path, c.path);
      if (c.text === null) {
        rmSync(full, { force: true });
        continue;
      }
      mkdirSync(dirname(full), { recursive: true });
      const temp = join(dirname(full), `.${process.pid}.${Date.now()}.tmp`);
      writeFileSync(temp, c.text);
      renameSync(temp, full);
    }
  }
}
