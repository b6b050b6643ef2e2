/** Small shared pieces: state badges, load states, confirmations. */
import type { ReactNode } from 'react';
import { ApiProblem } from '../api';
import type { Diagnostic, PipeState } from '../types';

const STATE_LABEL: Record<PipeState, string> = {
  running: 'running',
  failed: 'failed',
  disabled: 'disabled',
  ok: 'ok',
  'never-run': 'not run yet',
  invalid: 'config errors',
  'not-deployed': 'deploying',
};

export function StateBadge({ state }: { state: PipeState }) {
  return <span className={`badge ${state}`}>{STATE_LABEL[state] ?? state}</span>;
}

export function Loading({ error, what }: { error?: Error; what: string }) {
  if (error) return <p className="notice bad">Could not load {what}: {error.message}</p>;
  return <p className="muted">Loading {what}…</p>;
}

export function problemText(e: unknown): string {
  if (e instanceof ApiProblem) {
    const body = e.body as { validation_errors?: { 'config-errors': { msg: string }[] }[] } | undefined;
    const details = body?.validation_errors?.flatMap((v) => v['config-errors'].map((c) => c.msg)) ?? [];
    return [e.message, ...details.slice(0, 8)].join('\n');
  }
  return e instanceof Error ? e.message : String(e);
}

export function Diagnostics({ items, empty }: { items: Diagnostic[]; empty?: ReactNode }) {
  if (!items.length) return <>{empty ?? null}</>;
  return (
    <ul className="diag-list">
      {items.map((d, i) => (
        <li key={i}>
          <span className={`badge ${d.severity}`}>{d.severity}</span>{' '}
          <code>
            {d.file}:{d.line}:{d.column}
          </code>{' '}
          <strong>{d.code}</strong> {d.message}
        </li>
      ))}
    </ul>
  );
}

/** What the Studio shows of a pipe: its state from the pipe object of the API. */
export function pipeStateOf(runtime: { 'is-valid-config': boolean; 'is-running'?: boolean; 'is-disabled'?: boolean; 'last-run-status'?: string | null; 'last-run'?: string | null; state: string }): PipeState {
  if (!runtime['is-valid-config']) return 'invalid';
  if (runtime.state === 'Deploying') return 'not-deployed';
  if (runtime['is-running']) return 'running';
  if (runtime['last-run-status'] === 'failed') return 'failed';
  if (runtime['is-disabled']) return 'disabled';
  return runtime['last-run'] ? 'ok' : 'never-run';
}
