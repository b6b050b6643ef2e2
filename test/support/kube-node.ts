/**
 * A fake node for the operator's end-to-end tests against the test API server (which runs no
 * controllers and no kubelet, so Deployments never get Pods). It plays the deployment controller
 * and the kubelet for Deployments labelled app.kubernetes.io/managed-by=sluice-operator:
 *
 * - for each replica it runs the pod template's first container as a local process: `command` +
 *   `args` (`node` → this Node binary, `/app/bin/sluice.js` → the repository's bin/sluice.js; without
 *   `command`, the image entrypoint `node /app/bin/sluice.js`), `$(VAR)` references expanded;
 * - environment from `env` (`value`, `valueFrom.secretKeyRef`/`configMapKeyRef`/`fieldRef`) and
 *   `envFrom`, read through the API; a missing non-optional source keeps the replica from starting
 *   (retried) like CreateContainerConfigError;
 * - ConfigMap and Secret volumes (and emptyDir) become files in a temporary directory per process,
 *   and the container's mount paths are replaced by those directories in args and env values;
 * - each process gets a free port: the value after `--port` (or `--port=`) is replaced, or PORT set;
 * - a process is ready once GET /api/health (or the readinessProbe's httpGet path) answers 200; the
 *   Deployment's status subresource is then patched (replicas, readyReplicas, availableReplicas,
 *   updatedReplicas, observedGeneration, conditions) and the annotation sluice.io/runtime-urls set
 *   to the ready replicas' URLs (JSON merge patches, field manager `fake-node`, so nothing fights the
 *   operator's server-side apply);
 * - a changed pod template restarts the processes (stop all, then start: the Recreate strategy);
 *   new data in a mounted ConfigMap/Secret is swapped into the running pods' volumes (the kubelet's
 *   way: no restart); replica changes start/stop processes;
 *   deletion (or losing the label) kills them; a process that exits on its own is restarted with
 *   back-off, like restartPolicy Always.
 *
 * - a container without `command` runs the command `images` gives for its image (else the entrypoint);
 *   a tcpSocket readiness probe is ready once the process accepts connections;
 * - Services: Service DNS names in env values and args point at local listeners that forward to the
 *   ready processes the Service selects (kube-node-services.ts).
 *
 * Not emulated: garbage collection (ownerReferences), namespace deletion, Pods as API objects.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from '../../scripts/test-services/ports.js';
import { FakeServices, tcpOpen } from './kube-node-services.js';
import { Api, ApiError, FIELD_MANAGER, Informer, type Json } from './kube-node-api.js';
import { kill, refreshMounts, writeMounts, mapPaths, expand, sourceKeys, portIsFree, httpStatus, Pending, referencedSources, sleep, type DeploymentState, type PathMap, type Resolved, type Slot } from './kube-node-pod.js';

export const MANAGED_BY_SELECTOR = 'app.kubernetes.io/managed-by=sluice-operator';
export const RUNTIME_URLS_ANNOTATION = 'sluice.io/runtime-urls';
export { FIELD_MANAGER };

export interface FakeNodeOptions {
  kubeconfig: string;
  /** Only Deployments in this namespace (default: all namespaces). */
  namespace?: string;
  /** The repository checkout: `/app/bin/sluice.js` maps to `<repoRoot>/bin/sluice.js`. */
  repoRoot: string;
  /** Give processes ports from here upwards (skipping busy ones) instead of ports the OS picks. */
  portBase?: number;
  /** Default: app.kubernetes.io/managed-by=sluice-operator */
  labelSelector?: string;
  /** More container path prefixes to map to host paths, e.g. { '/app/examples': '/work/main/examples' }. */
  paths?: Record<string, string>;
  /** The image's entrypoint, used when a container has no `command` (default: node /app/bin/sluice.js). */
  entrypoint?: string[];
  /** Environment for every process besides the container's own (which wins). Processes otherwise get only PATH, HOME, LANG, TZ, TMPDIR and HOSTNAME. */
  extraEnv?: Record<string, string>;
  /** Commands for images, used when a container has no `command`, e.g. { 'example/enricher:1': ['node', '/path/to/service.mjs'] }. */
  images?: Record<string, string[]>;
  /** Health path when the container has no readinessProbe.httpGet (default /api/health). */
  healthPath?: string;
}

