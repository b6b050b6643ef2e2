/**
 * JSON Schema validation of config entities (ajv over schemas/), with every error mapped back to
 * the line and column of the offending value, and defaults filled in for the effective config.
 *
 * Component schemas (one file per source/sink/transform/system type) list only their own
 * properties; the kind's `_common` properties are merged in when they are compiled. The set of
 * known component types is the set of schema files, so adding a component adds a file here and a
 * module in the runtime's registry, and touches nothing else.
 */
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DiagnosticBag, suggestion } from '../diagnostics.js';
import { isUnresolved, keyLocAtPointer, nodeAtPointer, type PNode } from '../parse/tree.js';

export type ComponentKind = 'source' | 'sink' | 'transform' | 'system';

export interface JsonSchema {
  $id?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema & Record<string, unknown>>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  description?: string;
  default?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  items?: JsonSchema;
  [key: string]: unknown;
}

export interface PropertyRef {
  property: string;
  /** `read` or `write` for dataset references. */
  mode?: 'read' | 'write';
  /** `id-alias`: entries are "dataset alias" strings. */
  format?: string;
}

const KIND_DIRS: Record<ComponentKind, string> = { source: 'sources', sink: 'sinks', transform: 'transforms', system: 'systems' };

/** Finds schemas/ by walking up from this module (works from the sources and from dist/). */
export function findSchemasDir(start = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'schemas', 'pipe.schema.json'))) return join(dir, 'schemas');
    dir = dirname(dir);
  }
  throw new Error(`cannot find the schemas/ directory above ${start}`);
}

/** The options every config validator is compiled with (here and ahead of time by the build). */
export const AJV_OPTIONS: Options = { allErrors: true, useDefaults: true, strict: false, verbose: true };
const ANNOTATIONS = ['x-dataset-ref', 'x-dataset-ref-format', 'x-system-ref', 'x-doc', 'x-namespaces-default', 'x-pipe-batch-size-default'];

export function newConfigAjv(extra: Options = {}): Ajv {
  const ajv = new Ajv({ ...AJV_OPTIONS, ...extra });
  for (const k of ANNOTATIONS) ajv.addKeyword(k);
  return ajv;
}

/**
 * Names a validator generated ahead of time by the schema it validates (and the options), so a
 * build whose schemas differ from the ones in use is never picked up.
 */
export function precompiledName(schema: JsonSchema): string {
  return createHash('sha256').update(JSON.stringify(AJV_OPTIONS)).update(JSON.stringify(schema)).digest('hex').slice(0, 24) + '.cjs';
}

/** Where the compiled build keeps generated validators: beside the module (absent in the sources). */
const PRECOMPILED_DIR = join(dirname(fileURLToPath(import.meta.url)), 'validators');

/** The id of a kind's common properties (not a component type: type names never contain ":"). */
export function commonSchemaId(kind: ComponentKind): string {
  return `${kind}:common`;
}

function readJson(path: string): JsonSchema {
  return JSON.parse(readFileSync(path, 'utf8')) as JsonSchema;
}

export class SchemaSet {
  /** Created on first need: the compiled build loads generated validators and never needs it. */
  private ajvInstance?: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly schemas = new Map<string, JsonSchema>();
  private readonly types: Record<ComponentKind, string[]> = { source: [], sink: [], transform: [], system: [] };

  private constructor(dir: string) {
    for (const name of ['pipe', 'pump', 'system', 'node-metadata']) this.schemas.set(name, readJson(join(dir, `${name}.schema.json`)));
    for (const kind of Object.keys(KIND_DIRS) as ComponentKind[]) {
      const sub = join(dir, KIND_DIRS[kind]);
      if (!existsSync(sub)) continue;
      const commonPath = join(sub, '_common.schema.json');
      const common = existsSync(commonPath) ? readJson(commonPath) : kind === 'system' ? this.schemas.get('system')! : undefined;
      // The common properties alone, for a component whose own schema Sluice does not have.
      if (common) this.schemas.set(commonSchemaId(kind), { ...common, additionalProperties: true });
      for (const file of readdirSync(sub).sort()) {
        if (!file.endsWith('.schema.json') || file.startsWith('_')) continue;
        const type = file.slice(0, -'.schema.json'.length);
        const own = readJson(join(sub, file));
        const merged: JsonSchema = {
          ...own,
          properties: { ...(common?.properties ?? {}), ...(own.properties ?? {}) },
          required: [...new Set([...(common?.required ?? []), ...(own.required ?? [])])],
        };
        if (kind === 'system') merged.properties!.type = { const: `system:${type}`, description: 'The system type.' };
        this.schemas.set(`${kind}/${type}`, merged);
        this.types[kind].push(type);
      }
    }
  }

