/** Pipes: every pipe with its state, last run, queue and next run; filter by state, search by id. Virtualised. */
import { useMemo, useRef } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { Loading, StateBadge } from '../components/common';
import { count, duration, timeAgo } from '../format';
import { useApi } from '../hooks';
import { Link, pipePath, setQuery, useLocation } from '../router';
import type { PipeRow, PipeState } from '../types';

const STATES: { value: '' | PipeState; label: string }[] = [
  { value: '', label: 'all states' },
  { value: 'running', label: 'running' },
  { value: 'failed', label: 'failed' },
  { value: 'invalid', label: 'config errors' },
  { value: 'disabled', label: 'disabled' },
  { value: 'ok', label: 'ok' },
  { value: 'never-run', label: 'not run yet' },
];

const ROW = 38;

export function PipesPage() {
  const { query } = useLocation();
  const search = query.get('q') ?? '';
  const state = query.get('state') ?? '';
  const pipes = useApi<PipeRow[]>('/studio/pipes', 5000);
  const rows = useMemo(() => {
    const q = search.toLowerCase();
    return (pipes.data ?? []).filter((p) => (!state || p.state === state) && (!q || p.id.toLowerCase().includes(q) || (p.dataset ?? '').toLowerCase().includes(q)));
  }, [pipes.data, search, state]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 10, initialRect: { width: 1000, height: 500 } });

  return (
    <section>
      <h1>Pipes</h1>
      <div className="toolbar" role="search">
        <label>
          Search
          <input type="search" value={search} placeholder="pipe or dataset id" onChange={(e) => setQuery({ q: e.target.value })} />
        </label>
        <label>
          State
          <select value={state} onChange={(e) => setQuery({ state: e.target.value })}>
            {STATES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <span className="muted" aria-live="polite" data-testid="pipe-count">
          {pipes.data ? `${count(rows.length)} of ${count(pipes.data.length)} pipes` : ''}
        </span>
      </div>
      {!pipes.data ? (
        <Loading error={pipes.error} what="the pipes" />
      ) : (
        <div role="table" aria-label="Pipes" aria-rowcount={rows.length + 1} className="vlist" ref={scroller} data-testid="pipes-table">
          <div role="rowgroup">
            <div role="row" className="vrow header pipes-grid" style={{ height: ROW }}>
              <span role="columnheader" className="cell">Pipe</span>
              <span role="columnheader" className="cell">State</span>
              <span role="columnheader" className="cell">Last run</span>
              <span role="columnheader" className="cell">Took</span>
              <span role="columnheader" className="cell">In / out</span>
              <span role="columnheader" className="cell">Queue</span>
              <span role="columnheader" className="cell">Next run</span>
            </div>
          </div>
          <div role="rowgroup" style={{ height: virtual.getTotalSize(), position: 'relative' }}>
            {virtual.getVirtualItems().map((item) => {
              const p = rows[item.index];
              const run = p.last_run;
              return (
                <div role="row" aria-rowindex={item.index + 2} key={p.id} className="vrow pipes-grid" style={{ top: item.start, height: ROW }} data-pipe={p.id}>
                  <span role="cell" className="cell">
                    <Link to={pipePath(p.id)}>{p.id}</Link>
                  </span>
                  <span role="cell" className="cell" title={p.error ?? undefined}>
                    <StateBadge state={p.state} />
                  </span>
                  <span role="cell" className="cell" title={run?.ended}>
                    {run ? timeAgo(run.ended) : '—'}
                  </span>
                  <span role="cell" className="cell">{run ? duration(run.duration_ms) : '—'}</span>
                  <span role="cell" className="cell">
                    {run ? `${count(run.read)} / ${count(run.written)}` : '—'}
                    {run && run.failed > 0 ? <span className="error-text"> ({count(run.failed)} errors)</span> : null}
                  </span>
                  <span role="cell" className="cell">{count(p.queue)}</span>
                  <span role="cell" className="cell">{p.next_run ? timeAgo(p.next_run) : '—'}</span>
                </div>
              );
            })}
          </div>
        </div>
      )}
    </section>
  );
}
