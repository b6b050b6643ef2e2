/**
 * Pipe leases of this runtime, when the store is shared with other runtimes. A lease, once taken,
 * is kept and renewed for as long as the runtime lives, so runtimes sharing one database settle on
 * disjoint sets of pipes; a dead runtime's leases expire and the others take its pipes over.
 */
import type { Logger } from 'pino';
import type { LeaseStore } from '../store/contract.js';

export class PipeLeases {
  private readonly held = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  /** Called when a held lease could not be renewed (another runtime has the pipe now). */
  onLost?: (pipeId: string) => void;

  constructor(
    private readonly store: LeaseStore,
    readonly holder: string,
    readonly ttlMs: number,
    private readonly logger: Logger,
  ) {}

  private key(pipeId: string): string {
    return `pipe:${pipeId}`;
  }

  async acquire(pipeId: string): Promise<boolean> {
    const ok = await this.store.acquireLease(this.key(pipeId), this.holder, this.ttlMs);
    if (ok) this.held.add(pipeId);
    else this.held.delete(pipeId);
    return ok;
  }

  async holderOf(pipeId: string): Promise<string | null> {
    return (await this.store.leaseHolder(this.key(pipeId)))?.holder ?? null;
  }

  holds(pipeId: string): boolean {
    return this.held.has(pipeId);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.renew(), Math.max(200, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    for (const pipeId of [...this.held]) {
      try {
        if (!(await this.store.acquireLease(this.key(pipeId), this.holder, this.ttlMs))) {
          this.held.delete(pipeId);
          this.logger.warn({ pipe: pipeId }, 'lost the pipe lease to another runtime');
          this.onLost?.(pipeId);
        }
      } catch (err) {
        this.logger.warn({ pipe: pipeId, err: (err as Error).message }, 'could not renew a pipe lease');
      }
    }
  }

  async release(pipeId: string): Promise<void> {
    if (!this.held.delete(pipeId)) return;
    await this.store.releaseLease(this.key(pipeId), this.holder).catch(() => undefined);
  }

  async releaseAll(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.held].map((p) => this.release(p)));
  }
}
