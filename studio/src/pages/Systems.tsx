/** Systems: each system with its type, the pipes that use it, and its config. */
import { Loading } from '../components/common';
import { useApi } from '../hooks';
import { Link, pipePath, systemPath } from '../router';
import type { System } from '../types';

export function SystemsPage({ focus }: { focus?: string }) {
  const systems = useApi<System[]>('/systems');
  if (!systems.data) return <Loading error={systems.error} what="the systems" />;
  return (
    <section>
      <h1>Systems</h1>
      {systems.data.length === 0 ? (
        <p className="muted">This config has no systems.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">System</th>
              <th scope="col">Type</th>
              <th scope="col">Used by</th>
              <th scope="col">Config errors</th>
            </tr>
          </thead>
          <tbody>
            {systems.data.map((s) => (
              <tr key={s._id} className={focus === s._id ? 'selected' : undefined}>
                <td>
                  <Link to={systemPath(s._id)}>{s._id}</Link>
                </td>
                <td>{s.runtime.type}</td>
                <td>
                  {s.runtime['used-by'].map((p) => (
                    <Link key={p} to={pipePath(p)}>
                      {p}{' '}
                    </Link>
                  ))}
                </td>
                <td>{s.runtime['config-errors'].length ? <span className="error-text">{s.runtime['config-errors'].map((e) => e.msg).join('; ')}</span> : 'none'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {focus && systems.data.some((s) => s._id === focus) && (
        <div className="panel">
          <h2>{focus}</h2>
          <pre aria-label={`Config of ${focus}`}>{JSON.stringify(systems.data.find((s) => s._id === focus)!.config.original, null, 2)}</pre>
        </div>
      )}
    </section>
  );
}
