import schema from '../../../schemas/transforms/rest.schema.json' with { type: 'json' };
import type { Entity } from '../../../compiler/values/types.js';
import type { EntityFailure, RunInfo, TransformSpec } from '../types.js';
import { triggerMatcher } from './trigger.js';
import { restComponentSetup } from '../systems/rest.js';
import { addResponseDetails, applyExpressions, entityRequest, entityShape } from '../systems/rest/entities.js';
import { exchange, type RestPage } from '../systems/rest/exchange.js';

export const restTransform: TransformSpec = {
  kind: 'transform',
  type: 'rest',
  doc: 'Calls a REST service for each entity with an operation of a REST system (named by the entity or the transform, templated like the REST sink, pages followed like the REST source) and adds the response to the entity in `response_property`, or replaces the entity with the JSON entities of the response (`replace_entity`); `allowed_status_codes` pass other statuses through, `ignored_status_codes` drop their responses.',
  schema,
  create(component, ctx) {
    const c = component.config;
    const { client, operations, what, tracer } = restComponentSetup(ctx, c, 'the rest transform');
    if (c.operation !== undefined) operations.get(c.operation);
    const triggered = triggerMatcher(c.trigger_on);
    const replace = c.replace_entity === true;
    const failIfEmpty = c.if_transform_empty === 'fail';
    const retry = client.url.readRetryPolicy(ctx.pipe);

    /** The entities one input entity becomes. */
    const call = async (e: Entity, run: RunInfo): Promise<Entity[]> => {
      const op = operations.get(e.operation ?? c.operation);
      const shape = entityShape(op, c, 'response');
      const request = entityRequest(e, c, op);
      const { payload } = request;
      const entity = request.context.entity as Record<string, unknown>;
      const context = Object.assign(request.context, { source_entity: entity });
      const at = `${what}: entity "${e._id}"`;
      const pages: RestPage[] = [];
      const accept = (s: number) => op.allowed(s) || (op.ignored?.(s) ?? false);
      for await (const page of exchange({ client, op, context, payload, paging: true, options: { signal: run.signal, what: at, retry, accept }, trace: tracer && run.trace ? { tracer, entries: run.trace } : undefined })) {
        if (op.ignored?.(page.status)) return replace ? [] : [e];
        pages.push(page);
      }
      const last = pages[pages.length - 1];
      if (replace) {
        if (!last.json) return [addResponseDetails({ _id: e._id, [shape.responseProperty!]: last.text }, last, { ...shape, headersProperty: undefined, statusProperty: undefined })];
        // The response's entities as they are: the expressions are not evaluated when replacing.
        return pages.flatMap((p) =>
          p.items.map((item, i) => {
            if (item !== null && typeof item === 'object' && !Array.isArray(item)) return item as Entity;
            throw new Error(`${at}: item ${i + 1} of the response of ${p.request.method} ${p.href} is not a JSON object, so it cannot replace the entity (replace_entity)`);
          }),
        );
      }
      let response: unknown;
      if (!last.json) response = last.text;
      else {
        const shaped = (p: RestPage) => p.items.map((item) => withExpressions(item, p));
        const withExpressions = (item: unknown, p: RestPage): unknown => {
          if (!shape.idExpression && !shape.updatedExpression) return item;
          if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
          const copy = { ...(item as Entity) };
          applyExpressions(copy, item, p, shape, { source_entity: entity }, at);
          return copy;
        };
        response = pages.length === 1 && !Array.isArray(last.result) ? withExpressions(last.result, last) : pages.flatMap(shaped);
      }
      const out: Entity = { ...e, [shape.responseProperty!]: (response ?? null) as Entity[string] };
      return [addResponseDetails(out, last, shape)];
    };

    return {
      async apply(entities, run) {
        const out: Entity[] = [];
        const failures: EntityFailure[] = [];
        for (const e of entities) {
          if (triggered && !triggered(e)) {
            out.push(e);
            continue;
          }
          try {
            for (const x of await call(e, run)) out.push(x);
          } catch (err) {
            failures.push({ entity: e, error: err as Error });
          }
        }
        if (failIfEmpty && entities.length > 0 && out.length === 0 && failures.length === 0) throw new Error(`${what}: produced no entities from ${entities.length} and if_transform_empty is "fail"`);
        return { entities: out, failures };
      },
    };
  },
};
