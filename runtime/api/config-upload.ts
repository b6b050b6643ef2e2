/**
 * Config uploads turned into config files. A posted JSON array is split into one file per entity
 * (`pipes/<id>.conf.json`, ...) holding that entity's text exactly as posted, so that a forced
 * upload can leave out single entities, and diagnostics can be shown at their position in the
 * posted text. Zip archives keep their own file layout.
 */
import type { Diagnostic } from '../../compiler/diagnostics.js';
import { DiagnosticBag } from '../../compiler/diagnostics.js';
import { collectEntities } from '../../compiler/config/entities.js';
import type { SourceFile } from '../../compiler/load/files.js';
import { parseJsonWithPositions } from '../../compiler/parse/json.js';
import { entry, type PNode } from '../../compiler/parse/tree.js';
import { filesFromEntries } from '../service/config-files.js';
import { invalidUtf8Offset } from './bodies.js';
import { DEFAULT_ZIP_LIMITS, readZip, type ZipLimits } from './safe-unzip.js';
import { badRequest } from './errors.js';

export interface Origin {
  /** Name of the posted document as shown in diagnostics. */
  name: string;
  line: number;
  column: number;
}

export interface PostedEntity {
  id: string | null;
  type: string | null;
  node: PNode;
  file: SourceFile;
}

export interface Upload {
  files: SourceFile[];
  /** Entities of a JSON upload, in posted order. */
  entities: PostedEntity[];
  /** Where each generated file starts in the posted text. */
  origins: Map<string, Origin>;
  /** Problems that stop the upload before compiling (JSON syntax, wrong shape). */
  diagnostics: Diagnostic[];
}

