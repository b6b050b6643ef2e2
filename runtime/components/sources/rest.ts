import schema from '../../../schemas/sources/rest.schema.json' with { type: 'json' };
import type { Entity } from '../../../compiler/values/types.js';
import type { Since, SourceSpec } from '../types.js';
import { restComponentSetup } from '../systems/rest.js';
import { entityShape, pageEntities } from '../systems/rest/entities.js';
import { exchange, type SinceSetting } from '../systems/rest/exchange.js';
import { later, sinceOf } from './json.js';

export const restSource: SourceSpec = {
  kind: 'source',
  type: 'rest',
  doc: 'Reads entities from a REST service through an operation of a REST system: Jinja-templated url, params, headers and payload, the entities at `payload_property` of JSON responses (or the raw body of other responses), `_id`/`_updated` from `id_expression`/`updated_expression`, pages followed through `next_page_link` until a termination strategy ends them, and continuation (`since` in a query parameter, a header or the templates).',
  schema,
  create(component, ctx) {
    const c = component.config;
    const { client, operations, what, tracer } = restComponentSetup(ctx, c, 'the rest source');
    const op = operations.get(c.operation);
    const shape = entityShape(op, c);
    const supportsSince = c.supports_since === true;
    const chronological = c.is_chronological === true;
    const comparable = c.is_since_comparable !== false;
    const failIfEmpty = c.if_source_empty === 'fail';
    const sinceName = (op.setting('since_property_name') as string | undefined) ?? 'since';
    const sinceLocation = (op.setting('since_property_location') as SinceSetting['location'] | undefined) ?? 'query';
    const properties = (c.properties ?? op.properties ?? {}) as Record<string, unknown>;
    const payload = c.payload !== undefined ? c.payload : op.payload;
    const retry = client.url.readRetryPolicy(ctx.pipe);
    let fallback = 0;

    return {
      supportsSince,
      datasets: [],
      async *read({ since, batchSize, run }) {
        const start: Since = supportsSince ? (since ?? (c.initial_since_value as Since | undefined) ?? null) : null;
        const sinceSetting: SinceSetting | null = supportsSince ? { name: sinceName, location: sinceLocation, value: start } : null;
        const token = (s: Since): Since => (supportsSince ? s : null);
        let best: Since = start;
        let batch: Entity[] = [];
        let total = 0;
        const pages = exchange({ client, op, context: start === null ? { properties } : { properties, since: start }, payload, since: sinceSetting, paging: true, options: { signal: run.signal, what, retry }, trace: tracer && run.trace ? { tracer, entries: run.trace } : undefined });
        for await (const page of pages) {
          for (const e of pageEntities(page, shape, { properties }, what, () => `${page.request.url}#${++fallback}`)) {
            const u = sinceOf(e._updated);
            if (u !== undefined && (chronological || !comparable || later(u, best))) best = u;
            batch.push(e);
            total++;
            if (batch.length >= batchSize) {
              // Out-of-order sources only move the since value once everything was read.
              yield { entities: batch, since: token(chronological ? best : start) };
              batch = [];
              if (run.signal.aborted) return;
            }
          }
        }
        if (total === 0 && failIfEmpty && run.full) throw new Error(`${what}: the operation "${op.name}" returned no entities and if_source_empty is "fail"`);
        if (batch.length || best !== start) yield { entities: batch, since: token(best) };
      },
    };
  },
};
