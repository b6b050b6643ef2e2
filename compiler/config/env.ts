/**
 * `$ENV(name)`, `$SECRET(name)` and `$conditional_properties`, resolved on the positioned tree so
 * that later diagnostics still point into the user's file.
 *
 * A string that is exactly `$ENV(x)` takes the variable's value with its JSON type; a string that
 * mixes text and references becomes a string. Secrets stay as `$SECRET(x)` references in the plan:
 * the runtime substitutes them when it builds a component, so secret values never enter plans,
 * ConfigMaps or the API. An unknown secret is only a warning: a system's own secrets can be set only
 * once the system exists (PUT /api/systems/{id}/secrets), and CI nodes deliberately hold no
 * secrets, so the component that needs the value fails when it is used instead.
 *
 * An unset variable is reported once, where it is written, and the value is marked (see
 * PString.unresolved) so that later checks of it wait for the variable. Only the alternative a
 * condition chooses is checked: the others often name what only another environment has.
 */
import { DiagnosticBag, suggestion } from '../diagnostics.js';
import { entry, fromPlain, isUnresolved, type Loc, type PNode, type PObject } from '../parse/tree.js';

export type EnvValues = Record<string, unknown>;

export interface ReferenceSources {
  env: EnvValues;
  /** Names of the secrets that exist; undefined means "not known here" (no check). */
  secrets?: ReadonlySet<string>;
}

const REF = /\$(ENV|SECRET)\(([^()$]*)\)/g;
const WHOLE_ENV = /^\$ENV\(([^()$]*)\)$/;

export function resolveReferences(node: PNode, sources: ReferenceSources, bag: DiagnosticBag, opts: { conditionals?: boolean } = {}): PNode {
  const conditionals = opts.conditionals ?? true;
  const visit = (n: PNode, into: DiagnosticBag): PNode => {
    switch (n.kind) {
      case 'string':
        return resolveString(n.value, n.loc, sources, into);
      case 'array':
        return { ...n, items: n.items.map((x) => visit(x, into)) };
      case 'object': {
        const obj: PObject = isConditionalComponent(n)
          ? visitChoice(n, into)
          : { ...n, entries: n.entries.map((e) => ({ ...e, value: conditionals && e.key === '$conditional_properties' && e.value.kind === 'object' ? visitChoice(e.value, into) : visit(e.value, into) })) };
        return conditionals ? applyConditional(obj, into) : obj;
      }
      default:
        return n;
    }
  };
  /**
   * A choice between alternatives (a conditional component, a `$conditional_properties` block):
   * only the alternative the condition selects is the config. The others are resolved too, but
   * what they lack is no problem of this config (the prod alternative of a test node may name
   * variables and secrets the test node does not have), so it is not reported.
   */
  const visitChoice = (n: PObject, into: DiagnosticBag): PObject => {
    const conditionEntry = entry(n, 'condition');
    const condition = conditionEntry ? visit(conditionEntry.value, into) : undefined;
    const chosen = condition && !isUnresolved(condition) ? conditionKey(condition) : undefined;
    return {
      ...n,
      entries: n.entries.map((e) => {
        if (e === conditionEntry) return { ...e, value: condition! };
        if (e.key !== 'alternatives' || e.value.kind !== 'object') return { ...e, value: visit(e.value, into) };
        const alternatives = e.value.entries.map((a) => ({ ...a, value: visit(a.value, a.key === chosen ? into : new DiagnosticBag()) }));
        return { ...e, value: { ...e.value, entries: alternatives } };
      }),
    };
  };
  return visit(node, bag);
}

/** A conditional source, sink or transform: `type` "conditional" with a `condition` and `alternatives`. */
function isConditionalComponent(n: PObject): boolean {
  const type = entry(n, 'type')?.value;
  return type?.kind === 'string' && type.value === 'conditional' && entry(n, 'condition') !== undefined && entry(n, 'alternatives')?.value.kind === 'object';
}

/** The alternative a condition's value selects: its text (numbers as written, null as "null"). */
export function conditionKey(condition: PNode): string {
  return condition.kind === 'string' ? condition.value : condition.kind === 'number' ? condition.text : condition.kind === 'boolean' ? String(condition.value) : 'null';
}

