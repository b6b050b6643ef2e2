/**
 * Validation and normalisation of one component (a pipe's source, sink or a transform, or a
 * system) against its type's schema, including `conditional` components, which are resolved to
 * the alternative their condition selects.
 */
import { DiagnosticBag, suggestion } from '../diagnostics.js';
import { entry, isUnresolved, toPlain, type PNode, type PObject } from '../parse/tree.js';
import { commonSchemaId, type ComponentKind, type SchemaSet } from '../validate/schemas.js';
import { DOCUMENTED_TYPES, isDocumentedType } from './documented-types.js';
import { conditionKey } from './env.js';

export interface CheckedComponent {
  type: string;
  node: PNode;
  /** Effective config (defaults filled). */
  config: Record<string, unknown>;
  datasets: { dataset: string; mode: 'read' | 'write'; node: PNode }[];
  systems: { system: string; node: PNode }[];
  /**
   * A type Sesam documents that Sluice does not implement: only the kind's common properties were
   * checked, and the references were read from the well-known property names.
   */
  unsupported?: boolean;
}

/** Fills in what a component may leave out (for example the type of a pipe's sink), before it is checked. */
export type Implied = (node: PObject) => PObject;

export function checkComponent(kind: ComponentKind, original: PNode, schemas: SchemaSet, bag: DiagnosticBag, what: string, implied?: Implied): CheckedComponent | undefined {
  if (original.kind !== 'object') {
    bag.error('CONFIG_SCHEMA', original.loc, `${what} must be an object with a "type"`);
    return undefined;
  }
  const node = implied ? implied(original) : original;
  const typeEntry = entry(node, 'type');
  // Which component this is waits for the variable (already reported).
  if (isUnresolved(typeEntry?.value)) return undefined;
  if (!typeEntry || typeEntry.value.kind !== 'string') {
    bag.error('CONFIG_SCHEMA', typeEntry?.value.loc ?? node.loc, `${what} needs a string "type"`);
    return undefined;
  }
  const type = kind === 'system' ? typeEntry.value.value.replace(/^system:/, '') : typeEntry.value.value;
  if (type === 'conditional' && kind !== 'system') return checkConditional(kind, node, schemas, bag, what, implied);
  const id = `${kind}/${type}`;
  if (!schemas.has(id)) {
    if (isDocumentedType(kind, type)) return checkUnsupported(kind, type, node, typeEntry.value, schemas, bag, what);
    const known = schemas.componentTypes(kind);
    const candidates = new Set([...known, ...DOCUMENTED_TYPES[kind]]);
    bag.error('CONFIG_UNKNOWN_TYPE', typeEntry.value.loc, `unknown ${kind} type "${typeEntry.value.value}"${suggestion(type, candidates)}; supported: ${known.join(', ')}`);
    return undefined;
  }
  const plain = toPlain(node) as Record<string, unknown>;
  const { ok, value } = schemas.validate(id, plain, node, bag, what);
  if (!ok) return undefined;
  const config = value as Record<string, unknown>;
  const refs = schemas.references(id);
  const datasets: CheckedComponent['datasets'] = [];
  for (const r of refs.datasets) {
    const e = entry(node, r.property);
    const v = config[r.property];
    const list = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
    list.forEach((d, i) => {
      if (typeof d !== 'string') return;
      const dataset = r.format === 'id-alias' ? d.trim().split(/\s+/)[0] : d;
      const at = e?.value.kind === 'array' ? (e.value.items[i] ?? e.value) : (e?.value ?? node);
      if (isUnresolved(at)) return;
      datasets.push({ dataset, mode: r.mode ?? 'read', node: at });
    });
  }
  const systems: CheckedComponent['systems'] = [];
  for (const r of refs.systems) {
    const v = config[r.property];
    const e = entry(node, r.property);
    if (typeof v === 'string' && !isUnresolved(e?.value)) systems.push({ system: v, node: e?.value ?? node });
  }
  return { type, node, config, datasets, systems };
}

/**
 * A documented type Sluice lacks: one COMPONENT_UNSUPPORTED error, the kind's common properties
 * checked, and the system and dataset references read from the names every component uses for
 * them (`system`, `dataset`, `datasets`), so that checks across the config stay right.
 */
function checkUnsupported(kind: ComponentKind, type: string, node: PObject, typeNode: PNode, schemas: SchemaSet, bag: DiagnosticBag, what: string): CheckedComponent {
  const written = typeNode.kind === 'string' ? typeNode.value : type;
  bag.error('COMPONENT_UNSUPPORTED', typeNode.loc, `Sluice does not support ${kind} type "${written}" yet (${what})`);
  const plain = toPlain(node) as Record<string, unknown>;
  schemas.validate(commonSchemaId(kind), plain, node, bag, what);
  const datasets: CheckedComponent['datasets'] = [];
  const systems: CheckedComponent['systems'] = [];
  const system = entry(node, 'system')?.value;
  if (system?.kind === 'string' && !system.unresolved) systems.push({ system: system.value, node: system });
  const dataset = entry(node, 'dataset')?.value;
  if (dataset?.kind === 'string' && !dataset.unresolved) datasets.push({ dataset: dataset.value, mode: kind === 'sink' ? 'write' : 'read', node: dataset });
  const list = entry(node, 'datasets')?.value;
  for (const item of list?.kind === 'array' ? list.items : list ? [list] : []) {
    // "dataset alias" entries, as in the merge and union sources.
    if (item.kind === 'string' && !item.unresolved && item.value.trim()) datasets.push({ dataset: item.value.trim().split(/\s+/)[0], mode: 'read', node: item });
  }
  return { type, node, config: plain, datasets, systems, unsupported: true };
}

function checkConditional(kind: ComponentKind, node: PObject, schemas: SchemaSet, bag: DiagnosticBag, what: string, implied?: Implied): CheckedComponent | undefined {
  if (schemas.has(`${kind}/conditional`)) {
    const { ok } = schemas.validate(`${kind}/conditional`, toPlain(node), node, bag, what);
    if (!ok) return undefined;
  }
  const selection = selectAlternative(node);
  if (!selection) return undefined;
  const { condition, key, chosen, alternatives } = selection;
  if (!chosen && isUnresolved(condition)) return undefined;
  if (!chosen) {
    const keys = alternatives.entries.map((e) => e.key);
    bag.error('CONFIG_SCHEMA', condition.loc, `conditional ${kind}: condition "${key}" matches none of the alternatives (${keys.map((k) => `"${k}"`).join(', ')})${suggestion(key, keys)}`);
    return undefined;
  }
  return checkComponent(kind, chosen, schemas, bag, `${what} (alternative "${key}")`, implied);
}

/** The alternative of a conditional component that its condition selects (none when nothing matches). */
export function selectAlternative(node: PObject): { condition: PNode; key: string; alternatives: PObject; chosen?: PNode } | undefined {
  const condition = entry(node, 'condition')?.value;
  const alternatives = entry(node, 'alternatives')?.value;
  if (!condition || alternatives?.kind !== 'object') return undefined;
  const key = conditionKey(condition);
  return { condition, key, alternatives, chosen: entry(alternatives, key)?.value };
}
