/**
 * The highest offset compaction may reach in a dataset: pipes that track dependencies on it still
 * need the versions after their tracking offsets (old join values).
 */
import type { ExecutionPlan } from '../../compiler/plan/types.js';
import type { Store } from '../store/contract.js';

export async function compactionLimitFor(plan: ExecutionPlan | null, store: Store, dataset: string): Promise<number | undefined> {
  let limit: number | undefined;
  for (const p of plan?.pipes ?? []) {
    if (!p.dependencies.some((d) => d.dataset === dataset)) continue;
    const offset = (await store.getPipeState(p.id))?.tracking?.[dataset] ?? -1;
    limit = limit === undefined ? offset : Math.min(limit, offset);
  }
  return limit;
}
