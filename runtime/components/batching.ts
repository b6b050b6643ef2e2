/** Groups an entity stream into source batches, each carrying the continuation token after it. */
import type { Entity } from '../../compiler/values/types.js';
import type { Since, SourceBatch } from './types.js';

export async function* inBatches<T extends Entity>(entities: AsyncIterable<T> | Iterable<T>, batchSize: number, sinceOf: (e: T) => Since, initial: Since, signal?: AbortSignal): AsyncIterable<SourceBatch> {
  let batch: Entity[] = [];
  let since = initial;
  for await (const e of entities) {
    batch.push(e);
    since = sinceOf(e);
    if (batch.length >= batchSize) {
      yield { entities: batch, since };
      batch = [];
      if (signal?.aborted) return;
    }
  }
  if (batch.length) yield { entities: batch, since };
}
