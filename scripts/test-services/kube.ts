/**
 * Starts and stops a real Kubernetes API server on 127.0.0.1 for the operator's tests, the way
 * controller-runtime's envtest does it: etcd and kube-apiserver only (no controller manager, no
 * scheduler, no kubelet), on free ports, with everything they need in a temporary directory:
 *
 * - a CA and a serving certificate made with the openssl binary (or, without openssl, the
 *   apiserver's own self-signed certificate from --cert-dir, trusted through the CA it appends);
 * - a service-account signing key pair (node:crypto) and issuer flags;
 * - a static token file with an admin user in group system:masters, and RBAC authorization;
 * - the ServiceAccount admission plugin disabled (nothing creates default service accounts);
 * - logs in files (apiserver.log, etcd.log), shown when startup fails.
 *
 * The kubeconfig it writes (cluster CA data, server, token user, current context) works with
 * @kubernetes/client-node and kubectl. Binaries come from build-kube.sh (cached after the first
 * build), or from KUBEBUILDER_ASSETS when that names a directory holding both (envtest's convention).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

const buildScript = fileURLToPath(new URL('./build-kube.sh', import.meta.url));

export interface RunningKube {
  /** Path of a kubeconfig file (context `sluice-test`, user `admin` in group system:masters). */
  kubeconfig: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Bearer token of the admin user. */
  token: string;
  /** PEM of the CA that signed the serving certificate. */
  caData: string;
  /** Directory holding certificates, the kubeconfig and the logs (removed by stop()). */
  dir: string;
  stop(): Promise<void>;
}

export interface StartKubeOptions {
  /** Directory holding `kube-apiserver` and `etcd`; default: KUBEBUILDER_ASSETS or build-kube.sh. */
  binDir?: string;
  /** Use the apiserver's self-signed certificate instead of openssl-made ones (default: only without openssl). */
  selfSignedCerts?: boolean;
  /** How long to wait for /readyz (default 90 s). */
  readyTimeoutMs?: number;
}

export function hasOpenssl(): boolean {
  return spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
}

/** The directory holding kube-apiserver and etcd, building them if needed (throws with the build output on failure). */
export function kubeBinaries(): string {
  const assets = process.env.KUBEBUILDER_ASSETS;
  if (assets && existsSync(join(assets, 'kube-apiserver')) && existsSync(join(assets, 'etcd'))) return assets;
  const r = spawnSync('bash', [buildScript], { encoding: 'utf8', timeout: 60 * 60_000 });
  if (r.status !== 0) throw new Error(`building kube-apiserver and etcd failed (exit ${r.status}):\n${(r.stderr ?? '').slice(-4000)}`);
  return r.stdout.trim().split('\n').pop()!;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed:\n${r.stderr}`);
}

const opensslConfig = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
`;

/** A CA and a serving certificate for 127.0.0.1/localhost, both on P-256 keys, valid for a week. */
function makeServingCerts(dir: string): { ca: string; cert: string; key: string } {
  writeFileSync(join(dir, 'openssl.cnf'), opensslConfig);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '7', '-subj', '/CN=sluice-test-ca', '-config', 'openssl.cnf', '-extensions', 'v3_ca'], dir);
  openssl(['req', '-new', ...ec, '-keyout', 'apiserver.key', '-out', 'apiserver.csr', '-subj', '/CN=kube-apiserver', '-config', 'openssl.cnf'], dir);
  const serial = `0x${randomBytes(8).toString('hex')}`;
  openssl(['x509', '-req', '-in', 'apiserver.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', serial, '-out', 'apiserver.crt', '-days', '7', '-extfile', 'openssl.cnf', '-extensions', 'v3_server'], dir);
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'apiserver.crt'), key: join(dir, 'apiserver.key') };
}

