/**
 * Runtime pods keeping their entity logs in MongoDB (the FerretDB test server): replicas share one
 * database, read each other's datasets, and scaling moves pipes between pods with each pipe leased
 * to one pod at a time.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Operator } from '../../operator/manager.js';
import type { Kube } from '../../operator/kube/rest.js';
import type { SluiceInstance } from '../../operator/controllers/types.js';
import { startFakeNode, type FakeNode } from '../support/kube-node.js';
import { applyCrds, createNamespace, deleteNamespace } from '../support/kube.js';
import { mongodbAvailable, mongodbUri } from '../support/mongodb.js';
import { ConfigRepo, getJson, kubeClient, pipeFile, startOperator, waitFor } from './support.js';

const API = 'sluice.io/v1alpha1';
const kubeconfig = inject('kubeconfig');
const haveMongo = mongodbAvailable();

/** Two independent flows: a source pipe and a pipe reading its dataset. */
function flow(name: string, entities: number): Record<string, string> {
  return {
    [`pipes/${name}.conf.json`]: pipeFile(name, { source: { type: 'embedded', entities: Array.from({ length: entities }, (_, i) => ({ _id: `${name}-${i}`, n: i })) } }),
    [`pipes/${name}-view.conf.json`]: pipeFile(`${name}-view`, { source: { type: 'dataset', dataset: name }, transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['add', 'double', ['*', 2, '_S.n']]] } } }),
  };
}

