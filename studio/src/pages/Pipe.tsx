/**
 * A pipe: its dashboard (state, last run, operations of the pump API), its config in an editor
 * with inline diagnostics and a DTL preview, the execution log, and its inputs and outputs.
 */
import { useState } from 'react';
import { enc, pumpOperation } from '../api';
import { Loading, pipeStateOf, problemText, StateBadge } from '../components/common';
import { JsonBlock } from '../components/JsonBlock';
import { PipeConfig } from '../components/PipeConfig';
import { count, localTime, timeAgo } from '../format';
import { useApi } from '../hooks';
import { datasetPath, Link, pipePath, setQuery, systemPath, useLocation } from '../router';
import type { Json, Pipe } from '../types';

const TABS = [
  { id: 'dashboard', label: 'Dashboard' },
  { id: 'config', label: 'Config' },
  { id: 'log', label: 'Execution log' },
  { id: 'io', label: 'Input and output' },
] as const;

/** The pump operations, with the names Sesam's Management Studio gives them. */
const OPERATIONS: { op: string; label: string; confirm?: string; danger?: boolean }[] = [
  { op: 'start', label: 'Start' },
  { op: 'stop', label: 'Stop' },
  { op: 'rescan', label: 'Start rescan' },
  { op: 'disable', label: 'Disable' },
  { op: 'enable', label: 'Enable' },
  { op: 'reset', label: 'Reset…', confirm: 'Reset the pipe? Its next run reprocesses every entity of its source.', danger: true },
  { op: 'set-last-seen-to-end', label: 'Reset to end…', confirm: 'Skip everything queued: set last seen to the newest entity of the source?', danger: true },
  { op: 'discard-retries', label: 'Discard retry queue' },
];