function resolveString(s: string, loc: Loc, sources: ReferenceSources, bag: DiagnosticBag): PNode {
  if (s.indexOf('$') < 0) return { kind: 'string', loc, value: s };
  const whole = WHOLE_ENV.exec(s);
  if (whole) {
    const name = whole[1];
    if (!(name in sources.env)) {
      bag.error('CONFIG_ENV_UNRESOLVED', loc, `environment variable "${name}" is not set${suggestion(name, Object.keys(sources.env))}`);
      return { kind: 'string', loc, value: s, unresolved: true };
    }
    return fromPlain(sources.env[name], loc);
  }
  let unresolved = false;
  const value = s.replace(REF, (ref, kind: string, name: string) => {
    if (kind === 'SECRET') {
      if (sources.secrets && !sources.secrets.has(name)) {
        bag.warning('CONFIG_SECRET_UNRESOLVED', loc, `secret "${name}" is not set${suggestion(name, sources.secrets)}: what uses it fails until it is set`);
      }
      return ref;
    }
    if (!(name in sources.env)) {
      bag.error('CONFIG_ENV_UNRESOLVED', loc, `environment variable "${name}" is not set${suggestion(name, Object.keys(sources.env))}`);
      unresolved = true;
      return ref;
    }
    const v = sources.env[name];
    return typeof v === 'string' ? v : JSON.stringify(v);
  });
  return unresolved ? { kind: 'string', loc, value, unresolved: true } : { kind: 'string', loc, value };
}

/** Replaces properties at this level with the alternative the condition selects. */
function applyConditional(obj: PObject, bag: DiagnosticBag): PObject {
  const idx = obj.entries.findIndex((e) => e.key === '$conditional_properties');
  if (idx < 0) return obj;
  const block = obj.entries[idx].value;
  const rest = obj.entries.filter((_, i) => i !== idx);
  if (block.kind !== 'object') {
    bag.error('CONFIG_SCHEMA', block.loc, '"$conditional_properties" must be an object with "condition" and "alternatives"');
    return { ...obj, entries: rest };
  }
  const condition = block.entries.find((e) => e.key === 'condition')?.value;
  const alternatives = block.entries.find((e) => e.key === 'alternatives')?.value;
  if (!condition || !alternatives || alternatives.kind !== 'object') {
    bag.error('CONFIG_SCHEMA', block.loc, '"$conditional_properties" needs a "condition" and an "alternatives" object');
    return { ...obj, entries: rest };
  }
  const key = conditionKey(condition);
  const chosen = alternatives.entries.find((e) => e.key === key)?.value;
  if (!chosen && isUnresolved(condition)) {
    // Any alternative could apply once the variable is set: what they set is not missing.
    const pendingKeys = alternatives.entries.flatMap((a) => (a.value.kind === 'object' ? a.value.entries.map((e) => e.key) : []));
    return { ...obj, entries: rest, pendingKeys: [...new Set([...(obj.pendingKeys ?? []), ...pendingKeys])] };
  }
  if (!chosen) return { ...obj, entries: rest };
  if (chosen.kind !== 'object') {
    bag.error('CONFIG_SCHEMA', chosen.loc, `alternative "${key}" of "$conditional_properties" must be an object`);
    return { ...obj, entries: rest };
  }
  const replaced = new Set(chosen.entries.map((e) => e.key));
  for (const k of ['_id', 'type']) {
    const e = chosen.entries.find((x) => x.key === k);
    if (e) bag.error('CONFIG_SCHEMA', e.keyLoc, `"${k}" cannot be set by "$conditional_properties"`);
  }
  return { ...obj, entries: [...rest.filter((e) => !replaced.has(e.key)), ...chosen.entries.filter((e) => e.key !== '_id' && e.key !== 'type')] };
}

/** Names of all `$SECRET(...)` references in a plain value. */
export function secretReferences(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    for (const m of value.matchAll(REF)) if (m[1] === 'SECRET') out.add(m[2]);
  } else if (Array.isArray(value)) value.forEach((v) => secretReferences(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => secretReferences(v, out));
  return out;
}

/**
 * Substitutes `$SECRET(name)` in a text with `encode(value)` (JSON text needs its string escaping);
 * names without a value stay as they are.
 */
export function substituteSecretText(text: string, secrets: Record<string, string>, encode: (value: string) => string = (v) => v): string {
  return text.replace(REF, (ref, kind: string, name: string) => (kind === 'SECRET' && Object.hasOwn(secrets, name) ? encode(secrets[name]) : ref));
}

/** Substitutes `$SECRET(name)` in a plain value (the runtime does this when it builds components). */
export function substituteSecrets<T>(value: T, secrets: Record<string, string>): T {
  if (typeof value === 'string') return substituteSecretText(value, secrets) as T;
  if (Array.isArray(value)) return value.map((v) => substituteSecrets(v, secrets)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteSecrets(v, secrets)])) as T;
  return value;
}
