import schema from '../../../schemas/transforms/xml.schema.json' with { type: 'json' };
import type { Entity } from '../../../compiler/values/types.js';
import { XmlWriter, xmlOptionsFrom } from '../sinks/xml-format.js';
import type { EntityFailure, TransformSpec } from '../types.js';
import { triggerMatcher } from './trigger.js';

export const xmlTransform: TransformSpec = {
  kind: 'transform',
  type: 'xml',
  doc: 'Renders each entity to XML the way the xml_endpoint sink does (the one "<tag>" property names the element, literals become attributes, root-attributes and the XML declaration on request) and stores the text in the entity\'s `xml-property`; deleted entities pass through without XML unless skip-deleted-entities is false.',
  schema,
  create(component, ctx) {
    const c = component.config;
    const what = `pipe "${ctx.pipe.id}": the xml transform`;
    const property = c['xml-property'];
    if (typeof property !== 'string' || property === '') throw new Error(`${what} needs "xml-property", the property that receives the XML`);
    let writer: XmlWriter;
    try {
      writer = new XmlWriter(xmlOptionsFrom({ ...c, wrapper: undefined }));
    } catch (err) {
      throw new Error(`${what}: ${(err as Error).message}`);
    }
    const triggered = triggerMatcher(c.trigger_on);
    return {
      async apply(entities) {
        const out: Entity[] = [];
        const failures: EntityFailure[] = [];
        for (const e of entities) {
          if ((triggered && !triggered(e)) || (writer.options.skipDeleted && e._deleted === true)) {
            out.push(e);
            continue;
          }
          try {
            // The property being written is not part of the element (a rerun must not nest old XML).
            const { [property]: _old, ...shape } = e;
            out.push({ ...e, [property]: writer.head() + writer.entity(shape) + writer.tail() });
          } catch (err) {
            failures.push({ entity: e, error: new Error(`${what}: ${(err as Error).message}`) });
          }
        }
        return { entities: out, failures };
      },
    };
  },
};
