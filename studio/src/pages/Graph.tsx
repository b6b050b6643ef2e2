/**
 * The flow graph from the plan's dependency graph: systems → pipes → datasets → pipes → systems.
 * Hops edges are dashed, failing pipes red; selecting a node emphasises everything upstream and
 * downstream of it; double-click (or the side panel) opens the pipe or dataset.
 */
import { memo, useCallback, useMemo, useRef, useState, type CSSProperties } from 'react';
import { Background, Controls, Handle, Position, ReactFlow, ReactFlowProvider, useReactFlow, type Edge, type Node, type NodeProps, type Viewport } from '@xyflow/react';
import '@xyflow/react/dist/base.css';
import { StateBadge } from '../components/common';
import { layout, lineage, NODE_HEIGHT, NODE_WIDTH } from '../graph-layout';
import { datasetPath, Link, navigate, pipePath, systemPath } from '../router';
import type { FlowGraph, GraphNode } from '../types';

type FlowNodeData = { node: GraphNode; dim: boolean; focus: boolean };

const FlowNode = memo(function FlowNode({ data }: NodeProps<Node<FlowNodeData>>) {
  const n = data.node;
  const cls = ['flow-node', n.kind, n.state === 'failed' || n.state === 'invalid' ? n.state : '', data.dim ? 'dim' : '', data.focus ? 'focus' : ''].join(' ');
  return (
    <div className={cls} title={`${n.kind} ${n.name}${n.state ? ` (${n.state})` : ''}`} data-node={n.id}>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      {n.kind === 'dataset' ? '▤ ' : n.kind === 'system' ? '◆ ' : ''}
      {n.name}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});

const nodeTypes = { flow: FlowNode };

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function hrefOf(n: GraphNode): string {
  return n.kind === 'pipe' ? pipePath(n.name) : n.kind === 'dataset' ? datasetPath(n.name) : systemPath(n.name);
}

const EDGE_STYLE: Record<string, CSSProperties> = {
  source: { stroke: '#5b6676', strokeWidth: 1.3 },
  sink: { stroke: '#3f6ea8', strokeWidth: 1.3 },
  hops: { stroke: '#b8650b', strokeWidth: 1.5, strokeDasharray: '6 4' },
  transform: { stroke: '#3a7d4d', strokeWidth: 1.3, strokeDasharray: '2 3' },
};

/** Graphs larger than this are handed to React Flow a window at a time (what is on screen and around it). */
const WINDOW_LIMIT = 300;
const START: Viewport = { x: 10, y: 10, zoom: 0.8 };

/** Whether a node at `p` lies within the visible area of `viewport`, widened by one screen on every side. */
function inWindow(p: { x: number; y: number }, viewport: Viewport, size: { width: number; height: number }): boolean {
  const w = size.width / viewport.zoom;
  const h = size.height / viewport.zoom;
  const left = -viewport.x / viewport.zoom - w;
  const top = -viewport.y / viewport.zoom - h;
  return p.x + NODE_WIDTH >= left && p.x <= left + 3 * w && p.y + NODE_HEIGHT >= top && p.y <= top + 3 * h;
}

function GraphCanvas({ graph }: { graph: FlowGraph }) {
  const [selected, setSelected] = useState<string | null>(null);
  const [search, setSearch] = useState('');
  const [viewport, setViewport] = useState<Viewport>(START);
  const canvas = useRef<HTMLDivElement>(null);
  const flow = useReactFlow();
  const positions = useMemo(() => layout(graph), [graph]);
  const large = graph.nodes.length > WINDOW_LIMIT;
  const shown = useMemo(() => {
    if (!large) return null;
    const size = { width: canvas.current?.clientWidth || 1200, height: canvas.current?.clientHeight || 800 };
    return new Set(graph.nodes.filter((n) => inWindow(positions.get(n.id)!, viewport, size)).map((n) => n.id));
  }, [large, graph, positions, viewport]);
  const related = useMemo(() => (selected ? lineage(graph, selected) : null), [graph, selected]);
  const nodes: Node<FlowNodeData>[] = useMemo(
    () => (shown ? graph.nodes.filter((n) => shown.has(n.id)) : graph.nodes).map((n) => ({ id: n.id, type: 'flow', position: positions.get(n.id)!, width: NODE_WIDTH, height: NODE_HEIGHT, data: { node: n, dim: related !== null && !related.has(n.id), focus: n.id === selected }, draggable: false, connectable: false })),
    [graph, positions, related, selected, shown],
  );
  const edges: Edge[] = useMemo(
    () =>
      graph.edges.flatMap((e, i) => {
        if (shown && !(shown.has(e.from) && shown.has(e.to))) return [];
        const on = related !== null && related.has(e.from) && related.has(e.to);
        const style = { ...EDGE_STYLE[e.kind], ...(related !== null ? { opacity: on ? 1 : 0.12, strokeWidth: on ? 2.2 : 1 } : {}) };
        return [{ id: `e${i}`, source: e.from, target: e.to, style, label: e.kind === 'hops' ? 'hops' : undefined, labelStyle: { fill: '#7a4300', fontSize: 10 }, labelBgStyle: { fill: '#fff' }, data: { kind: e.kind }, className: `edge-${e.kind}` }];
      }),
    [graph, related, shown],
  );
  const byId = useMemo(() => new Map(graph.nodes.map((n) => [n.id, n])), [graph]);
  const selectedNode = selected ? byId.get(selected) : undefined;
  const failing = graph.nodes.filter((n) => n.state === 'failed' || n.state === 'invalid');

  const focusOn = useCallback(
    (id: string) => {
      const p = positions.get(id);
      setSelected(id);
      if (p) void flow.setCenter(p.x + NODE_WIDTH / 2, p.y + NODE_HEIGHT / 2, { zoom: 1, duration: 0 }).then(() => setViewport(flow.getViewport()));
    },
    [positions, flow],
  );

  return (
    <div className="graph-wrap">
      <div className="graph-canvas" data-testid="flow-graph" aria-label="Flow graph" role="figure" ref={canvas}>
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          onlyRenderVisibleElements={large}
          fitView={!large}
          defaultViewport={START}
          onMoveEnd={(_e, v) => large && setViewport(v)}
          minZoom={0.05}
          nodesDraggable={false}
          nodesConnectable={false}
          zoomOnDoubleClick={false}
          onNodeClick={(_e, n) => setSelected(n.id)}
          onNodeDoubleClick={(_e, n) => navigate(hrefOf(byId.get(n.id)!))}
          onPaneClick={() => setSelected(null)}
          proOptions={{ hideAttribution: true }}
        >
          <Background gap={24} color="#e4e7ec" />
          <Controls showInteractive={false} />
        </ReactFlow>
      </div>
      <aside className="panel" aria-label="Graph details">
        <form
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            const q = search.trim().toLowerCase();
            const hit = graph.nodes.find((n) => n.name.toLowerCase() === q) ?? graph.nodes.find((n) => n.name.toLowerCase().includes(q));
            if (hit) focusOn(hit.id);
          }}
        >
          <label htmlFor="graph-search">Find a pipe, dataset or system</label>
          <div className="toolbar">
            <input id="graph-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
            <button type="submit">Find</button>
          </div>
        </form>
        {selectedNode ? (
          <div data-testid="graph-selection">
            <h2>
              {selectedNode.kind} {selectedNode.name}
            </h2>
            {selectedNode.state && <StateBadge state={selectedNode.state} />}
            {selectedNode.type && <p className="mono">{selectedNode.type}</p>}
            <p>{related ? `${related.size - 1} nodes upstream or downstream` : ''}</p>
            <p>
              <Link to={hrefOf(selectedNode)}>Open {selectedNode.kind} {selectedNode.name}</Link>
            </p>
          </div>
        ) : (
          <p className="muted">Select a node to emphasise what is upstream and downstream of it; double-click opens it.</p>
        )}
        <h2>
          {(['pipe', 'dataset', 'system'] as const).map((k) => plural(graph.nodes.filter((n) => n.kind === k).length, k)).join(', ')}
        </h2>
        {failing.length > 0 && (
          <>
            <h3>Failing pipes</h3>
            <ul>
              {failing.slice(0, 20).map((n) => (
                <li key={n.id}>
                  <button type="button" className="linklike" onClick={() => focusOn(n.id)}>
                    {n.name}
                  </button>
                </li>
              ))}
            </ul>
          </>
        )}
        <h3>Legend</h3>
        <ul className="legend">
          <li>
            <span className="flow-node pipe" style={{ display: 'inline-block', width: 'auto' }}>pipe</span> <span className="flow-node dataset" style={{ display: 'inline-block', width: 'auto' }}>▤ dataset</span>{' '}
            <span className="flow-node system" style={{ display: 'inline-block', width: 'auto' }}>◆ system</span>
          </li>
          <li>solid grey: source, solid blue: sink</li>
          <li>dashed orange: hops (joins)</li>
          <li>dotted green: a transform calls a system</li>
          <li>
            <span className="flow-node failed" style={{ display: 'inline-block', width: 'auto' }}>failed pipe</span>
          </li>
        </ul>
      </aside>
    </div>
  );
}

/** The flow graph canvas and its side panel (loaded on demand: React Flow is large). */
export function GraphView({ graph }: { graph: FlowGraph }) {
  return (
    <ReactFlowProvider>
      <GraphCanvas graph={graph} />
    </ReactFlowProvider>
  );
}
