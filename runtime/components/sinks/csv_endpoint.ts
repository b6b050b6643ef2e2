import schema from '../../../schemas/sinks/csv_endpoint.schema.json' with { type: 'json' };
import type { SinkSpec } from '../types.js';
import { csvOptionsFrom } from './csv-format.js';
import { checkpointOnlySink } from './null.js';

export const csvEndpointSink: SinkSpec = {
  kind: 'sink',
  type: 'csv_endpoint',
  doc: "Publishes the pipe's output as a CSV file (GET /api/publishers/{pipe}/csv), one row per entity with the configured columns, quoting, delimiter, line terminator and encoding; computed on each request from the source through the transforms. Pump runs deliver nothing.",
  schema,
  create(component, ctx) {
    try {
      csvOptionsFrom(component.config);
    } catch (err) {
      throw new Error(`the csv_endpoint sink of pipe "${ctx.pipe.id}": ${(err as Error).message}`);
    }
    return checkpointOnlySink(ctx);
  },
};
