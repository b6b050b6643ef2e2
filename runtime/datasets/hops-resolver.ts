/**
 * Dataset access for DTL joins. Compiled DTL is synchronous; the embedded store answers
 * synchronously, so joins read it directly through its indexes. Other stores answer from a cache
 * filled ahead of evaluation (see the executor's prefetching).
 */
import type { HopsResolver } from '../../compiler/dtl/runtime.js';
import type { Entity, Value } from '../../compiler/values/types.js';
import { EmbeddedStore } from '../store/embedded/store.js';
import type { Store } from '../store/contract.js';

export function hopsResolverFor(store: Store): HopsResolver {
  if (store instanceof EmbeddedStore) {
    return {
      lookup: (dataset, id) => {
        const e = store.getSync(dataset, id);
        return e && e._deleted !== true ? e : null;
      },
      find: (dataset, path, values) => store.lookupSync(dataset, path, values as Value[]),
      scan: function* (dataset): Iterable<Entity> {
        for (const page of store.scanPages(dataset, { deleted: false })) yield* page;
      },
    };
  }
  throw new Error(`the ${store.kind} store needs an asynchronous hops resolver`);
}
