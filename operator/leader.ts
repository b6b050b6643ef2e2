/**
 * Leader election with a coordination.k8s.io Lease: only the holder reconciles. It renews the lease
 * well within its duration; another operator takes it over once it expires.
 */
import type { Logger } from 'pino';
import { Kube, KubeError } from './kube/rest.js';

interface LeaseObject {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string; acquireTime?: string; leaseTransitions?: number };
}

export class LeaderElector {
  private timer: NodeJS.Timeout | null = null;
  leading = false;

  constructor(
    private readonly kube: Kube,
    private readonly namespace: string,
    private readonly name: string,
    readonly identity: string,
    private readonly logger: Logger,
    private readonly durationSeconds = 15,
  ) {}

  private path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.namespace}/leases/${this.name}`;
  }

  /** One attempt to take or renew the lease. */
  async tryAcquire(): Promise<boolean> {
    const now = new Date();
    const micro = now.toISOString().replace('Z', '000Z');
    let lease: LeaseObject | null = null;
    try {
      lease = await this.kube.request<LeaseObject>('GET', this.path());
    } catch (err) {
      if (!(err instanceof KubeError && err.status === 404)) throw err;
    }
    const spec = lease?.spec ?? {};
    const expired = !spec.renewTime || new Date(spec.renewTime).getTime() + (spec.leaseDurationSeconds ?? this.durationSeconds) * 1000 < now.getTime();
    if (lease && spec.holderIdentity && spec.holderIdentity !== this.identity && !expired) return false;
    const transitions = (spec.leaseTransitions ?? 0) + (spec.holderIdentity === this.identity ? 0 : 1);
    const body = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, ...(lease?.metadata.resourceVersion ? { resourceVersion: lease.metadata.resourceVersion } : {}) },
      spec: { holderIdentity: this.identity, leaseDurationSeconds: this.durationSeconds, renewTime: micro, acquireTime: spec.holderIdentity === this.identity ? spec.acquireTime : micro, leaseTransitions: transitions },
    };
    try {
      if (lease) await this.kube.request('PUT', this.path(), { body });
      else await this.kube.request('POST', `/apis/coordination.k8s.io/v1/namespaces/${this.namespace}/leases`, { body });
      return true;
    } catch (err) {
      // Someone else renewed or created it in between (conflict): not ours this round.
      if (err instanceof KubeError && (err.status === 409 || err.status === 422)) return false;
      throw err;
    }
  }

  /** Keeps trying; calls the callbacks when leadership starts or ends. */
  start(onStarted: () => void, onStopped: () => void): void {
    const tick = async () => {
      try {
        const ok = await this.tryAcquire();
        if (ok && !this.leading) {
          this.leading = true;
          this.logger.info({ identity: this.identity }, 'became the leader');
          onStarted();
        } else if (!ok && this.leading) {
          this.leading = false;
          this.logger.warn({ identity: this.identity }, 'lost the leadership');
          onStopped();
        }
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'leader election failed this round');
      }
    };
    void tick();
    this.timer = setInterval(() => void tick(), Math.max(500, (this.durationSeconds * 1000) / 5));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.leading) {
      // Hand over at once: an expired renew time lets the next candidate take it.
      const lease = await this.kube.request<LeaseObject>('GET', this.path()).catch(() => null);
      if (lease?.spec?.holderIdentity === this.identity) {
        await this.kube.request('PUT', this.path(), { body: { ...lease, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', spec: { ...lease.spec, renewTime: new Date(0).toISOString().replace('Z', '000Z') } } }).catch(() => undefined);
      }
      this.leading = false;
    }
  }
}