  private static cache = new Map<string, SchemaSet>();

  static load(dir = findSchemasDir()): SchemaSet {
    let s = SchemaSet.cache.get(dir);
    if (!s) {
      s = new SchemaSet(dir);
      SchemaSet.cache.set(dir, s);
    }
    return s;
  }

  componentTypes(kind: ComponentKind): string[] {
    return this.types[kind];
  }

  has(id: string): boolean {
    return this.schemas.has(id);
  }

  schema(id: string): JsonSchema | undefined {
    return this.schemas.get(id);
  }

  /** Every schema id (`pipe`, `source/dataset`, ...). */
  ids(): string[] {
    return [...this.schemas.keys()];
  }

  /** The schema a validator for `id` is compiled from. */
  compileInput(id: string): JsonSchema {
    const schema = this.schemas.get(id);
    if (!schema) throw new Error(`no schema ${id}`);
    const { $id: _ignored, ...rest } = schema;
    return rest;
  }

  private validator(id: string): ValidateFunction {
    let v = this.validators.get(id);
    if (!v) {
      const schema = this.compileInput(id);
      v = loadPrecompiled(schema) ?? (this.ajvInstance ??= newConfigAjv()).compile(schema);
      this.validators.set(id, v);
    }
    return v;
  }

  /** Properties annotated as dataset or system references. */
  references(id: string): { datasets: PropertyRef[]; systems: PropertyRef[] } {
    const schema = this.schemas.get(id);
    const datasets: PropertyRef[] = [];
    const systems: PropertyRef[] = [];
    for (const [property, p] of Object.entries(schema?.properties ?? {})) {
      if (p['x-dataset-ref']) datasets.push({ property, mode: p['x-dataset-ref'] as 'read' | 'write', format: p['x-dataset-ref-format'] as string | undefined });
      if (p['x-system-ref']) systems.push({ property });
    }
    return { datasets, systems };
  }

  /**
   * Validates `value` (whose positioned tree is `node`) against schema `id`. Returns the value with
   * defaults filled in; reports errors and unknown-property warnings into `bag`.
   */
  validate(id: string, value: unknown, node: PNode, bag: DiagnosticBag, what: string): { ok: boolean; value: unknown } {
    const copy = cloneJson(value);
    const validate = this.validator(id);
    let ok = validate(copy) as boolean;
    if (!ok) {
      const restore: (() => void)[] = [];
      if (decodeNumberForms(validate.errors ?? [], copy, restore)) ok = validate(copy) as boolean;
      for (const undo of restore) undo();
    }
    let hasErrors = false;
    if (!ok) hasErrors = reportErrors(validate.errors ?? [], node, bag, what);
    return { ok: !hasErrors, value: copy };
  }
}

let requireValidator: NodeJS.Require | undefined;

function loadPrecompiled(schema: JsonSchema): ValidateFunction | undefined {
  const file = join(PRECOMPILED_DIR, precompiledName(schema));
  if (!existsSync(file)) return undefined;
  requireValidator ??= createRequire(import.meta.url);
  return requireValidator(file) as ValidateFunction;
}

const TRANSIT_NUMBER = /^~f(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)$/;

/**
 * Numbers in the forms config may write them, where the schema wants a number: Sesam keeps config
 * as entities, so config it hands back (and that users keep) may write a number as a transit
 * decimal ("~f0.1"), which becomes that number; and integers beyond 2^53 (bigints here) are
 * checked as numbers and then kept exact (`restore` puts them back after the check). Returns
 * whether anything changed.
 */
function decodeNumberForms(errors: ErrorObject[], root: unknown, restore: (() => void)[]): boolean {
  let changed = false;
  for (const e of errors) {
    const wanted = e.keyword === 'type' ? String((e.params as { type: string | string[] }).type) : '';
    if (!/number|integer/.test(wanted) || !e.instancePath) continue;
    const segments = e.instancePath.split('/').slice(1).map(propertyName);
    let parent = root as Record<string, unknown>;
    for (const seg of segments.slice(0, -1)) parent = parent[seg] as Record<string, unknown>;
    const last = segments[segments.length - 1];
    if (typeof e.data === 'bigint') {
      const exact = e.data;
      parent[last] = Number(exact);
      restore.push(() => (parent[last] = exact));
      changed = true;
      continue;
    }
    const m = typeof e.data === 'string' ? TRANSIT_NUMBER.exec(e.data) : null;
    if (!m) continue;
    const n = Number(m[1]);
    if (!/number/.test(wanted) && !Number.isInteger(n)) continue;
    parent[last] = n;
    changed = true;
  }
  return changed;
}

