/**
 * Microservice systems on Kubernetes, against the real API server: the operator turns each into a
 * Deployment, a Service and Secrets owned by the instance (image, port, limits, environment with
 * JSON-encoded objects and $SECRET values, host aliases, an image pull secret, pull policy, the
 * scheduled pull), repairs drift and prunes; the fake node runs a small HTTP service for the image
 * and forwards the Service to it, and the runtime pods reach it through the Service address the
 * operator gives them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Operator } from '../../operator/manager.js';
import type { Kube, KubeObject } from '../../operator/kube/rest.js';
import type { SluiceInstance } from '../../operator/controllers/types.js';
import { lastCronTime } from '../../compiler/plan/microservices.js';
import { startFakeNode, type FakeNode } from '../support/kube-node.js';
import { applyCrds, createNamespace, deleteNamespace } from '../support/kube.js';
import { ConfigRepo, getJson, kubeClient, pipeFile, startOperator, waitFor } from './support.js';

const API = 'sluice.io/v1alpha1';
const kubeconfig = inject('kubeconfig');
const IMAGE = 'registry.example.org/team/enricher:1.0';
const FAKE_SERVICE = fileURLToPath(new URL('../support/fake-microservice.mjs', import.meta.url));
const DAILY = '0 3 * * *';

const enricher = (extra: Record<string, unknown> = {}) =>
  `${JSON.stringify(
    {
      _id: 'enricher',
      type: 'system:microservice',
      docker: {
        image: IMAGE,
        port: 5000,
        memory: 256,
        cpu_quota: 50,
        username: 'robot',
        password: '$SECRET(registry-password)',
        environment: { GREETING: 'hej', SETTINGS: { depth: 2, tags: ['a'] }, TOKEN: '$SECRET(token)' },
        hosts: { 'db.internal': '10.1.2.3', 'cache.internal': '10.1.2.3', 'api.partner.example': '10.9.9.9' },
        pull_image_cron_expression: DAILY,
        ...extra,
      },
    },
    null,
    2,
  )}\n`;
const idle = `${JSON.stringify({ _id: 'idle', type: 'system:microservice', eager_load: false, docker: { image: 'example/idle:1', port: 8080 } })}\n`;
const pulled = pipeFile('pulled', { source: { type: 'json', system: 'enricher', url: '/entities' }, pump: { schedule_interval: 1 } });
const enriched = pipeFile('enriched', { source: { type: 'dataset', dataset: 'pulled' }, transform: { type: 'http', system: 'enricher', url: 'transform' } });

// The objects' specs are read as the API server returns them.
type Obj = KubeObject & { spec: any; data?: Record<string, string>; type?: string };

describe.skipIf(!kubeconfig)('microservices on Kubernetes', () => {
  let kube: Kube;
  let ns: string;
  let repo: ConfigRepo;
  let node: FakeNode;
  let operator: Operator;
  let workDir: string;

  const instance = () => kube.get<SluiceInstance>(API, 'SluiceInstance', ns, 'shop');
  const get = (apiVersion: string, kind: string, name: string) => kube.get<Obj>(apiVersion, kind, ns, name);
  const runtimeUrl = () => node.processes(`${ns}/shop-runtime-0`).find((p) => p.ready)?.url;
  const describeState = async () =>
    `${JSON.stringify({ status: (await instance())?.status, processes: node.processes().map((p) => ({ d: p.deployment, ready: p.ready, exit: p.lastExit })) }, null, 1).slice(0, 3000)}\nruntime:\n${node.logs(`${ns}/shop-runtime-0`).slice(-3000)}\nmicroservice:\n${node.logs(`${ns}/shop-ms-enricher`).slice(-2000)}`;
  const webhook = async () => expect((await fetch(`http://127.0.0.1:${operator.port}/webhook?instance=${ns}/shop`, { method: 'POST', body: '{}' })).status).toBe(202);
  const decode = (s: string) => Buffer.from(s, 'base64').toString('utf8');

  beforeAll(async () => {
    ({ kube } = kubeClient(kubeconfig));
    await applyCrds(kubeconfig);
    ns = await createNamespace(kubeconfig, 'microservices');
    await kube.request('POST', `/api/v1/namespaces/${ns}/secrets`, { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shop-secrets' }, stringData: { token: 's3cret-token', 'registry-password': 'pull-pw' } } });
    repo = new ConfigRepo();
    repo.commit('microservices', {
      'node-metadata.conf.json': '{"_id": "node", "type": "metadata"}\n',
      'systems/enricher.conf.json': enricher(),
      'systems/idle.conf.json': idle,
      'pipes/pulled.conf.json': pulled,
      'pipes/enriched.conf.json': enriched,
    });
    workDir = mkdtempSync(join(tmpdir(), 'sluice-operator-'));
    node = await startFakeNode({ kubeconfig, namespace: ns, repoRoot: inject('appImage'), extraEnv: { SLUICE_LOG_LEVEL: 'warn' }, images: { [IMAGE]: ['node', FAKE_SERVICE] } });
    operator = await startOperator(kubeconfig, ns, workDir, 'operator-ms');
    await kube.request('POST', `/apis/${API}/namespaces/${ns}/sluiceinstances`, {
      body: { apiVersion: API, kind: 'SluiceInstance', metadata: { name: 'shop' }, spec: { git: { url: repo.bare, ref: 'main', pollInterval: '1h' }, secretsSecret: 'shop-secrets', runtime: { replicas: 1 } } },
    });
  });

  afterAll(async () => {
    await operator?.stop().catch(() => undefined);
    await node?.stop();
    if (ns) await deleteNamespace(kubeconfig, ns);
    repo?.remove();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('makes a Deployment, a Service and Secrets owned by the instance from the docker settings', async () => {
    const dep = await waitFor('the microservice Deployment', async () => (await get('apps/v1', 'Deployment', 'shop-ms-enricher')) ?? false, 60_000, describeState);
    const i = (await instance())!;
    expect(dep.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'SluiceInstance', name: 'shop', uid: i.metadata.uid, controller: true });
    expect(dep.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'sluice-operator', 'sluice.io/instance': 'shop', 'app.kubernetes.io/component': 'microservice' });
    const pod = dep.spec.template;
    const container = pod.spec.containers[0];
    expect(container).toMatchObject({ image: IMAGE, imagePullPolicy: 'Always', ports: [{ name: 'http', containerPort: 5000 }], resources: { limits: { memory: '256Mi', cpu: '500m' } }, readinessProbe: { tcpSocket: { port: 5000 } } });
    expect(container.env.map((e: { name: string }) => e.name).sort()).toEqual(['GREETING', 'SETTINGS', 'TOKEN']);
    expect(container.env[0].valueFrom.secretKeyRef.name).toBe('shop-ms-enricher-env');
    expect(pod.spec.hostAliases).toEqual([
      { ip: '10.1.2.3', hostnames: ['db.internal', 'cache.internal'] },
      { ip: '10.9.9.9', hostnames: ['api.partner.example'] },
    ]);
    expect(pod.spec.imagePullSecrets).toEqual([{ name: 'shop-ms-enricher-pull' }]);
    expect(pod.metadata.annotations['sluice.io/image-pulled-at']).toBe(lastCronTime(DAILY, new Date())!.toISOString());

    const env = (await get('v1', 'Secret', 'shop-ms-enricher-env'))!;
    expect(Object.fromEntries(Object.entries(env.data!).map(([k, v]) => [k, decode(v)]))).toEqual({ GREETING: 'hej', SETTINGS: '{"depth":2,"tags":["a"]}', TOKEN: 's3cret-token' });
    const pull = (await get('v1', 'Secret', 'shop-ms-enricher-pull'))!;
    expect(pull.type).toBe('kubernetes.io/dockerconfigjson');
    expect(JSON.parse(decode(pull.data!['.dockerconfigjson']))).toEqual({ auths: { 'registry.example.org': { username: 'robot', password: 'pull-pw', auth: Buffer.from('robot:pull-pw').toString('base64') } } });
    const svc = (await get('v1', 'Service', 'shop-ms-enricher'))!;
    expect(svc.spec.ports).toMatchObject([{ name: 'http', port: 5000, targetPort: 5000 }]);
    expect(svc.spec.selector).toEqual({ 'sluice.io/instance': 'shop', 'sluice.io/microservice': 'shop-ms-enricher' });

    // eager_load false and no pipe uses it: nothing runs.
    expect(await get('apps/v1', 'Deployment', 'shop-ms-idle')).toBeNull();
    // The runtime pods are told the Service address.
    const runtime = (await get('apps/v1', 'Deployment', 'shop-runtime-0'))!;
    const given = runtime.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'SLUICE_MICROSERVICES');
    expect(JSON.parse(given.value)).toEqual({ enricher: { url: `http://shop-ms-enricher.${ns}.svc:5000`, deployment: 'shop-ms-enricher', namespace: ns } });
  });

  it('runs the image, and the runtime reaches it through its Service', async () => {
    await node.waitForReady(`${ns}/shop-ms-enricher`, 1, 60_000);
    const ms = node.processes(`${ns}/shop-ms-enricher`)[0];
    const url = await waitFor('a ready runtime', runtimeUrl, 60_000, describeState);
    const pulledEntities = await waitFor('entities pulled from the microservice', async () => {
      const r = await getJson<{ _id: string; name: string }[]>(`${url}/api/datasets/pulled/entities`);
      return r.status === 200 && r.body.length === 2 ? r.body : false;
    }, 60_000, describeState);
    expect(pulledEntities.map((e) => e.name)).toEqual(['one', 'two']);
    const enrichedEntities = await waitFor('entities enriched by the microservice', async () => {
      const r = await getJson<{ _id: string; greeting?: string; served_by?: string }[]>(`${url}/api/datasets/enriched/entities`);
      return r.status === 200 && r.body.length === 2 ? r.body : false;
    }, 60_000, describeState);
    // The environment came from the Secret; the answer from the microservice's pod.
    expect(enrichedEntities.map((e) => e.greeting)).toEqual(['hej one', 'hej two']);
    expect(enrichedEntities[0].served_by).toBe(ms.pod);
    // The runtime's own process was given the Service's DNS name (the fake node maps it to its forwarder).
    expect(node.processes(`${ns}/shop-runtime-0`)[0].env.SLUICE_MICROSERVICES).toContain('127.0.0.1:');

    // The instance's status shows the microservice ready.
    await waitFor('the microservice ready in the instance status', async () => {
      const m = (await instance())?.status?.microservices ?? [];
      return m.length === 1 && m[0].id === 'enricher' && m[0].deployment === 'shop-ms-enricher' && m[0].image === IMAGE && m[0].ready;
    }, 30_000, describeState);

    const status = await getJson<Record<string, unknown>>(`${url}/api/systems/enricher/status`);
    expect(status.body).toMatchObject({ id: 'enricher', platform: 'kubernetes', deployment: 'shop-ms-enricher', namespace: ns, running: true });
    const logs = await getJson<{ error: { code: string; message: string } }>(`${url}/api/systems/enricher/logs`);
    expect(logs.status).toBe(409);
    expect(logs.body.error.message).toContain(`kubectl logs -n ${ns} deployment/shop-ms-enricher`);
  });

  it('repairs hand edits and deletions of the microservice objects', async () => {
    await kube.request('PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/shop-ms-enricher`, {
      body: { spec: { template: { spec: { containers: [{ name: 'microservice', image: 'someone/else:latest' }] } } } },
      contentType: 'application/strategic-merge-patch+json',
      query: { fieldManager: 'someone' },
    });
    await waitFor('the image restored', async () => (await get('apps/v1', 'Deployment', 'shop-ms-enricher'))?.spec.template.spec.containers[0].image === IMAGE, 20_000, describeState);

    const before = (await get('v1', 'Service', 'shop-ms-enricher'))!;
    await kube.delete('v1', 'Service', ns, 'shop-ms-enricher');
    await waitFor('the Service back', async () => {
      const s = await get('v1', 'Service', 'shop-ms-enricher');
      return s && s.metadata.uid !== before.metadata.uid;
    }, 20_000, describeState);
    await kube.delete('v1', 'Secret', ns, 'shop-ms-enricher-env');
    await waitFor('the env Secret back', () => get('v1', 'Secret', 'shop-ms-enricher-env'), 20_000, describeState);
  });

  it('rolls the pod on changed settings and prunes the objects of a removed microservice', async () => {
    const first = (await get('apps/v1', 'Deployment', 'shop-ms-enricher'))!.spec.template.metadata.annotations['sluice.io/settings-hash'];
    repo.commit('cheaper', { 'systems/enricher.conf.json': enricher({ skip_pull: true, memory: 1024, cpu_quota: 200, environment: { GREETING: 'hallo' }, username: null, password: null }) });
    await webhook();
    const dep = await waitFor('the new settings', async () => {
      const d = await get('apps/v1', 'Deployment', 'shop-ms-enricher');
      return d && d.spec.template.metadata.annotations['sluice.io/settings-hash'] !== first ? d : false;
    }, 20_000, describeState);
    expect(dep.spec.template.spec.containers[0]).toMatchObject({ imagePullPolicy: 'IfNotPresent', resources: { limits: { memory: '1Gi', cpu: '2' } } });
    expect(dep.spec.template.spec.imagePullSecrets).toBeUndefined();
    await waitFor('the pull secret pruned', async () => (await get('v1', 'Secret', 'shop-ms-enricher-pull')) === null, 20_000, describeState);
    // The plan changed, so the runtime pod rolls too and runs the pipes again against the rolled microservice.
    await waitFor('the new greeting', async () => {
      const url = runtimeUrl();
      if (!url) return false;
      const r = await getJson<{ greeting?: string }[]>(`${url}/api/datasets/enriched/entities`);
      return r.status === 200 && r.body.length === 2 && r.body.every((e) => e.greeting?.startsWith('hallo '));
    }, 90_000, describeState);

    repo.commit('no microservice', { 'systems/enricher.conf.json': null, 'pipes/pulled.conf.json': null, 'pipes/enriched.conf.json': null });
    await webhook();
    await waitFor('the microservice objects pruned', async () => {
      const left = await Promise.all([get('apps/v1', 'Deployment', 'shop-ms-enricher'), get('v1', 'Service', 'shop-ms-enricher'), get('v1', 'Secret', 'shop-ms-enricher-env')]);
      return left.every((o) => o === null);
    }, 20_000, describeState);
    const runtime = (await get('apps/v1', 'Deployment', 'shop-runtime-0'))!;
    expect(runtime.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'SLUICE_MICROSERVICES')).toBeUndefined();
  });
});
