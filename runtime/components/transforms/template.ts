/**
 * The template transform: named, built-in transforms for REST connectors.
 *
 * - `transform-collect-rest`: in a collect pipe, optionally looks each entity up with
 *   `operation_lookup` (keeping the input in `original_property`), verifies deletes with
 *   `operation_lookup_delete` (an entity the system still has is not deleted), and adds `$origin`
 *   from the share dataset entity whose `$generated_id` is the entity's primary key.
 * - `transform-defaults-rest`: merges the response of a default-values operation under the entity
 *   (the entity's properties win).
 * - `transform-share-rest`: in a share pipe, inserts, updates or deletes each entity in the system
 *   with optimistic locking: an update is sent only when the system's current state (lookup) is the
 *   state the entity was based on (`$based_on`), unless `$unsafe_skip_optimistic_locking` is set.
 *   The result is recorded in `$operation`, `$status`, `$response` and, for inserts,
 *   `$generated_id` and `$origin` (what the collect template hops to).
 *
 * The share template's DTL extension points (compiled by the compiler, run by template-rules.ts):
 * `rewrite_lookup` (rewrite_rules_lookup) rewrites every lookup response, then `lookup_rewrite_based_on`
 * and `lookup_rewrite_update` (`rules`, with `lookup_rewrite` standing in for either) rewrite it for the
 * optimistic locking check and for client-side patching; `rewrite_insert_payload` and
 * `rewrite_update_payload` build the payload (their `$payload`) from the entity with the original in
 * `$source`, and `rewrite_update_payload_after_patch` rewrites a patched payload (`_S._payload`, the
 * entity in `_R._S.$source`); `rewrite_insert`, `rewrite_update` and `rewrite_delete`
 * (rewrite_rules_mutation) rewrite the responses before they are recorded (and before an insert's key
 * is read). Responses that are not JSON objects are left as they are.
 *
 * A template body written inline never reaches this module: the compiler expands it in place.
 */
import schema from '../../../schemas/transforms/template.schema.json' with { type: 'json' };
import { stringifyValue } from '../../../compiler/values/json.js';
import type { Entity } from '../../../compiler/values/types.js';
import { restComponentSetup } from '../systems/rest.js';
import { exchange, type RestPage } from '../systems/rest/exchange.js';
import { plainValue } from '../systems/rest/values.js';
import type { ComponentContext, EntityFailure, TransformSpec } from '../types.js';
import { ExtensionRules } from './template-rules.js';

type Props = Record<string, unknown>;

class TemplateConfigError extends Error {
  readonly code = 'TEMPLATE_CONFIG';
}

function keyOf(e: Entity, primaryKey: unknown): string | null {
  const keys = Array.isArray(primaryKey) ? primaryKey : [primaryKey];
  const parts: string[] = [];
  for (const k of keys) {
    const v = e[String(k)];
    if (v === undefined || v === null || v === '') return null;
    parts.push(typeof v === 'string' ? v : stringifyValue(v));
  }
  // Composite keys are joined with ":" (the key a share pipe records in $generated_id).
  return parts.join(':');
}

/**
 * Calls one operation of the template's REST system for an entity; the last page. The system is
 * looked up by the first call: a pipe whose entities never need it (an empty input) runs without it.
 */
function caller(ctx: ComponentContext, system: unknown, what: string) {
  let setup: ReturnType<typeof restComponentSetup> | null = null;
  return async (name: string, e: Entity, properties: Props, signal: AbortSignal, opts: { payload?: unknown; send?: boolean; allowed?: (s: number) => boolean } = {}): Promise<RestPage> => {
    setup ??= restComponentSetup(ctx, { system }, what);
    const { client, operations, what: at } = setup;
    const op = operations.get(name);
    const entity = plainValue(e) as Props;
    // Object.assign, not a spread: the exchange copies and extends this object (see entityRequest).
    const context = Object.assign({}, entity, { entity, source_entity: entity, properties: { ...(op.properties ?? {}), ...properties } });
    let last: RestPage | null = null;
    const payload = 'payload' in opts ? opts.payload : op.payload;
    for await (const page of exchange({ client, op, context, payload, paging: opts.send !== true, options: { signal, what: `${at}: entity "${e._id}"`, retry: client.url.readRetryPolicy(ctx.pipe), accept: opts.allowed } })) last = page;
    return last!;
  };
}

function body(page: RestPage): unknown {
  return page.json ? page.result : page.text;
}

function dict(v: unknown): Props | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Props) : null;
}

/** Status code expressions of the share template ("100-599" by default: every answer is recorded). */
function statuses(expr: unknown): (s: number) => boolean {
  const text = typeof expr === 'string' ? expr : '100-599';
  const ranges = text.split(',').map((p) => p.split('-').map(Number));
  return (s) => ranges.some(([a, b]) => s >= a && s <= (b ?? a));
}