describe.skipIf(!kubeconfig || !haveMongo)('runtime pods on MongoDB', () => {
  let kube: Kube;
  let ns: string;
  let node: FakeNode;
  let operator: Operator;
  let repo: ConfigRepo;
  let workDir: string;
  let mongo: MongoClient;
  const database = `k8s_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const pipes = ['alpha', 'alpha-view', 'beta', 'beta-view'];

  const instance = () => kube.get<SluiceInstance>(API, 'SluiceInstance', ns, 'shared');
  const url = (replica: number) => node.processes(`${ns}/shared-runtime-${replica}`).find((p) => p.ready)?.url;
  const pod = (replica: number) => node.processes(`${ns}/shared-runtime-${replica}`).find((p) => p.ready)?.pod;
  const describeState = async () => JSON.stringify((await instance())?.status ?? null).slice(0, 3000) + node.logs(`${ns}/shared-runtime-0`).slice(-1500) + node.logs(`${ns}/shared-runtime-1`).slice(-1500);
  /** Waits until `replicas` runtimes run the instance's current plan and each pipe has run where it is placed. */
  const settled = (replicas: number) =>
    waitFor(
      `${replicas} runtimes on the plan with every pipe run`,
      async () => {
        const i = await instance();
        if (i?.status?.readyReplicas !== replicas || i.status.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') return false;
        const placed = i.status.pipes ?? [];
        return placed.length === pipes.length && placed.every((p) => p.state === 'Running' && p.lastRun) ? i : false;
      },
      90_000,
      describeState,
    );

  beforeAll(async () => {
    ({ kube } = kubeClient(kubeconfig));
    await applyCrds(kubeconfig);
    ns = await createNamespace(kubeconfig, 'mongo');
    workDir = mkdtempSync(join(tmpdir(), 'sluice-operator-'));
    repo = new ConfigRepo();
    repo.commit('two flows', { ...flow('alpha', 5), ...flow('beta', 7) });
    mongo = await MongoClient.connect(mongodbUri());
    node = await startFakeNode({ kubeconfig, namespace: ns, repoRoot: inject('appImage'), extraEnv: { SLUICE_LOG_LEVEL: 'warn' } });
    operator = await startOperator(kubeconfig, ns, workDir, 'operator-mongo');
    await kube.request('POST', `/api/v1/namespaces/${ns}/secrets`, { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shared-mongodb' }, stringData: { uri: `${mongodbUri()}${database}` } } });
    await kube.request('POST', `/apis/${API}/namespaces/${ns}/sluiceinstances`, {
      body: { apiVersion: API, kind: 'SluiceInstance', metadata: { name: 'shared' }, spec: { git: { url: repo.bare, pollInterval: '1h' }, store: { mongodbUriSecret: { name: 'shared-mongodb' } }, runtime: { replicas: 2 } } },
    });
  });

  afterAll(async () => {
    await operator?.stop();
    await node?.stop();
    if (ns) await deleteNamespace(kubeconfig, ns);
    await mongo?.db(database).dropDatabase().catch(() => undefined);
    await mongo?.close();
    repo?.remove();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('two replicas share one database: each runs its placed pipes and reads the datasets the other wrote', async () => {
    const i = await settled(2);
    const placement = Object.fromEntries(i.status!.pipes!.map((p) => [p.id, p.replica!]));
    // Pipes connected through a dataset stay together; the two flows go to different replicas.
    expect(placement.alpha).toBe(placement['alpha-view']);
    expect(placement.beta).toBe(placement['beta-view']);
    expect(placement.alpha).not.toBe(placement.beta);
    // The entity logs are in MongoDB, not in the pods.
    const names = (await mongo.db(database).listCollections().toArray()).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['sluice_log', 'sluice_cur', 'sluice_leases']));
    // Each replica serves the other's data.
    const other = 1 - placement['beta-view'];
    const view = await waitFor('beta-view through the other replica', async () => {
      const r = await getJson<{ _id: string; double: number }[]>(`${url(other)}/api/datasets/beta-view/entities`);
      return r.status === 200 && r.body.length === 7 ? r.body : false;
    });
    expect(view.find((e) => e._id === 'beta-3')?.double).toBe(6);
  });

  it('each pipe is leased to the pod of the replica it is placed on; scaling moves pipes without sharing one', async () => {
    const leases = mongo.db(database).collection<{ _id: string; holder: string; expires: Date }>('sluice_leases');
    const holders = async () => Object.fromEntries((await leases.find({ expires: { $gt: new Date() } }).toArray()).map((l) => [l._id.replace(/^pipe:/, ''), l.holder]));
    const leasedWherePlaced = async (replicas: number) => {
      const i = await settled(replicas);
      const h = await holders();
      return i.status!.pipes!.every((p) => h[p.id]?.startsWith(`${pod(p.replica!)}-`)) ? { i, h } : false;
    };
    await waitFor('leases held where pipes are placed (2 replicas)', () => leasedWherePlaced(2), 60_000, describeState);

    await kube.mergePatch(API, 'SluiceInstance', ns, 'shared', { spec: { runtime: { replicas: 1 } } });
    await waitFor('the second runtime gone', async () => (await kube.get('apps/v1', 'Deployment', ns, 'shared-runtime-1')) === null && node.processes(`${ns}/shared-runtime-1`).length === 0, 30_000);
    await settled(1);
    // The pipes that moved run on their next schedule; run them now.
    for (const id of pipes) {
      const r = await fetch(`${url(0)}/api/pipes/${id}/pump`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ operation: 'start' }) });
      expect(r.status, id).toBe(200);
    }
    const { h } = await waitFor('all pipes leased to the one remaining pod', () => leasedWherePlaced(1), 60_000, async () => JSON.stringify(await holders()) + (await describeState()));
    expect(Object.keys(h).sort()).toEqual([...pipes].sort());
    expect(new Set(Object.values(h).map((holder) => holder.slice(0, pod(0)!.length)))).toEqual(new Set([pod(0)]));
    expect(await kube.get('apps/v1', 'Deployment', ns, 'shared-runtime-1')).toBeNull();
    // The data written before the scale-down is still there, read by the remaining pod.
    expect((await getJson<unknown[]>(`${url(0)}/api/datasets/alpha-view/entities`)).body).toHaveLength(5);
  });
});