export function PipePage({ id }: { id: string }) {
  const { query } = useLocation();
  const tab = query.get('tab') ?? 'dashboard';
  const pipe = useApi<Pipe>(`/pipes/${enc(id)}`, 3000);
  if (!pipe.data) return <Loading error={pipe.error} what={`pipe ${id}`} />;
  const p = pipe.data;
  const state = pipeStateOf(p.runtime);
  return (
    <section>
      <h1>
        {id} <StateBadge state={state} />
      </h1>
      <div className="tabs" role="tablist" aria-label="Pipe sections">
        {TABS.map((t) => (
          <button key={t.id} type="button" role="tab" id={`tab-${t.id}`} aria-selected={tab === t.id} aria-controls={`panel-${t.id}`} onClick={() => setQuery({ tab: t.id === 'dashboard' ? null : t.id })}>
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'dashboard' && <Dashboard pipe={p} reload={pipe.reload} />}
        {tab === 'config' && <PipeConfig pipe={p} onSaved={pipe.reload} />}
        {tab === 'log' && <ExecutionLog id={id} />}
        {tab === 'io' && <InputOutput pipe={p} />}
      </div>
    </section>
  );
}

function Dashboard({ pipe, reload }: { pipe: Pipe; reload: () => void }) {
  const r = pipe.runtime;
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [offset, setOffset] = useState('');
  const supported = new Set(r['supported-operations'] ?? []);
  const run = async (op: string, fields: Record<string, string> = {}, confirmText?: string) => {
    if (confirmText && !window.confirm(confirmText)) return;
    setBusy(true);
    try {
      await pumpOperation(pipe._id, op, fields);
      setMessage({ ok: true, text: `${op}: done` });
    } catch (e) {
      setMessage({ ok: false, text: problemText(e) });
    } finally {
      setBusy(false);
      reload();
    }
  };
  const metrics = r['last-run-metrics'];
  const errors = r['config-errors'] ?? [];
  return (
    <>
      <div className="panel">
        <h2>Operations</h2>
        <div className="ops">
          {OPERATIONS.filter((o) => supported.has(o.op)).map((o) => (
            <button key={o.op} type="button" className={o.danger ? 'danger' : o.op === 'start' ? undefined : 'secondary'} disabled={busy || (o.op === 'stop' && !r['is-running']) || (o.op === 'enable' && !r['is-disabled']) || (o.op === 'disable' && r['is-disabled'])} onClick={() => run(o.op, {}, o.confirm)}>
              {o.label}
            </button>
          ))}
        </div>
        {supported.has('update-last-seen') && (
          <form
            className="toolbar"
            style={{ marginTop: '0.75rem' }}
            onSubmit={(e) => {
              e.preventDefault();
              void run('update-last-seen', { 'last-seen': offset }, `Set last seen to "${offset}"? The next run reads the source from there.`);
            }}
          >
            <label>
              Reset to offset (last seen)
              <input value={offset} onChange={(e) => setOffset(e.target.value)} placeholder={r['last-seen'] || 'offset'} size={12} />
            </label>
            <button type="submit" className="secondary" disabled={busy || offset === ''}>
              Update last seen
            </button>
          </form>
        )}
        {message && (
          <p className={`notice ${message.ok ? 'good' : 'bad'}`} role="status">
            {message.text}
          </p>
        )}
      </div>
      <div className="panel">
        <h2>Last run</h2>
        <dl className="kv">
          <dt>Status</dt>
          <dd>{r['last-run-status'] ?? 'not run yet'}{r['is-running'] ? ` (running since ${localTime(r['current-run-started'])})` : ''}</dd>
          <dt>Ended</dt>
          <dd>{r['last-run'] ? `${localTime(r['last-run'])} (${timeAgo(r['last-run'])})` : '—'}</dd>
          <dt>Sync</dt>
          <dd>{r['last-sync-type'] ?? '—'}</dd>
          <dt>Entities</dt>
          <dd>{metrics ? `read ${count(metrics.read)}, written ${count(metrics.written)}, unchanged ${count(metrics.unchanged)}, deleted ${count(metrics.deleted)}, failed ${count(metrics.failed)}` : '—'}</dd>
          <dt>Message</dt>
          <dd className={r['last-run-status'] === 'failed' ? 'error-text' : undefined}>{r['last-message'] || '—'}</dd>
          <dt>Queue</dt>
          <dd>{r.queues?.source === null || r.queues?.source === undefined ? 'unknown' : `${count(r.queues.source)} entities behind the source`}</dd>
          <dt>Next run</dt>
          <dd>{r['next-run'] ? `${localTime(r['next-run'])} (${timeAgo(r['next-run'])})` : r['is-disabled'] ? 'disabled' : 'on demand'}</dd>
          <dt>Last seen</dt>
          <dd className="mono">{r['last-seen'] || '(from the start)'}</dd>
          <dt>Output</dt>
          <dd>{pipe.storage.dataset ? <><Link to={datasetPath(pipe.storage.dataset)}>{pipe.storage.dataset}</Link>: {count(pipe.storage['count-index-exists'])} entities</> : 'no dataset'}</dd>
        </dl>
      </div>
      {errors.length > 0 && (
        <div className="panel">
          <h2>Config errors</h2>
          <ul className="diag-list">
            {errors.map((e, i) => (
              <li key={i}>
                <span className={`badge ${e.level}`}>{e.level}</span> <code>{e.msg}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
    </>
  );
}

interface LogEntry extends Json {
  _id: string;
  _updated: number;
  event_type: string;
}

function logTime(e: LogEntry): string {
  return String(e.end_time ?? e.event_time ?? e.start_time ?? '');
}

function logDetails(e: LogEntry): string {
  const m = e.metrics as Record<string, number> | undefined;
  switch (e.event_type) {
    case 'pump-completed':
      return `${e.sync_type} run, ${e.total_time} s: read ${m?.read ?? 0}, written ${m?.written ?? 0}, unchanged ${m?.unchanged ?? 0}, deleted ${m?.deleted ?? 0}, failed ${e.entities_failed ?? 0}`;
    case 'pump-failed':
      return String(e.reason_why_stopped ?? e.original_error_message ?? '');
    case 'pump-started':
      return `${e.sync_type} run (${e.reason ?? 'schedule'})`;
    case 'write-error': {
      const entity = e.entity as { _id?: string } | null;
      return `entity ${entity?._id ?? '?'}: ${e.original_error_message ?? ''}${e.dead ? ' (dead)' : e.resolved ? ' (resolved)' : ''}`;
    }
    case 'pump-offset-set':
      return e.is_reset ? 'reset' : `last seen set to ${e.pipe_offset}`;
    default:
      return e.comment ? String(e.comment) : '';
  }
}

function ExecutionLog({ id }: { id: string }) {
  const log = useApi<LogEntry[]>(`/pipes/${enc(id)}/log?history=true&reverse=true&limit=200`, 3000);
  if (!log.data) return <Loading error={log.error} what="the execution log" />;
  if (!log.data.length) return <p className="muted">No runs yet.</p>;
  return (
    <table aria-label="Execution log">
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Event</th>
          <th scope="col">Details</th>
        </tr>
      </thead>
      <tbody>
        {log.data.map((e) => (
          <tr key={e._updated}>
            <td>{localTime(logTime(e))}</td>
            <td>
              <span className={`badge ${e.event_type === 'pump-failed' || e.event_type === 'write-error' ? 'failed' : e.event_type === 'pump-completed' ? 'ok' : 'disabled'}`}>{e.event_type}</span>
            </td>
            <td className={e.event_type === 'pump-failed' || e.event_type === 'write-error' ? 'error-text' : undefined}>{logDetails(e)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function InputOutput({ pipe }: { pipe: Pipe }) {
  const eff = pipe.config.effective as { source?: Json; sink?: Json };
  const deps = pipe.runtime.dependencies ?? [];
  const sourceSystem = typeof eff.source?.system === 'string' ? eff.source.system : null;
  const sinkSystem = typeof eff.sink?.system === 'string' ? eff.sink.system : null;
  const queues = pipe.runtime.queues?.dependencies ?? {};
  return (
    <div className="split">
      <div className="panel">
        <h2>Input</h2>
        <p>
          Source <code>{String(eff.source?.type ?? '?')}</code>
          {sourceSystem && (
            <>
              {' '}from system <Link to={systemPath(sourceSystem)}>{sourceSystem}</Link>
            </>
          )}
        </p>
        <h3>Datasets read or joined</h3>
        {deps.length ? (
          <ul>
            {deps.map((d) => (
              <li key={d}>
                <Link to={datasetPath(d)}>{d}</Link>
                {queues[d] ? ` (${count(queues[d])} changes to track)` : ''}
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">none</p>
        )}
        <h3>Upstream pipes</h3>
        {pipe.graph.upstream.length ? (
          <ul>
            {pipe.graph.upstream.map((u) => (
              <li key={u}>
                <Link to={pipePath(u)}>{u}</Link>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">none</p>
        )}
        <JsonBlock value={eff.source} label="Effective source config" />
      </div>
      <div className="panel">
        <h2>Output</h2>
        <p>
          Sink <code>{String(eff.sink?.type ?? '?')}</code>
          {pipe.storage.dataset && (
            <>
              {' '}into dataset <Link to={datasetPath(pipe.storage.dataset)}>{pipe.storage.dataset}</Link> ({count(pipe.storage['count-index-exists'])} entities)
            </>
          )}
          {sinkSystem && (
            <>
              {' '}to system <Link to={systemPath(sinkSystem)}>{sinkSystem}</Link>
            </>
          )}
        </p>
        <h3>Downstream pipes</h3>
        {pipe.graph.downstream.length ? (
          <ul>
            {pipe.graph.downstream.map((u) => (
              <li key={u}>
                <Link to={pipePath(u)}>{u}</Link>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">none</p>
        )}
        <JsonBlock value={eff.sink} label="Effective sink config" />
      </div>
    </div>
  );
}
