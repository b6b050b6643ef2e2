/** The dependency graph: which pipe writes, reads and hops to which dataset, and a run order. */
import type { PlanGraph, PlanPipe } from './types.js';

export function buildGraph(pipes: PlanPipe[]): PlanGraph {
  const datasets: PlanGraph['datasets'] = {};
  const node = (id: string) => (datasets[id] ??= { writers: [], readers: [], hopped_by: [] });
  for (const p of pipes) {
    if (p.writes) node(p.writes).writers.push(p.id);
    for (const r of p.reads) node(r).readers.push(p.id);
    for (const h of p.hops) if (!node(h.dataset).hopped_by.includes(p.id)) node(h.dataset).hopped_by.push(p.id);
  }
  const upstream: Record<string, string[]> = {};
  for (const p of pipes) {
    const ups = new Set<string>();
    for (const d of [...p.reads, ...p.hops.map((h) => h.dataset)]) for (const w of datasets[d]?.writers ?? []) if (w !== p.id) ups.add(w);
    upstream[p.id] = [...ups].sort();
  }
  return { datasets, order: topologicalOrder(pipes.map((p) => p.id), upstream), upstream };
}

/** Kahn's algorithm with id order as the tie-break; members of cycles follow in id order. */
export function topologicalOrder(ids: string[], upstream: Record<string, string[]>): string[] {
  const remaining = new Map(ids.map((id) => [id, new Set(upstream[id] ?? [])]));
  const order: string[] = [];
  while (remaining.size) {
    const ready = [...remaining].filter(([, ups]) => [...ups].every((u) => !remaining.has(u))).map(([id]) => id).sort();
    const next = ready.length ? ready : [[...remaining.keys()].sort()[0]];
    for (const id of next) {
      order.push(id);
      remaining.delete(id);
    }
  }
  return order;
}
