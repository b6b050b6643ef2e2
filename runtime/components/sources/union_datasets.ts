/**
 * The union_datasets source: several datasets read one after the other (each one to its end before
 * the next), entity ids prefixed with `<dataset>:` unless `prefix_ids` is false. Its continuation
 * token maps every dataset to the offset read up to (see merge-support.ts), so an incremental run
 * picks up each dataset's new versions independently, and a dataset added to the config later is
 * read from its beginning.
 */
import schema from '../../../schemas/sources/union_datasets.schema.json' with { type: 'json' };
import type { Entity } from '../../../compiler/values/types.js';
import type { SourceSpec } from '../types.js';
import { emptySourceError, encodeOffsets, inputsPopulated, parseOffsets } from './merge-support.js';

export const unionDatasetsSource: SourceSpec = {
  kind: 'source',
  type: 'union_datasets',
  doc: 'Reads several datasets one after another, each to its end before the next, prefixing entity ids with the dataset id and a colon (unless prefix_ids is false); the continuation token keeps a separate offset for every dataset.',
  schema,
  create(component, ctx) {
    const config = component.config;
    const datasets = [...new Set(config.datasets as string[])];
    const history = config.include_previous_versions === true;
    const prefix = config.prefix_ids !== false;
    const failWhenEmpty = config.if_source_empty === 'fail';
    const what = `pipe "${ctx.pipe.id}" (union_datasets source)`;
    return {
      supportsSince: true,
      datasets,
      async *read({ since, batchSize, run }) {
        const offsets = parseOffsets(since, datasets, what);
        let emitted = 0;
        for (const dataset of datasets) {
          for await (const page of ctx.store.scanBatches(dataset, { since: offsets[dataset], history, batchSize })) {
            const entities: Entity[] = prefix ? page.map((e) => ({ ...e, _id: `${dataset}:${e._id}` })) : page;
            offsets[dataset] = page[page.length - 1]._updated;
            emitted += entities.length;
            yield { entities, since: encodeOffsets(offsets, datasets) };
            if (run.signal.aborted) return;
          }
        }
        if (run.full && since === null && failWhenEmpty && emitted === 0) throw emptySourceError(what);
      },
      isPopulated() {
        return inputsPopulated(ctx.store, config, datasets);
      },
    };
  },
};
