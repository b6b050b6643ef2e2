import schema from '../../../schemas/sinks/xml_endpoint.schema.json' with { type: 'json' };
import type { SinkSpec } from '../types.js';
import { checkpointOnlySink } from './null.js';
import { xmlOptionsFrom } from './xml-format.js';

export const xmlEndpointSink: SinkSpec = {
  kind: 'sink',
  type: 'xml_endpoint',
  doc: 'Publishes the pipe\'s output as an XML document (GET /api/publishers/{pipe}/xml): each entity becomes the element named by its one "<tag>" property, optionally inside a wrapper element with root attributes; computed on each request from the source through the transforms. Pump runs deliver nothing.',
  schema,
  create(component, ctx) {
    try {
      xmlOptionsFrom(component.config);
    } catch (err) {
      throw new Error(`the xml_endpoint sink of pipe "${ctx.pipe.id}": ${(err as Error).message}`);
    }
    return checkpointOnlySink(ctx);
  },
};