/** Deep copy of parsed config (plain JSON plus bigints); much faster than structuredClone here. */
function cloneJson(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneJson);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = cloneJson((v as Record<string, unknown>)[k]);
    if (k === '__proto__') Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
    else out[k] = x;
  }
  return out;
}

/** The last segment of a JSON pointer, unescaped. */
function propertyName(pointer: string): string {
  const seg = pointer.split('/').pop() ?? '';
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

function describeSchemaTypes(s: JsonSchema): string {
  const forms = (s.anyOf ?? s.oneOf ?? [s]).map((b) => {
    if (b.const !== undefined) return JSON.stringify(b.const);
    if (b.enum) return b.enum.map((x) => JSON.stringify(x)).join(' | ');
    const t = b.type;
    if (t === 'array' && b.items?.type) return `list of ${b.items.type}s`;
    return Array.isArray(t) ? t.join(' | ') : (t ?? (typeof b.description === 'string' ? b.description : 'a valid value'));
  });
  return forms.join(' or ');
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/**
 * Whether an error is about a value that still holds an unset `$ENV(...)` (reported once where it
 * is written), or about the shape of an object whose `$conditional_properties` cannot be decided
 * yet (its alternatives may still set or replace any property).
 */
function waitsForEnv(e: ErrorObject, root: PNode): boolean {
  const { node } = nodeAtPointer(root, e.instancePath);
  if (node.kind === 'object') return e.keyword !== 'additionalProperties' && (node.pendingKeys ?? []).length > 0;
  return isUnresolved(node);
}

/** Maps ajv errors to diagnostics; returns whether any error (not warning) was reported. */
function reportErrors(errors: ErrorObject[], root: PNode, bag: DiagnosticBag, what: string): boolean {
  let anyError = false;
  // Errors inside a failed anyOf/oneOf branch are noise: report the alternative once instead.
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath);
  const waiting = errors.filter((e) => waitsForEnv(e, root));
  const seen = new Set<string>();
  for (const e of errors) {
    // An if/then/else failure is told by the error of the branch that failed.
    if (waiting.includes(e) || e.keyword === 'if') continue;
    // A union fails as a whole when one of its branches only failed on a value waiting for $ENV.
    if ((e.keyword === 'anyOf' || e.keyword === 'oneOf') && waiting.some((w) => w.schemaPath.startsWith(e.schemaPath + '/'))) continue;
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && unions.some((p) => e.instancePath === p || e.instancePath.startsWith(p + '/')) && e.schemaPath.includes('Of/')) continue;
    const where = e.instancePath ? `"${e.instancePath.slice(1).replace(/\//g, '.')}"` : what;
    let message: string;
    let loc = nodeAtPointer(root, e.instancePath).node.loc;
    let severity: 'error' | 'warning' = 'error';
    let code: 'CONFIG_SCHEMA' | 'CONFIG_UNKNOWN_PROPERTY' = 'CONFIG_SCHEMA';
    switch (e.keyword) {
      case 'additionalProperties': {
        const prop = (e.params as { additionalProperty: string }).additionalProperty;
        const known = Object.keys((e.parentSchema as JsonSchema | undefined)?.properties ?? {});
        loc = keyLocAtPointer(root, e.instancePath, prop);
        message = `unknown property "${prop}" in ${e.instancePath ? where : what}${suggestion(prop, known)}`;
        severity = 'warning';
        code = 'CONFIG_UNKNOWN_PROPERTY';
        break;
      }
      case 'required':
        message = `${where} is missing required property "${(e.params as { missingProperty: string }).missingProperty}"`;
        break;
      case 'type':
        message = `${where} must be ${(e.params as { type: string }).type}, not ${jsonType(e.data)}`;
        break;
      case 'enum':
        message = `${where} must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((x) => JSON.stringify(x)).join(', ')}${typeof e.data === 'string' ? suggestion(e.data, ((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String)) : ''}`;
        break;
      case 'const':
        message = `${where} must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
        break;
      case 'anyOf':
      case 'oneOf':
        message = `${where} must be ${describeSchemaTypes(e.parentSchema as JsonSchema)}, not ${jsonType(e.data)}`;
        break;
      default:
        message = `${where} ${e.message ?? 'is not valid'}`;
    }
    const key = `${loc.line}:${loc.column}:${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    bag.add(code, loc, message, severity);
    if (severity === 'error') anyError = true;
  }
  return anyError;
}

export { propertyName };
