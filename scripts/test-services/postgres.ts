/**
 * A throwaway PostgreSQL server for tests and benchmarks: a fresh cluster in a temporary directory,
 * listening on 127.0.0.1 and a private socket directory, durability off (it only lives for a run).
 * The server runs as the `postgres` user, since PostgreSQL refuses to run as root. By default it
 * trusts every login and has the database `ferretdb` (FerretDB's backend); `password` makes TCP
 * logins check it, `ssl` turns TLS on with a self-signed certificate, and `halt`/`resume` stop and
 * restart the server on the same port and data (a database that goes away in the middle of a run).
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface PostgresOptions {
  /** The database created for the caller (default `ferretdb`). */
  database?: string;
  /** The password of the `postgres` user; TCP logins must then give it. */
  password?: string;
  /** Serve TLS (a self-signed certificate made with openssl). */
  ssl?: boolean;
}

export interface RunningPostgres {
  url: string;
  host: string;
  port: number;
  user: string;
  database: string;
  password?: string;
  /** Runs SQL as the superuser through psql; returns its output (unaligned, tuples only). */
  psql(sql: string, database?: string): string;
  /** Stops the server at once (as a crash would) after a checkpoint, so committed data survives. */
  halt(): void;
  /** Starts a halted server again on the same port and data. */
  resume(): void;
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

/** Whether the PostgreSQL server binaries are installed. */
export function hasPostgres(): boolean {
  const initdb = pgBin('initdb');
  return existsSync(initdb) || spawnSync('which', [initdb]).status === 0;
}

export async function startPostgres(options: PostgresOptions = {}): Promise<RunningPostgres> {
  const initdb = pgBin('initdb');
  const pgCtl = pgBin('pg_ctl');
  if (!hasPostgres()) throw new Error('PostgreSQL is not installed (Debian package postgresql-15; scripts/ci/apt-packages.sh installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-postgres-'));
  const owner = userInfo().uid === 0 ? { uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()) } : null;
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const port = await freePort();
  const database = options.database ?? 'ferretdb';
  const initArgs = [initdb, '-D', data, '-U', 'postgres', '--no-sync'];
  if (options.password !== undefined) {
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${options.password}\n`);
    if (owner) chownSync(pwfile, owner.uid, owner.gid);
    initArgs.push('--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`);
  } else initArgs.push('-A', 'trust');
  const init = asPostgres(initArgs);
  if (init.status !== 0) throw new Error(`initdb failed:\n${init.stderr}`);
  let opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  if (options.ssl) {
    const key = join(dir, 'server.key');
    const cert = join(dir, 'server.crt');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-keyout', key, '-out', cert], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`openssl could not make a certificate:\n${made.stderr}`);
    chmodSync(key, 0o600);
    if (owner) for (const f of [key, cert]) chownSync(f, owner.uid, owner.gid);
    opts += ` -c ssl=on -c ssl_cert_file=${cert} -c ssl_key_file=${key}`;
  }
  const start = () => {
    const r = asPostgres([pgCtl, '-D', data, '-o', opts, '-l', join(dir, 'server.log'), '-w', 'start']);
    if (r.status !== 0) throw new Error(`PostgreSQL did not start:\n${r.stderr}`);
  };
  start();
  const psqlBin = pgBin('psql');
  const psql = (sql: string, db = database): string => {
    const r = spawnSync(psqlBin, ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
    return r.stdout;
  };
  psql(`CREATE DATABASE "${database}"`, 'postgres');
  const auth = options.password !== undefined ? `postgres:${encodeURIComponent(options.password)}@` : 'postgres@';
  return {
    url: `postgres://${auth}127.0.0.1:${port}/${database}`,
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database,
    ...(options.password !== undefined ? { password: options.password } : {}),
    psql,
    halt() {
      // Durability is off for speed: make what was committed durable first, as a real server would have.
      psql('CHECKPOINT');
      asPostgres([pgCtl, '-D', data, '-m', 'immediate', 'stop']);
    },
    resume: start,
    async stop() {
      asPostgres([pgCtl, '-D', data, '-m', 'immediate', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
