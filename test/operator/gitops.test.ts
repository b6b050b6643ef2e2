/**
 * End to end against a real API server: config committed to git → webhook → the operator compiles
 * and applies → runtime processes (started by the fake node from the operator's Deployments) serve
 * the pipes → status on the SluiceInstance. Also: a revision with a DTL error, drift, scaling,
 * an operator restart in the middle of a rollout, leader election and deletion.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Operator } from '../../operator/manager.js';
import type { Kube, KubeObject } from '../../operator/kube/rest.js';
import type { SluiceInstance } from '../../operator/controllers/types.js';
import { startFakeNode, type FakeNode } from '../support/kube-node.js';
import { applyCrds, createNamespace, deleteNamespace } from '../support/kube.js';
import { ConfigRepo, getJson, kubeClient, pipeFile, startOperator, waitFor } from './support.js';

const API = 'sluice.io/v1alpha1';
const kubeconfig = inject('kubeconfig');

const customers = pipeFile('customers', {
  source: { type: 'embedded', entities: [{ _id: 'c1', name: 'Ada' }, { _id: 'c2', name: 'Grace' }] },
});
const ordersRaw = pipeFile('orders-raw', { source: { type: 'embedded', entities: [{ _id: 'o1', customer: 'c1', amount: 10 }] } });
// An internal pipe (dataset source) joining with hops: signalled when either dataset changes.
const orders = pipeFile('orders', {
  source: { type: 'dataset', dataset: 'orders-raw' },
  transform: { type: 'dtl', rules: { default: [['copy', '*'], ['add', 'who', ['first', ['hops', { datasets: ['customers c'], where: ['eq', '_S.customer', 'c._id'] }]]]] } },
});
// Line 6, column 40 holds the misspelt function name.
const broken = `{
  "_id": "broken",
  "type": "pipe",
  "source": { "type": "dataset", "dataset": "customers" },
  "transform": { "type": "dtl", "rules": { "default": [
    ["copy", "_id"], ["add", "shout", ["uppr", "_S.name"]]
  ] } }
}
`;

describe.skipIf(!kubeconfig)('GitOps with the operator', () => {
  let kube: Kube;
  let ns: string;
  let repo: ConfigRepo;
  let node: FakeNode;
  let operator: Operator;
  let workDir: string;
  const operators: Operator[] = [];

  const instance = () => kube.get<SluiceInstance>(API, 'SluiceInstance', ns, 'shop');
  const condition = (i: SluiceInstance | null, type: string) => i?.status?.conditions?.find((c) => c.type === type);
  const runtimeUrl = async (replica = 0) => {
    const procs = node.processes(`${ns}/shop-runtime-${replica}`).filter((p) => p.ready);
    return procs[0]?.url;
  };
  const describeState = async () =>
    JSON.stringify({ status: (await instance())?.status, processes: node.processes().map((p) => ({ d: p.deployment, ready: p.ready, restarts: p.restarts, exit: p.lastExit })) }, null, 1).slice(0, 4000) +
    `\nruntime log:\n${node.logs(`${ns}/shop-runtime-0`).slice(-3000)}`;
  const webhook = async (op: Operator = operator) => {
    const res = await fetch(`http://127.0.0.1:${op.port}/webhook?instance=${ns}/shop`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(202);
  };
  /** Waits until the instance is Ready on a plan holding exactly `pipes`, each Running, and the runtime serves them. */
  const waitForPipes = (pipes: string[], timeoutMs = 30_000) =>
    waitFor(
      `pipes ${pipes.join(', ')} running`,
      async () => {
        const i = await instance();
        if (condition(i, 'Ready')?.status !== 'True') return false;
        const states = Object.fromEntries((i!.status?.pipes ?? []).map((p) => [p.id, p.state]));
        if (JSON.stringify(Object.keys(states).sort()) !== JSON.stringify([...pipes].sort())) return false;
        if (!pipes.every((p) => states[p] === 'Running')) return false;
        const url = await runtimeUrl();
        if (!url) return false;
        const served = (await getJson<{ _id: string }[]>(`${url}/api/pipes`)).body.map((p) => p._id).filter((id) => !id.startsWith('system:'));
        return JSON.stringify(served.sort()) === JSON.stringify([...pipes].sort()) ? i! : false;
      },
      timeoutMs,
      describeState,
    );

  beforeAll(async () => {
    ({ kube } = kubeClient(kubeconfig));
    await applyCrds(kubeconfig);
    ns = await createNamespace(kubeconfig, 'gitops');
    repo = new ConfigRepo();
    repo.commit('customers', { 'node-metadata.conf.json': '{"_id": "node", "type": "metadata"}\n', 'pipes/customers.conf.json': customers });
    workDir = mkdtempSync(join(tmpdir(), 'sluice-operator-'));
    node = await startFakeNode({ kubeconfig, namespace: ns, repoRoot: inject('appImage'), extraEnv: { SLUICE_LOG_LEVEL: 'warn' } });
    operator = await startOperator(kubeconfig, ns, workDir, 'operator-a');
    operators.push(operator);
    await kube.request('POST', `/apis/${API}/namespaces/${ns}/sluiceinstances`, {
      body: { apiVersion: API, kind: 'SluiceInstance', metadata: { name: 'shop' }, spec: { git: { url: repo.bare, ref: 'main', pollInterval: '1h' }, runtime: { replicas: 1 } } },
    });
  });

  afterAll(async () => {
    for (const op of operators) await op.stop().catch(() => undefined);
    await node?.stop();
    if (ns) await deleteNamespace(kubeconfig, ns);
    repo?.remove();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('compiles the revision in git and runs it; status shows revision, conditions and pipes', async () => {
    const i = await waitForPipes(['customers'], 60_000);
    expect(i.status?.observedRevision).toBe(repo.git('rev-parse', 'HEAD'));
    expect(condition(i, 'Fetched')?.status).toBe('True');
    expect(condition(i, 'Compiled')?.status).toBe('True');
    expect(i.metadata.finalizers).toContain('sluice.io/cleanup');
    // Everything the operator created is owned by the instance and carries its labels.
    for (const [apiVersion, kind, name] of [
      ['v1', 'ConfigMap', 'shop-plan'],
      ['v1', 'Secret', 'shop-runtime-secrets'],
      ['v1', 'Service', 'shop-runtime'],
      ['apps/v1', 'Deployment', 'shop-runtime-0'],
    ]) {
      const obj = await kube.get<KubeObject>(apiVersion, kind, ns, name);
      expect(obj?.metadata.ownerReferences?.[0], `${kind} ${name}`).toMatchObject({ kind: 'SluiceInstance', name: 'shop', uid: i.metadata.uid, controller: true });
      expect((obj?.metadata.managedFields as { manager: string }[]).map((m) => m.manager)).toContain('sluice-operator');
    }
    // The runtime runs the plan the operator compiled, with its data.
    const url = (await runtimeUrl())!;
    const status = await getJson<{ plan: { hash: string } }>(`${url}/api/status`);
    expect(status.body.plan.hash).toBe(i.status?.planHash);
    await waitFor('customers written', async () => (await getJson<unknown[]>(`${url}/api/datasets/customers/entities`)).body.length === 2);
    const events = await kube.list<KubeObject & { reason: string }>('v1', 'Event', ns);
    expect(events.map((e) => e.reason)).toContain('RolledOut');
  });

  it('a commit that adds a pipe runs, and shows on the instance, within 10 s of the webhook', async () => {
    const revision = repo.commit('orders', { 'pipes/orders-raw.conf.json': ordersRaw, 'pipes/orders.conf.json': orders });
    const t0 = Date.now();
    await webhook();
    const i = await waitForPipes(['customers', 'orders-raw', 'orders'], 10_000);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeLessThan(10_000);
    expect(i.status?.observedRevision).toBe(revision);
    const url = (await runtimeUrl())!;
    const joined = await waitFor('orders joined to customers', async () => {
      const r = await getJson<{ _id: string; who?: { name: string } }[]>(`${url}/api/datasets/orders/entities`);
      return r.body.find((e) => e._id === 'o1' && e.who?.name === 'Ada');
    });
    expect(joined.who).toMatchObject({ name: 'Ada' });
  });

  it('a commit with a DTL error keeps the last good plan running and reports file:line:col', async () => {
    const good = (await instance())!.status!;
    const revision = repo.commit('broken', { 'pipes/broken.conf.json': broken });
    await webhook();
    const i = await waitFor('the compile failure in status', async () => {
      const x = await instance();
      return x?.status?.observedRevision === revision && condition(x, 'Compiled')?.status === 'False' ? x : false;
    }, 10_000, describeState);
    expect(i.status?.diagnostics).toContainEqual(expect.objectContaining({ file: 'pipes/broken.conf.json', line: 6, column: 40, severity: 'error', code: 'DTL_UNKNOWN_FUNCTION' }));
    expect(condition(i, 'Compiled')?.message).toContain('pipes/broken.conf.json:6:40');
    expect(condition(i, 'Compiled')?.reason).toBe('CompileFailed');
    // The last good plan keeps running.
    expect(i.status?.planHash).toBe(good.planHash);
    expect(i.status?.lastGoodRevision).toBe(good.observedRevision);
    expect(condition(i, 'Ready')?.status).toBe('True');
    const url = (await runtimeUrl())!;
    expect((await getJson<{ plan: { hash: string } }>(`${url}/api/status`)).body.plan.hash).toBe(good.planHash);
    expect((await getJson(`${url}/api/pipes/orders`)).status).toBe(200);
    const events = await kube.list<KubeObject & { reason: string; message: string; type: string }>('v1', 'Event', ns);
    expect(events.find((e) => e.reason === 'CompileFailed')).toMatchObject({ type: 'Warning', message: expect.stringContaining('pipes/broken.conf.json:6:40') });

    // Fixing it rolls out again.
    repo.commit('fix', { 'pipes/broken.conf.json': broken.replace('uppr', 'upper') });
    await webhook();
    const fixed = await waitForPipes(['customers', 'orders-raw', 'orders', 'broken'], 15_000);
    expect(condition(fixed, 'Compiled')?.status).toBe('True');
    expect(fixed.status?.diagnostics).toEqual([]);
  });

  it('repairs drift: a deleted Deployment comes back, a hand-edited Service is restored, a deleted plan ConfigMap returns', async () => {
    const before = await kube.get<KubeObject>('apps/v1', 'Deployment', ns, 'shop-runtime-0');
    await kube.delete('apps/v1', 'Deployment', ns, 'shop-runtime-0');
    const again = await waitFor('the Deployment to come back', async () => {
      const d = await kube.get<KubeObject>('apps/v1', 'Deployment', ns, 'shop-runtime-0');
      return d && d.metadata.uid !== before!.metadata.uid ? d : false;
    }, 15_000);
    expect(again.metadata.labels?.['sluice.io/instance']).toBe('shop');
    await waitForPipes(['customers', 'orders-raw', 'orders', 'broken'], 30_000);

    await kube.request('PATCH', `/api/v1/namespaces/${ns}/services/shop-runtime`, { body: { spec: { ports: [{ name: 'api', port: 1234, targetPort: 1234 }] } }, contentType: 'application/merge-patch+json', query: { fieldManager: 'someone' } });
    await waitFor('the Service port restored', async () => {
      const s = await kube.get<KubeObject & { spec: { ports: { port: number }[] } }>('v1', 'Service', ns, 'shop-runtime');
      return s?.spec.ports.length === 1 && s.spec.ports[0].port === 9042;
    }, 15_000);

    await kube.delete('v1', 'ConfigMap', ns, 'shop-plan');
    await waitFor('the plan ConfigMap to come back', async () => (await kube.get<KubeObject>('v1', 'ConfigMap', ns, 'shop-plan'))?.metadata.annotations?.['sluice.io/plan-hash'] === (await instance())?.status?.planHash, 15_000);
  });

  it('scaling places pipes on two runtimes (each pipe runs on one) and prunes on scale-down', async () => {
    await kube.mergePatch(API, 'SluiceInstance', ns, 'shop', { spec: { runtime: { replicas: 2 } } });
    await waitFor('two ready runtimes', async () => {
      const i = await instance();
      return i?.status?.readyReplicas === 2 && condition(i, 'Ready')?.status === 'True' && (await runtimeUrl(1)) !== undefined;
    }, 45_000, describeState);
    const urls = [(await runtimeUrl(0))!, (await runtimeUrl(1))!];
    const i = (await instance())!;
    for (const p of i.status!.pipes!) {
      const runsHere = await Promise.all(urls.map(async (u) => (await getJson<{ runtime: { 'runs-here': boolean } }>(`${u}/api/pipes/${p.id}`)).body.runtime['runs-here']));
      expect(runsHere.filter(Boolean), p.id).toHaveLength(1);
      expect(runsHere[p.replica!], p.id).toBe(true);
    }
    expect(new Set(i.status!.pipes!.map((p) => p.replica)).size).toBe(2);

    await kube.mergePatch(API, 'SluiceInstance', ns, 'shop', { spec: { runtime: { replicas: 1 } } });
    await waitFor('the second runtime pruned', async () => (await kube.get('apps/v1', 'Deployment', ns, 'shop-runtime-1')) === null, 20_000);
    await waitForPipes(['customers', 'orders-raw', 'orders', 'broken'], 30_000);
  });

  it('an operator restarted in the middle of a rollout converges to the same state, and a further pass changes nothing', async () => {
    const revision = repo.commit('rename', { 'pipes/broken.conf.json': null, 'pipes/renamed.conf.json': broken.replace('uppr', 'lower').replace('"broken"', '"renamed"') });
    await webhook();
    // Stop as soon as the new plan is being rolled out (the ConfigMap changed, the runtime not yet ready on it).
    await waitFor('the rollout to start', async () => {
      const cm = await kube.get<KubeObject>('v1', 'ConfigMap', ns, 'shop-plan');
      return cm?.metadata.annotations?.['sluice.io/revision'] === revision;
    }, 10_000);
    await operator.stop();
    operators.splice(operators.indexOf(operator), 1);
    operator = await startOperator(kubeconfig, ns, workDir, 'operator-b');
    operators.push(operator);
    const i = await waitForPipes(['customers', 'orders-raw', 'orders', 'renamed'], 30_000);
    expect(i.status?.observedRevision).toBe(revision);

    // Idempotence: one more pass by a fresh operator writes nothing to the objects it owns.
    const owned = async () => {
      const out: Record<string, string> = {};
      for (const [v, kind] of [['v1', 'ConfigMap'], ['v1', 'Secret'], ['v1', 'Service'], ['apps/v1', 'Deployment']]) {
        // Deployments: the generation (spec changes); the fake node's status and annotation patches change their resourceVersion.
        for (const o of await kube.list<KubeObject>(v, kind, ns, 'sluice.io/instance=shop')) out[`${kind}/${o.metadata.name}`] = kind === 'Deployment' ? `generation ${o.metadata.generation}` : o.metadata.resourceVersion!;
      }
      return out;
    };
    const versions = await owned();
    const planHash = i.status?.planHash;
    await operator.stop();
    operators.splice(operators.indexOf(operator), 1);
    operator = await startOperator(kubeconfig, ns, workDir, 'operator-c');
    operators.push(operator);
    await waitFor('the new operator to lead and reconcile', async () => operator.isLeader && (await (await fetch(`http://127.0.0.1:${operator.port}/metrics`)).text()).match(/sluice_operator_reconciles_total\{outcome="unchanged"\} [1-9]/), 20_000);
    expect(await owned()).toEqual(versions);
    const deployment = await kube.get<KubeObject & { spec: { template: { metadata: { annotations: Record<string, string> } } } }>('apps/v1', 'Deployment', ns, 'shop-runtime-0');
    expect(deployment?.spec.template.metadata.annotations['sluice.io/plan-hash']).toBe(planHash);
    expect((await instance())?.status?.planHash).toBe(planHash);
  });

  it('leader election: a second operator waits, and takes over when the leader stops', async () => {
    const standby = await startOperator(kubeconfig, ns, mkdtempSync(join(tmpdir(), 'sluice-operator-')), 'operator-standby');
    operators.push(standby);
    await new Promise((r) => setTimeout(r, 1500));
    expect(operator.isLeader).toBe(true);
    expect(standby.isLeader).toBe(false);
    const lease = await kube.request<{ spec: { holderIdentity: string } }>('GET', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/sluice-operator-leader`);
    expect(lease.spec.holderIdentity).toBe(operator.identity);

    await operator.stop();
    operators.splice(operators.indexOf(operator), 1);
    operator = standby;
    await waitFor('the standby to lead', () => standby.isLeader, 15_000);
    const revision = repo.commit('more customers', {
      'pipes/customers.conf.json': pipeFile('customers', { source: { type: 'embedded', entities: [{ _id: 'c1', name: 'Ada' }, { _id: 'c2', name: 'Grace' }, { _id: 'c3', name: 'Linus' }] } }),
    });
    await webhook(standby);
    await waitFor('the new leader to roll out the commit', async () => {
      const i = await instance();
      return i?.status?.observedRevision === revision && condition(i, 'Ready')?.status === 'True';
    }, 20_000, describeState);
  });

  it('serves health, readiness and Prometheus metrics', async () => {
    const base = `http://127.0.0.1:${operator.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/sluice_operator_reconciles_total\{outcome="applied"\} \d+/);
    expect(metrics).toContain('sluice_operator_reconcile_duration_seconds_bucket');
    expect(metrics).toMatch(/sluice_operator_leader 1/);
  });

  it('deleting the instance removes what it owns, then the instance (finalizer)', async () => {
    await kube.delete(API, 'SluiceInstance', ns, 'shop');
    await waitFor('the instance to be gone', async () => (await instance()) === null, 20_000, describeState);
    for (const [v, kind] of [['v1', 'ConfigMap'], ['v1', 'Secret'], ['v1', 'Service'], ['apps/v1', 'Deployment']]) {
      expect(await kube.list(v, kind, ns, 'sluice.io/instance=shop'), kind).toEqual([]);
    }
    await waitFor('the runtime processes to stop', () => node.processes(`${ns}/shop-runtime-0`).length === 0, 15_000);
  });
});
