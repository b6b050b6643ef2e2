import schema from '../../../schemas/sinks/http_endpoint.schema.json' with { type: 'json' };
import type { ComponentContext, Sink, SinkSpec } from '../types.js';

/**
 * What the pump runs for an endpoint sink: nothing is delivered anywhere (the entities are served
 * on request by the publisher routes), so a run only keeps the pipe's checkpoint.
 */
export function servedOnRequestSink(ctx: ComponentContext): Sink {
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

export const httpEndpointSink: SinkSpec = {
  kind: 'sink',
  type: 'http_endpoint',
  doc: "Publishes the pipe's output for clients to pull as JSON (GET /api/publishers/{pipe}/entities, JSON pull protocol with since and limit): the entities are computed from the source through the transforms on each request, with the URL parameters bound to _B. Pump runs deliver nothing.",
  schema,
  create(_component, ctx) {
    return servedOnRequestSink(ctx);
  },
};
