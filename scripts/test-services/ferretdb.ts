/**
 * Starts and stops a FerretDB server (MongoDB wire protocol) on 127.0.0.1 for tests and benchmarks,
 * with a private PostgreSQL server as its backend (FerretDB's SQLite backend evaluates most
 * filters and updates document by document, which is far too slow for dataset workloads). The
 * FerretDB binary comes from build-ferretdb.sh (cached after the first build); PostgreSQL from
 * Debian's postgresql-15 package.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { startPostgres } from './postgres.js';

const buildScript = fileURLToPath(new URL('./build-ferretdb.sh', import.meta.url));

export interface RunningServer {
  uri: string;
  stop(): Promise<void>;
}

export function hasGo(): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
}

/** Builds FerretDB if needed and returns the binary's path (throws with the build output on failure). */
export function ferretDbBinary(): string {
  const r = spawnSync('bash', [buildScript], { encoding: 'utf8', timeout: 30 * 60_000 });
  if (r.status !== 0) throw new Error(`building FerretDB failed (exit ${r.status}):\n${r.stderr.slice(-4000)}`);
  return r.stdout.trim().split('\n').pop()!;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export async function startFerretDb(): Promise<RunningServer> {
  const binary = ferretDbBinary();
  const postgres = await startPostgres();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ferretdb-'));
  const args = [
    '--handler=postgresql',
    `--postgresql-url=${postgres.url}`,
    `--listen-addr=127.0.0.1:${port}`,
    `--state-dir=${dir}`,
    '--debug-addr=',
    '--telemetry=disable',
    '--log-level=WARN',
  ];
  let output = '';
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output = (output + d).slice(-8000)));
  child.stderr!.on('data', (d) => (output = (output + d).slice(-8000)));
  const deadline = Date.now() + 30_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null) {
      await postgres.stop();
      throw new Error(`FerretDB exited with ${child.exitCode}:\n${output}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await postgres.stop();
      throw new Error(`FerretDB did not listen on 127.0.0.1:${port} within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 5000);
          child.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      rmSync(dir, { recursive: true, force: true });
      await postgres.stop();
    },
  };
}
