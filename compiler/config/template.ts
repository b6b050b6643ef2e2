/**
 * What the compiler does for the template transform: it compiles the DTL rule sets the built-in
 * templates call at documented points (their extension points) like any DTL, and it expands a
 * template body written inline into the transform it describes.
 *
 * An inline body (`"template": {...}` instead of a template name) is a transform as a pipe writes
 * one (a `chained` transform for several). Its strings may name the template's `properties` as
 * `{{@ name @}}`: a string that is only a placeholder becomes the property's value (any JSON), a
 * placeholder inside a longer string its text. The compiler checks the expanded transform as if it
 * were written in place, so diagnostics point into the body (or at the property a placeholder took).
 */
import type { DiagnosticBag } from '../diagnostics.js';
import { DtlAnalyzer, type DatasetReference } from '../dtl/analyze.js';
import type { DtlProgram } from '../dtl/ir.js';
import { entry, type PEntry, type PNode, type PObject } from '../parse/tree.js';

/** The extension points of the built-in templates: a property holding DTL rules, the templates that call them, and the rules they call. */
export const TEMPLATE_EXTENSION_POINTS: Record<string, { templates: readonly string[]; rules: readonly string[] }> = {
  // The older name of rewrite_rules_lookup, with finer rules for the two uses of a lookup response.
  rules: { templates: ['transform-share-rest'], rules: ['lookup_rewrite', 'lookup_rewrite_based_on', 'lookup_rewrite_update'] },
  rewrite_rules_payload: { templates: ['transform-share-rest'], rules: ['rewrite_insert_payload', 'rewrite_update_payload', 'rewrite_update_payload_after_patch'] },
  rewrite_rules_lookup: { templates: ['transform-share-rest'], rules: ['rewrite_lookup'] },
  rewrite_rules_mutation: { templates: ['transform-share-rest'], rules: ['rewrite_insert', 'rewrite_update', 'rewrite_delete'] },
};

export interface TemplateRules {
  /** Compiled rule sets by extension point property; absent when one has errors. */
  ruleSets: Record<string, DtlProgram>;
  datasetRefs: DatasetReference[];
  ok: boolean;
}

/** Compiles the DTL rule sets of a (named) template transform's properties, with diagnostics at their locations. */
export function compileTemplateRules(node: PObject, bag: DiagnosticBag): TemplateRules {
  const out: TemplateRules = { ruleSets: {}, datasetRefs: [], ok: true };
  const template = entry(node, 'template')?.value;
  const properties = entry(node, 'properties')?.value;
  if (template?.kind !== 'string' || properties?.kind !== 'object') return out;
  for (const [property, point] of Object.entries(TEMPLATE_EXTENSION_POINTS)) {
    const e = entry(properties, property);
    if (!e) continue;
    const before = bag.items.length;
    const analyzer = new DtlAnalyzer(bag);
    const result = analyzer.analyzeRules(e.value, false);
    if (!result || bag.items.slice(before).some((d) => d.severity === 'error')) {
      out.ok = false;
      continue;
    }
    out.datasetRefs.push(...result.datasetRefs);
    if (!point.templates.includes(template.value)) {
      bag.warning('TEMPLATE_RULES_UNUSED', e.keyLoc, `${template.value} has no DTL extension point "${property}" (${Object.entries(TEMPLATE_EXTENSION_POINTS).filter(([, p]) => p.templates.includes(template.value)).map(([k]) => k).join(', ') || 'it has none'}): its rules are never run`);
      continue;
    }
    const named = Object.keys(result.program.rules);
    if (!named.some((r) => point.rules.includes(r))) {
      bag.warning('TEMPLATE_RULES_UNUSED', e.keyLoc, `"${property}" defines none of the rules ${template.value} calls there (${point.rules.join(', ')}): its rules are never run`);
      continue;
    }
    const patching = entry(properties, 'client_side_patching')?.value;
    if (named.includes('rewrite_update_payload_after_patch') && !(patching?.kind === 'boolean' && patching.value)) {
      bag.warning('TEMPLATE_RULES_UNUSED', e.keyLoc, `the rule "rewrite_update_payload_after_patch" runs only with "client_side_patching": true`);
    }
    out.ruleSets[property] = result.program;
  }
  return out;
}

/** The REST system a named template calls: entities fail without it, so the pipe only warns when it is not defined. */
export function templateSystemRefs(node: PObject): { system: string; node: PNode; severity: 'warning' }[] {
  const properties = entry(node, 'properties')?.value;
  const system = properties?.kind === 'object' ? entry(properties, 'rest_system')?.value : undefined;
  return system?.kind === 'string' ? [{ system: system.value, node: system, severity: 'warning' }] : [];
}

const PLACEHOLDER = /\{\{@\s*([^@}]*?)\s*@\}\}/g;
const WHOLE = /^\{\{@\s*([^@}]*?)\s*@\}\}$/;

/**
 * The transform an inline template body describes, with the template's properties in its
 * placeholders; null when the template is a name (or not an object), so the node stays as it is.
 */
export function expandInlineTemplate(node: PObject, bag: DiagnosticBag): PNode | null {
  const body = entry(node, 'template')?.value;
  if (body?.kind !== 'object') return null;
  const properties = entry(node, 'properties')?.value;
  const given = new Map<string, PNode>((properties?.kind === 'object' ? properties.entries : []).map((e: PEntry) => [e.key, e.value]));
  const unknown = (name: string, at: PNode) =>
    bag.error('TEMPLATE_UNKNOWN_PROPERTY', at.loc, `the inline template refers to the property "${name}", which its "properties" do not give (given: ${[...given.keys()].join(', ') || 'none'})`);
  const fill = (n: PNode): PNode => {
    switch (n.kind) {
      case 'object':
        return { ...n, entries: n.entries.map((e) => ({ ...e, value: fill(e.value) })) };
      case 'array':
        return { ...n, items: n.items.map(fill) };
      case 'string': {
        const whole = WHOLE.exec(n.value);
        if (whole) {
          const value = given.get(whole[1]);
          if (value === undefined) unknown(whole[1], n);
          return value ?? n;
        }
        if (!n.value.includes('{{@')) return n;
        const text = n.value.replace(PLACEHOLDER, (ref, name: string) => {
          const value = given.get(name);
          if (value === undefined) {
            unknown(name, n);
            return ref;
          }
          return textOf(value);
        });
        return { ...n, value: text };
      }
      default:
        return n;
    }
  };
  return fill(body);
}

/** A property value as text inside a longer string: strings as they are, other values as JSON. */
function textOf(n: PNode): string {
  switch (n.kind) {
    case 'string':
      return n.value;
    case 'number':
      return n.text;
    case 'boolean':
      return String(n.value);
    case 'null':
      return 'null';
    case 'array':
      return `[${n.items.map(jsonOf).join(', ')}]`;
    case 'object':
      return `{${n.entries.map((e) => `${JSON.stringify(e.key)}: ${jsonOf(e.value)}`).join(', ')}}`;
  }
}

function jsonOf(n: PNode): string {
  return n.kind === 'string' ? JSON.stringify(n.value) : textOf(n);
}
