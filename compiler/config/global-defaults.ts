/**
 * Node metadata `global_defaults` that stand in for properties a pipe, its source or sink, or its
 * pump leaves unset. They are applied before schema defaults, so a value the user set always wins
 * and the schema's own default only applies when neither says anything.
 */
import { fromPlain, type PNode, type PObject } from '../parse/tree.js';
import type { SchemaSet } from '../validate/schemas.js';

type Target = 'pipe' | 'source' | 'sink' | 'pump' | 'system';

/** [where, property, global_defaults key, value when the metadata does not set it either] */
const GLOBAL_DEFAULTS: [Target, string, string, unknown?][] = [
  ['source', 'supports_signalling', 'use_signalling_internally', true],
  ['source', 'if_source_empty', 'if_source_empty'],
  ['source', 'require_populated_input', 'require_populated_input'],
  ['source', 'max_merged', 'max_merged'],
  ['sink', 'max_entity_bytes_size', 'max_entity_bytes_size'],
  ['pump', 'run_at_startup_if_not_populated', 'run_at_startup_if_not_populated'],
  ['pipe', 'rescan_when_config_changes', 'rescan_when_config_changes'],
  ['pipe', 'enable_background_rescan', 'enable_background_rescan'],
  ['pipe', 'infer_pipe_entity_types', 'infer_pipe_entity_types'],
  ['pipe', 'reprocessing_policy', 'reprocessing_policy'],
  ['system', 'verify_ssl', 'verify_ssl'],
];

/** Adds the applicable global defaults that `node` lacks, for a component validated by `schemaId`. */
export function applyGlobalDefaults(target: Target, node: PNode, schemaId: string, schemas: SchemaSet, metadata: Record<string, unknown>): PNode {
  if (node.kind !== 'object') return node;
  const globals = (metadata.global_defaults ?? {}) as Record<string, unknown>;
  const properties = schemas.schema(schemaId)?.properties ?? {};
  const present = new Set(node.entries.map((e) => e.key));
  const added: PObject['entries'] = [];
  for (const [where, property, key, fallback] of GLOBAL_DEFAULTS) {
    if (where !== target || present.has(property) || !(property in properties)) continue;
    const value = key in globals ? globals[key] : fallback;
    if (value === undefined) continue;
    added.push({ key: property, keyLoc: node.loc, value: fromPlain(value, node.loc) });
  }
  return added.length ? { ...node, entries: [...node.entries, ...added] } : node;
}

export function typeOfComponent(node: PNode | undefined): string | undefined {
  if (node?.kind !== 'object') return undefined;
  const t = node.entries.find((e) => e.key === 'type')?.value;
  return t?.kind === 'string' ? t.value : undefined;
}
