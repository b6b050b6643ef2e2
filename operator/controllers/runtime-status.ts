/**
 * Reads the state of an instance's runtime replicas: Deployment readiness, and each replica's API
 * (which plan it runs, and its pipes). Replica API addresses come from the Deployment annotation
 * `sluice.io/runtime-urls` when a node agent publishes one, else from the pods' IPs.
 */
import type { ExecutionPlan } from '../../compiler/plan/types.js';
import type { Kube, KubeObject } from '../kube/rest.js';
import { runtimeDeploymentName } from './names.js';
import type { InstanceStatus, SluiceInstance } from './types.js';

export interface PipeView {
  _id: string;
  runtime?: Record<string, unknown>;
  storage?: Record<string, unknown>;
}

export interface RuntimeStatus {
  ready: boolean;
  readyReplicas: number;
  pipes: NonNullable<InstanceStatus['pipes']>;
  /** Pipe views from the replica that runs each pipe. */
  views: Map<string, PipeView>;
}

type Deployment = KubeObject & { status?: { readyReplicas?: number } };

async function getJson<T>(url: string): Promise<T | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return res.ok ? ((await res.json()) as T) : null;
  } catch {
    return null;
  }
}

async function replicaUrls(kube: Kube, inst: SluiceInstance, d: Deployment, replica: number): Promise<string[]> {
  const annotated = d.metadata.annotations?.['sluice.io/runtime-urls'];
  if (annotated) return annotated.split(',').filter(Boolean);
  const pods = await kube.list<KubeObject & { status?: { podIP?: string; phase?: string } }>('v1', 'Pod', inst.metadata.namespace, `sluice.io/instance=${inst.metadata.name},sluice.io/replica=${replica}`).catch(() => []);
  return pods.filter((p) => p.status?.podIP && p.status.phase === 'Running').map((p) => `http://${p.status!.podIP}:9042`);
}

/**
 * A pipe's state as kubectl shows it: Running once its runtime has it scheduled (between runs as
 * well as during one), Disabled, Failed (the last run failed), Invalid, or Pending (no runtime has it yet).
 */
export function pipeState(runtime: Record<string, unknown> | undefined): string {
  if (!runtime) return 'Pending';
  if (runtime['is-valid-config'] === false) return 'Invalid';
  if (runtime['is-disabled'] === true) return 'Disabled';
  if (runtime['is-running'] !== true && runtime['last-run-status'] === 'failed') return 'Failed';
  return 'Running';
}

export async function readRuntimeStatus(kube: Kube, inst: SluiceInstance, plan: ExecutionPlan): Promise<RuntimeStatus> {
  const replicas = plan.placement?.replicas ?? 1;
  let readyReplicas = 0;
  let allOnPlan = true;
  const views = new Map<string, PipeView>();
  for (let replica = 0; replica < replicas; replica++) {
    const d = await kube.get<Deployment>('apps/v1', 'Deployment', inst.metadata.namespace, runtimeDeploymentName(inst.metadata.name, replica));
    if (!d || (d.status?.readyReplicas ?? 0) < 1) {
      allOnPlan = false;
      continue;
    }
    readyReplicas++;
    const urls = await replicaUrls(kube, inst, d, replica);
    let onPlan = false;
    for (const url of urls) {
      const status = await getJson<{ plan?: { hash?: string } }>(`${url}/api/status`);
      if (status?.plan?.hash === plan.hash) onPlan = true;
      for (const v of (await getJson<PipeView[]>(`${url}/api/pipes`)) ?? []) {
        if ((plan.placement?.assignments[v._id] ?? 0) === replica) views.set(v._id, v);
      }
    }
    if (!onPlan) allOnPlan = false;
  }
  const pipes = plan.pipes.map((p) => {
    const v = views.get(p.id);
    return {
      id: p.id,
      state: pipeState(v?.runtime),
      replica: plan.placement?.assignments[p.id] ?? 0,
      ...(typeof v?.runtime?.['last-run'] === 'string' ? { lastRun: v.runtime['last-run'] as string } : {}),
      ...(typeof v?.storage?.['count-index-exists'] === 'number' ? { entities: v.storage['count-index-exists'] as number } : {}),
      origin: p.source_file.startsWith('k8s/') ? 'resource' : 'git',
    };
  });
  return { ready: allOnPlan && readyReplicas === replicas, readyReplicas, pipes, views };
}