export interface FakeProcess {
  /** namespace/name of the Deployment */
  deployment: string;
  namespace: string;
  name: string;
  /** A pod-like name: <deployment>-<template hash>-<replica> (also HOSTNAME). */
  pod: string;
  replica: number;
  pid: number | undefined;
  port: number;
  url: string;
  /** The program and arguments actually run (paths and port mapped). */
  command: string;
  args: string[];
  /** The container's environment as given to the process (without the base environment). */
  env: Record<string, string>;
  /** Container mount path → host directory or file. */
  mounts: Record<string, string>;
  cwd: string;
  ready: boolean;
  restarts: number;
  /** Exit code or signal of the last exit, null while it has never exited. */
  lastExit: number | string | null;
  templateHash: string;
}

export interface FakeNode {
  /** Processes of all Deployments, or of one (`namespace/name` or `name`). */
  processes(deployment?: string): FakeProcess[];
  /** Output of every process the Deployment had (including stopped ones), with the fake node's own notes. */
  logs(deployment: string): string;
  /** Resolves with the processes once `replicas` ready processes run the Deployment's current template. */
  waitForReady(deployment: string, replicas: number, timeoutMs?: number): Promise<FakeProcess[]>;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------

class FakeNodeImpl implements FakeNode {
  private readonly api: Api;
  private readonly root = mkdtempSync(join(tmpdir(), 'sluice-fake-node-'));
  private readonly states = new Map<string, DeploymentState>();
  private readonly logBuffers = new Map<string, string>();
  private readonly work = new Map<string, { dirty: boolean; done: Promise<void> }>();
  private readonly informers: Informer[] = [];
  private readonly usedPorts = new Set<number>();
  private nextPort: number | undefined;
  private resync: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly services: FakeServices;
  private readonly killAll = (): void => {
    for (const st of this.states.values()) for (const slot of st.slots.values()) kill(slot.child, 'SIGKILL');
  };

  constructor(private readonly options: FakeNodeOptions) {
    const kc = new KubeConfig();
    kc.loadFromFile(options.kubeconfig);
    this.api = new Api(kc);
    this.nextPort = options.portBase;
    this.services = new FakeServices(this.api, options.namespace, (ns, selector) => this.endpoints(ns, selector), (msg) => this.note(undefined, msg));
    process.once('exit', this.killAll);
  }

  async start(): Promise<void> {
    const ns = this.options.namespace;
    const selector = this.options.labelSelector ?? MANAGED_BY_SELECTOR;
    const deployments = new Informer(
      this.api,
      ns ? `/apis/apps/v1/namespaces/${ns}/deployments` : '/apis/apps/v1/deployments',
      selector,
      (items) => {
        const seen = new Set(items.map((d) => `${d.metadata.namespace}/${d.metadata.name}`));
        for (const key of seen) this.schedule(key);
        for (const key of this.states.keys()) if (!seen.has(key)) this.schedule(key);
      },
      (_type, d) => this.schedule(`${d.metadata.namespace}/${d.metadata.name}`),
      (msg) => this.note(undefined, msg),
    );
    const sources = (['configmaps', 'secrets'] as const).map(
      (resource) =>
        new Informer(
          this.api,
          ns ? `/api/v1/namespaces/${ns}/${resource}` : `/api/v1/${resource}`,
          undefined,
          () => {
            // After a (re-)list, changes may have been missed: look at everything again.
            for (const key of this.states.keys()) this.schedule(key);
          },
          (_type, obj) => {
            const ref = `${resource === 'configmaps' ? 'configmap' : 'secret'}/${obj.metadata.name}`;
            for (const st of this.states.values()) if (st.namespace === obj.metadata.namespace && st.refs.has(ref)) this.schedule(st.key);
          },
          (msg) => this.note(undefined, msg),
        ),
    );
    this.informers.push(deployments, ...sources);
    await Promise.all([...this.informers.map((i) => i.start()), this.services.start()]);
    // Replicas waiting for a missing ConfigMap/Secret are retried on watch events, and here as a fallback.
    this.resync = setInterval(() => {
      for (const st of this.states.values()) if (st.pending) this.schedule(st.key);
    }, 2000);
  }