/** A comparable form of a lookup response (property order and `_`/`$` properties ignored). */
function fingerprint(v: unknown): string {
  const d = dict(plainValue(v));
  if (!d) return JSON.stringify(v ?? null);
  const own = Object.fromEntries(Object.entries(d).filter(([k]) => !k.startsWith('_') && !k.startsWith('$')));
  return stringifyValue(own as Entity, true);
}

type Apply = (e: Entity, signal: AbortSignal) => Promise<Entity[]>;

function collectRest(ctx: ComponentContext, p: Props, what: string): Apply {
  const call = p.rest_system !== undefined ? caller(ctx, p.rest_system, what) : null;
  if ((p.operation_lookup || p.operation_lookup_delete) && !call) throw new TemplateConfigError(`${what}: operation_lookup and operation_lookup_delete need "rest_system"`);
  if (p.operation_lookup && p.operation_lookup_delete) throw new TemplateConfigError(`${what}: operation_lookup and operation_lookup_delete cannot be used together`);
  const share = typeof p.share_dataset === 'string' ? p.share_dataset : null;
  let indexed: Promise<void> | null = null;
  return async (e, signal) => {
    let out: Entity = e;
    const key = keyOf(e, p.primary_key);
    if (p.operation_lookup_delete && e._deleted === true && key !== null) {
      const page = await call!(String(p.operation_lookup_delete), e, (p.operation_lookup_delete_properties ?? {}) as Props, signal, { allowed: () => true });
      // The system still has it: the delete was not real.
      if (page.status >= 200 && page.status < 300) out = { ...e, _deleted: false };
    } else if (p.operation_lookup && e._deleted !== true) {
      const page = await call!(String(p.operation_lookup), e, (p.operation_lookup_properties ?? {}) as Props, signal, { allowed: (s) => s === 404 });
      if (page.status === 404) out = { ...e, _deleted: true };
      else {
        const found = dict(body(page));
        if (!found) throw new Error(`${what}: the lookup of entity "${e._id}" did not answer a JSON object`);
        out = { ...(found as Entity), _id: e._id };
        if (typeof p.original_property === 'string') out[p.original_property] = e;
      }
    }
    if (share && key !== null) {
      indexed ??= ctx.store.ensureIndex(share, ['$generated_id']);
      await indexed;
      const shared = (await ctx.store.lookup(share, ['$generated_id'], [key])).find((s) => s._deleted !== true && s.$origin !== undefined);
      if (shared) out = { ...out, $origin: shared.$origin };
    }
    return [out];
  };
}

function defaultsRest(ctx: ComponentContext, p: Props, what: string): Apply {
  if (p.rest_system === undefined || typeof p.operation !== 'string') throw new TemplateConfigError(`${what}: transform-defaults-rest needs "rest_system" and "operation"`);
  const call = caller(ctx, p.rest_system, what);
  return async (e, signal) => {
    if (e._deleted === true) return [e];
    const defaults = dict(body(await call(String(p.operation), e, (p.operation_properties ?? {}) as Props, signal))) ?? {};
    return [{ ...(defaults as Entity), ...e }];
  };
}

