/** `sluice run <folder>`: serves the API, runs the pipes, and hot-reloads when files change. */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sluiceBin } from '../support/cli.js';
import { tempDir } from '../support/runtime.js';

let child: ChildProcess | null = null;
afterEach(() => {
  child?.kill('SIGTERM');
  child = null;
});

function pipe(id: string, extra: Record<string, unknown>) {
  return JSON.stringify({ _id: id, type: 'pipe', ...extra }, null, 2);
}

/** Polls until `f` gives a value: the runtime's own progress decides, the bound only catches a hang. */
async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('sluice run', () => {
  it('serves a config folder and reloads it, keeping the running plan when an edit is invalid', async () => {
    const dir = tempDir('sluice-local-');
    mkdirSync(join(dir, 'pipes'));
    writeFileSync(join(dir, 'pipes', 'people.conf.json'), pipe('people', { source: { type: 'embedded', entities: [{ _id: 'a', name: 'Ada' }] } }));
    child = spawn(process.execPath, [sluiceBin, 'run', dir, '--port', '0', '--data-dir', join(dir, '.data'), '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout!.on('data', (d) => (log += d));
    child.stderr!.on('data', (d) => (log += d));
    const port = await until('the serving line', async () => /http:\/\/[^ ]*:(\d+)\/api/.exec(log)?.[1]);
    const api = (path: string) => fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.json());

    await until('the first pipe to run', async () => ((await api('/api/datasets/people/entities')) as unknown[]).length === 1 || undefined);

    // A new pipe in a new file appears and runs.
    writeFileSync(join(dir, 'pipes', 'upper.conf.json'), pipe('upper', { source: { type: 'dataset', dataset: 'people' }, transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['add', 'name', ['upper', '_S.name']]] } } }));
    const upper = await until('the added pipe to run', async () => {
      const e = (await api('/api/datasets/upper/entities')) as { name: string }[];
      return e.length ? e : undefined;
    });
    expect(upper[0].name).toBe('ADA');

    // An invalid edit: the running plan stays, the diagnostics are reported.
    const invalid = pipe('upper', { source: { type: 'dataset', dataset: 'people' }, transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['add', 'name', ['uper', '_S.name']]] } } });
    writeFileSync(join(dir, 'pipes', 'upper.conf.json'), invalid);
    const line = invalid.split('\n').findIndex((l) => l.includes('"uper"')) + 1;
    const pending = await until('the invalid edit to be reported', async () => {
      const s = (await api('/api/status')) as { pending_config_errors: { code: string; file: string; line: number }[] };
      return s.pending_config_errors.length ? s.pending_config_errors : undefined;
    });
    expect(pending[0]).toMatchObject({ code: 'DTL_UNKNOWN_FUNCTION', file: 'pipes/upper.conf.json', line });
    // The log line travels through a pipe of its own: it may arrive after the API answer.
    await until('the diagnostic in the log', async () => log.includes('DTL_UNKNOWN_FUNCTION') || undefined);
    const pipes = (await api('/api/pipes')) as { _id: string }[];
    expect(pipes.map((p) => p._id).sort()).toEqual(['people', 'upper']);
  }, 300_000);
});
