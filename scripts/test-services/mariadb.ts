/**
 * A throwaway MariaDB server (Debian's mariadb-server) for tests and benchmarks: a fresh data
 * directory in a temporary folder, listening on 127.0.0.1 and a private socket, durability off.
 * It has one database and one user with a password (logins over TCP check it); `sql` runs
 * statements as root over the socket; `halt`/`resume` stop and restart the server on the same
 * port and data.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface RunningMariaDb {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  /** Runs SQL as root (batch mode: tab-separated rows, no headers); returns the output. */
  sql(statements: string, database?: string): string;
  /** Shuts the server down, dropping every connection; `resume` starts it again. */
  halt(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

const SERVER = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'].find((p) => existsSync(p));

/** Whether the MariaDB server binaries are installed. */
export function hasMariaDb(): boolean {
  return SERVER !== undefined && spawnSync('which', ['mariadb-install-db']).status === 0;
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

export async function startMariaDb(options: { database?: string; user?: string; password?: string } = {}): Promise<RunningMariaDb> {
  if (!hasMariaDb()) throw new Error('MariaDB is not installed (Debian package mariadb-server; scripts/ci/apt-packages.sh installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-mariadb-'));
  const data = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const port = await freePort();
  const database = options.database ?? 'sluice';
  const user = options.user ?? 'sluice';
  const password = options.password ?? 'sluice-test-password';
  const install = spawnSync('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=socket', '--skip-test-db'], { encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`mariadb-install-db failed:\n${install.stdout}${install.stderr}`);
  const args = [
    '--no-defaults',
    `--datadir=${data}`,
    `--socket=${socket}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    '--user=root',
    `--pid-file=${join(dir, 'mysqld.pid')}`,
    `--log-error=${join(dir, 'error.log')}`,
    '--skip-log-bin',
    '--skip-name-resolve',
    '--innodb-flush-log-at-trx-commit=0',
    '--innodb-doublewrite=0',
    '--innodb-buffer-pool-size=128M',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_bin',
  ];
  let child: ChildProcess | null = null;
  const start = async () => {
    const proc = spawn(SERVER!, args, { stdio: 'ignore' });
    child = proc;
    const deadline = Date.now() + 60_000;
    while (!(await canConnect(port))) {
      if (proc.exitCode !== null) throw new Error(`MariaDB exited with ${proc.exitCode}; see ${join(dir, 'error.log')}`);
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`MariaDB did not listen on 127.0.0.1:${port} within 60 s`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const kill = async (signal: NodeJS.Signals) => {
    const proc = child as ChildProcess | null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await exited;
  };
  const sql = (statements: string, db?: string): string => {
    const r = spawnSync('mariadb', ['--no-defaults', '-uroot', `--socket=${socket}`, '--batch', '--skip-column-names', ...(db ? [db] : []), '-e', statements], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mariadb failed: ${r.stderr}`);
    return r.stdout;
  };
  await start();
  const quoted = password.replace(/'/g, "''");
  sql(`CREATE DATABASE \`${database}\`; CREATE USER '${user}'@'%' IDENTIFIED BY '${quoted}'; CREATE USER '${user}'@'localhost' IDENTIFIED BY '${quoted}'; GRANT ALL ON *.* TO '${user}'@'%'; GRANT ALL ON *.* TO '${user}'@'localhost';`);
  return {
    host: '127.0.0.1',
    port,
    database,
    user,
    password,
    sql,
    // A shutdown rather than SIGKILL: with durability off for speed, InnoDB's crash recovery could
    // hide committed rows from later snapshots. The server still drops every connection at once.
    halt: () => kill('SIGTERM'),
    resume: start,
    async stop() {
      await kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
