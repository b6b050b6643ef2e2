import schema from '../../../schemas/transforms/dtl.schema.json' with { type: 'json' };
import { CompiledDtl } from '../../../compiler/dtl/compiled.js';
import { DtlContext, DtlRuntimeError } from '../../../compiler/dtl/runtime.js';
import { getPath } from '../../../compiler/dtl/runtime.js';
import { wildcardMatcher } from '../../../compiler/dtl/functions/ns-util.js';
import type { Entity } from '../../../compiler/values/types.js';
import type { EntityFailure, TransformSpec } from '../types.js';

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
    });
    const X = new DtlContext({ hops: ctx.hopsResolver() });
    const trigger = config.trigger_on as { key?: string; value: string } | undefined;
    const triggered = trigger
      ? (() => {
          const path = (trigger.key ?? '_trigger').split('.');
          const match = wildcardMatcher(String(trigger.value));
          return (e: Entity) => {
            const v = getPath(e, path);
            return typeof v === 'string' && match(v);
          };
        })()
      : null;
    return {
      async apply(entities) {
        const out: Entity[] = [];
        const failures: EntityFailure[] = [];
        X.resetNow();
        for (const e of entities) {
          if (triggered && !triggered(e)) {
            out.push(e);
            continue;
          }
          try {
            const emitted = dtl.transform(e, X);
            for (let i = 0; i < emitted.length; i++) out.push(emitted[i]);
          } catch (err) {
            if (err instanceof DtlRuntimeError && err.fatal) throw err;
            failures.push({ entity: e, error: err as Error });
          }
        }
        return { entities: out, failures };
      },
    };
  },
};
