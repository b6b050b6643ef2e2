/** What changes between two plans: pipes and systems added, removed or changed. */
import type { ExecutionPlan } from './types.js';

export interface PlanDiff {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
  systems: { added: string[]; removed: string[]; changed: string[] };
}

function diffById<T extends { id: string; hash: string }>(before: T[], after: T[]) {
  const b = new Map(before.map((x) => [x.id, x.hash]));
  const a = new Map(after.map((x) => [x.id, x.hash]));
  return {
    added: [...a.keys()].filter((id) => !b.has(id)).sort(),
    removed: [...b.keys()].filter((id) => !a.has(id)).sort(),
    changed: [...a.keys()].filter((id) => b.has(id) && b.get(id) !== a.get(id)).sort(),
    unchanged: [...a.keys()].filter((id) => b.get(id) === a.get(id)).sort(),
  };
}

export function diffPlans(before: ExecutionPlan | null, after: ExecutionPlan): PlanDiff {
  const pipes = diffById(before?.pipes ?? [], after.pipes);
  const systems = diffById(before?.systems ?? [], after.systems);
  return { ...pipes, systems: { added: systems.added, removed: systems.removed, changed: systems.changed } };
}