  // -- bookkeeping -----------------------------------------------------------------------------

  private note(key: string | undefined, message: string): void {
    const line = `[fake-node ${new Date().toISOString()}] ${message}\n`;
    for (const k of key ? [key] : [...this.states.keys()]) this.appendLog(k, line);
    if (!key && process.env.SLUICE_FAKE_NODE_DEBUG) process.stderr.write(line);
  }

  private appendLog(key: string, text: string): void {
    const prev = this.logBuffers.get(key) ?? '';
    const next = prev + text;
    this.logBuffers.set(key, next.length > 2_000_000 ? next.slice(-1_000_000) : next);
  }

  private resolveKey(deployment: string): (key: string) => boolean {
    return deployment.includes('/') ? (k) => k === deployment : (k) => k.slice(k.indexOf('/') + 1) === deployment;
  }

  processes(deployment?: string): FakeProcess[] {
    const match = deployment ? this.resolveKey(deployment) : () => true;
    const out: FakeProcess[] = [];
    for (const st of [...this.states.values()].sort((a, b) => a.key.localeCompare(b.key))) {
      if (!match(st.key)) continue;
      for (const s of [...st.slots.values()].sort((a, b) => a.replica - b.replica)) {
        out.push({
          deployment: st.key,
          namespace: st.namespace,
          name: st.name,
          pod: s.pod,
          replica: s.replica,
          pid: s.child?.pid,
          port: s.port,
          url: `http://127.0.0.1:${s.port}`,
          command: s.command,
          args: [...s.args],
          env: { ...s.env },
          mounts: { ...s.mounts },
          cwd: s.cwd,
          ready: s.ready,
          restarts: s.restarts,
          lastExit: s.lastExit,
          templateHash: s.hash,
        });
      }
    }
    return out;
  }

  logs(deployment: string): string {
    const match = this.resolveKey(deployment);
    return [...this.logBuffers.entries()]
      .filter(([k]) => match(k))
      .map(([, v]) => v)
      .join('');
  }

  async waitForReady(deployment: string, replicas: number, timeoutMs = 30_000): Promise<FakeProcess[]> {
    const match = this.resolveKey(deployment);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const st = [...this.states.values()].find((s) => match(s.key));
      const procs = this.processes(deployment);
      if (st && procs.length === replicas && procs.every((p) => p.ready && p.templateHash === st.hash)) return procs;
      if (Date.now() > deadline) {
        throw new Error(`${deployment}: ${procs.filter((p) => p.ready).length}/${replicas} ready processes after ${timeoutMs} ms${st?.pending ? ` (${st.pending})` : ''}; logs:\n${this.logs(deployment).slice(-6000)}`);
      }
      await sleep(50);
    }
  }

