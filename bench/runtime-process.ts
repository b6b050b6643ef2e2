/**
 * Benchmarks that measure a runtime as users run it: `sluice run` (the compiled build) in a process
 * of its own, driven over its API, with the process's memory read from /proc (Linux). Peak RSS is
 * the kernel's high-water mark (VmHWM), which only grows, so reading it after the work is done
 * gives the peak of the whole process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../scripts/test-services/ports.js';

const root = fileURLToPath(new URL('..', import.meta.url));
export const sluiceBin = join(root, 'bin', 'sluice.js');

/**
 * A process's memory from /proc in MB: resident now (of it anonymous memory, and mapped files such
 * as the embedded store's database) and its peak; null where /proc is missing.
 */
export function processMemory(pid: number | undefined): { rssMb: number; peakMb: number; anonMb: number; fileMb: number } | null {
  const file = `/proc/${pid}/status`;
  if (pid === undefined || !existsSync(file)) return null;
  const text = readFileSync(file, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024, anonMb: kb('RssAnon') / 1024, fileMb: kb('RssFile') / 1024 };
}

/**
 * Follows a child's peak RSS until it exits: /proc disappears with the process, so the high-water
 * mark is sampled while it runs (it only grows; the last sample is within `everyMs` of the end).
 */
export function followPeak(child: ChildProcess, everyMs = 20): () => number | null {
  let peak: number | null = null;
  const sample = () => {
    const m = processMemory(child.pid);
    if (m && (peak === null || m.peakMb > peak)) peak = m.peakMb;
  };
  const timer = setInterval(sample, everyMs);
  child.once('exit', () => clearInterval(timer));
  return () => {
    sample();
    return peak;
  };
}

/** CPU seconds (user and kernel) a process has used so far, from /proc; null where /proc is missing. */
export function processCpuSeconds(pid: number | undefined): number | null {
  const file = `/proc/${pid}/stat`;
  if (pid === undefined || !existsSync(file)) return null;
  // The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
  const stat = readFileSync(file, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface RuntimeProcess {
  pid: number;
  call(method: string, path: string, body?: string): Promise<{ status: number; json: unknown }>;
  memory(): ReturnType<typeof processMemory>;
  stop(): Promise<void>;
}

/** Writes a config folder with these pipes (and empty node metadata) into a new temp folder. */
export function writeConfigFolder(pipes: Record<string, unknown>[]): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-config-'));
  mkdirSync(join(dir, 'pipes'));
  writeFileSync(join(dir, 'node-metadata.conf.json'), JSON.stringify({ _id: 'node', type: 'metadata' }));
  for (const p of pipes) writeFileSync(join(dir, 'pipes', `${p._id as string}.conf.json`), JSON.stringify(p, null, 2));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts `sluice run <configDir>` on a store and waits until its API answers. */
export async function startRuntime(configDir: string, store: { dataDir: string } | { uri: string }, extraArgs: string[] = []): Promise<RuntimeProcess> {
  const port = await freePort();
  const storeArgs = 'uri' in store ? ['--store', store.uri] : ['--data-dir', store.dataDir];
  // Started as `npm start` and the image start it.
  const child = spawn(process.execPath, ['--max-semi-space-size=8', sluiceBin, 'run', configDir, '--port', String(port), '--host', '127.0.0.1', '--no-watch', '--log-level', 'warn', ...storeArgs, ...extraArgs], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  let exited = false;
  child.once('exit', () => (exited = true));
  const call = (method: string, path: string, body?: string) =>
    new Promise<{ status: number; json: unknown }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, headers: body ? { 'content-type': 'application/x-www-form-urlencoded' } : {} }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? (res.headers['content-type']?.includes('json') ? JSON.parse(text) : text) : null }));
      });
      req.on('error', reject);
      req.end(body);
    });
  for (;;) {
    if (exited) throw new Error('sluice run exited before its API answered');
    if (await call('GET', '/api/pipes').then((r) => r.status === 200, () => false)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    pid: child.pid!,
    call,
    memory: () => processMemory(child.pid),
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** Runs a pipe (its pump in mode manual) and waits for it; answers its pump-completed event. */
export async function runPipeOnce(rt: RuntimeProcess, pipeId: string): Promise<{ seconds: number; written: number; status: string }> {
  const started = await rt.call('POST', `/api/pipes/${encodeURIComponent(pipeId)}/pump`, 'operation=start');
  if (started.status >= 300) throw new Error(`starting ${pipeId}: ${JSON.stringify(started.json)}`);
  for (;;) {
    const pump = (await rt.call('GET', `/api/pipes/${encodeURIComponent(pipeId)}/pump`)).json as { runtime: Record<string, unknown> };
    if (pump.runtime['is-running'] === false && pump.runtime['last-run-status'] !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = (await rt.call('GET', `/api/datasets/${encodeURIComponent(`system:pump_execution:${pipeId}`)}/entities?history=false&deleted=false`)).json as Record<string, unknown>[];
  const done = log.find((e) => e._id === 'pump-completed' || e._id === 'pump-failed');
  if (!done || done._id !== 'pump-completed') throw new Error(`pipe ${pipeId} did not complete: ${JSON.stringify(done)}`);
  const metrics = done.metrics as { written: number };
  return { seconds: (Date.parse(done.end_time as string) - Date.parse(done.start_time as string)) / 1000, written: metrics.written, status: done.status as string };
}
