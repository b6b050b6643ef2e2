/**
 * The embedded store's secondary indexes (the joins of DTL hops): building an index over a
 * dataset's latest versions, and the latest versions whose indexed value matches.
 */
import { parseEntityJson } from '../../../compiler/values/json.js';
import type { Value } from '../../../compiler/values/types.js';
import { getPath } from '../../../compiler/dtl/runtime.js';
import { indexKeys } from '../../datasets/index-key.js';
import type { LogRow, Statements } from './statements.js';

/** Indexes every latest version of the dataset under `path` (serialised as `pathKey`), a page at a time. */
export function buildIndex(s: Statements, ds: number, path: string[], pathKey: string): void {
  let after = -1;
  for (;;) {
    const rows = s.latestRows.all(ds, after);
    if (rows.length === 0) break;
    for (const r of rows) for (const key of indexKeys(getPath(parseEntityJson(r.body, r.big === 1), path))) s.idxInsert.run(ds, pathKey, key, r.id);
    after = rows[rows.length - 1].off;
  }
}

/** The latest versions whose indexed value equals one of `values`, each entity once, in index order. */
export function latestByIndex(s: Statements, ds: number, pathKey: string, values: Value[]): LogRow[] {
  const ids = new Set<string>();
  const out: LogRow[] = [];
  for (const v of values) {
    for (const key of indexKeys(v)) {
      for (const r of s.idxLatest.all(ds, pathKey, key)) {
        if (ids.has(r.id)) continue;
        ids.add(r.id);
        out.push(r);
      }
    }
  }
  return out;
}
