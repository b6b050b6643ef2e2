import schema from '../../../schemas/transforms/emit_children.schema.json' with { type: 'json' };
import { isDict, type Entity } from '../../../compiler/values/types.js';
import type { TransformSpec } from '../types.js';

export const emitChildrenTransform: TransformSpec = {
  kind: 'transform',
  type: 'emit_children',
  doc: 'Replaces each entity by the entities in its `$children` property that have an `_id` (the parent itself is not emitted); children that the dataset sink marked deleted stay deleted, and the children of a deleted parent are emitted as deleted.',
  schema,
  create() {
    return {
      async apply(entities) {
        const out: Entity[] = [];
        for (const parent of entities) {
          const children = parent.$children;
          if (children === undefined || children === null) continue;
          const gone = parent._deleted === true || parent._filtered === true;
          for (const child of Array.isArray(children) ? children : [children]) {
            if (!isDict(child) || child._id === undefined) continue;
            // A shallow copy: the sink must not change the parent's value.
            const e: Entity = { ...child };
            if (gone) e._deleted = true;
            out.push(e);
          }
        }
        return { entities: out, failures: [] };
      },
    };
  },
};
