/** The Flow graph page: asks for the graph at once, while the graph view's code loads. */
import { lazy, Suspense } from 'react';
import { Loading } from '../components/common';
import { useApi } from '../hooks';
import type { FlowGraph } from '../types';

const GraphView = lazy(() => import('./Graph').then((m) => ({ default: m.GraphView })));

export function GraphPage() {
  const graph = useApi<FlowGraph>('/studio/graph');
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
