/** `sluice operator` as a process against the current kubeconfig (the out-of-cluster development mode). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Kube } from '../../operator/kube/rest.js';
import type { SluiceInstance } from '../../operator/controllers/types.js';
import { freePort } from '../../scripts/test-services/ports.js';
import { applyCrds, createNamespace, deleteNamespace } from '../support/kube.js';
import { kubeClient, waitFor } from './support.js';

const API = 'sluice.io/v1alpha1';
const kubeconfig = inject('kubeconfig');
const root = join(import.meta.dirname, '..', '..');

describe.skipIf(!kubeconfig)('sluice operator (command line)', () => {
  let kube: Kube;
  let ns: string;
  let child: ChildProcess;
  let output = '';
  let port: number;
  let workDir: string;

  beforeAll(async () => {
    ({ kube } = kubeClient(kubeconfig));
    await applyCrds(kubeconfig);
    ns = await createNamespace(kubeconfig, 'cli');
    port = await freePort();
    workDir = mkdtempSync(join(tmpdir(), 'sluice-operator-'));
    // KUBECONFIG, as a developer's shell has it.
    child = spawn(process.execPath, [join(root, 'bin', 'sluice.js'), 'operator', '-n', ns, '--port', String(port), '--work-dir', workDir, '--identity', 'dev-laptop'], {
      env: { ...process.env, KUBECONFIG: kubeconfig, SLUICE_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
  });

  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    if (ns) await deleteNamespace(kubeconfig, ns);
    rmSync(workDir, { recursive: true, force: true });
  });

  it('serves health, leads, reconciles, logs as JSON and stops cleanly on SIGTERM', async () => {
    await waitFor('/healthz', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200, 60_000, () => output);
    await kube.request('POST', `/apis/${API}/namespaces/${ns}/pipes`, { body: { apiVersion: API, kind: 'Pipe', metadata: { name: 'hello' }, spec: { instance: 'dev', source: { type: 'embedded', entities: [{ _id: 'a' }] } } } });
    await kube.request('POST', `/apis/${API}/namespaces/${ns}/sluiceinstances`, { body: { apiVersion: API, kind: 'SluiceInstance', metadata: { name: 'dev' }, spec: {} } });
    const inst = await waitFor('the instance compiled', async () => {
      const i = await kube.get<SluiceInstance>(API, 'SluiceInstance', ns, 'dev');
      return i?.status?.conditions?.find((c) => c.type === 'Compiled')?.status === 'True' ? i : false;
    }, 30_000, () => output);
    expect(inst.status?.pipes?.map((p) => p.id)).toEqual(['hello']);
    expect(await kube.get('apps/v1', 'Deployment', ns, 'dev-runtime-0')).not.toBeNull();
    const logLines = output.split('\n').filter((l) => l.startsWith('{'));
    expect(logLines.map((l) => JSON.parse(l).msg)).toEqual(expect.arrayContaining(['operator started', 'became the leader']));

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // It handed the leadership over: the Lease's renew time lies in the past.
    const lease = await kube.request<{ spec: { holderIdentity: string; renewTime: string } }>('GET', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/sluice-operator-leader`);
    expect(lease.spec.holderIdentity).toBe('dev-laptop');
    expect(new Date(lease.spec.renewTime).getTime()).toBeLessThan(Date.now() - 60_000);
  });
});