  /** Ports of the ready processes whose pod labels match `selector` (a Service's endpoints). */
  private endpoints(namespace: string, selector: Record<string, string>): number[] {
    const entries = Object.entries(selector);
    if (!entries.length) return [];
    const out: number[] = [];
    for (const st of this.states.values()) {
      if (st.namespace !== namespace || !entries.every(([k, v]) => st.podLabels?.[k] === v)) continue;
      for (const slot of st.slots.values()) if (slot.ready) out.push(slot.port);
    }
    return out;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.resync);
    for (const i of this.informers) i.stop();
    await this.services.stop();
    await Promise.allSettled([...this.work.values()].map((w) => w.done));
    await Promise.all([...this.states.values()].flatMap((st) => [...st.slots.values()].map((s) => this.stopSlot(st, s))));
    process.removeListener('exit', this.killAll);
    rmSync(this.root, { recursive: true, force: true });
  }

  // -- reconciling -----------------------------------------------------------------------------

  /** Reconciles one Deployment; calls for the same Deployment never overlap and coalesce while one runs. */
  private schedule(key: string): void {
    if (this.stopped) return;
    const running = this.work.get(key);
    if (running) {
      running.dirty = true;
      return;
    }
    const entry = { dirty: true, done: Promise.resolve() };
    entry.done = (async () => {
      try {
        while (entry.dirty && !this.stopped) {
          entry.dirty = false;
          try {
            await this.reconcile(key);
          } catch (err) {
            this.note(key, `reconcile failed: ${(err as Error).message}`);
            await sleep(500);
            entry.dirty = true;
          }
        }
      } finally {
        this.work.delete(key);
      }
    })();
    this.work.set(key, entry);
  }

  private async reconcile(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const selector = this.options.labelSelector ?? MANAGED_BY_SELECTOR;
    // Listing with both selectors lets the API server decide whether the Deployment is still ours.
    const list = await this.api.request(
      'GET',
      `/apis/apps/v1/namespaces/${namespace}/deployments?labelSelector=${encodeURIComponent(selector)}&fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`,
    );
    const dep: Json | undefined = list.items?.[0];
    let st = this.states.get(key);
    if (!dep || dep.metadata.deletionTimestamp) {
      if (st) {
        this.note(key, dep ? 'deployment is being deleted: stopping its processes' : 'deployment is gone (or no longer labelled): stopping its processes');
        await Promise.all([...st.slots.values()].map((s) => this.stopSlot(st!, s)));
        this.states.delete(key);
      }
      // Nothing runs the garbage collector: finish a foreground deletion ourselves (there are no dependents).
      const finalizers: string[] = dep?.metadata.finalizers ?? [];
      if (dep && finalizers.includes('foregroundDeletion')) {
        await this.api.mergePatch(`/apis/apps/v1/namespaces/${namespace}/deployments/${name}`, { metadata: { finalizers: finalizers.filter((f) => f !== 'foregroundDeletion') } }).catch(() => {});
      }
      return;
    }
    if (st && st.uid !== dep.metadata.uid) {
      // Deleted and created again between two looks: the old pods would have gone with the old Deployment.
      this.note(key, 'deployment was replaced by a new one (new uid): stopping the old processes');
      await Promise.all([...st.slots.values()].map((s) => this.stopSlot(st!, s)));
      st = undefined;
    }
    if (!st) {
      st = { key, namespace, name, uid: dep.metadata.uid, slots: new Map(), hash: undefined, refs: new Set(), pending: undefined };
      this.states.set(key, st);
    }
    const template = dep.spec?.template ?? {};
    const container = template.spec?.containers?.[0];
    st.refs = referencedSources(template);
    st.podLabels = template.metadata?.labels ?? {};
    const desired: number = dep.spec?.replicas ?? 1;

    let resolved: Resolved | undefined;
    try {
      if (!container) throw new Pending('the pod template has no containers');
      resolved = await this.resolveVolumes(namespace, template);
    } catch (err) {
      if (!(err instanceof Pending)) throw err;
      this.setPending(st, err.message);
    }
    if (resolved) {
      // Like the kubelet: a new template restarts; new ConfigMap/Secret data is written into running pods' volumes.
      const hash = createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 10);
      if (st.hash !== hash && st.hash !== undefined) this.note(key, `pod template changed (${st.hash} → ${hash}): restarting`);
      const versions = resolved.versions.join(',');
      for (const slot of st.slots.values()) {
        if (slot.hash === hash && slot.versions !== versions) {
          this.note(key, `mounted data changed: updating the volumes of replica ${slot.replica}`);
          refreshMounts(container, resolved, slot.rootfs);
          slot.versions = versions;
        }
      }
      st.hash = hash;
      // Recreate: old and surplus processes stop before new ones start.
      const stale = [...st.slots.values()].filter((s) => s.hash !== hash || s.replica >= desired);
      await Promise.all(stale.map((s) => this.stopSlot(st!, s)));
      for (const s of stale) st.slots.delete(s.replica);
      const missing = [...Array(desired).keys()].filter((r) => !st!.slots.has(r));
      if (missing.length > 0 && !this.stopped) {
        try {
          const env = await this.resolveEnv(namespace, container);
          for (const replica of missing) {
            if (this.stopped) break;
            st.slots.set(replica, await this.startSlot(st, dep, replica, hash, resolved, env));
          }
          this.setPending(st, undefined);
        } catch (err) {
          if (!(err instanceof Pending)) throw err;
          this.setPending(st, err.message);
        }
      } else if (missing.length === 0) this.setPending(st, undefined);
    } else {
      // Cannot build the new template's replicas: scale down still happens, the rest keeps running.
      for (const s of [...st.slots.values()].filter((x) => x.replica >= desired)) {
        await this.stopSlot(st, s);
        st.slots.delete(s.replica);
      }
    }
    await this.report(st, dep, desired);
  }

  private setPending(st: DeploymentState, reason: string | undefined): void {
    if (reason && reason !== st.pending) this.note(st.key, `waiting: ${reason}`);
    st.pending = reason;
  }

  /**
   * Patches the URLs annotation and then the status when they differ from what the Deployment shows.
   * The annotation first: in apps/v1 an annotation change bumps the Deployment's generation, and the
   * status then reports that generation as observed.
   */
  private async report(st: DeploymentState, dep: Json, desired: number): Promise<void> {
    const slots = [...st.slots.values()].sort((a, b) => a.replica - b.replica);
    const updated = slots.filter((s) => s.hash === st.hash);
    const ready = slots.filter((s) => s.ready);
    const base = `/apis/apps/v1/namespaces/${st.namespace}/deployments/${st.name}`;

    const urls = ready.map((s) => `http://127.0.0.1:${s.port}`).join(',');
    const want = urls === '' ? null : urls;
    let observedGeneration: number = dep.metadata.generation;
    if ((dep.metadata.annotations?.[RUNTIME_URLS_ANNOTATION] ?? null) !== want) {
      const patched = await this.api.mergePatch(base, { metadata: { annotations: { [RUNTIME_URLS_ANNOTATION]: want } } }).catch((err) => this.ignoreGone(err));
      if (!patched) return;
      // Its generation counts as observed only if the spec is still the one acted on (else the next pass reports).
      if (JSON.stringify(patched.spec) === JSON.stringify(dep.spec)) observedGeneration = patched.metadata.generation;
      dep = patched;
    }

    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const condition = (type: string, ok: boolean, reason: string, message: string): Json => {
      const status = ok ? 'True' : 'False';
      const prev = (dep.status?.conditions ?? []).find((c: Json) => c.type === type);
      const lastTransitionTime = prev && prev.status === status ? prev.lastTransitionTime : now;
      return { type, status, reason, message, lastUpdateTime: now, lastTransitionTime };
    };
    const complete = updated.length === desired && ready.length === desired && slots.length === desired;
    const status = {
      observedGeneration,
      replicas: slots.length,
      updatedReplicas: updated.length,
      readyReplicas: ready.length,
      availableReplicas: ready.length,
      unavailableReplicas: Math.max(0, desired - ready.length),
      conditions: [
        condition('Available', ready.length >= desired, ready.length >= desired ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', `${ready.length} of ${desired} replicas ready`),
        condition('Progressing', true, complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated', st.pending ?? (complete ? 'all replicas ready' : 'replicas starting')),
      ],
    };
    const cur = dep.status ?? {};
    const sameConditions = status.conditions.every((c) => (cur.conditions ?? []).some((o: Json) => o.type === c.type && o.status === c.status && o.reason === c.reason && o.message === c.message));
    const numbers = ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'] as const;
    if (!sameConditions || numbers.some((n) => (cur[n] ?? 0) !== status[n])) {
      await this.api.mergePatch(`${base}/status`, { status }).catch((err) => this.ignoreGone(err));
    }
  }

  private ignoreGone(err: unknown): undefined {
    // Deleted meanwhile: the watch brings the deletion.
    if (!(err instanceof ApiError && err.status === 404)) throw err;
    return undefined;
  }

  private async readSource(namespace: string, kind: 'configmap' | 'secret', name: string): Promise<Json | null> {
    return this.api.getOrNull(`/api/v1/namespaces/${namespace}/${kind === 'configmap' ? 'configmaps' : 'secrets'}/${name}`);
  }

  /** Reads the ConfigMap/Secret volumes; their resourceVersions become part of the template hash. */
  private async resolveVolumes(namespace: string, template: Json): Promise<Resolved> {
    const volumes: Resolved['volumes'] = new Map();
    const versions: string[] = [];
    for (const v of (template.spec?.volumes ?? []) as Json[]) {
      const src = v.configMap ? { kind: 'configmap' as const, spec: v.configMap, name: v.configMap.name } : v.secret ? { kind: 'secret' as const, spec: v.secret, name: v.secret.secretName } : undefined;
      if (!src) {
        if (v.emptyDir) volumes.set(v.name, 'emptyDir');
        continue;
      }
      const obj = await this.readSource(namespace, src.kind, src.name);
      if (!obj) {
        if (src.spec.optional) {
          volumes.set(v.name, { files: [] });
          versions.push(`${src.kind}/${src.name}@absent`);
          continue;
        }
        throw new Pending(`${src.kind} ${namespace}/${src.name} (volume ${v.name}) not found`);
      }
      versions.push(`${src.kind}/${src.name}@${obj.metadata.resourceVersion}`);
      const keys = sourceKeys(src.kind, obj);
      const mode: number = src.spec.defaultMode ?? 0o644;
      const files: { path: string; bytes: Buffer; mode: number }[] = [];
      if (src.spec.items?.length) {
        for (const item of src.spec.items as Json[]) {
          if (!(item.key in keys)) {
            if (src.spec.optional) continue;
            throw new Pending(`${src.kind} ${namespace}/${src.name} has no key ${item.key} (volume ${v.name})`);
          }
          files.push({ path: item.path, bytes: keys[item.key], mode: item.mode ?? mode });
        }
      } else for (const [k, bytes] of Object.entries(keys)) files.push({ path: k, bytes, mode });
      volumes.set(v.name, { files });
    }
    return { volumes, versions };
  }

  /** The container's environment (envFrom, then env), without pod-specific fields (see podEnv). */
  private async resolveEnv(namespace: string, container: Json): Promise<{ name: string; value?: string; fieldPath?: string }[]> {
    const cache = new Map<string, Json | null>();
    const read = async (kind: 'configmap' | 'secret', name: string): Promise<Json | null> => {
      const k = `${kind}/${name}`;
      if (!cache.has(k)) cache.set(k, await this.readSource(namespace, kind, name));
      return cache.get(k)!;
    };
    const out: { name: string; value?: string; fieldPath?: string }[] = [];
    for (const ef of (container.envFrom ?? []) as Json[]) {
      const ref = ef.configMapRef ? { kind: 'configmap' as const, r: ef.configMapRef } : ef.secretRef ? { kind: 'secret' as const, r: ef.secretRef } : undefined;
      if (!ref) continue;
      const obj = await read(ref.kind, ref.r.name);
      if (!obj) {
        if (ref.r.optional) continue;
        throw new Pending(`${ref.kind} ${namespace}/${ref.r.name} (envFrom) not found`);
      }
      for (const [k, bytes] of Object.entries(sourceKeys(ref.kind, obj))) out.push({ name: `${ef.prefix ?? ''}${k}`, value: bytes.toString('utf8') });
    }
    for (const e of (container.env ?? []) as Json[]) {
      const vf = e.valueFrom;
      if (!vf) {
        out.push({ name: e.name, value: e.value ?? '' });
        continue;
      }
      const ref = vf.secretKeyRef ? { kind: 'secret' as const, r: vf.secretKeyRef } : vf.configMapKeyRef ? { kind: 'configmap' as const, r: vf.configMapKeyRef } : undefined;
      if (ref) {
        const obj = await read(ref.kind, ref.r.name);
        const bytes = obj ? sourceKeys(ref.kind, obj)[ref.r.key] : undefined;
        if (bytes === undefined) {
          if (ref.r.optional) continue;
          throw new Pending(obj ? `${ref.kind} ${namespace}/${ref.r.name} has no key ${ref.r.key} (env ${e.name})` : `${ref.kind} ${namespace}/${ref.r.name} (env ${e.name}) not found`);
        }
        out.push({ name: e.name, value: bytes.toString('utf8') });
      } else if (vf.fieldRef) out.push({ name: e.name, fieldPath: vf.fieldRef.fieldPath });
      else if (vf.resourceFieldRef) out.push({ name: e.name, value: '0' });
    }
    return out;
  }

  private async allocatePort(): Promise<number> {
    for (;;) {
      const port = this.nextPort !== undefined ? this.nextPort++ : await freePort();
      if (!this.usedPorts.has(port) && (await portIsFree(port))) {
        this.usedPorts.add(port);
        return port;
      }
    }
  }

  private async startSlot(st: DeploymentState, dep: Json, replica: number, hash: string, resolved: Resolved, envSpec: { name: string; value?: string; fieldPath?: string }[]): Promise<Slot> {
    const template = dep.spec.template;
    const container = template.spec.containers[0];
    const pod = `${st.name}-${hash}-${replica}`;
    const port = await this.allocatePort();
    const dir = mkdtempSync(join(this.root, `${st.namespace}_${pod}_`));

    // Volumes: the mounts are laid out under <dir>/root as in the container's file system, so that
    // a mount path, anything under it and the directories above it (e.g. --plan /etc/sluice/plan
    // holding mounts part-0, part-1) map to host paths.
    const rootfs = join(dir, 'root');
    const mounts = writeMounts(container, resolved, rootfs, (m) => this.note(st.key, m));
    const maps: PathMap[] = [
      { from: '/app/bin/sluice.js', to: join(this.options.repoRoot, 'bin', 'sluice.js') },
      ...Object.entries(this.options.paths ?? {}).map(([from, to]) => ({ from: from.replace(/\/+$/, ''), to })),
      ...Object.entries(mounts).map(([from, to]) => ({ from, to })),
    ];
    for (const mountPath of Object.keys(mounts)) {
      for (let a = dirname(mountPath); a !== '/' && a !== '.'; a = dirname(a)) {
        if (!maps.some((e) => e.from === a)) maps.push({ from: a, to: join(rootfs, a), exact: true });
      }
    }

    // Environment, with $(VAR) references to earlier variables and pod fields.
    const labels = template.metadata?.labels ?? {};
    const annotations = template.metadata?.annotations ?? {};
    const field = (path: string): string => {
      const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
      if (m) return (m[1] === 'labels' ? labels : annotations)[m[2]] ?? '';
      switch (path) {
        case 'metadata.name':
          return pod;
        case 'metadata.namespace':
          return st.namespace;
        case 'metadata.uid':
          return `${dep.metadata.uid}-${replica}`;
        case 'status.podIP':
        case 'status.hostIP':
          return '127.0.0.1';
        case 'status.podIPs':
          return '127.0.0.1';
        case 'spec.nodeName':
          return 'fake-node';
        case 'spec.serviceAccountName':
          return template.spec.serviceAccountName ?? 'default';
        default:
          return '';
      }
    };
    const env: Record<string, string> = {};
    for (const e of envSpec) env[e.name] = mapPaths(e.fieldPath !== undefined ? field(e.fieldPath) : expand(e.value ?? '', env), maps);

    // Program and arguments.
    for (const [k, v] of Object.entries(env)) env[k] = await this.services.mapAddresses(v, st.namespace);
    const command: string[] = (container.command?.length ? container.command : (this.options.images?.[container.image] ?? this.options.entrypoint ?? ['node', '/app/bin/sluice.js'])).map((a: string) => expand(a, env));
    const argv = [...command, ...((container.args ?? []) as string[]).map((a) => expand(a, env))].map((a) => mapPaths(a, maps));
    for (let i = 1; i < argv.length; i++) argv[i] = await this.services.mapAddresses(argv[i], st.namespace);
    const portAt = argv.indexOf('--port');
    const portEq = argv.findIndex((a) => a.startsWith('--port='));
    if (portAt >= 0 && portAt + 1 < argv.length) argv[portAt + 1] = String(port);
    else if (portEq >= 0) argv[portEq] = `--port=${port}`;
    else env.PORT = String(port);
    const exe = argv[0] === 'node' ? process.execPath : argv[0];
    // The working directory: a mapped path, else a directory of the process's own.
    let cwd = dir;
    if (container.workingDir) {
      const mapped = mapPaths(container.workingDir, maps);
      cwd = mapped !== container.workingDir ? mapped : join(dir, 'workdir');
      mkdirSync(cwd, { recursive: true });
    }

    const base: Record<string, string> = {};
    for (const k of ['PATH', 'HOME', 'LANG', 'TZ']) if (process.env[k] !== undefined) base[k] = process.env[k]!;
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    const fullEnv = { ...base, TMPDIR: join(dir, 'tmp'), HOSTNAME: pod, ...this.options.extraEnv, ...env };
    const probe = container.readinessProbe?.httpGet;
    const slot: Slot = {
      replica,
      hash,
      versions: resolved.versions.join(','),
      rootfs,
      pod,
      port,
      dir,
      exe,
      command: exe,
      args: argv.slice(1),
      env,
      fullEnv,
      mounts,
      cwd,
      healthPath: probe?.path ?? this.options.healthPath ?? '/api/health',
      tcpProbe: !probe && container.readinessProbe?.tcpSocket !== undefined,
      graceMs: Math.min(10, template.spec.terminationGracePeriodSeconds ?? 5) * 1000,
      ready: false,
      restarts: 0,
      lastExit: null,
      stopping: false,
    };
    this.spawnSlot(st, slot);
    return slot;
  }

  private spawnSlot(st: DeploymentState, slot: Slot): void {
    if (this.stopped || slot.stopping) return;
    const tag = `[${slot.pod}${slot.restarts ? ` restart ${slot.restarts}` : ''}] `;
    this.note(st.key, `starting replica ${slot.replica} on port ${slot.port}: ${slot.command} ${slot.args.join(' ')}`);
    const child = spawn(slot.exe, slot.args, { cwd: slot.cwd, env: slot.fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    slot.child = child;
    slot.ready = false;
    const pipe = (stream: NodeJS.ReadableStream | null): void => {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (d: string) => {
        const lines = (partial + d).split('\n');
        partial = lines.pop()!;
        if (lines.length) this.appendLog(st.key, lines.map((l) => tag + l).join('\n') + '\n');
      });
      stream?.on('end', () => {
        if (partial) this.appendLog(st.key, `${tag}${partial}\n`);
      });
    };
    pipe(child.stdout);
    pipe(child.stderr);
    slot.exited = new Promise<void>((resolve) => {
      let gone = false;
      const onGone = (how: number | string): void => {
        if (gone) return;
        gone = true;
        slot.lastExit = how;
        const wasReady = slot.ready;
        slot.ready = false;
        resolve();
        if (slot.stopping || this.stopped) return;
        slot.restarts++;
        // restartPolicy Always, with back-off.
        const delay = Math.min(10_000, 250 * 2 ** Math.min(slot.restarts, 6));
        this.note(st.key, `replica ${slot.replica} exited (${how}); restarting in ${delay} ms`);
        slot.restartTimer = setTimeout(() => this.spawnSlot(st, slot), delay);
        if (wasReady) this.schedule(st.key);
      };
      child.once('error', (err) => {
        this.note(st.key, `replica ${slot.replica}: ${err.message}`);
        if (child.pid === undefined) onGone('spawn failed');
      });
      child.once('exit', (code, signal) => onGone(code ?? signal ?? 'unknown'));
    });
    void this.probe(st, slot, child);
  }

  private async probe(st: DeploymentState, slot: Slot, child: ChildProcess): Promise<void> {
    let wait = 50;
    while (!this.stopped && !slot.stopping && slot.child === child && child.exitCode === null && child.signalCode === null) {
      if (slot.tcpProbe ? await tcpOpen(slot.port) : (await httpStatus(`http://127.0.0.1:${slot.port}${slot.healthPath}`)) === 200) {
        if (slot.stopping || slot.child !== child || child.exitCode !== null) return;
        slot.ready = true;
        this.note(st.key, `replica ${slot.replica} is ready at http://127.0.0.1:${slot.port}`);
        this.schedule(st.key);
        return;
      }
      await sleep(wait);
      wait = Math.min(500, wait * 2);
    }
  }

  private async stopSlot(st: DeploymentState, slot: Slot): Promise<void> {
    if (!slot.stopping) this.note(st.key, `stopping replica ${slot.replica} (port ${slot.port})`);
    slot.stopping = true;
    slot.ready = false;
    clearTimeout(slot.restartTimer);
    const child = slot.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      kill(child, 'SIGTERM');
      const t = setTimeout(() => kill(child, 'SIGKILL'), slot.graceMs);
      await slot.exited;
      clearTimeout(t);
    }
    this.usedPorts.delete(slot.port);
  }
}

/** Starts the fake node; resolves once it has listed the Deployments and is watching. */
export async function startFakeNode(options: FakeNodeOptions): Promise<FakeNode> {
  const node = new FakeNodeImpl(options);
  try {
    await node.start();
  } catch (err) {
    await node.stop();
    throw err;
  }
  return node;
}
