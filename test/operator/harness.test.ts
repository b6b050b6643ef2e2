/**
 * The operator test harness itself: the API server from global-setup.ts (client-node and kubectl
 * against it, CRDs and custom resources) and the fake node (processes for Deployments, ConfigMap
 * volumes, Secret env, status and URLs, restarts, scaling, deletion).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { execFile as execFileCb, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startFakeNode, RUNTIME_URLS_ANNOTATION, type FakeNode, type FakeProcess } from '../support/kube-node.js';

const execFile = promisify(execFileCb);
const kubeconfig = inject('kubeconfig');
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

function client(): { kc: KubeConfig; core: CoreV1Api; apps: AppsV1Api; custom: CustomObjectsApi } {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return { kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await execFile('kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8' });
  return stdout;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, debug?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}${debug ? `\n${debug()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function info(p: FakeProcess): Promise<{ pid: number; port: number; args: string[]; env: Record<string, string>; cwd: string; files: Record<string, unknown> }> {
  const res = await fetch(`${p.url}/info`);
  return (await res.json()) as never;
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!kubeconfig)('test API server', () => {
  it('answers client-node', async () => {
    const { core } = client();
    const list = await core.listNamespace();
    const names = list.items.map((n) => n.metadata?.name);
    expect(names).toEqual(expect.arrayContaining(['default', 'kube-system']));
  });

  it.skipIf(!hasKubectl && !process.env.CI)('answers kubectl', async () => {
    const out = await kubectl('get', 'ns');
    expect(out).toMatch(/^default\s+Active/m);
    const auth = await kubectl('auth', 'can-i', '*', '*');
    expect(auth.trim()).toBe('yes');
  });

  it.skipIf(!hasKubectl && !process.env.CI)('takes a CRD and a custom resource from kubectl apply', async () => {
    const suffix = randomBytes(3).toString('hex');
    const group = `harness${suffix}.sluice.io`;
    const dir = mkdtempSync(join(tmpdir(), 'sluice-harness-'));
    try {
      writeFileSync(
        join(dir, 'crd.yaml'),
        `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.${group}
spec:
  group: ${group}
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget, listKind: WidgetList }
  versions:
    - name: v1alpha1
      served: true
      storage: true
      subresources: { status: {} }
      additionalPrinterColumns:
        - { name: Size, type: integer, jsonPath: .spec.size }
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: { type: integer, minimum: 1 }
            status:
              type: object
              x-kubernetes-preserve-unknown-fields: true
`,
      );
      writeFileSync(join(dir, 'widget.yaml'), `apiVersion: ${group}/v1alpha1\nkind: Widget\nmetadata:\n  name: first\n  namespace: default\nspec:\n  size: 3\n`);
      expect(await kubectl('apply', '-f', join(dir, 'crd.yaml'))).toContain('created');
      await kubectl('wait', '--for=condition=Established', '--timeout=30s', `crd/widgets.${group}`);
      // Discovery may lag a moment behind Established.
      await until('the custom resource to be accepted', async () => (await kubectl('apply', '-f', join(dir, 'widget.yaml'))).includes('first'));
      const out = await kubectl('get', `widgets.${group}`, '-n', 'default');
      expect(out).toMatch(/^NAME\s+SIZE/m);
      expect(out).toMatch(/^first\s+3\s/m);
      const { custom } = client();
      const obj = (await custom.getNamespacedCustomObject({ group, version: 'v1alpha1', namespace: 'default', plural: 'widgets', name: 'first' })) as { spec: { size: number } };
      expect(obj.spec.size).toBe(3);
      // The schema is enforced.
      writeFileSync(join(dir, 'bad.yaml'), `apiVersion: ${group}/v1alpha1\nkind: Widget\nmetadata:\n  name: bad\n  namespace: default\nspec:\n  size: 0\n`);
      await expect(kubectl('apply', '-f', join(dir, 'bad.yaml'))).rejects.toThrow(/spec.size/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!kubeconfig)('fake node', () => {
  const namespace = `harness-${randomBytes(3).toString('hex')}`;
  const name = 'runtime-a';
  const key = `${namespace}/${name}`;
  let node: FakeNode;
  const { core, apps } = kubeconfig ? client() : ({} as ReturnType<typeof client>);
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

  function deployment(replicas: number, greeting: string): V1Deployment {
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'sluice-operator', 'app.kubernetes.io/name': name } },
      spec: {
        replicas,
        selector: { matchLabels: { 'app.kubernetes.io/name': name } },
        template: {
          metadata: { labels: { 'app.kubernetes.io/name': name } },
          spec: {
            containers: [
              {
                name: 'runtime',
                image: 'ghcr.io/sluice/sluice:test',
                command: ['node', '/app/test/support/fake-runtime.mjs'],
                // The operator's layout: --plan names the directory above the plan part mounts.
                args: ['runtime', '--plan', '/etc/sluice/plan', '--port', '9042', '--bin', '/app/bin/sluice.js', '--blob=/etc/sluice/plan/part-0/blob.bin'],
                env: [
                  { name: 'GREETING', value: greeting },
                  { name: 'SLUICE_TOKEN', valueFrom: { secretKeyRef: { name: 'runtime-secrets', key: 'token' } } },
                  { name: 'LOG_LEVEL', valueFrom: { configMapKeyRef: { name: 'runtime-settings', key: 'logLevel' } } },
                  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                  { name: 'SLUICE_DATA_DIR', value: '/var/lib/sluice' },
                  { name: 'SECRETS_DIR', value: '/etc/sluice/secrets' },
                  { name: 'MESSAGE', value: '$(GREETING) from $(POD_NAMESPACE)' },
                ],
                readinessProbe: { httpGet: { path: '/api/health', port: 9042 }, periodSeconds: 5 },
                volumeMounts: [
                  { name: 'plan-0', mountPath: '/etc/sluice/plan/part-0' },
                  { name: 'plan-1', mountPath: '/etc/sluice/plan/part-1' },
                  { name: 'secrets', mountPath: '/etc/sluice/secrets', readOnly: true },
                  { name: 'data', mountPath: '/var/lib/sluice' },
                ],
              },
            ],
            volumes: [
              { name: 'plan-0', configMap: { name: 'runtime-plan' } },
              { name: 'plan-1', configMap: { name: 'runtime-plan-extra', items: [{ key: 'extra', path: 'nested/extra.txt' }] } },
              { name: 'secrets', secret: { secretName: 'runtime-secrets' } },
              { name: 'data', emptyDir: {} },
            ],
          },
        },
      },
    };
  }

  async function read(): Promise<V1Deployment> {
    return apps.readNamespacedDeployment({ name, namespace });
  }

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    node = await startFakeNode({ kubeconfig, namespace, repoRoot, paths: { '/app/test/support': join(repoRoot, 'test', 'support') } });
  });

  afterAll(async () => {
    await node?.stop();
  });

  it('runs a process per replica with the ConfigMap mounted and the Secret in its env, and reports them', async () => {
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'runtime-secrets' }, stringData: { token: 's3cret' } } });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'runtime-settings' }, data: { logLevel: 'debug' } } });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'runtime-plan-extra' }, data: { extra: 'x', ignored: 'y' } } });
    await apps.createNamespacedDeployment({ namespace, body: deployment(2, 'hello') });
    // The ConfigMap comes last: the replicas wait for it.
    await until('the fake node to wait for the missing ConfigMap', () => node.logs(key).includes('runtime-plan (volume plan-0) not found'));
    expect(node.processes(key)).toEqual([]);
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'runtime-plan' }, data: { 'plan.json': '{"version":1}' }, binaryData: { 'blob.bin': Buffer.from([0x68, 0x69]).toString('base64') } },
    });

    const procs = await node.waitForReady(key, 2);
    expect(new Set(procs.map((p) => p.port)).size).toBe(2);
    for (const p of procs) {
      const i = await info(p);
      expect(i.port).toBe(p.port);
      const part0 = p.mounts['/etc/sluice/plan/part-0'];
      const planDir = dirname(part0);
      expect(i.args).toEqual(['runtime', '--plan', planDir, '--port', String(p.port), '--bin', join(repoRoot, 'bin', 'sluice.js'), `--blob=${part0}/blob.bin`]);
      expect(i.files[planDir]).toEqual({ 'part-0': { 'plan.json': '{"version":1}', 'blob.bin': 'hi' }, 'part-1': { nested: { 'extra.txt': 'x' } } });
      expect(i.files[p.mounts['/etc/sluice/secrets']]).toEqual({ token: 's3cret' });
      expect(i.files[p.mounts['/var/lib/sluice']]).toEqual({});
      expect(i.env).toMatchObject({
        GREETING: 'hello',
        SLUICE_TOKEN: 's3cret',
        LOG_LEVEL: 'debug',
        POD_NAMESPACE: namespace,
        SLUICE_DATA_DIR: p.mounts['/var/lib/sluice'],
        MESSAGE: `hello from ${namespace}`,
        HOSTNAME: p.pod,
      });
      expect(i.env.VITEST).toBeUndefined();
    }
    // Each replica has its own files.
    expect(procs[0].mounts['/var/lib/sluice']).not.toBe(procs[1].mounts['/var/lib/sluice']);
    expect(node.logs(name)).toContain('fake runtime listening');

    const d = await until('ready status and runtime URLs', async () => {
      const d = await read();
      return d.status?.readyReplicas === 2 && d.status.observedGeneration === d.metadata?.generation && d.metadata?.annotations?.[RUNTIME_URLS_ANNOTATION] ? d : undefined;
    });
    expect(d.status).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2, observedGeneration: d.metadata?.generation });
    expect(d.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('True');
    expect(d.metadata?.annotations?.[RUNTIME_URLS_ANNOTATION]).toBe(procs.map((p) => p.url).join(','));
    // The fake node owns the annotation under its own field manager.
    expect(d.metadata?.managedFields?.some((f) => f.manager === 'fake-node' && JSON.stringify(f.fieldsV1).includes(RUNTIME_URLS_ANNOTATION))).toBe(true);
  });

  it('keeps its annotation and status when the operator server-side applies the Deployment', async () => {
    const before = node.processes(key);
    const applied = deployment(2, 'hello');
    await apps.patchNamespacedDeployment(
      { name, namespace, body: applied, fieldManager: 'sluice-operator', force: true },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    const d = await read();
    expect(d.metadata?.annotations?.[RUNTIME_URLS_ANNOTATION]).toBe(before.map((p) => p.url).join(','));
    expect(d.status?.readyReplicas).toBe(2);
    // Same template: nothing restarts.
    await new Promise((r) => setTimeout(r, 500));
    expect(node.processes(key).map((p) => p.pid)).toEqual(before.map((p) => p.pid));
  });

  it('updates the mounted files in place when the ConfigMap changes, like the kubelet (no restart)', async () => {
    const before = node.processes(key);
    await core.patchNamespacedConfigMap({ name: 'runtime-plan', namespace, body: { data: { 'plan.json': '{"version":2}' } } }, merge);
    for (const p of before) {
      await until(`the new data in process ${p.pid}`, async () => ((await info(p)).files[dirname(p.mounts['/etc/sluice/plan/part-0'])] as Record<string, Record<string, string>>)['part-0']['plan.json'] === '{"version":2}', 30_000, () => node.logs(key));
    }
    expect(node.processes(key).map((p) => [p.pid, p.restarts])).toEqual(before.map((p) => [p.pid, p.restarts]));
  });

  it('restarts the processes when the pod template changes, and reports the new generation', async () => {
    const before = node.processes(key);
    const prev = await read();
    await apps.patchNamespacedDeployment({ name, namespace, body: { spec: { template: { spec: { containers: [{ name: 'runtime', env: [{ name: 'GREETING', value: 'bonjour' }] }] } } } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    const procs = await until('processes of the new template', async () => {
      const procs = node.processes(key);
      return procs.length === 2 && procs.every((p) => p.ready && p.env.GREETING === 'bonjour') ? procs : undefined;
    });
    expect(procs.some((p) => before.some((b) => b.pid === p.pid))).toBe(false);
    expect((await info(procs[0])).env.MESSAGE).toBe(`bonjour from ${namespace}`);
    await until('status of the new generation', async () => {
      const d = await read();
      return d.metadata!.generation! > prev.metadata!.generation! && d.status?.observedGeneration === d.metadata?.generation && d.status?.readyReplicas === 2 && d.status?.updatedReplicas === 2;
    });
  });

  it('starts and stops processes when the replicas change', async () => {
    const before = node.processes(key);
    await apps.patchNamespacedDeployment({ name, namespace, body: { spec: { replicas: 3 } } }, merge);
    const three = await node.waitForReady(key, 3);
    // Scaling keeps the running replicas.
    expect(three.slice(0, 2).map((p) => p.pid)).toEqual(before.map((p) => p.pid));
    await until('three URLs', async () => (await read()).metadata?.annotations?.[RUNTIME_URLS_ANNOTATION]?.split(',').length === 3);

    await apps.patchNamespacedDeployment({ name, namespace, body: { spec: { replicas: 1 } } }, merge);
    const one = await until('one process', () => {
      const procs = node.processes(key);
      return procs.length === 1 ? procs : undefined;
    });
    expect(one[0].pid).toBe(before[0].pid);
    for (const p of three.slice(1)) await until(`process ${p.pid} to exit`, () => !alive(p.pid));
    await until('status and URL for one replica', async () => {
      const d = await read();
      return d.status?.replicas === 1 && d.status.readyReplicas === 1 && d.metadata?.annotations?.[RUNTIME_URLS_ANNOTATION] === one[0].url;
    });
  });

  it('restarts a process that exits on its own', async () => {
    const [p] = node.processes(key);
    process.kill(p.pid!, 'SIGKILL');
    const [q] = await until('the replica to come back', () => {
      const procs = node.processes(key);
      return procs.length === 1 && procs[0].ready && procs[0].pid !== p.pid ? procs : undefined;
    });
    expect(q.restarts).toBe(1);
    expect(q.port).toBe(p.port);
    expect((await fetch(`${q.url}/api/health`)).status).toBe(200);
  });

  it('kills the processes when the Deployment is deleted', async () => {
    const before = node.processes(key);
    expect(before.length).toBe(1);
    await apps.deleteNamespacedDeployment({ name, namespace });
    await until('no processes', () => node.processes(key).length === 0);
    for (const p of before) await until(`process ${p.pid} to exit`, () => !alive(p.pid));
    expect(node.logs(key)).toContain('stopping replica 0');
  });

  it('ignores Deployments without the managed-by label', async () => {
    const d = deployment(1, 'x');
    d.metadata = { name: 'unmanaged', namespace };
    await apps.createNamespacedDeployment({ namespace, body: d });
    await new Promise((r) => setTimeout(r, 500));
    expect(node.processes(`${namespace}/unmanaged`)).toEqual([]);
    expect((await apps.readNamespacedDeployment({ name: 'unmanaged', namespace })).status?.readyReplicas).toBeUndefined();
  });
});
