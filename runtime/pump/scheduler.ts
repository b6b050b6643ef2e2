/**
 * Runs due pumps: interval and cron schedules, signals from changed input datasets, and a bound
 * on how many pipes run at once. Level-based: every tick looks at every pump's due time.
 */
import type { Logger } from 'pino';
import type { Pump } from './pump.js';

export interface SchedulerOptions {
  logger: Logger;
  /** Pipes that may run at the same time. */
  maxConcurrent?: number;
  tickMs?: number;
}

export class Scheduler {
  readonly pumps = new Map<string, Pump>();
  /** Automatic runs are off (node metadata task_manager.disable_user_pipes); manual starts still work. */
  paused = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly maxConcurrent: number;

  constructor(private readonly options: SchedulerOptions) {
    this.maxConcurrent = options.maxConcurrent ?? 4;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 200);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  runningCount(): number {
    let n = 0;
    for (const p of this.pumps.values()) if (p.running) n++;
    return n;
  }

  tick(now = Date.now()): void {
    if (this.paused) return;
    let free = this.maxConcurrent - this.runningCount();
    if (free <= 0) return;
    const due = [...this.pumps.values()].filter((p) => p.isDue(now)).sort((a, b) => (a.nextRun ?? 0) - (b.nextRun ?? 0));
    for (const p of due) {
      if (free-- <= 0) break;
      p.start({ reason: 'schedule' }).catch((err: unknown) => this.options.logger.error({ pipe: p.id, err }, 'scheduled run could not start'));
    }
  }

  /** `dataset` changed: pipes that read it, or track dependencies on it, run soon (when signalling is on). */
  signal(dataset: string): void {
    for (const p of this.pumps.values()) {
      if (p.inst.plan.source.config.supports_signalling !== true) continue;
      if (p.inst.source.datasets.includes(dataset) || p.inst.plan.dependencies.some((d) => d.dataset === dataset)) p.signal();
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.pumps.values()].map((p) => p.stop()));
  }
}
