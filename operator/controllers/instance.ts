/**
 * The SluiceInstance reconciler. Level-based and idempotent: each pass reads what the instance
 * asks for (git revision, Pipe/System resources, env and secrets), compiles it, and makes the
 * cluster match — applying owned objects with server-side apply, pruning what is no longer
 * wanted — then writes status. A compile failure keeps the last good plan running and reports
 * the diagnostics. Running it twice in a row changes nothing the second time.
 */
import { gunzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import { compile } from '../../compiler/compile.js';
import { formatDiagnostic, type Diagnostic } from '../../compiler/diagnostics.js';
import type { SourceFile } from '../../compiler/load/files.js';
import { checkPlan } from '../../compiler/plan/load.js';
import { assignPlacement } from '../../compiler/plan/placement.js';
import type { ExecutionPlan } from '../../compiler/plan/types.js';
import type { GitSource } from '../git.js';
import { Kube, type KubeObject } from '../kube/rest.js';
import { planConfigMaps, runtimeDeployments, runtimeSecrets, runtimeService, secretsHash } from './desired.js';
import { API_VERSION, FINALIZER, ownedSelector, planConfigMapName } from './names.js';
import { applyAndRepair } from './drift.js';
import { microserviceObjects, nextMicroserviceRestartMs, readMicroserviceStatus } from './microservices.js';
import { collectResources, resourceFiles, updateResourceStatuses } from './resources.js';
import { readRuntimeStatus } from './runtime-status.js';
import { parseDuration, setCondition, type Condition, type InstanceStatus, type SluiceInstance } from './types.js';

export interface ReconcileResult {
  /** Reconcile again after this many milliseconds (polling, waiting for readiness). */
  requeueAfterMs?: number;
}

export interface InstanceReconcilerDeps {
  kube: Kube;
  git: GitSource;
  logger: Logger;
  /** Called with metrics-worthy outcomes. */
  onOutcome?(outcome: 'applied' | 'compile-failed' | 'unchanged' | 'deleted'): void;
}

const OWNED_KINDS: [string, string][] = [
  ['v1', 'ConfigMap'],
  ['v1', 'Secret'],
  ['v1', 'Service'],
  ['apps/v1', 'Deployment'],
];

function decode(s: string): string {
  return Buffer.from(s, 'base64').toString('utf8');
}

export class InstanceReconciler {
  /** Instances whose git repository must be fetched on the next pass (webhook, poll due). */
  private readonly fetchDue = new Set<string>();
  private readonly lastFetch = new Map<string, { at: number; revision: string; files: SourceFile[] }>();

  constructor(private readonly deps: InstanceReconcilerDeps) {}

  requestFetch(key: string): void {
    this.fetchDue.add(key);
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const { kube, logger } = this.deps;
    const key = `${namespace}/${name}`;
    const inst = await kube.get<SluiceInstance>(API_VERSION, 'SluiceInstance', namespace, name);
    if (!inst) return {};
    if (inst.metadata.deletionTimestamp) {
      await this.cleanUp(inst);
      this.deps.onOutcome?.('deleted');
      return {};
    }
    if (!(inst.metadata.finalizers ?? []).includes(FINALIZER)) {
      await kube.mergePatch(API_VERSION, 'SluiceInstance', namespace, name, { metadata: { finalizers: [...(inst.metadata.finalizers ?? []), FINALIZER] } });
    }
    let conditions = inst.status?.conditions;
    const status: InstanceStatus = { ...(inst.status ?? {}), observedGeneration: inst.metadata.generation };
    const pollSeconds = parseDuration(inst.spec.git?.pollInterval, 60);

    // 1. The config in git, fetched when due.
    let files: SourceFile[] = [];
    let revision: string | undefined;
    if (inst.spec.git) {
      const cached = this.lastFetch.get(key);
      const due = !cached || this.fetchDue.has(key) || Date.now() - cached.at >= pollSeconds * 1000;
      try {
        if (due) {
          this.fetchDue.delete(key);
          const credentials = await this.gitCredentials(inst);
          const fetched = await this.deps.git.fetch(key, inst.spec.git, credentials);
          this.lastFetch.set(key, { at: Date.now(), ...fetched });
        }
        const current = this.lastFetch.get(key)!;
        files = current.files;
        revision = current.revision;
        status.observedRevision = revision;
        conditions = setCondition(conditions, { type: 'Fetched', status: 'True', reason: 'Fetched', message: `revision ${revision.slice(0, 12)} of ${inst.spec.git.url} at ${inst.spec.git.ref ?? 'main'}` });
      } catch (err) {
        conditions = setCondition(conditions, { type: 'Fetched', status: 'False', reason: 'FetchFailed', message: (err as Error).message.slice(0, 1000) });
        await kube.event(inst, 'Warning', 'FetchFailed', (err as Error).message);
        await this.writeStatus(inst, { ...status, conditions });
        return { requeueAfterMs: Math.min(pollSeconds, 30) * 1000 };
      }
    }

    // 2. Pipe and System resources joining this instance (ids colliding with git are refused).
    const resources = await collectResources(kube, inst, files);
    files = [...files, ...resourceFiles(resources.accepted)];

    // 3. Compile.
    const env = (inst.spec.env ?? {}) as Record<string, unknown>;
    const secrets = await this.secretValues(inst);
    const result = compile(files, { env, secrets: Object.keys(secrets) });
    let plan = result.plan;
    const diagnostics = result.diagnostics.map((d) => ({ file: d.file, line: d.line, column: d.column, severity: d.severity, code: d.code, message: d.message }));
    status.diagnostics = diagnostics.slice(0, 100);
    if (!plan) {
      const errors = result.diagnostics.filter((d) => d.severity === 'error');
      const message = `${errors.length} error${errors.length === 1 ? '' : 's'}; the last good plan keeps running. ${errors.slice(0, 5).map(formatDiagnostic).join('; ')}`;
      conditions = setCondition(conditions, { type: 'Compiled', status: 'False', reason: 'CompileFailed', message: message.slice(0, 2000) });
      if (inst.status?.conditions?.find((c) => c.type === 'Compiled')?.message !== message.slice(0, 2000)) {
        await kube.event(inst, 'Warning', 'CompileFailed', `revision ${revision?.slice(0, 12) ?? '-'}: ${message}`);
      }
      this.deps.onOutcome?.('compile-failed');
      // Keep the objects of the last good plan in place (repairing drift with it).
      plan = (await this.lastGoodPlan(inst)) ?? undefined;
    } else {
      conditions = setCondition(conditions, { type: 'Compiled', status: 'True', reason: 'Compiled', message: `${plan.pipes.length} pipes, ${plan.systems.length} systems, plan ${plan.hash.slice(0, 12)}` });
      plan = { ...plan, revision, ...(inst.spec.git ? { source: { repository: inst.spec.git.url, ref: inst.spec.git.ref, path: inst.spec.git.path } } : {}), placement: assignPlacement(plan, inst.spec.runtime?.replicas ?? 1) };
      status.lastGoodRevision = revision;
    }
    await updateResourceStatuses(kube, resources, plan ?? null, result.diagnostics, null);

    // 4. Make the cluster match: apply what the plan needs, prune the rest.
    if (plan) {
      const previousHash = inst.status?.planHash;
      const desired = this.desiredObjects(inst, plan, secrets);
      for (const obj of desired) {
        if (await applyAndRepair(kube, obj)) {
          logger.info({ instance: key, kind: obj.kind, name: obj.metadata.name }, 'repaired hand edits');
          await kube.event(inst, 'Normal', 'DriftRepaired', `${obj.kind} ${obj.metadata.name} was edited by hand; restored`);
        }
      }
      await this.prune(inst, desired);
      status.planHash = plan.hash;
      if (previousHash !== plan.hash) {
        await kube.event(inst, 'Normal', 'RolledOut', `plan ${plan.hash.slice(0, 12)} (revision ${revision?.slice(0, 12) ?? '-'}) with ${plan.pipes.length} pipes on ${plan.placement?.replicas ?? 1} runtime replica(s)`);
        this.deps.onOutcome?.('applied');
      } else this.deps.onOutcome?.('unchanged');
    }

    // 5. Status read back from the runtimes.
    const runtime = plan ? await readRuntimeStatus(kube, inst, plan) : { ready: false, readyReplicas: 0, pipes: [], views: new Map() };
    status.readyReplicas = runtime.readyReplicas;
    status.microservices = plan ? await readMicroserviceStatus(kube, inst, plan) : [];
    status.pipes = runtime.pipes;
    const ready: Condition = runtime.ready
      ? { type: 'Ready', status: 'True', reason: 'RuntimesReady', message: `${runtime.readyReplicas} runtime replica(s) run plan ${plan!.hash.slice(0, 12)}` }
      : { type: 'Ready', status: 'False', reason: plan ? 'RuntimesStarting' : 'NoPlan', message: plan ? 'waiting for the runtime replicas to run the plan' : 'no plan has compiled yet' };
    conditions = setCondition(conditions, ready);
    await updateResourceStatuses(kube, resources, plan ?? null, result.diagnostics, runtime.views);
    await this.writeStatus(inst, { ...status, conditions: conditions.map((c) => ({ ...c, observedGeneration: inst.metadata.generation })) });
    logger.debug({ instance: key, revision, ready: runtime.ready }, 'reconciled');
    // Scheduled image pulls of microservices need a pass at their time.
    const pullDue = plan ? nextMicroserviceRestartMs(plan) : null;
    return { requeueAfterMs: Math.min(runtime.ready ? pollSeconds * 1000 : 2000, pullDue ?? Infinity) };
  }

  private desiredObjects(inst: SluiceInstance, plan: ExecutionPlan, secrets: Record<string, string>): KubeObject[] {
    const maps = planConfigMaps(inst, plan);
    const microservices = microserviceObjects(inst, plan, secrets);
    return [...maps, runtimeSecrets(inst, secrets), ...runtimeDeployments(inst, plan, maps.length, secretsHash(secrets), microservices.runtimeEnv), runtimeService(inst), ...microservices.objects];
  }

  /** The plan last applied (from its ConfigMaps), to keep running when a new revision fails. */
  private async lastGoodPlan(inst: SluiceInstance): Promise<ExecutionPlan | null> {
    const parts: Buffer[] = [];
    for (let i = 0; ; i++) {
      const cm = await this.deps.kube.get<KubeObject & { binaryData?: Record<string, string> }>('v1', 'ConfigMap', inst.metadata.namespace, planConfigMapName(inst.metadata.name, i));
      if (!cm?.binaryData) break;
      for (const k of Object.keys(cm.binaryData).sort()) parts.push(Buffer.from(cm.binaryData[k], 'base64'));
      const [, total] = (cm.metadata.annotations?.['sluice.io/plan-part'] ?? '0/1').split('/');
      if (i + 1 >= Number(total)) break;
    }
    if (!parts.length) return null;
    try {
      const plan = checkPlan(JSON.parse(gunzipSync(Buffer.concat(parts)).toString('utf8')));
      return { ...plan, placement: assignPlacement(plan, inst.spec.runtime?.replicas ?? 1) };
    } catch {
      return null;
    }
  }

  private async prune(inst: SluiceInstance, desired: KubeObject[]): Promise<void> {
    const wanted = new Set(desired.map((o) => `${o.kind}/${o.metadata.name}`));
    for (const [apiVersion, kind] of OWNED_KINDS) {
      for (const obj of await this.deps.kube.list(apiVersion, kind, inst.metadata.namespace, ownedSelector(inst.metadata.name))) {
        if (!wanted.has(`${kind}/${obj.metadata.name}`)) {
          await this.deps.kube.delete(apiVersion, kind, inst.metadata.namespace, obj.metadata.name);
          this.deps.logger.info({ instance: inst.metadata.name, kind, name: obj.metadata.name }, 'pruned');
        }
      }
    }
  }

  /** Deletion: remove what the instance owns (no garbage collector is assumed), then the finalizer. */
  private async cleanUp(inst: SluiceInstance): Promise<void> {
    await this.prune(inst, []);
    this.lastFetch.delete(`${inst.metadata.namespace}/${inst.metadata.name}`);
    const finalizers = (inst.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
    await this.deps.kube.mergePatch(API_VERSION, 'SluiceInstance', inst.metadata.namespace, inst.metadata.name, { metadata: { finalizers } });
  }

  private async gitCredentials(inst: SluiceInstance): Promise<{ username?: string; password?: string; sshPrivateKey?: string }> {
    const name = inst.spec.git?.credentialsSecret;
    if (!name) return {};
    const s = await this.deps.kube.get<KubeObject & { data?: Record<string, string> }>('v1', 'Secret', inst.metadata.namespace, name);
    if (!s?.data) throw new Error(`git credentials secret "${name}" not found`);
    return {
      username: s.data.username ? decode(s.data.username) : undefined,
      password: s.data.password ? decode(s.data.password) : undefined,
      sshPrivateKey: s.data['ssh-privatekey'] ? decode(s.data['ssh-privatekey']) : undefined,
    };
  }

  private async secretValues(inst: SluiceInstance): Promise<Record<string, string>> {
    const name = inst.spec.secretsSecret;
    if (!name) return {};
    const s = await this.deps.kube.get<KubeObject & { data?: Record<string, string> }>('v1', 'Secret', inst.metadata.namespace, name);
    return Object.fromEntries(Object.entries(s?.data ?? {}).map(([k, v]) => [k, decode(v)]));
  }

  private async writeStatus(inst: SluiceInstance, status: InstanceStatus): Promise<void> {
    await this.deps.kube.mergePatch(API_VERSION, 'SluiceInstance', inst.metadata.namespace, inst.metadata.name, { status }, 'status');
  }
}

export type { Diagnostic };
