import schema from '../../../schemas/transforms/dtl.schema.json' with { type: 'json' };
import { CompiledDtl } from '../../../compiler/dtl/compiled.js';
import { DtlContext, DtlRuntimeError, DtlSuspend } from '../../../compiler/dtl/runtime.js';
import { isAsyncResolver, type HopsRequest } from '../../datasets/hops-resolver.js';
import type { Dict, Entity } from '../../../compiler/values/types.js';
import type { EntityFailure, TransformSpec } from '../types.js';
import { triggerMatcher } from './trigger.js';
import { sliceDue, yieldToEventLoop } from '../../executor/time-slice.js';

export const dtlTransform: TransformSpec = {
  kind: 'transform',
  type: 'dtl',
  doc: 'Applies the compiled Data Transformation Language rules to each entity; the default rule builds the target entity, and create/filter shape what is emitted.',
  schema,
  create(component, ctx) {
    if (!component.dtl) throw new Error(`pipe "${ctx.pipe.id}": the dtl transform has no compiled rules in the plan`);
    const config = component.config;
    const dtl = new CompiledDtl(component.dtl, {
      namespaces: ctx.pipe.namespaces,
      idRequired: config.id_required !== false,
      markFiltered: ctx.pipe.sink.type === 'dataset',
      pipeId: ctx.pipe.id,
      propagateDeleted: true,
    });

    const triggered = triggerMatcher(config.trigger_on);
    const evaluate = (X: DtlContext, e: Entity, out: Entity[], failures: EntityFailure[]): unknown => {
      if (triggered && !triggered(e)) {
        out.push(e);
        return undefined;
      }
      try {
        const emitted = dtl.transform(e, X);
        for (let i = 0; i < emitted.length; i++) out.push(emitted[i]);
      } catch (err) {
        if (err instanceof DtlSuspend) return err.request;
        if (err instanceof DtlRuntimeError && err.fatal) throw err;
        failures.push({ entity: e, error: err as Error });
      }
      return undefined;
    };
    return {
      async apply(entities, run) {
        const failures: EntityFailure[] = [];
        // A context per call: publishers evaluate with their own `_B` while the pump may be running.
        const resolver = ctx.hopsResolver();
        const X = new DtlContext({ hops: resolver, bindings: (run.bindings ?? {}) as Dict });
        if (!isAsyncResolver(resolver)) {
          const out: Entity[] = [];
          for (let i = 0; i < entities.length; i++) {
            evaluate(X, entities[i], out, failures);
            // Heavy rules over a batch: the API gets its turns (see time-slice.ts).
            if ((i & 7) === 7 && sliceDue()) await yieldToEventLoop();
          }
          return { entities: out, failures };
        }
        // An asynchronous store: entities whose joins missed the cache are evaluated again once
        // everything the batch asked for has been fetched (chained joins take several rounds).
        const outputs: Entity[][] = entities.map(() => []);
        let pending = entities.map((_, i) => i);
        for (let round = 0; pending.length; round++) {
          const requests: HopsRequest[] = [];
          const again: number[] = [];
          for (const i of pending) {
            const out: Entity[] = [];
            const request = evaluate(X, entities[i], out, failures);
            if (request) {
              requests.push(request as HopsRequest);
              again.push(i);
            } else outputs[i] = out;
            if (sliceDue()) await yieldToEventLoop();
          }
          if (!again.length) break;
          if (round >= 50) throw new Error(`pipe "${ctx.pipe.id}": hops did not settle after 50 rounds of fetching`);
          await resolver.fetch(requests);
          pending = again;
        }
        return { entities: outputs.flat(), failures };
      },
    };
  },
};
