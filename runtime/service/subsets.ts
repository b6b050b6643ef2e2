/**
 * Dataset subsets: `subset=["eq", "_S.<path>", <value>]` selects the latest entities whose value
 * at the path equals the value (lists match any of their items), through the dataset's secondary
 * index on that path. A subset exists when the dataset has that index (declared by the sink's
 * `indexes`, or made by hops); otherwise the answer is 404, as the JSON pull protocol says.
 */
import { parseEntityJson } from '../../compiler/values/json.js';
import type { Value } from '../../compiler/values/types.js';
import type { StoredEntity } from '../store/contract.js';
import type { SluiceRuntime } from './runtime.js';

export class SubsetError extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
  }
}

export interface Subset {
  path: string[];
  value: Value;
}

export function parseSubset(text: string): Subset {
  let expr: unknown;
  try {
    expr = parseEntityJson(text);
  } catch (err) {
    throw new SubsetError(400, `invalid query parameter "subset": not JSON (${(err as Error).message})`);
  }
  const ok = Array.isArray(expr) && expr.length === 3 && expr[0] === 'eq' && typeof expr[1] === 'string' && /^_S\.[^.]+(\.[^.]+)*$/.test(expr[1]);
  if (!ok) throw new SubsetError(400, 'invalid query parameter "subset": use ["eq", "_S.<property path>", <value>]');
  const [, path, value] = expr as [string, string, Value];
  return { path: path.slice(3).split('.'), value };
}

/** The latest entities of a subset in offset order (404 when the dataset or the subset does not exist). */
export async function subsetEntities(rt: SluiceRuntime, dataset: string, text: string, opts: { since?: number; limit?: number; deleted?: boolean } = {}): Promise<StoredEntity[]> {
  const subset = parseSubset(text);
  const info = await rt.store.datasetInfo(dataset);
  if (!info) throw new SubsetError(404, `no dataset "${dataset}"`);
  const key = JSON.stringify(subset.path);
  if (!info.indexes.some((p) => JSON.stringify(p) === key)) throw new SubsetError(404, `dataset "${dataset}" has no subset ${text}: it has no index on _S.${subset.path.join('.')} (declare it in the sink's "indexes")`);
  const found = (await rt.store.lookup(dataset, subset.path, [subset.value])).filter((e) => opts.since === undefined || e._updated > opts.since);
  found.sort((a, b) => a._updated - b._updated);
  return opts.limit === undefined ? found : found.slice(0, opts.limit);
}
