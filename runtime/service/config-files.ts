/**
 * The service's config as source files in Sesam's folder layout. Uploads (JSON arrays, zips,
 * single pipes) are turned into files, so diagnostics always point at a file, line and column,
 * and the same files come back out of GET /api/config.
 */
import type { SourceFile } from '../../compiler/load/files.js';
import { sourceFilesFromEntries } from '../../compiler/load/files.js';
import { collectEntities } from '../../compiler/config/entities.js';
import { DiagnosticBag } from '../../compiler/diagnostics.js';
import { toPlain } from '../../compiler/parse/tree.js';

export interface ConfigEntity {
  _id: string;
  type: string;
  [key: string]: unknown;
}

export function fileNameFor(entity: ConfigEntity): string {
  if (entity.type === 'metadata') return 'node-metadata.conf.json';
  const dir = String(entity.type).startsWith('system:') ? 'systems' : 'pipes';
  return `${dir}/${entity._id}.conf.json`;
}

export function entityToFile(entity: ConfigEntity): SourceFile {
  const path = fileNameFor(entity);
  return { path, text: JSON.stringify(entity, null, 2) + '\n', format: 'json', role: entity.type === 'metadata' ? 'node-metadata' : path.startsWith('systems/') ? 'system' : 'pipe' };
}

/** One file per entity, in the folder layout. */
export function entitiesToFiles(entities: ConfigEntity[]): SourceFile[] {
  return entities.map(entityToFile);
}

/** Files from a zip upload or a folder: only config files in the layout count. */
export function filesFromEntries(entries: { path: string; text: string }[]): SourceFile[] {
  // Archives made by zipping a folder may carry the folder name as a first path segment.
  const strip = entries.every((e) => e.path.includes('/')) && new Set(entries.map((e) => e.path.split('/')[0])).size === 1;
  const normalised = strip ? entries.map((e) => ({ ...e, path: e.path.slice(e.path.indexOf('/') + 1) })) : entries;
  const files = sourceFilesFromEntries(normalised);
  return files.length || !strip ? files : sourceFilesFromEntries(entries);
}

/** Parses config entities out of files (no validation; used to answer GET and edit single entities). */
export function entitiesOf(files: SourceFile[]): { entity: ConfigEntity; file: string }[] {
  return collectEntities(files, new DiagnosticBag()).map((e) => ({ entity: toPlain(e.node) as ConfigEntity, file: e.file }));
}
