/**
 * A throwaway OpenLDAP server (slapd, Debian package `slapd`) for the LDAP source's tests: an
 * mdb database for dc=example,dc=org in a temporary directory, listening on a private port of
 * 127.0.0.1 (and LDAPS on a second one, with a self-signed certificate made by openssl, when
 * asked). Entries are added with `ldapadd` (package `ldap-utils`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export const SLAPD = '/usr/sbin/slapd';
export const BASE_DN = 'dc=example,dc=org';
export const ADMIN_DN = `cn=admin,${BASE_DN}`;
export const ADMIN_PASSWORD = 'admin-secret';

export interface RunningSlapd {
  host: string;
  port: number;
  /** The LDAPS port, when started with TLS. */
  tlsPort?: number;
  /** The self-signed certificate of the LDAPS listener (PEM). */
  certificatePem?: string;
  /** Adds entries written as LDIF. */
  add(ldif: string): void;
  /** The server's log (stderr), for failing tests. */
  log(): string;
  stop(): Promise<void>;
}

export function slapdInstalled(): boolean {
  return existsSync(SLAPD) && spawnSync('which', ['ldapadd']).status === 0;
}

function waitForPort(port: number, child: ChildProcess, log: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`slapd exited with ${child.exitCode}:\n${log()}`));
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`slapd did not listen on ${port} within ${timeoutMs} ms:\n${log()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export async function startSlapd(options: { tls?: boolean } = {}): Promise<RunningSlapd> {
  if (!slapdInstalled()) throw new Error('OpenLDAP is not installed (Debian packages slapd and ldap-utils; scripts/ci/apt-packages.sh installs them)');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-slapd-'));
  const data = join(dir, 'data');
  mkdirSync(data);
  const port = await freePort();
  const tlsPort = options.tls ? await freePort() : undefined;
  const lines = [
    ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include /etc/ldap/schema/${s}.schema`),
    `pidfile ${join(dir, 'slapd.pid')}`,
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
  ];
  let certificatePem: string | undefined;
  if (options.tls) {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`openssl could not make a certificate: ${made.stderr}`);
    certificatePem = readFileSync(cert, 'utf8');
    lines.push(`TLSCertificateFile ${cert}`, `TLSCertificateKeyFile ${key}`);
  }
  lines.push('database mdb', `suffix "${BASE_DN}"`, `rootdn "${ADMIN_DN}"`, `rootpw ${ADMIN_PASSWORD}`, `directory ${data}`, 'maxsize 67108864', 'index objectClass eq');
  const conf = join(dir, 'slapd.conf');
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const urls = [`ldap://127.0.0.1:${port}/`, ...(tlsPort ? [`ldaps://127.0.0.1:${tlsPort}/`] : [])].join(' ');
  // -d keeps slapd in the foreground (its logs on stderr), so that it dies with the test run.
  const child = spawn(SLAPD, ['-f', conf, '-h', urls, '-d', 'stats'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    log = (log + d).slice(-20_000);
  });
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  const stop = async () => {
    process.removeListener('exit', onExit);
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, () => log);
    if (tlsPort) await waitForPort(tlsPort, child, () => log);
  } catch (err) {
    await stop();
    throw err;
  }
  let n = 0;
  const add = (ldif: string) => {
    const file = join(dir, `add-${n++}.ldif`);
    writeFileSync(file, ldif);
    const r = spawnSync('ldapadd', ['-x', '-H', `ldap://127.0.0.1:${port}`, '-D', ADMIN_DN, '-w', ADMIN_PASSWORD, '-f', file], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ldapadd failed (${r.status}): ${r.stderr}${r.stdout}`);
  };
  add(`dn: ${BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n`);
  return { host: '127.0.0.1', port, tlsPort, certificatePem, add, log: () => log, stop };
}
