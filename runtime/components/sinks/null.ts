import schema from '../../../schemas/sinks/null.schema.json' with { type: 'json' };
import type { SinkSpec } from '../types.js';

export const nullSink: SinkSpec = {
  kind: 'sink',
  type: 'null',
  doc: 'Discards every entity; useful for pipes run only for their side effects or for testing.',
  schema,
  create(_component, ctx) {
    return {
      dataset: null,
      atomicCheckpoint: false,
      tracksDeletions: false,
      async write(entities, _run, checkpoint) {
        if (checkpoint) await ctx.store.setPipeState(checkpoint.pipeId, checkpoint.state);
        return { written: 0, unchanged: entities.length, deleted: 0, failures: [] };
      },
      async endRun(_run, checkpoint) {
        await ctx.store.setPipeState(checkpoint.pipeId, checkpoint.state);
        return { written: 0, unchanged: 0, deleted: 0, failures: [] };
      },
    };
  },
};
