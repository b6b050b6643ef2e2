import schema from '../../../schemas/sources/dataset.schema.json' with { type: 'json' };
import type { SourceSpec } from '../types.js';

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
      async *read({ since, batchSize, run }) {
        const from = typeof since === 'number' ? since : since === null || since === '' || !Number.isFinite(Number(since)) ? undefined : Number(since);
        for await (const page of ctx.store.scanBatches(dataset, { since: from, history, batchSize })) {
          yield { entities: page, since: page[page.length - 1]._updated };
          if (run.signal.aborted) return;
        }
      },
      async isPopulated() {
        return (await ctx.store.datasetInfo(dataset))?.populated ?? false;
      },
    };
  },
};
