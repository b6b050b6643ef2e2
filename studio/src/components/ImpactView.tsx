/** What saving a config change will do: pipes added, removed and changed, rescans and resets, datasets no longer produced. */
import { Link, datasetPath, pipePath } from '../router';
import type { ConfigImpact } from '../types';

const EFFECT: Record<string, string> = {
  rescan: 'rescans its source (rescan_when_config_changes)',
  'reset-advised': 'continues from its last seen: reset it to reprocess what it already wrote',
  rebuilt: 'restarts with the new settings',
};

export function ImpactView({ impact }: { impact: ConfigImpact }) {
  const nothing = !impact.added.length && !impact.removed.length && !impact.changed.length && !impact.systemChanges.pipes.length && !impact.datasetsNoLongerProduced.length;
  return (
    <div className="panel" data-testid="impact">
      <h3>Impact of saving</h3>
      {nothing && <p className="muted">No pipe changes.</p>}
      <ul>
        {impact.added.map((p) => (
          <li key={`a-${p}`}>New pipe <code>{p}</code></li>
        ))}
        {impact.removed.map((p) => (
          <li key={`r-${p}`}>
            Pipe <Link to={pipePath(p)}>{p}</Link> is removed
          </li>
        ))}
        {impact.changed.map((c) => (
          <li key={`c-${c.id}`}>
            Pipe <Link to={pipePath(c.id)}>{c.id}</Link> changes ({c.parts.join(', ')}): {EFFECT[c.effect]}
          </li>
        ))}
        {impact.systemChanges.pipes.map((p) => (
          <li key={`s-${p}`}>
            Pipe <Link to={pipePath(p)}>{p}</Link> restarts because a system it uses changes
          </li>
        ))}
        {impact.datasetsNoLongerProduced.map((d) => (
          <li key={`d-${d}`} className="error-text">
            Dataset <Link to={datasetPath(d)}>{d}</Link> is no longer produced by any pipe
          </li>
        ))}
        {impact.orphanedReaders.map((o) => (
          <li key={`o-${o.pipe}-${o.dataset}`} className="error-text">
            Pipe <Link to={pipePath(o.pipe)}>{o.pipe}</Link> still reads <code>{o.dataset}</code>
          </li>
        ))}
      </ul>
    </div>
  );
}
