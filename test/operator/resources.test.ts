/**
 * Pipe and System resources with kubectl: they join their instance's config, show in
 * `kubectl get pipes`, leave it when deleted; an id git already defines is refused on the resource;
 * the CRD's schema rejects unknown fields.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Operator } from '../../operator/manager.js';
import type { Kube } from '../../operator/kube/rest.js';
import type { ComponentResource, SluiceInstance } from '../../operator/controllers/types.js';
import { startFakeNode, type FakeNode } from '../support/kube-node.js';
import { applyCrds, createNamespace, deleteNamespace, kubectl } from '../support/kube.js';
import { ConfigRepo, getJson, kubeClient, pipeFile, startOperator, waitFor } from './support.js';

const root = join(import.meta.dirname, '..', '..');
const API = 'sluice.io/v1alpha1';
const kubeconfig = inject('kubeconfig');
const example = (f: string) => join(root, 'examples', 'kubernetes', f);

describe.skipIf(!kubeconfig)('Pipe and System resources', () => {
  let kube: Kube;
  let ns: string;
  let node: FakeNode;
  let operator: Operator;
  let repo: ConfigRepo;
  let workDir: string;
  const k = (...args: string[]) => kubectl(kubeconfig, ['-n', ns, ...args]);
  const runtimeUrl = (instance: string) => node.processes(`${ns}/${instance}-runtime-0`).find((p) => p.ready)?.url;

  beforeAll(async () => {
    ({ kube } = kubeClient(kubeconfig));
    await applyCrds(kubeconfig);
    ns = await createNamespace(kubeconfig, 'resources');
    workDir = mkdtempSync(join(tmpdir(), 'sluice-operator-'));
    node = await startFakeNode({ kubeconfig, namespace: ns, repoRoot: inject('appImage'), extraEnv: { SLUICE_LOG_LEVEL: 'warn' } });
    operator = await startOperator(kubeconfig, ns, workDir, 'operator-resources');
    repo = new ConfigRepo();
    repo.commit('git config', { 'pipes/stations.conf.json': pipeFile('stations', { source: { type: 'embedded', entities: [{ _id: 'x' }] } }) });
  });

  afterAll(async () => {
    await operator?.stop();
    await node?.stop();
    if (ns) await deleteNamespace(kubeconfig, ns);
    repo?.remove();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('kubectl apply of the example pipe: kubectl get pipes shows it running; kubectl delete removes it', async () => {
    const applied = await k('apply', '-f', example('instance-local.yaml'), '-f', example('system.yaml'), '-f', example('pipe.yaml'));
    expect(applied.status, applied.stderr).toBe(0);
    const row = await waitFor(
      'weather-stations running in kubectl get pipes',
      async () => {
        const out = (await k('get', 'pipes')).stdout;
        const line = out.split('\n').find((l) => l.startsWith('weather-stations '));
        return line && /\bRunning\b/.test(line) && /\s3\s/.test(line) ? { out, line } : false;
      },
      60_000,
      async () => (await k('get', 'pipes,systems,sluiceinstances', '-o', 'wide')).stdout + node.logs(`${ns}/playground-runtime-0`).slice(-2000),
    );
    expect(row.out.split('\n')[0].split(/\s{2,}/)).toEqual(['NAME', 'INSTANCE', 'SOURCE', 'SINK', 'STATE', 'LAST RUN', 'ENTITIES', 'AGE']);
    expect(row.line).toMatch(/^weather-stations\s+playground\s+embedded\s+dataset\s+Running\s+\S+\s+3\s+/);
    expect((await k('get', 'systems')).stdout).toMatch(/weather-api\s+playground\s+system:url\s+Ready/);
    const url = runtimeUrl('playground')!;
    const entities = (await getJson<{ _id: string; high: boolean }[]>(`${url}/api/datasets/weather-stations/entities`)).body;
    expect(entities.map((e) => [e._id, e.high])).toEqual(expect.arrayContaining([['oslo', true], ['bergen', false], ['tromso', true]]));
    const instance = await kube.get<SluiceInstance>(API, 'SluiceInstance', ns, 'playground');
    expect(instance?.status?.pipes).toContainEqual(expect.objectContaining({ id: 'weather-stations', state: 'Running', origin: 'resource', entities: 3 }));

    const deleted = await k('delete', '-f', example('pipe.yaml'));
    expect(deleted.status, deleted.stderr).toBe(0);
    await waitFor('the pipe to leave the runtime', async () => (await getJson(`${runtimeUrl('playground')}/api/pipes/weather-stations`)).status === 404, 30_000);
    await waitFor('the pipe to leave the instance status', async () => {
      const i = await kube.get<SluiceInstance>(API, 'SluiceInstance', ns, 'playground');
      return i?.status?.pipes?.length === 0 && i.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    }, 30_000);
    expect((await k('get', 'pipes')).stdout).not.toContain('weather-stations');
  });

  it('a Pipe whose id git already defines is refused with a condition, and git keeps the pipe', async () => {
    const instanceYaml = JSON.stringify({ apiVersion: API, kind: 'SluiceInstance', metadata: { name: 'from-git' }, spec: { git: { url: repo.bare, pollInterval: '1h' } } });
    const pipeYaml = JSON.stringify({ apiVersion: API, kind: 'Pipe', metadata: { name: 'stations' }, spec: { instance: 'from-git', source: { type: 'embedded', entities: [{ _id: 'hijacked' }] } } });
    expect((await kubectl(kubeconfig, ['-n', ns, 'apply', '-f', '-'], instanceYaml)).status).toBe(0);
    expect((await kubectl(kubeconfig, ['-n', ns, 'apply', '-f', '-'], pipeYaml)).status).toBe(0);
    const pipe = await waitFor('the collision condition', async () => {
      const p = await kube.get<ComponentResource>(API, 'Pipe', ns, 'stations');
      return p?.status?.conditions?.find((c) => c.type === 'Accepted' && c.status === 'False') ? p : false;
    }, 30_000);
    const accepted = pipe.status!.conditions!.find((c) => c.type === 'Accepted')!;
    expect(accepted.reason).toBe('IdCollision');
    expect(accepted.message).toContain('"stations" is already defined in the instance\'s git config');
    expect(pipe.status?.state).toBe('Rejected');
    expect((await k('get', 'pipe', 'stations')).stdout).toMatch(/stations\s+from-git\s+.*Rejected/);
    // git's definition runs, not the resource's.
    const url = await waitFor('the from-git runtime', () => runtimeUrl('from-git'), 60_000);
    const served = await waitFor('the git pipe', async () => {
      const r = await getJson<{ config: { original: { source: { entities: { _id: string }[] } } } }>(`${url}/api/pipes/stations`);
      return r.status === 200 ? r.body : false;
    }, 30_000);
    expect(served.config.original.source.entities).toEqual([{ _id: 'x' }]);
  });

  it('the CRD schema rejects an unknown field in a Pipe', async () => {
    const bad = readFileSync(example('pipe.yaml'), 'utf8').replace('name: weather-stations', 'name: misspelt').replace('  pump:\n', '  pumpp:\n');
    const r = await kubectl(kubeconfig, ['-n', ns, 'apply', '-f', '-'], bad);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('unknown field "spec.pumpp"');
    expect(await kube.get(API, 'Pipe', ns, 'misspelt')).toBeNull();
  });
});
