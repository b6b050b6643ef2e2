/** Positions for the flow graph: dagre's layered layout, left to right (systems → pipes → datasets → pipes → systems). */
import dagre from '@dagrejs/dagre';
import type { FlowGraph } from './types';

export const NODE_WIDTH = 170;
export const NODE_HEIGHT = 30;

export function layout(graph: FlowGraph): Map<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: 'LR', nodesep: 10, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const e of graph.edges) if (e.from !== e.to) g.setEdge(e.from, e.to);
  dagre.layout(g);
  const out = new Map<string, { x: number; y: number }>();
  for (const n of graph.nodes) {
    const p = g.node(n.id);
    out.set(n.id, { x: p.x - NODE_WIDTH / 2, y: p.y - NODE_HEIGHT / 2 });
  }
  return out;
}

/** Every node upstream (ancestors) and downstream (descendants) of `id`. */
export function lineage(graph: FlowGraph, id: string): Set<string> {
  const forward = new Map<string, string[]>();
  const backward = new Map<string, string[]>();
  for (const e of graph.edges) {
    (forward.get(e.from) ?? forward.set(e.from, []).get(e.from)!).push(e.to);
    (backward.get(e.to) ?? backward.set(e.to, []).get(e.to)!).push(e.from);
  }
  const seen = new Set([id]);
  for (const adjacency of [forward, backward]) {
    const queue = [id];
    while (queue.length) {
      const n = queue.pop()!;
      for (const m of adjacency.get(n) ?? []) {
        if (seen.has(m)) continue;
        seen.add(m);
        queue.push(m);
      }
    }
  }
  return seen;
}
