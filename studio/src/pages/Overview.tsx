/** Overview: systems with their inbound and outbound pipes, pipes by state, entities, pending config errors. */
import { StateBadge, Diagnostics, Loading } from '../components/common';
import { count } from '../format';
import { useApi } from '../hooks';
import { datasetPath, Link, pipePath, systemPath } from '../router';
import type { Dataset, FlowGraph, PipeState, Status } from '../types';

export function Overview() {
  const status = useApi<Status>('/status', 5000);
  const graph = useApi<FlowGraph>('/studio/graph', 5000);
  const datasets = useApi<Dataset[]>('/datasets?include-internal-datasets=false', 10000);
  if (!status.data || !graph.data || !datasets.data) return <Loading error={status.error ?? graph.error ?? datasets.error} what="the overview" />;

  const pipes = graph.data.nodes.filter((n) => n.kind === 'pipe');
  const byState = new Map<PipeState, number>();
  for (const p of pipes) byState.set(p.state ?? 'ok', (byState.get(p.state ?? 'ok') ?? 0) + 1);
  const entities = datasets.data.reduce((n, d) => n + d.runtime['count-index-exists'], 0);
  const systems = graph.data.nodes.filter((n) => n.kind === 'system');
  const inbound = (id: string) => graph.data!.edges.filter((e) => e.from === id && e.kind === 'source').map((e) => e.to.slice(5));
  const outbound = (id: string) => graph.data!.edges.filter((e) => e.to === id && e.kind === 'sink').map((e) => e.from.slice(5));
  const failing = pipes.filter((p) => p.state === 'failed' || p.state === 'invalid');
  const pending = status.data.pending_config_errors;

  return (
    <section>
      <h1>Overview</h1>
      <div className="cards">
        <div className="card">
          <span className="value">{count(pipes.length)}</span>
          <span className="label">pipes</span>
        </div>
        <div className="card">
          <span className="value">{count(byState.get('running') ?? 0)}</span>
          <span className="label">running</span>
        </div>
        <div className="card">
          <span className="value">{count((byState.get('failed') ?? 0) + (byState.get('invalid') ?? 0))}</span>
          <span className="label">failed</span>
        </div>
        <div className="card">
          <span className="value">{count(byState.get('disabled') ?? 0)}</span>
          <span className="label">disabled</span>
        </div>
        <div className="card">
          <span className="value">{count(entities)}</span>
          <span className="label">entities in {count(datasets.data.length)} datasets</span>
        </div>
        <div className="card">
          <span className="value">{count(pending.length)}</span>
          <span className="label">config errors pending</span>
        </div>
      </div>

      {pending.length > 0 && (
        <div className="panel">
          <h2>Config errors pending</h2>
          <p>The last config change was refused; the previous config keeps running until these are fixed.</p>
          <Diagnostics items={pending} />
        </div>
      )}

      {failing.length > 0 && (
        <div className="panel">
          <h2>Failing pipes</h2>
          <ul>
            {failing.slice(0, 50).map((p) => (
              <li key={p.id}>
                <Link to={pipePath(p.name)}>{p.name}</Link> <StateBadge state={p.state!} />
              </li>
            ))}
          </ul>
        </div>
      )}

      <h2>Systems</h2>
      {systems.length === 0 ? (
        <p className="muted">No systems in the config: the pipes read embedded data or datasets only.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">System</th>
              <th scope="col">Type</th>
              <th scope="col">Inbound pipes</th>
              <th scope="col">Outbound pipes</th>
            </tr>
          </thead>
          <tbody>
            {systems.map((s) => (
              <tr key={s.id}>
                <td>
                  <Link to={systemPath(s.name)}>{s.name}</Link>
                </td>
                <td>{s.type ?? '—'}</td>
                <td>{inbound(s.id).length}</td>
                <td>{outbound(s.id).length}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Largest datasets</h2>
      {datasets.data.length === 0 ? (
        <p className="muted">No datasets yet.</p>
      ) : (
        <table aria-label="Largest datasets">
          <thead>
            <tr>
              <th scope="col">Dataset</th>
              <th scope="col">Entities</th>
              <th scope="col">Written by</th>
            </tr>
          </thead>
          <tbody>
            {[...datasets.data]
              .sort((a, b) => b.runtime['count-index-exists'] - a.runtime['count-index-exists'] || a._id.localeCompare(b._id))
              .slice(0, 8)
              .map((d) => (
                <tr key={d._id}>
                  <td>
                    <Link to={datasetPath(d._id)}>{d._id}</Link>
                  </td>
                  <td>{count(d.runtime['count-index-exists'])}</td>
                  <td>
                    {d.runtime['written-by'].map((p) => (
                      <Link key={p} to={pipePath(p)}>
                        {p}{' '}
                      </Link>
                    ))}
                  </td>
                </tr>
              ))}
          </tbody>
        </table>
      )}
      <p className="muted">
        Runtime <code>{status.data.node_id}</code>, version {status.data.version}, store {status.data.store}
        {status.data.plan ? `, plan ${status.data.plan.hash.slice(0, 12)}` : ''}.
      </p>
    </section>
  );
}
