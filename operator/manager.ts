/**
 * The operator process: watches (informers) feed a rate-limited work queue; while this process
 * leads (a Lease), workers run the instance reconciler. It serves health, readiness, Prometheus
 * metrics and a git webhook that triggers an immediate fetch.
 */
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { makeInformer, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { GitSource } from './git.js';
import { Kube, resourcePath, type KubeObject } from './kube/rest.js';
import { LeaderElector } from './leader.js';
import { WorkQueue } from './queue.js';
import { InstanceReconciler } from './controllers/instance.js';
import { API_VERSION, MANAGED_BY } from './controllers/names.js';
import type { SluiceInstance } from './controllers/types.js';

export interface OperatorOptions {
  kc: KubeConfig;
  logger: Logger;
  /** Watch one namespace; all when unset. */
  namespace?: string;
  /** Namespace of the leader-election Lease. */
  leaseNamespace?: string;
  identity?: string;
  /** Health, metrics and webhook port (0 picks one). */
  port?: number;
  workDir?: string;
  workers?: number;
  leaseDurationSeconds?: number;
}

type Obj = KubeObject & { spec?: object };

export class Operator {
  readonly kube: Kube;
  readonly queue = new WorkQueue();
  readonly registry = new Registry();
  readonly reconciler: InstanceReconciler;
  private readonly elector: LeaderElector;
  private readonly informers: { stop(): Promise<void> }[] = [];
  private server: Server | null = null;
  private synced = false;
  private workersRunning = 0;
  private leading = false;
  private stopped = false;
  private readonly metrics;

  constructor(private readonly options: OperatorOptions) {
    this.kube = new Kube(options.kc);
    const identity = options.identity ?? `${hostname()}-${process.pid}`;
    this.elector = new LeaderElector(this.kube, options.leaseNamespace ?? options.namespace ?? 'default', 'sluice-operator-leader', identity, options.logger, options.leaseDurationSeconds ?? 15);
    this.metrics = {
      reconciles: new Counter({ name: 'sluice_operator_reconciles_total', help: 'Reconciles by outcome', labelNames: ['outcome'], registers: [this.registry] }),
      errors: new Counter({ name: 'sluice_operator_reconcile_errors_total', help: 'Reconciles that failed and were retried', registers: [this.registry] }),
      duration: new Histogram({ name: 'sluice_operator_reconcile_duration_seconds', help: 'Time a reconcile took', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry] }),
      depth: new Gauge({ name: 'sluice_operator_queue_depth', help: 'Keys waiting in the work queue', registers: [this.registry], collect: () => undefined }),
      leader: new Gauge({ name: 'sluice_operator_leader', help: '1 while this process leads', registers: [this.registry] }),
    };
    this.reconciler = new InstanceReconciler({
      kube: this.kube,
      git: new GitSource(options.workDir ?? join(tmpdir(), 'sluice-operator-git')),
      logger: options.logger,
      onOutcome: (o) => this.metrics.reconciles.inc({ outcome: o }),
    });
  }

  get identity(): string {
    return this.elector.identity;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get port(): number {
    return (this.server?.address() as { port: number } | null)?.port ?? 0;
  }

  private path(plural: string, group = API_VERSION): string {
    return resourcePath(group, plural, this.options.namespace);
  }

  private watch<T extends Obj>(apiVersion: string, plural: string, labelSelector: string | undefined, onEvent: (verb: string, obj: T, old?: T) => void): Promise<void> {
    const path = this.path(plural, apiVersion);
    const list = async () => {
      const r = await this.kube.request<{ items: T[]; metadata: { resourceVersion: string } }>('GET', path, { query: labelSelector ? { labelSelector } : {} });
      return { ...r, items: r.items ?? [] } as never;
    };
    const informer = makeInformer<KubernetesObject>(this.options.kc, path, list, labelSelector);
    const previous = new Map<string, T>();
    const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace}/${o.metadata?.name}`;
    informer.on('add', (o) => {
      previous.set(keyOf(o), o as T);
      onEvent('add', o as T);
    });
    informer.on('update', (o) => {
      const old = previous.get(keyOf(o));
      previous.set(keyOf(o), o as T);
      onEvent('update', o as T, old);
    });
    informer.on('delete', (o) => {
      previous.delete(keyOf(o));
      onEvent('delete', o as T);
    });
    informer.on('error', (err) => {
      if (this.stopped) return;
      this.options.logger.warn({ resource: plural, err: (err as Error)?.message }, 'watch failed; restarting');
      setTimeout(() => void informer.start().catch(() => undefined), 2000).unref();
    });
    this.informers.push(informer);
    return informer.start();
  }

  private enqueueInstance(namespace: string | undefined, name: string | undefined): void {
    if (namespace && name) this.queue.add(`${namespace}/${name}`);
  }

  async start(): Promise<void> {
    const generationChanged = (o: Obj, old?: Obj) => !old || o.metadata.generation !== old.metadata.generation || o.metadata.deletionTimestamp !== old.metadata.deletionTimestamp || JSON.stringify(o.metadata.finalizers) !== JSON.stringify(old.metadata.finalizers);
    await Promise.all([
      this.watch<SluiceInstance>(API_VERSION, 'sluiceinstances', undefined, (verb, o, old) => {
        // Status-only updates (our own writes) do not need another pass.
        if (verb === 'delete' || generationChanged(o, old)) this.enqueueInstance(o.metadata.namespace, o.metadata.name);
      }),
      ...['pipes', 'systems'].map((plural) =>
        this.watch<Obj>(API_VERSION, plural, undefined, (verb, o, old) => {
          if (verb === 'delete' || generationChanged(o, old)) {
            this.enqueueInstance(o.metadata.namespace, instanceOf(o));
            if (old && instanceOf(old) !== instanceOf(o)) this.enqueueInstance(old.metadata.namespace, instanceOf(old));
          }
        }),
      ),
      // Owned objects: edits and deletions by hand (drift) bring the owner back to reconcile.
      ...[
        ['v1', 'configmaps'],
        ['v1', 'secrets'],
        ['v1', 'services'],
        ['apps/v1', 'deployments'],
      ].map(([v, plural]) => this.watch<Obj>(v, plural, `app.kubernetes.io/managed-by=${MANAGED_BY}`, (_verb, o) => this.enqueueInstance(o.metadata.namespace, o.metadata.labels?.['sluice.io/instance']))),
    ]);
    this.synced = true;
    await this.serve();
    this.elector.start(
      () => {
        this.leading = true;
        this.metrics.leader.set(1);
        // A new leader looks at everything once.
        void this.kube.list<SluiceInstance>(API_VERSION, 'SluiceInstance', this.options.namespace).then((items) => items.forEach((i) => this.enqueueInstance(i.metadata.namespace, i.metadata.name)));
        for (let i = 0; i < (this.options.workers ?? 2); i++) void this.worker();
      },
      () => {
        this.leading = false;
        this.metrics.leader.set(0);
      },
    );
    this.options.logger.info({ identity: this.identity, namespace: this.options.namespace ?? '(all)', port: this.port }, 'operator started');
  }

  private async worker(): Promise<void> {
    this.workersRunning++;
    try {
      while (this.leading && !this.stopped) {
        const key = await this.queue.get();
        if (key === null) return;
        if (!this.leading) {
          this.queue.done(key);
          this.queue.add(key);
          return;
        }
        const [namespace, name] = key.split('/');
        const end = this.metrics.duration.startTimer();
        try {
          const r = await this.reconciler.reconcile(namespace, name);
          this.queue.forget(key);
          if (r.requeueAfterMs) this.queue.addAfter(key, r.requeueAfterMs);
        } catch (err) {
          this.metrics.errors.inc();
          this.options.logger.warn({ instance: key, err: (err as Error).message }, 'reconcile failed; retrying');
          this.queue.addRateLimited(key);
        } finally {
          end();
          this.queue.done(key);
        }
      }
    } finally {
      this.workersRunning--;
    }
  }

  private serve(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const send = (status: number, body: string, type = 'text/plain') => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      };
      if (url.pathname === '/healthz') return send(200, 'ok');
      if (url.pathname === '/readyz') return send(this.synced ? 200 : 503, this.synced ? 'ok' : 'caches not synced');
      if (url.pathname === '/metrics') {
        this.metrics.depth.set(this.queue.depth);
        void this.registry.metrics().then((m) => send(200, m, this.registry.contentType));
        return;
      }
      if (url.pathname === '/webhook' && req.method === 'POST') {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => void this.webhook(url.searchParams.get('instance'), body).then((keys) => send(keys.length ? 202 : 404, JSON.stringify({ instances: keys }), 'application/json')));
        return;
      }
      send(404, 'not found');
    });
    return new Promise((resolve) => this.server!.listen(this.options.port ?? 8080, () => resolve()));
  }

  /** A push notification: fetch now. `instance` (ns/name) names one; else instances whose repository URL the payload mentions. */
  async webhook(instance: string | null, payload: string): Promise<string[]> {
    let keys: string[];
    if (instance) keys = [instance];
    else {
      const all = await this.kube.list<SluiceInstance>(API_VERSION, 'SluiceInstance', this.options.namespace);
      keys = all.filter((i) => i.spec.git?.url && payload.includes(i.spec.git.url)).map((i) => `${i.metadata.namespace}/${i.metadata.name}`);
    }
    for (const k of keys) {
      this.reconciler.requestFetch(k);
      this.queue.add(k);
    }
    return keys;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.close();
    await Promise.all(this.informers.map((i) => i.stop().catch(() => undefined)));
    await this.elector.stop();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

function instanceOf(o: Obj): string | undefined {
  const v = (o.spec as { instance?: unknown } | undefined)?.instance;
  return typeof v === 'string' ? v : undefined;
}
