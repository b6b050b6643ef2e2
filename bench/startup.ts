/**
 * bench startup: how soon the `sluice` command is useful, in fresh processes as a user starts it.
 * api_ready_ms: from spawning `sluice run examples/quickstart` to the first answer of its API;
 * validate_ms: from spawning `sluice validate examples/quickstart` to its exit. The median of
 * `--runs` runs (default 5), after one untimed run of each that builds dist/ when it is stale.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../scripts/test-services/ports.js';
import { log, option, optionString, round } from './util.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** CPU time a process has used so far (Linux: user + system from /proc), or NaN elsewhere. */
function cpuMs(pid: number | undefined): number {
  const file = `/proc/${pid}/stat`;
  if (pid === undefined || !existsSync(file)) return NaN;
  const fields = readFileSync(file, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/pipes', timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function apiReady(entry: string): Promise<{ ms: number; cpu: number }> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-bench-startup-'));
  const t0 = process.hrtime.bigint();
  // As `npm start` starts it.
  const child = spawn(process.execPath, ['--max-semi-space-size=8', entry, 'run', 'examples/quickstart', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'warn'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    for (;;) {
      if (exited) throw new Error('sluice run exited before its API answered');
      if (await answers(port)) return { ms: Number(process.hrtime.bigint() - t0) / 1e6, cpu: cpuMs(child.pid) };
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    child.kill('SIGTERM');
    if (!exited) await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function validate(entry: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [entry, 'validate', 'examples/quickstart'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`sluice validate exited with ${code}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const runs = option(args, 'runs', 5);
  const entry = optionString(args, 'entry', 'bin/sluice.js');
  // The first start in a checkout may build dist/; a user pays that once, not at every start.
  await validate(entry);
  await apiReady(entry);
  const ready: { ms: number; cpu: number }[] = [];
  const checks: number[] = [];
  for (let i = 0; i < runs; i++) {
    ready.push(await apiReady(entry));
    checks.push(await validate(entry));
  }
  // On a busy machine wall time mostly measures the others' load; the CPU time it took does not.
  log(`api ready after ${ready.map((t) => `${round(t.ms)} ms (${round(t.cpu)} ms CPU)`).join(', ')}; validate took ${checks.map((t) => round(t)).join(', ')} ms`);
  return { bench: 'startup', api_ready_ms: round(median(ready.map((r) => r.ms))), validate_ms: round(median(checks)), api_ready_cpu_ms: round(median(ready.map((r) => r.cpu))) };
}
