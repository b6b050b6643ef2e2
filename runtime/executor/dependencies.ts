/**
 * Dependency tracking at run time: follows the compiled inverse chains (compiler/plan/dependencies)
 * from entities that changed in joined datasets back to the source entities that join (or joined)
 * to them, through the store's secondary indexes. Both the new and the previous version of a
 * changed entity count, so a source entity that no longer joins is re-processed too.
 */
import { getPath } from '../../compiler/dtl/runtime.js';
import type { DatasetDependency, DependencyStep } from '../../compiler/plan/dependencies.js';
import type { Entity, Value } from '../../compiler/values/types.js';
import { indexKey } from '../datasets/index-key.js';
import type { Store } from '../store/contract.js';

export interface TrackingResult {
  /** Source entity ids to re-process. */
  ids: Set<string>;
  /** The offsets tracked up to, per joined dataset. */
  offsets: Record<string, number>;
  /** Changed entities examined. */
  changes: number;
}

function valuesAt(entities: Entity[], path: string[]): Value[] {
  const out: Value[] = [];
  const seen = new Set<string>();
  for (const e of entities) {
    const v = getPath(e, path);
    for (const x of Array.isArray(v) ? v : [v]) {
      const k = indexKey(x);
      if (k === null || seen.has(k)) continue;
      seen.add(k);
      out.push(x);
    }
  }
  return out;
}

async function follow(store: Store, start: Entity[], chain: DependencyStep[], limit: number): Promise<Entity[]> {
  let current = start;
  for (const step of chain) {
    const values = valuesAt(current, step.from);
    if (!values.length) return [];
    if (step.path.length === 1 && step.path[0] === '_id') {
      const ids = values.filter((v): v is string => typeof v === 'string');
      current = [...(await store.getMany(step.dataset, ids)).values()];
    } else {
      current = await store.lookup(step.dataset, step.path, values);
    }
    if (current.length > limit) return current;
  }
  return current;
}

/**
 * Finds the source entities affected by changes in the joined datasets since `since` (per dataset).
 * Datasets without a tracking offset start from their current end.
 */
export async function trackDependencies(store: Store, dependencies: DatasetDependency[], since: Record<string, number>, errorThreshold: number): Promise<TrackingResult> {
  const ids = new Set<string>();
  const offsets: Record<string, number> = {};
  let changes = 0;
  for (const dep of dependencies) {
    const info = await store.datasetInfo(dep.dataset);
    const end = info?.lastOffset ?? -1;
    const from = since[dep.dataset];
    offsets[dep.dataset] = end;
    if (from === undefined || from >= end) continue;
    const batch: Entity[] = [];
    const flush = async () => {
      for (const chain of dep.chains) {
        for (const e of await follow(store, batch, chain, errorThreshold)) ids.add(e._id as string);
      }
      batch.length = 0;
    };
    for await (const version of store.scan(dep.dataset, { since: from, history: true })) {
      if (version._updated > end) break;
      changes++;
      batch.push(version);
      // The previous version joined somewhere too: its old join values must be re-processed.
      if (version._previous !== null) {
        const previous = await store.getVersion(dep.dataset, version._previous);
        if (previous) batch.push(previous);
      }
      if (batch.length >= 500) await flush();
      if (ids.size > errorThreshold) break;
    }
    if (batch.length) await flush();
  }
  return { ids, offsets, changes };
}

/** Current end offsets of the joined datasets (where tracking starts after a full run). */
export async function currentOffsets(store: Store, dependencies: DatasetDependency[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const dep of dependencies) out[dep.dataset] = (await store.datasetInfo(dep.dataset))?.lastOffset ?? -1;
  return out;
}
