/** The Flow graph page: asks for the graph at once, while the graph view's code loads. */
import { lazy, Suspense, useEffect } from 'react';
import { Loading } from '../components/common';
import { useApi } from '../hooks';
import type { FlowGraph } from '../types';

const loadGraphView = () => import('./Graph');
const GraphView = lazy(() => loadGraphView().then((m) => ({ default: m.GraphView })));

export function GraphPage() {
  const graph = useApi<FlowGraph>('/studio/graph');
  // The view's code loads while the graph is on its way.
  useEffect(() => void loadGraphView(), []);
  return (
    <section>
      <h1>Flow graph</h1>
      {graph.data ? (
        <Suspense fallback={<p className="muted">Loading the graph view…</p>}>
          <GraphView graph={graph.data} />
        </Suspense>
      ) : (
        <Loading error={graph.error} what="the flow graph" />
      )}
    </section>
  );
}
