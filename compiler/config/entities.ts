/** Splitting source files into config entities (pipes, systems, node metadata). */
import { DiagnosticBag } from '../diagnostics.js';
import type { SourceFile } from '../load/files.js';
import { parseJsonWithPositions } from '../parse/json.js';
import { parseYamlWithPositions } from '../parse/yaml.js';
import { entry, type Loc, type PNode, type PObject } from '../parse/tree.js';

export type EntityKind = 'pipe' | 'system' | 'metadata';

export interface RawEntity {
  id: string;
  kind: EntityKind;
  /** `pipe`, `metadata` or `system:<type>`. */
  type: string;
  file: string;
  node: PObject;
  idLoc: Loc;
}

export function parseSourceFile(f: SourceFile, bag: DiagnosticBag): PNode | undefined {
  const r = f.format === 'yaml' ? parseYamlWithPositions(f.text, f.path) : parseJsonWithPositions(f.text, f.path);
  for (const d of r.diagnostics) bag.items.push(d);
  return r.diagnostics.some((d) => d.severity === 'error' && d.code === 'CONFIG_SYNTAX') ? undefined : r.node;
}

function kindOfType(type: string): EntityKind | undefined {
  if (type === 'pipe') return 'pipe';
  if (type === 'metadata') return 'metadata';
  if (type.startsWith('system:')) return 'system';
  return undefined;
}

/** Parses every file and returns its entities; a file may hold one entity or a list of them. */
export function collectEntities(files: SourceFile[], bag: DiagnosticBag): RawEntity[] {
  const out: RawEntity[] = [];
  for (const f of files) {
    const root = parseSourceFile(f, bag);
    if (!root) continue;
    const items = root.kind === 'array' ? root.items : [root];
    if (f.role === 'single' && root.kind !== 'array' && root.kind !== 'object') {
      bag.error('CONFIG_SCHEMA', root.loc, 'a config file must hold a config entity or a list of them');
      continue;
    }
    for (const node of items) {
      if (node.kind !== 'object') {
        bag.error('CONFIG_SCHEMA', node.loc, 'a config entity must be a JSON object');
        continue;
      }
      const idNode = entry(node, '_id');
      const typeNode = entry(node, 'type');
      if (!idNode || idNode.value.kind !== 'string' || idNode.value.value === '') {
        bag.error('CONFIG_SCHEMA', idNode?.value.loc ?? node.loc, 'a config entity needs a non-empty string "_id"');
        continue;
      }
      const id = idNode.value.value;
      let type: string;
      if (typeNode?.value.kind === 'string') type = typeNode.value.value;
      else if (f.role === 'node-metadata' || id === 'node') type = 'metadata';
      else if (f.role === 'pipe') type = 'pipe';
      else {
        bag.error('CONFIG_SCHEMA', typeNode?.value.loc ?? node.loc, `config entity "${id}" needs a string "type" ("pipe", "metadata" or "system:<type>")`);
        continue;
      }
      const kind = kindOfType(type);
      if (!kind) {
        bag.error('CONFIG_UNKNOWN_TYPE', typeNode?.value.loc ?? node.loc, `config entity "${id}" has unknown type "${type}" (expected "pipe", "metadata" or "system:<type>")`);
        continue;
      }
      if (f.role === 'pipe' && kind !== 'pipe') bag.warning('CONFIG_FILE_ID_MISMATCH', typeNode?.value.loc ?? node.loc, `"${id}" is a ${kind} but lives in pipes/`);
      if (f.role === 'system' && kind !== 'system') bag.warning('CONFIG_FILE_ID_MISMATCH', typeNode?.value.loc ?? node.loc, `"${id}" is a ${kind} but lives in systems/`);
      if ((f.role === 'pipe' || f.role === 'system') && items.length === 1) {
        const stem = f.path.split('/').pop()!.replace(/\.conf\.(json|ya?ml)$/, '');
        if (stem !== id) bag.warning('CONFIG_FILE_ID_MISMATCH', idNode.value.loc, `the file is named "${stem}" but the ${kind} is "${id}"`);
      }
      out.push({ id, kind, type, file: f.path, node, idLoc: idNode.value.loc });
    }
  }
  return out;
}