function stringEntry(node: PNode, key: string): string | null {
  if (node.kind !== 'object') return null;
  const e = entry(node, key);
  return e && e.value.kind === 'string' ? e.value.value : null;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function pathFor(id: string | null, type: string | null, index: number): { path: string; role: SourceFile['role'] } {
  if (type === 'metadata' || (type === null && id === 'node')) return { path: 'node-metadata.conf.json', role: 'node-metadata' };
  if (type !== null && type.startsWith('system:')) return { path: `systems/${id ?? `entity-${index + 1}`}.conf.json`, role: 'system' };
  return { path: `pipes/${id ?? `entity-${index + 1}`}.conf.json`, role: 'pipe' };
}

/** Normalises line ends and drops a byte order mark, so positions are stable. */
export function normaliseText(text: string): string {
  return (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).replace(/\r\n?/g, '\n');
}

/**
 * Splits posted JSON (an array of config entities, or one entity) into one file per entity.
 * Each file holds the entity's text exactly as posted.
 */
export function uploadFromJsonText(rawText: string, name: string): Upload {
  const text = normaliseText(rawText);
  const parsed = parseJsonWithPositions(text, name);
  const upload: Upload = { files: [], entities: [], origins: new Map(), diagnostics: [] };
  if (!parsed.node || parsed.diagnostics.some((d) => d.severity === 'error')) {
    upload.diagnostics = parsed.diagnostics.length
      ? parsed.diagnostics
      : [{ file: name, line: 1, column: 1, severity: 'error', code: 'CONFIG_SYNTAX', message: 'the body is not valid JSON' }];
    return upload;
  }
  const root = parsed.node;
  if (root.kind !== 'array' && root.kind !== 'object') {
    upload.diagnostics = [{ file: name, line: root.loc.line, column: root.loc.column, severity: 'error', code: 'CONFIG_SCHEMA', message: 'the config must be a JSON array of config entities or one config entity' }];
    return upload;
  }
  const items = root.kind === 'array' ? root.items : [root];
  const starts = lineStarts(text);
  const offsetOf = (n: PNode) => starts[n.loc.line - 1] + n.loc.column - 1;
  const used = new Map<string, number>();
  for (let i = 0; i < items.length; i++) {
    const node = items[i];
    let slice: string;
    if (root.kind === 'object') slice = text;
    else {
      const end = i + 1 < items.length ? offsetOf(items[i + 1]) : text.lastIndexOf(']');
      slice = text.slice(offsetOf(node), end).trimEnd();
      if (i + 1 < items.length) slice = slice.replace(/,$/, '').trimEnd();
    }
    const id = stringEntry(node, '_id');
    const type = stringEntry(node, 'type');
    let { path, role } = pathFor(id, type, i);
    const seen = used.get(path) ?? 0;
    used.set(path, seen + 1);
    // Two entities with one _id: the compiler reports the duplicate; the files must still differ.
    if (seen) path = path.replace(/^(pipes|systems)\//, `$1/duplicate-${seen + 1}/`).replace(/^node-metadata/, `duplicate-${seen + 1}/node-metadata`);
    const file: SourceFile = { path, text: slice + '\n', format: 'json', role };
    upload.files.push(file);
    upload.entities.push({ id, type, node, file });
    upload.origins.set(path, root.kind === 'object' ? { name, line: 1, column: 1 } : { name, line: node.loc.line, column: node.loc.column });
  }
  return upload;
}

/** Files of a zip archive in Sesam's layout (`pipes/`, `systems/`, `node-metadata.conf.json`). */
export function uploadFromZip(data: Uint8Array, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Upload {
  // Only config files are inflated; anything else in the archive is skipped unread.
  const isConfig = (path: string) => !path.endsWith('/') && !path.startsWith('__MACOSX/') && !path.split('/').some((s) => s.startsWith('.')) && /\.(json|ya?ml)$/i.test(path);
  const texts: { path: string; text: string }[] = [];
  for (const { path, bytes } of readZip(data, isConfig, limits)) {
    const at = invalidUtf8Offset(bytes);
    if (at >= 0) throw badRequest(`zip entry "${path}" is not UTF-8 text (byte ${at})`, 'INVALID_ZIP');
    texts.push({ path, text: normaliseText(bytes.toString('utf8')) });
  }
  let files = filesFromEntries(texts);
  // An archive with a single JSON file of entities outside the layout: read it as such.
  if (files.length === 0 && texts.length === 1) return uploadFromJsonText(texts[0].text, texts[0].path);
  files = files.sort((a, b) => a.path.localeCompare(b.path));
  return { files, entities: [], origins: new Map(), diagnostics: [] };
}

export function isZip(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === 0x50 && data[1] === 0x4b && (data[2] === 0x03 || data[2] === 0x05) && (data[3] === 0x04 || data[3] === 0x06);
}

/** A zip or JSON document, told apart by content. */
export function uploadFromBytes(data: Uint8Array, name: string, limits?: ZipLimits): Upload {
  if (isZip(data)) return uploadFromZip(data, limits);
  const at = invalidUtf8Offset(data);
  if (at >= 0) throw badRequest(`the body is neither a zip archive nor UTF-8 JSON text (byte ${at} is not UTF-8)`, 'INVALID_BODY');
  return uploadFromJsonText(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'), name);
}

/** Shows a diagnostic of a generated file at its position in the posted text. */
export function presenter(upload: Upload): (d: Diagnostic) => Diagnostic {
  return (d) => {
    const o = upload.origins.get(d.file);
    if (!o) return d;
    return { ...d, file: o.name, line: o.line + d.line - 1, column: d.line === 1 ? o.column + d.column - 1 : d.column };
  };
}

/** Config entities of files, with the file each one lives in. */
export function entitiesInFiles(files: SourceFile[]): { id: string; type: string; file: string }[] {
  return collectEntities(files, new DiagnosticBag()).map((e) => ({ id: e.id, type: e.type, file: e.file }));
}

/**
 * Removes entity `id` from the config files. A file holding only that entity is dropped; a file
 * holding several is split so that the others keep their text.
 */
export function withoutEntity(files: SourceFile[], id: string): SourceFile[] {
  const holders = new Set(entitiesInFiles(files).filter((e) => e.id === id).map((e) => e.file));
  const out: SourceFile[] = [];
  for (const f of files) {
    if (!holders.has(f.path)) {
      out.push(f);
      continue;
    }
    const all = collectEntities([f], new DiagnosticBag());
    if (all.length <= 1 || f.format !== 'json') {
      if (all.length > 1) {
        // A YAML file with several entities: keep the others, as JSON.
        const rest = uploadFromJsonText(JSON.stringify(all.filter((e) => e.id !== id).map((e) => plainOf(e.node)), null, 2), f.path);
        out.push(...rest.files.map((r) => ({ ...r, path: uniquePath(out, files, r.path) })));
      }
      continue;
    }
    const split = uploadFromJsonText(f.text, f.path);
    for (const part of split.files) {
      const pid = split.entities.find((e) => e.file === part)?.id;
      if (pid === id) continue;
      out.push({ ...part, path: uniquePath(out, files, part.path) });
    }
  }
  return out;
}

function plainOf(node: PNode): unknown {
  switch (node.kind) {
    case 'object':
      return Object.fromEntries(node.entries.map((e) => [e.key, plainOf(e.value)]));
    case 'array':
      return node.items.map(plainOf);
    case 'string':
    case 'boolean':
      return node.value;
    case 'number':
      return Number(node.text);
    case 'null':
      return null;
  }
}

function uniquePath(out: SourceFile[], files: SourceFile[], path: string): string {
  const taken = (p: string) => out.some((f) => f.path === p) || files.some((f) => f.path === p);
  if (!taken(path)) return path;
  for (let n = 2; ; n++) {
    const p = path.replace(/^(pipes|systems)\//, `$1/split-${n}/`);
    if (!taken(p)) return p;
  }
}

/** The config files with an upload's files added; upload files whose path is taken are renamed (origins follow). */
export function withUpload(files: SourceFile[], upload: Upload): SourceFile[] {
  const out = [...files];
  for (const f of upload.files) {
    const path = uniquePath(out, [], f.path);
    if (path !== f.path) {
      const origin = upload.origins.get(f.path);
      upload.origins.delete(f.path);
      if (origin) upload.origins.set(path, origin);
      f.path = path;
    }
    out.push(f);
  }
  return out;
}

export function assertKind(upload: Upload, kind: 'pipe' | 'system'): void {
  for (const e of upload.entities) {
    const isSystem = e.type !== null && e.type.startsWith('system:');
    if (kind === 'pipe' && e.type !== null && e.type !== 'pipe') throw badRequest(`"${e.id ?? '?'}" has type "${e.type}"; only pipes can be posted here`);
    if (kind === 'system' && !isSystem) throw badRequest(`"${e.id ?? '?'}" needs a type "system:<kind>"; only systems can be posted here`);
  }
}