function shareRest(ctx: ComponentContext, p: Props, what: string, rules: ExtensionRules): Apply {
  if (p.rest_system === undefined) throw new TemplateConfigError(`${what}: transform-share-rest needs "rest_system"`);
  const call = caller(ctx, p.rest_system, what);
  const name = (k: string, dflt: string) => (typeof p[`operation_${k}`] === 'string' ? String(p[`operation_${k}`]) : dflt);
  const props = (k: string) => (p[`operation_${k}_properties`] ?? {}) as Props;
  const allowed = (k: string) => statuses(p[`${k}_allowed_status_codes`]);
  const payloadProperty = typeof p.payload_property === 'string' ? p.payload_property : 'payload';
  const rewriteOr = (rule: string) => (rules.has(rule) ? rule : 'lookup_rewrite');
  /** The payload of an insert or update: its payload rule's `$payload`, else `$payload`, the payload property or the entity's own properties. */
  const payloadOf = async (e: Entity, rule: 'rewrite_insert_payload' | 'rewrite_update_payload'): Promise<unknown> => {
    if (rules.has(rule)) return payloadFrom(rule, await rules.apply(rule, { ...e, $source: e }), e);
    return e.$payload ?? e[payloadProperty] ?? Object.fromEntries(Object.entries(e).filter(([k]) => !k.startsWith('_') && !k.startsWith('$')));
  };
  /** A response body, rewritten by the mutation rule of its operation. */
  const response = (page: RestPage, rule: string) => rules.rewrite(rule, body(page));
  const record = (e: Entity, operation: string, status: string, page: RestPage | null, answer: unknown, extra: Entity = {}): Entity => ({
    ...e,
    $operation: operation,
    $status: status,
    ...(page ? { $response: (answer ?? null) as Entity[string], $response_status: page.status } : {}),
    ...extra,
  });
  const failed = (page: RestPage) => page.status < 200 || page.status >= 300;
  return async (e, signal) => {
    const key = keyOf(e, p.primary_key);
    if (e._deleted === true) {
      if (key === null) return [record(e, 'none', 'not-in-system', null, null)];
      const page = await call(name('delete', 'delete'), e, props('delete'), signal, { send: true, allowed: allowed('delete') });
      return [record(e, 'delete', failed(page) ? 'failed' : 'deleted', page, await response(page, 'rewrite_delete'))];
    }
    const insert = async (): Promise<Entity[]> => {
      const page = await call(name('insert', 'insert'), e, props('insert'), signal, { payload: await payloadOf(e, 'rewrite_insert_payload'), send: true, allowed: allowed('insert') });
      const answer = await response(page, 'rewrite_insert');
      if (failed(page)) return [record(e, 'insert', 'failed', page, answer)];
      const answered = dict(answer);
      const generated = answered ? keyOf(answered as Entity, p.primary_key_insert ?? p.primary_key) : null;
      return [record(e, 'insert', 'inserted', page, answer, { $origin: e._id, ...(generated !== null ? { $generated_id: generated } : {}) })];
    };
    if (key === null && p.is_natural_key !== true) return insert();
    const lookup = await call(name('lookup', 'lookup'), e, props('lookup'), signal, { allowed: allowed('lookup') });
    if (lookup.status === 404) return p.is_natural_key === true ? insert() : [record(e, 'none', 'deleted-in-system', lookup, body(lookup))];
    if (failed(lookup)) return [record(e, 'lookup', 'failed', lookup, body(lookup))];
    const current = await rules.rewrite('rewrite_lookup', body(lookup));
    const basedOn = e.$based_on;
    if (basedOn !== undefined && e.$unsafe_skip_optimistic_locking !== true && fingerprint(basedOn) !== fingerprint(await rules.rewrite(rewriteOr('lookup_rewrite_based_on'), current))) {
      return [record(e, 'none', 'modified-in-system', lookup, current)];
    }
    let payload = await payloadOf(e, 'rewrite_update_payload');
    if (p.client_side_patching === true) {
      payload = { ...(dict(plainValue(await rules.rewrite(rewriteOr('lookup_rewrite_update'), current))) ?? {}), ...(dict(payload) ?? {}) };
      const rule = 'rewrite_update_payload_after_patch';
      if (rules.has(rule)) payload = payloadFrom(rule, await rules.apply(rule, { _payload: payload as Entity[string] }, { ...e, $source: e }), e);
    }
    const page = await call(name('update', 'update'), e, props('update'), signal, { payload, send: true, allowed: allowed('update') });
    return [record(e, 'update', failed(page) ? 'failed' : 'updated', page, await response(page, 'rewrite_update'))];
  };
}

/** The `$payload` a payload rule built; a rule that builds none fails the entity. */
function payloadFrom(rule: string, target: Props | null, e: Entity): unknown {
  if (target === null || !('$payload' in target)) throw new Error(`entity "${e._id}": the rule "${rule}" of rewrite_rules_payload ${target === null ? 'filtered the entity out' : 'built no "$payload"'}; it must return a dict with the payload in "$payload"`);
  return target.$payload;
}

const TEMPLATES: Record<string, (ctx: ComponentContext, p: Props, what: string, rules: ExtensionRules) => Apply> = {
  'transform-collect-rest': collectRest,
  'transform-defaults-rest': defaultsRest,
  'transform-share-rest': shareRest,
};

export const templateTransform: TransformSpec = {
  kind: 'transform',
  type: 'template',
  doc: 'Runs a built-in transform template for REST connectors: transform-collect-rest (lookups, verified deletes, $origin from the share dataset), transform-defaults-rest (defaults from a lookup operation) or transform-share-rest (insert, update with optimistic locking, delete, and the DTL extension points rules, rewrite_rules_payload, rewrite_rules_lookup and rewrite_rules_mutation); the template\'s `properties` configure it. A template body written inline is expanded by the compiler.',
  schema,
  create(component, ctx) {
    const c = component.config;
    const what = `pipe "${ctx.pipe.id}": the template transform`;
    if (typeof c.template !== 'string') throw new TemplateConfigError(`${what}: the inline template body was not expanded (the compiler expands it); compile the config again`);
    const make = TEMPLATES[c.template];
    if (!make) throw new TemplateConfigError(`${what}: unknown template "${c.template}" (known: ${Object.keys(TEMPLATES).join(', ')})`);
    const p = (c.properties ?? {}) as Props;
    const apply = make(ctx, p, `${what} (${c.template})`, new ExtensionRules(component.rule_sets, ctx));
    return {
      async apply(entities, run) {
        const out: Entity[] = [];
        const failures: EntityFailure[] = [];
        for (const e of entities) {
          try {
            for (const x of await apply(e, run.signal)) out.push(x);
          } catch (err) {
            failures.push({ entity: e, error: err as Error });
          }
        }
        return { entities: out, failures };
      },
    };
  },
};
