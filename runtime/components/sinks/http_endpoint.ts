import schema from '../../../schemas/sinks/http_endpoint.schema.json' with { type: 'json' };
import type { SinkSpec } from '../types.js';
import { checkpointOnlySink } from './null.js';

export const httpEndpointSink: SinkSpec = {
  kind: 'sink',
  type: 'http_endpoint',
  doc: "Publishes the pipe's output for clients to pull as JSON (GET /api/publishers/{pipe}/entities, JSON pull protocol with since and limit): the entities are computed from the source through the transforms on each request, with the URL parameters bound to _B. Pump runs deliver nothing.",
  schema,
  create(_component, ctx) {
    return checkpointOnlySink(ctx);
  },
};
