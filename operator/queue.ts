/**
 * A rate-limited work queue of keys, as controller-runtime has: a key is queued once however often
 * it is added, never worked on by two workers at once, retried with exponential backoff after a
 * failure, and can be requeued after a delay (polling).
 */
export class WorkQueue {
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly baseDelayMs = 200,
    private readonly maxDelayMs = 60_000,
  ) {}

  get depth(): number {
    return this.queued.size;
  }

  add(key: string): void {
    if (this.closed) return;
    if (this.active.has(key)) {
      // Being worked on: run once more afterwards, with what changed meanwhile.
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.waiters.shift()?.();
  }

  addAfter(key: string, delayMs: number): void {
    if (this.closed) return;
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    t.unref();
    this.timers.set(key, t);
  }

  /** After a failed reconcile: back off exponentially per key. Returns the delay chosen, in ms. */
  addRateLimited(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const delayMs = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (n - 1));
    this.addAfter(key, delayMs);
    return delayMs;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  async get(): Promise<string | null> {
    for (;;) {
      if (this.closed) return null;
      const next = this.queued.values().next();
      if (!next.done) {
        this.queued.delete(next.value);
        this.active.add(next.value);
        return next.value;
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  done(key: string): void {
    this.active.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w();
  }
}
