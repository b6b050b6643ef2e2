import schema from '../../../schemas/sources/embedded.schema.json' with { type: 'json' };
import { decodeInPlace } from '../../../compiler/values/transit.js';
import type { Entity } from '../../../compiler/values/types.js';
import type { SourceSpec } from '../types.js';

export const embeddedSource: SourceSpec = {
  kind: 'source',
  type: 'embedded',
  doc: 'Emits the entities written in the pipe config itself; every run is a full run.',
  schema,
  create(component) {
    const raw = (component.config.entities ?? []) as unknown[];
    return {
      supportsSince: false,
      datasets: [],
      async *read({ batchSize }) {
        // Decoded per run: transforms must never see entities shared with an earlier run.
        const entities = decodeInPlace(structuredClone(raw)) as Entity[];
        for (let i = 0; i < entities.length; i += batchSize) yield { entities: entities.slice(i, i + batchSize), since: null };
      },
    };
  },
};
