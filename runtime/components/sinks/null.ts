import schema from '../../../schemas/sinks/null.schema.json' with { type: 'json' };
import type { ComponentContext, Sink, SinkSpec } from '../types.js';

/**
 * A sink that delivers nothing and only keeps the pipe's checkpoint: the null sink, and the pump
 * runs of endpoint sinks (whose entities the publisher routes compute on request).
 */
export function checkpointOnlySink(ctx: ComponentContext): Sink {
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
}

export const nullSink: SinkSpec = {
  kind: 'sink',
  type: 'null',
  doc: 'Discards every entity; useful for pipes run only for their side effects or for testing.',
  schema,
  create(_component, ctx) {
    return checkpointOnlySink(ctx);
  },
};
