import schema from '../../../schemas/sources/dataset.schema.json' with { type: 'json' };
import type { SourceSpec } from '../types.js';
import { inBatches } from '../batching.js';
import type { StoredEntity } from '../../store/contract.js';

export const datasetSource: SourceSpec = {
  kind: 'source',
  type: 'dataset',
  doc: 'Reads the entities of a dataset in offset order, continuing from the last offset seen; deleted entities are passed on so downstream datasets can delete them too.',
  schema,
  create(component, ctx) {
    const dataset = component.config.dataset as string;
    const history = component.config.include_previous_versions === true;
    return {
      supportsSince: true,
      datasets: [dataset],
      read({ since, batchSize, run }) {
        const from = typeof since === 'number' ? since : since === null ? 0 : Number(since) || 0;
        return inBatches(ctx.store.scan(dataset, { since: from, history }), batchSize, (e: StoredEntity) => e._updated, since, run.signal);
      },
      async isPopulated() {
        return (await ctx.store.datasetInfo(dataset))?.populated ?? false;
      },
    };
  },
};
