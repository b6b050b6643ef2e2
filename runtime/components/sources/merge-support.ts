/**
 * Shared pieces of the sources that read several datasets (union_datasets, merge_datasets, merge):
 * the per-dataset continuation token, the "populated" check and a few entity helpers.
 *
 * The continuation token of union_datasets and merge_datasets is a JSON object text mapping each
 * dataset id to the offset read up to, e.g. `{"men":12,"women":40}`, so every dataset continues on
 * its own. A dataset missing from the map starts from the beginning (a dataset added to the config
 * is read in full on the next run). A plain number (what `update-last-seen` or
 * `set-last-seen-to-end` may store) is taken as the offset of every dataset.
 */
import type { Entity } from '../../../compiler/values/types.js';
import type { Since } from '../types.js';
import type { Store } from '../../store/contract.js';

export type Offsets = Record<string, number>;

/** Decodes a per-dataset continuation token; throws a clear error for anything else. */
export function parseOffsets(since: Since, datasets: string[], what: string): Offsets {
  const out: Offsets = {};
  if (since === null || since === '') return out;
  if (typeof since === 'number' || /^\d+$/.test(since)) {
    const n = Number(since);
    for (const d of datasets) out[d] = n;
    return out;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(since);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${what}: cannot continue from the since value ${JSON.stringify(since)}; expected a JSON object of dataset offsets such as {"dataset-id": 12} (reset the pipe to start over)`);
  }
  for (const [d, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new Error(`${what}: the since value gives dataset "${d}" the offset ${JSON.stringify(v)}; offsets must be non-negative integers (reset the pipe to start over)`);
    }
    out[d] = v;
  }
  return out;
}

/** The token for a set of offsets: the datasets in config order, so equal states give equal text. */
export function encodeOffsets(offsets: Offsets, datasets: string[]): string {
  const ordered: Offsets = {};
  for (const d of datasets) if (offsets[d] !== undefined) ordered[d] = offsets[d];
  return JSON.stringify(ordered);
}

/**
 * `initial_datasets` (default: all of `datasets`) must all be populated; a dataset that does not
 * exist counts as populated unless `ignore_non_existent_datasets` is false.
 */
export async function inputsPopulated(store: Store, config: Record<string, unknown>, datasets: string[]): Promise<boolean> {
  const initial = Array.isArray(config.initial_datasets) ? (config.initial_datasets as string[]) : datasets;
  const ignoreMissing = config.ignore_non_existent_datasets !== false;
  for (const d of initial) {
    const info = await store.datasetInfo(d);
    if (!info) {
      if (!ignoreMissing) return false;
      continue;
    }
    if (!info.populated) return false;
  }
  return true;
}

/** The bookkeeping fields a dataset adds to stored versions. */
export const STORE_FIELDS = ['_updated', '_ts', '_hash', '_previous'] as const;

/** A copy without the root properties starting with "_" (except those listed in `keep`). */
export function withoutInternal(e: Entity, keep: readonly string[] = []): Entity {
  const out: Entity = {};
  for (const k of Object.keys(e)) {
    if (k.charCodeAt(0) === 95 /* _ */ && !keep.includes(k)) continue;
    out[k] = e[k];
  }
  return out;
}

/** The error a full run raises when the source produced nothing and `if_source_empty` is "fail". */
export function emptySourceError(what: string): Error {
  return new Error(`${what}: the source returned no entities and "if_source_empty" is "fail"; the run fails so that no entities are deleted from the sink`);
}