function tail(file: string, chars = 6000): string {
  try {
    return readFileSync(file, 'utf8').slice(-chars);
  } catch {
    return '';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** GET over https with a bearer token; resolves with the status code (0 when the connection fails). */
export function httpsGet(url: string, token: string, ca: string | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(url, { headers: { Authorization: `Bearer ${token}` }, ca, rejectUnauthorized: ca !== undefined, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function kubeconfigYaml(server: string, caPem: string, token: string): string {
  // JSON is YAML: both kubectl and client-node read it.
  return `${JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'sluice-test', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
      users: [{ name: 'admin', user: { token } }],
      contexts: [{ name: 'sluice-test', context: { cluster: 'sluice-test', user: 'admin', namespace: 'default' } }],
      'current-context': 'sluice-test',
      preferences: {},
    },
    null,
    2,
  )}\n`;
}

/** One attempt; ports are picked free but may be taken before the servers bind them, so startKube retries. */
async function startOnce(binDir: string, selfSigned: boolean, readyTimeoutMs: number): Promise<RunningKube> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-kube-'));
  const children: ChildProcess[] = [];
  const killAll = (): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  // A test run that dies without calling stop() must not leave the servers behind.
  process.once('exit', killAll);
  const cleanup = async (): Promise<void> => {
    process.removeListener('exit', killAll);
    // The apiserver first, so that it does not log etcd connection errors while shutting down.
    for (const c of [...children].reverse()) await stopChild(c, 10_000);
    rmSync(dir, { recursive: true, force: true });
  };
  const etcdLog = join(dir, 'etcd.log');
  const apiLog = join(dir, 'apiserver.log');
  try {
    // etcd
    const [clientPort, peerPort, securePort] = await distinctFreePorts(3);
    const etcdFd = openSync(etcdLog, 'a');
    const etcd = spawn(
      join(binDir, 'etcd'),
      [
        '--name=sluice-test',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${clientPort}`,
        `--advertise-client-urls=http://127.0.0.1:${clientPort}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=sluice-test=http://127.0.0.1:${peerPort}`,
        '--initial-cluster-state=new',
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      { stdio: ['ignore', etcdFd, etcdFd] },
    );
    closeSync(etcdFd);
    children.push(etcd);
    const deadline = Date.now() + readyTimeoutMs;
    const failIfExited = (): void => {
      for (const [name, c, log] of [['etcd', etcd, etcdLog], ['kube-apiserver', children[1], apiLog]] as const) {
        if (c && (c.exitCode !== null || c.signalCode !== null)) throw new Error(`${name} exited with ${c.exitCode ?? c.signalCode}:\n${tail(log)}`);
      }
    };
    // Wait for etcd first, so that the apiserver does not start by logging connection failures.
    while (!(await etcdHealthy(clientPort))) {
      failIfExited();
      if (Date.now() > deadline) throw new Error(`etcd was not healthy within ${readyTimeoutMs} ms:\n${tail(etcdLog)}`);
      await sleep(50);
    }

    // certificates, keys, token
    const token = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin-uid,"system:masters"\n`, { mode: 0o600 });
    const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(dir, 'sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }));
    const server = `https://127.0.0.1:${securePort}`;
    const tlsArgs: string[] = [];
    let caPem = '';
    if (selfSigned) {
      tlsArgs.push(`--cert-dir=${join(dir, 'certs')}`);
    } else {
      const certs = makeServingCerts(dir);
      caPem = readFileSync(certs.ca, 'utf8');
      tlsArgs.push(`--tls-cert-file=${certs.cert}`, `--tls-private-key-file=${certs.key}`);
    }

    // kube-apiserver
    const apiFd = openSync(apiLog, 'a');
    const apiserver = spawn(
      join(binDir, 'kube-apiserver'),
      [
        `--etcd-servers=http://127.0.0.1:${clientPort}`,
        '--advertise-address=127.0.0.1',
        '--bind-address=127.0.0.1',
        `--secure-port=${securePort}`,
        ...tlsArgs,
        `--token-auth-file=${join(dir, 'tokens.csv')}`,
        '--authorization-mode=RBAC',
        '--anonymous-auth=false',
        `--service-account-issuer=${server}`,
        `--service-account-key-file=${join(dir, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--allow-privileged=true',
        '--disable-admission-plugins=ServiceAccount',
        // Nothing else watches this etcd; keep the apiserver light.
        '--profiling=false',
        '--v=0',
      ],
      { stdio: ['ignore', apiFd, apiFd] },
    );
    closeSync(apiFd);
    children.push(apiserver);

    if (selfSigned) {
      // The apiserver writes its certificate followed by the CA that signed it before it serves.
      const crt = join(dir, 'certs', 'apiserver.crt');
      while (!existsSync(crt) || !readFileSync(crt, 'utf8').includes('END CERTIFICATE-----\n-----BEGIN')) {
        failIfExited();
        if (Date.now() > deadline) throw new Error(`kube-apiserver wrote no certificate within ${readyTimeoutMs} ms:\n${tail(apiLog)}`);
        await sleep(100);
      }
      const blocks = readFileSync(crt, 'utf8').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g) ?? [];
      caPem = blocks[blocks.length - 1];
    }
    let last = { status: 0, body: '' };
    for (;;) {
      failIfExited();
      last = await httpsGet(`${server}/readyz`, token, caPem);
      if (last.status === 200) break;
      if (Date.now() > deadline) throw new Error(`kube-apiserver was not ready within ${readyTimeoutMs} ms (last /readyz: ${last.status} ${last.body.slice(-2000)}):\n${tail(apiLog)}`);
      await sleep(200);
    }
    // The bootstrap controller creates the default namespace shortly after /readyz passes.
    while ((await httpsGet(`${server}/api/v1/namespaces/default`, token, caPem)).status !== 200) {
      failIfExited();
      if (Date.now() > deadline) throw new Error(`the default namespace did not appear within ${readyTimeoutMs} ms:\n${tail(apiLog)}`);
      await sleep(100);
    }

    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(server, caPem, token), { mode: 0o600 });
    let stopped: Promise<void> | undefined;
    return {
      kubeconfig,
      server,
      token,
      caData: caPem,
      dir,
      stop() {
        stopped ??= cleanup();
        return stopped;
      },
    };
  } catch (err) {
    killAll();
    await cleanup();
    throw err;
  }
}

function etcdHealthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest(`http://127.0.0.1:${port}/health`, { timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"true"')));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** Starts etcd and kube-apiserver; resolves once /readyz answers 200 and the default namespace exists. */
export async function startKube(options: StartKubeOptions = {}): Promise<RunningKube> {
  const binDir = options.binDir ?? kubeBinaries();
  const selfSigned = options.selfSignedCerts ?? !hasOpenssl();
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(binDir, selfSigned, options.readyTimeoutMs ?? 90_000);
    } catch (err) {
      lastError = err;
      // Only a lost race for a port is worth another attempt.
      if (!/address already in use|bind: /i.test((err as Error).message)) break;
    }
  }
  throw lastError;
}
