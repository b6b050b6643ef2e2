/**
 * Validation and normalisation of one component (a pipe's source, sink or a transform, or a
 * system) against its type's schema, including `conditional` components, which are resolved to
 * the alternative their condition selects.
 */
import { DiagnosticBag, suggestion } from '../diagnostics.js';
import { entry, toPlain, type PNode } from '../parse/tree.js';
import type { ComponentKind, SchemaSet } from '../validate/schemas.js';

export interface CheckedComponent {
  type: string;
  node: PNode;
  /** Effective config (defaults filled). */
  config: Record<string, unknown>;
  datasets: { dataset: string; mode: 'read' | 'write'; node: PNode }[];
  systems: { system: string; node: PNode }[];
}

export function checkComponent(kind: ComponentKind, node: PNode, schemas: SchemaSet, bag: DiagnosticBag, what: string): CheckedComponent | undefined {
  if (node.kind !== 'object') {
    bag.error('CONFIG_SCHEMA', node.loc, `${what} must be an object with a "type"`);
    return undefined;
  }
  const typeEntry = entry(node, 'type');
  if (!typeEntry || typeEntry.value.kind !== 'string') {
    bag.error('CONFIG_SCHEMA', typeEntry?.value.loc ?? node.loc, `${what} needs a string "type"`);
    return undefined;
  }
  const type = kind === 'system' ? typeEntry.value.value.replace(/^system:/, '') : typeEntry.value.value;
  if (type === 'conditional' && kind !== 'system') return checkConditional(kind, node, schemas, bag, what);
  const id = `${kind}/${type}`;
  if (!schemas.has(id)) {
    const known = schemas.componentTypes(kind);
    bag.error('CONFIG_UNKNOWN_TYPE', typeEntry.value.loc, `unknown ${kind} type "${typeEntry.value.value}"${suggestion(type, known)}; supported: ${known.join(', ')}`);
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
      datasets.push({ dataset, mode: r.mode ?? 'read', node: at });
    });
  }
  const systems: CheckedComponent['systems'] = [];
  for (const r of refs.systems) {
    const v = config[r.property];
    const e = entry(node, r.property);
    if (typeof v === 'string') systems.push({ system: v, node: e?.value ?? node });
  }
  return { type, node, config, datasets, systems };
}

function checkConditional(kind: ComponentKind, node: PNode & { kind: 'object' }, schemas: SchemaSet, bag: DiagnosticBag, what: string): CheckedComponent | undefined {
  if (schemas.has(`${kind}/conditional`)) {
    const { ok } = schemas.validate(`${kind}/conditional`, toPlain(node), node, bag, what);
    if (!ok) return undefined;
  }
  const condition = entry(node, 'condition')!.value;
  const alternatives = entry(node, 'alternatives')!.value;
  if (alternatives.kind !== 'object') return undefined;
  const key = condition.kind === 'string' ? condition.value : condition.kind === 'number' ? condition.text : condition.kind === 'boolean' ? String(condition.value) : 'null';
  const chosen = entry(alternatives, key);
  if (!chosen) {
    const keys = alternatives.entries.map((e) => e.key);
    bag.error('CONFIG_SCHEMA', condition.loc, `conditional ${kind}: condition "${key}" matches none of the alternatives (${keys.map((k) => `"${k}"`).join(', ')})${suggestion(key, keys)}`);
    return undefined;
  }
  return checkComponent(kind, chosen.value, schemas, bag, `${what} (alternative "${key}")`);
}
