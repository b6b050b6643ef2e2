/** Datasets: every dataset with its entity counts, who writes and reads it; search by id. */
import { useMemo } from 'react';
import { Loading } from '../components/common';
import { count, timeAgo } from '../format';
import { useApi } from '../hooks';
import { datasetPath, Link, pipePath, setQuery, useLocation } from '../router';
import type { Dataset } from '../types';

export function DatasetsPage() {
  const { query } = useLocation();
  const search = query.get('q') ?? '';
  const internal = query.get('internal') === '1';
  const datasets = useApi<Dataset[]>(`/datasets?include-internal-datasets=${internal}`, 10000);
  const rows = useMemo(() => (datasets.data ?? []).filter((d) => d._id.toLowerCase().includes(search.toLowerCase())).sort((a, b) => a._id.localeCompare(b._id)), [datasets.data, search]);
  return (
    <section>
      <h1>Datasets</h1>
      <div className="toolbar" role="search">
        <label>
          Search
          <input type="search" value={search} placeholder="dataset id" onChange={(e) => setQuery({ q: e.target.value })} />
        </label>
        <label>
          <input type="checkbox" checked={internal} onChange={(e) => setQuery({ internal: e.target.checked ? '1' : null })} />
          Show internal datasets (execution logs)
        </label>
      </div>
      {!datasets.data ? (
        <Loading error={datasets.error} what="the datasets" />
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Dataset</th>
              <th scope="col">Entities</th>
              <th scope="col">Deleted</th>
              <th scope="col">Versions</th>
              <th scope="col">Written by</th>
              <th scope="col">Read by</th>
              <th scope="col">Last modified</th>
            </tr>
          </thead>
          <tbody>
            {rows.slice(0, 2000).map((d) => (
              <tr key={d._id}>
                <td>
                  <Link to={datasetPath(d._id)}>{d._id}</Link>
                </td>
                <td>{count(d.runtime['count-index-exists'])}</td>
                <td>{count(d.runtime['count-index-deleted'])}</td>
                <td>{count(d.runtime['count-log-exists'])}</td>
                <td>{d.runtime['written-by'].map((p) => <Link key={p} to={pipePath(p)}>{p} </Link>)}</td>
                <td>{d.runtime['read-by'].length + d.runtime['hopped-by'].length}</td>
                <td>{timeAgo(d.runtime['last-modified'])}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
