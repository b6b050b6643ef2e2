/**
 * The merge_datasets source: several datasets whose entities share ids, read together in timestamp
 * order (a k-way merge of the datasets' change logs on `_ts`), with one result per entity id:
 *
 * - `latest` (default): the newest version of the id found in any of the datasets (deleted or not);
 * - `all`: one entity holding, under each dataset's id, that dataset's latest version of the id
 *   (the non-deleted ones; when every dataset has it deleted, the deleted versions and
 *   `_deleted: true`).
 *
 * Every result is computed from the latest versions in all datasets at the time it is emitted, so
 * a change in one dataset re-emits the combined entity. Ids are never rewritten. The continuation
 * token maps each dataset to the offset read up to (merge-support.ts).
 */
import schema from '../../../schemas/sources/merge_datasets.schema.json' with { type: 'json' };
import type { Entity } from '../../../compiler/values/types.js';
import type { StoredEntity } from '../../store/contract.js';
import type { SourceSpec } from '../types.js';
import { emptySourceError, encodeOffsets, inputsPopulated, parseOffsets } from './merge-support.js';

interface Cursor {
  dataset: string;
  it: AsyncIterator<StoredEntity[]>;
  page: StoredEntity[];
  pos: number;
  done: boolean;
}

export const mergeDatasetsSource: SourceSpec = {
  kind: 'source',
  type: 'merge_datasets',
  doc: 'Reads several datasets together in timestamp order and emits one entity per id: the newest version found in any dataset ("latest"), or one entity holding each dataset\'s latest version under the dataset id ("all"); ids are left as they are.',
  schema,
  create(component, ctx) {
    const config = component.config;
    const datasets = [...new Set(config.datasets as string[])];
    const strategy = (config.strategy as string | undefined) ?? 'latest';
    const failWhenEmpty = config.if_source_empty === 'fail';
    const what = `pipe "${ctx.pipe.id}" (merge_datasets source)`;

    /** The results for a batch of changed ids, in the order given. */
    async function combine(ids: string[]): Promise<Entity[]> {
      const versions = await Promise.all(datasets.map((d) => ctx.store.getMany(d, ids)));
      const out: Entity[] = [];
      for (const id of ids) {
        const found: [string, StoredEntity][] = [];
        datasets.forEach((d, i) => {
          const v = versions[i].get(id);
          if (v) found.push([d, v]);
        });
        if (!found.length) continue;
        if (strategy === 'all') {
          const live = found.filter(([, v]) => v._deleted !== true);
          const keyed = live.length ? live : found;
          const e: Entity = { _id: id };
          let ts = 0;
          for (const [d, v] of keyed) {
            e[d] = v;
            ts = Math.max(ts, v._ts);
          }
          e._ts = ts;
          if (!live.length) e._deleted = true;
          out.push(e);
        } else {
          let best = found[0][1];
          for (const [, v] of found) if (v._ts > best._ts) best = v;
          out.push(best);
        }
      }
      return out;
    }

    return {
      supportsSince: true,
      datasets,
      async *read({ since, batchSize, run }) {
        const offsets = parseOffsets(since, datasets, what);
        const cursors: Cursor[] = datasets.map((dataset) => ({
          dataset,
          it: ctx.store.scanBatches(dataset, { since: offsets[dataset], batchSize: Math.max(batchSize, 500) })[Symbol.asyncIterator](),
          page: [],
          pos: 0,
          done: false,
        }));
        const head = async (c: Cursor): Promise<StoredEntity | null> => {
          while (c.pos >= c.page.length && !c.done) {
            const r = await c.it.next();
            if (r.done) c.done = true;
            else {
              c.page = r.value;
              c.pos = 0;
            }
          }
          return c.pos < c.page.length ? c.page[c.pos] : null;
        };
        let emitted = 0;
        // Changed ids of the batch being gathered; re-inserting moves an id to its newest position.
        const pending = new Set<string>();
        const flush = async () => {
          const entities = await combine([...pending]);
          pending.clear();
          emitted += entities.length;
          return { entities, since: encodeOffsets(offsets, datasets) };
        };
        try {
          for (;;) {
            let next: Cursor | null = null;
            let nextTs = Infinity;
            for (const c of cursors) {
              const h = await head(c);
              if (h && h._ts < nextTs) {
                next = c;
                nextTs = h._ts;
              }
            }
            if (!next) break;
            const change = next.page[next.pos++];
            offsets[next.dataset] = change._updated;
            pending.delete(change._id);
            pending.add(change._id);
            if (pending.size >= batchSize) {
              yield await flush();
              if (run.signal.aborted) return;
            }
          }
          if (pending.size) yield await flush();
        } finally {
          // A stopped run leaves the scans unfinished: close them.
          for (const c of cursors) if (!c.done) await c.it.return?.();
        }
        if (run.full && since === null && failWhenEmpty && emitted === 0) throw emptySourceError(what);
      },
      isPopulated() {
        return inputsPopulated(ctx.store, config, datasets);
      },
    };
  },
};
