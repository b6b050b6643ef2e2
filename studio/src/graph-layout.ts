/**
 * Positions for the flow graph, left to right (systems → pipes → datasets → pipes → systems).
 * Graphs of up to a few hundred nodes get dagre's layered layout. Larger ones get a layered
 * layout of the same kind that runs in linear time per sweep: dagre needs seconds for a
 * thousand pipes, this a few milliseconds. Connected flows are stacked one under the other.
 */
import dagre from '@dagrejs/dagre';
import type { FlowGraph } from './types';

export const NODE_WIDTH = 170;
export const NODE_HEIGHT = 30;
const RANK_GAP = 70;
const NODE_GAP = 10;
const DAGRE_LIMIT = 300;

type Positions = Map<string, { x: number; y: number }>;

export function layout(graph: FlowGraph): Positions {
  return graph.nodes.length <= DAGRE_LIMIT ? dagreLayout(graph) : layeredLayout(graph);
}

function dagreLayout(graph: FlowGraph): Positions {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: 'LR', nodesep: NODE_GAP, ranksep: RANK_GAP, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const e of graph.edges) if (e.from !== e.to) g.setEdge(e.from, e.to);
  dagre.layout(g);
  const out: Positions = new Map();
  for (const n of graph.nodes) {
    const p = g.node(n.id);
    out.set(n.id, { x: p.x - NODE_WIDTH / 2, y: p.y - NODE_HEIGHT / 2 });
  }
  return out;
}

/** Longest-path layers, barycentre ordering sweeps, one connected flow under the other. */
export function layeredLayout(graph: FlowGraph): Positions {
  const ids = graph.nodes.map((n) => n.id);
  const index = new Map(ids.map((id, i) => [id, i]));
  const succ: number[][] = ids.map(() => []);
  const pred: number[][] = ids.map(() => []);
  for (const e of graph.edges) {
    const a = index.get(e.from);
    const b = index.get(e.to);
    if (a === undefined || b === undefined || a === b) continue;
    succ[a].push(b);
    pred[b].push(a);
  }
  // Layers: longest path from the sources, ignoring edges that close a cycle (found by DFS).
  const layer = new Array<number>(ids.length).fill(0);
  const state = new Uint8Array(ids.length); // 0 new, 1 on stack, 2 done
  const order: number[] = [];
  for (let root = 0; root < ids.length; root++) {
    if (state[root]) continue;
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [v, i] = top;
      if (i < succ[v].length) {
        top[1]++;
        const w = succ[v][i];
        if (state[w] === 0) {
          state[w] = 1;
          stack.push([w, 0]);
        }
      } else {
        state[v] = 2;
        order.push(v);
        stack.pop();
      }
    }
  }
  const topo = order.reverse();
  const position = new Array<number>(ids.length);
  topo.forEach((v, i) => (position[v] = i));
  for (const v of topo) for (const w of succ[v]) if (position[w] > position[v]) layer[w] = Math.max(layer[w], layer[v] + 1);

  // Connected flows, so that each is drawn as a block.
  const component = new Array<number>(ids.length).fill(-1);
  let components = 0;
  for (const start of topo) {
    if (component[start] >= 0) continue;
    const queue = [start];
    component[start] = components;
    while (queue.length) {
      const v = queue.pop()!;
      for (const w of [...succ[v], ...pred[v]]) if (component[w] < 0) (component[w] = components), queue.push(w);
    }
    components++;
  }

  const out: Positions = new Map();
  let top = 20;
  const members: number[][] = Array.from({ length: components }, () => []);
  for (const v of topo) members[component[v]].push(v);
  const rankOf = new Float64Array(ids.length);
  for (const nodes of members) {
    const depth = Math.max(...nodes.map((v) => layer[v])) + 1;
    const layers: number[][] = Array.from({ length: depth }, () => []);
    for (const v of nodes) layers[layer[v]].push(v);
    layers.forEach((l) => l.forEach((v, i) => (rankOf[v] = i)));
    // Barycentre sweeps: down along predecessors, up along successors.
    const sweep = (l: number[], neighbours: number[][]) => {
      const key = new Map<number, number>();
      for (const v of l) {
        const ns = neighbours[v];
        key.set(v, ns.length ? ns.reduce((s, w) => s + rankOf[w], 0) / ns.length : rankOf[v]);
      }
      l.sort((a, b) => key.get(a)! - key.get(b)!);
      l.forEach((v, i) => (rankOf[v] = i));
    };
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 1; i < layers.length; i++) sweep(layers[i], pred);
      for (let i = layers.length - 2; i >= 0; i--) sweep(layers[i], succ);
    }
    const height = Math.max(...layers.map((l) => l.length));
    for (const l of layers) {
      // Shorter layers are centred against the tallest one.
      const offset = ((height - l.length) * (NODE_HEIGHT + NODE_GAP)) / 2;
      l.forEach((v, i) => out.set(ids[v], { x: 20 + layer[v] * (NODE_WIDTH + RANK_GAP), y: top + offset + i * (NODE_HEIGHT + NODE_GAP) }));
    }
    top += height * (NODE_HEIGHT + NODE_GAP) + 3 * NODE_GAP;
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
