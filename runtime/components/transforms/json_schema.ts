import schema from '../../../schemas/transforms/json_schema.schema.json' with { type: 'json' };
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Entity } from '../../../compiler/values/types.js';
import { plainValue } from '../systems/rest/values.js';
import { urlClientFor } from '../systems/url.js';
import type { TransformSpec } from '../types.js';
import { triggerMatcher } from './trigger.js';

/** A value as Python writes it in messages: 'text', True, None, [1, 2], {'a': 1}. */
function pythonRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(v)) return `[${v.map(pythonRepr).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${pythonRepr(k)}: ${pythonRepr(x)}`).join(', ')}}`;
  return String(v);
}

/** Error messages in the words of Python's jsonschema package, which the reference's examples show. */
function message(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  const value = pythonRepr(e.data);
  switch (e.keyword) {
    case 'required':
      return `${pythonRepr(p.missingProperty)} is a required property`;
    case 'type':
      return `${value} is not of type ${String(p.type)
        .split(',')
        .map((t) => pythonRepr(t))
        .join(', ')}`;
    case 'enum':
      return `${value} is not one of ${pythonRepr(p.allowedValues)}`;
    case 'const':
      return `${pythonRepr(p.allowedValue)} was expected`;
    case 'minimum':
      return `${value} is less than the minimum of ${String(p.limit)}`;
    case 'maximum':
      return `${value} is greater than the maximum of ${String(p.limit)}`;
    case 'exclusiveMinimum':
      return `${value} is less than or equal to the minimum of ${String(p.limit)}`;
    case 'exclusiveMaximum':
      return `${value} is greater than or equal to the maximum of ${String(p.limit)}`;
    case 'minLength':
      return `${value} is too short`;
    case 'maxLength':
      return `${value} is too long`;
    case 'minItems':
      return `${value} is too short`;
    case 'maxItems':
      return `${value} is too long`;
    case 'pattern':
      return `${value} does not match ${pythonRepr(p.pattern)}`;
    case 'additionalProperties':
      return `Additional properties are not allowed (${pythonRepr(p.additionalProperty)} was unexpected)`;
    case 'format':
      return `${value} is not a ${pythonRepr(p.format)}`;
    default:
      return `${e.instancePath || '/'} ${e.message ?? 'is not valid'}`;
  }
}

export const jsonSchemaTransform: TransformSpec = {
  kind: 'transform',
  type: 'json_schema',
  doc: 'Validates each entity against a JSON Schema (`schema`, or fetched once from `schema_url` through a URL system) and sets `key_valid` (default "valid") to true or false and, for invalid entities, `key_errors` (default "errors") to the list of error messages.',
  schema,
  create(component, ctx) {
    const c = component.config;
    const what = `pipe "${ctx.pipe.id}": the json_schema transform`;
    const keyValid = (c.key_valid as string | undefined) ?? 'valid';
    const keyErrors = (c.key_errors as string | undefined) ?? 'errors';
    const triggered = triggerMatcher(c.trigger_on);
    const ajv = new Ajv({ allErrors: true, strict: false, verbose: true, validateSchema: true });
    const compile = (s: unknown, from: string): ValidateFunction => {
      try {
        return ajv.compile(s as object);
      } catch (err) {
        throw new Error(`${what}: the JSON Schema ${from} is not valid: ${(err as Error).message}`);
      }
    };
    let validator: () => Promise<ValidateFunction>;
    if (c.schema !== undefined) {
      const compiled = compile(plainValue(c.schema), 'in "schema"');
      validator = async () => compiled;
    } else if (typeof c.schema_url === 'string') {
      const client = urlClientFor(ctx, c.system, 'the json_schema transform');
      const url = c.schema_url;
      let loaded: Promise<ValidateFunction> | null = null;
      const load = async (): Promise<ValidateFunction> => {
        const res = await client.request({ url, what, headers: { accept: 'application/json, application/schema+json' } });
        const text = await res.text();
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new Error(`${what}: the schema at ${client.resolve(url)} is not JSON`);
        }
        return compile(parsed, `at ${client.resolve(url)}`);
      };
      // Fetched when first needed (and again after a failure), not when the config loads.
      validator = () => {
        loaded ??= load().catch((err: unknown) => {
          loaded = null;
          throw err;
        });
        return loaded;
      };
    } else throw new Error(`${what} needs "schema" or "schema_url"`);

    return {
      async apply(entities) {
        const validate = await validator();
        const out: Entity[] = [];
        for (const e of entities) {
          if (triggered && !triggered(e)) {
            out.push(e);
            continue;
          }
          const valid = validate(plainValue(e)) as boolean;
          out.push(valid ? { ...e, [keyValid]: true } : { ...e, [keyValid]: false, [keyErrors]: (validate.errors ?? []).map(message) });
        }
        return { entities: out, failures: [] };
      },
    };
  },
};
