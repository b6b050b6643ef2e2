/**
 * Placement: which runtime replica runs which pipe. Pipes connected through datasets are kept
 * together where that keeps replicas balanced (fewer cross-replica signals). Each group goes to the
 * replica that ranks highest for it by rendezvous hashing, among replicas with room left (a bound
 * of the fair share), so the same plan and replica count always give the same assignment, and a
 * new pipe or an extra replica moves few others. Two replicas never run one pipe at once: runtimes
 * also take a lease per pipe in the shared store.
 */
import type { ExecutionPlan } from './types.js';
import { createHash } from 'node:crypto';

export interface Placement {
  replicas: number;
  /** Pipe id → replica index. */
  assignments: Record<string, number>;
}

function stableOrder(id: string): string {
  return createHash('sha1').update(id).digest('hex');
}

function weight(unit: string, replica: number): string {
  return stableOrder(`${unit}\u0000${replica}`);
}

/** Groups pipes that read or hop to each other's datasets (connected components of the graph). */
function groups(plan: ExecutionPlan): string[][] {
  const parent = new Map(plan.pipes.map((p) => [p.id, p.id]));
  const find = (x: string): string => {
    const p = parent.get(x)!;
    if (p === x) return x;
    const root = find(p);
    parent.set(x, root);
    return root;
  };
  for (const [id, ups] of Object.entries(plan.graph.upstream)) for (const u of ups) if (parent.has(u)) parent.set(find(id), find(u));
  const out = new Map<string, string[]>();
  for (const p of plan.pipes) {
    const r = find(p.id);
    out.set(r, [...(out.get(r) ?? []), p.id]);
  }
  return [...out.values()];
}

export function assignPlacement(plan: ExecutionPlan, replicas: number): Placement {
  const n = Math.max(1, Math.floor(replicas));
  const assignments: Record<string, number> = {};
  const load = new Array<number>(n).fill(0);
  const target = Math.ceil(plan.pipes.length / n);
  // A group larger than a fair share is split, one pipe at a time; smaller groups stay whole.
  const units = groups(plan)
    .flatMap((g) => (g.length > target ? g.map((id) => [id]) : [g]))
    .map((g) => g.sort((a, b) => stableOrder(a).localeCompare(stableOrder(b))))
    .sort((a, b) => b.length - a.length || stableOrder(a[0]).localeCompare(stableOrder(b[0])));
  for (const unit of units) {
    const key = unit[0];
    const fits = [...load.keys()].filter((i) => load[i] + unit.length <= Math.max(target, unit.length));
    const candidates = fits.length ? fits : [load.indexOf(Math.min(...load))];
    const best = candidates.reduce((a, b) => (weight(key, b) > weight(key, a) ? b : a));
    for (const id of unit) assignments[id] = best;
    load[best] += unit.length;
  }
  return { replicas: n, assignments };
}
