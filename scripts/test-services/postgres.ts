/**
 * A throwaway PostgreSQL server for FerretDB's backend: a fresh cluster in a temporary directory,
 * listening on 127.0.0.1 and a private socket directory, durability off (it only lives for a run).
 * The server runs as the `postgres` user, since PostgreSQL refuses to run as root.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

function pgBin(name: string): string {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (existsSync(join(base, v, 'bin', name))) return join(base, v, 'bin', name);
  }
  return name;
}

function asPostgres(cmd: string[]): { status: number | null; stderr: string } {
  const runAsRoot = userInfo().uid === 0;
  const r = runAsRoot ? spawnSync('su', ['postgres', '-s', '/bin/bash', '-c', cmd.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')], { encoding: 'utf8' }) : spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
  return { status: r.status, stderr: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

export async function startPostgres(): Promise<RunningPostgres> {
  const initdb = pgBin('initdb');
  const pgCtl = pgBin('pg_ctl');
  if (!existsSync(initdb) && spawnSync('which', [initdb]).status !== 0) throw new Error('PostgreSQL is not installed (Debian package postgresql-15; scripts/ci/apt-packages.sh installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-postgres-'));
  if (userInfo().uid === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
  const data = join(dir, 'data');
  const port = await freePort();
  const init = asPostgres([initdb, '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  if (init.status !== 0) throw new Error(`initdb failed:\n${init.stderr}`);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const start = asPostgres([pgCtl, '-D', data, '-o', opts, '-l', join(dir, 'server.log'), '-w', 'start']);
  if (start.status !== 0) throw new Error(`PostgreSQL did not start:\n${start.stderr}`);
  const psql = pgBin('psql');
  const created = spawnSync(psql, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-c', 'CREATE DATABASE ferretdb'], { encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`creating the database failed:\n${created.stderr}`);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/ferretdb`,
    async stop() {
      asPostgres([pgCtl, '-D', data, '-m', 'immediate', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
