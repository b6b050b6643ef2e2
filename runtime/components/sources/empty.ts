import schema from '../../../schemas/sources/empty.schema.json' with { type: 'json' };
import type { SourceSpec } from '../types.js';

export const emptySource: SourceSpec = {
  kind: 'source',
  type: 'empty',
  doc: 'Produces no entities; a full run through it deletes everything in a dataset sink.',
  schema,
  create() {
    return {
      supportsSince: false,
      datasets: [],
      // eslint-disable-next-line require-yield
      async *read() {
        return;
      },
    };
  },
};
