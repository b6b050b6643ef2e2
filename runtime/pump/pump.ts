/**
 * The pump of one pipe: when it runs (interval with jitter, cron, signals, manual starts), one run
 * at a time, and the operations the API exposes (start, stop, enable, disable, update-last-seen,
 * reset, rescan, discard-retries). What a run does is the executor's business.
 */
import type { Logger } from 'pino';
import { nextCronTime, parseCron, type CronSchedule } from '../../compiler/plan/cron.js';
import type { Since } from '../components/types.js';
import { runPipe, type RunDeps, type RunOutcome, type RunRequest } from '../executor/run.js';
import type { PipeInstance } from '../executor/pipe-instance.js';
import type { PipeState } from '../store/contract.js';
import { isoNow } from './execution-log.js';
import type { PipeLeases } from './leases.js';
import { redactSecrets } from '../security/redaction.js';

export class PumpError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export const PUMP_OPERATIONS = ['start', 'start-rescan', 'rescan', 'stop', 'enable', 'disable', 'update-last-seen', 'reset', 'set-last-seen-to-end', 'reset-rescan', 'discard-retries'] as const;
export type PumpOperation = (typeof PUMP_OPERATIONS)[number];

interface ActiveRun {
  controller: AbortController;
  promise: Promise<RunOutcome>;
  started: number;
  request: RunRequest;
}

export class Pump {
  readonly id: string;
  active: ActiveRun | null = null;
  disabled = false;
  nextRun: number | null = null;
  lastOutcome: RunOutcome | null = null;
  lastSeen: Since = null;
  progress = { read: 0, written: 0, failed: 0 };
  /** A signal arrived while running: run again when this run ends. */
  private signalled = false;
  private cron: CronSchedule | null = null;
  private forceFullNext = false;

  constructor(
    public inst: PipeInstance,
    private readonly deps: RunDeps & {
      logger: Logger;
      leases?: PipeLeases;
      onRunFinished?(pump: Pump, outcome: RunOutcome): void;
      /** Where a run happens (the pipe pool's worker threads); in this thread with runPipe by default. */
      execute?: typeof runPipe;
    },
  ) {
    this.id = inst.plan.id;
    const cron = inst.pump.cron_expression;
    this.cron = typeof cron === 'string' ? parseCron(cron) : null;
  }

  get mode(): 'scheduled' | 'manual' | 'off' {
    return (this.inst.pump.mode as 'scheduled' | 'manual' | 'off' | undefined) ?? 'scheduled';
  }

  get running(): boolean {
    return this.active !== null;
  }

  /** Loads the persisted state and computes the first run time. */
  async init(): Promise<void> {
    const state = await this.deps.store.getPipeState(this.id);
    this.disabled = state?.disabled === true;
    this.lastSeen = state?.last_seen ?? null;
    if (state?.last_run) {
      this.lastOutcome = {
        status: state.last_run.status,
        syncType: 'incremental',
        read: 0,
        written: 0,
        unchanged: 0,
        deleted: 0,
        failed: 0,
        retried: 0,
        tracked: 0,
        started: state.last_run.started,
        ended: state.last_run.ended,
        error: state.last_run.error,
      };
    }
    const startup = this.inst.pump.run_at_startup === true || (this.inst.pump.run_at_startup_if_not_populated === true && !(await this.sinkPopulated()));
    // An interrupted run resumes at once; a pipe that has never run populates its sink soon after it is deployed.
    this.nextRun = startup || state?.run || !state ? Date.now() : this.computeNext(Date.now());
  }

  private async sinkPopulated(): Promise<boolean> {
    const d = this.inst.sink.dataset;
    return d ? ((await this.deps.store.datasetInfo(d))?.populated ?? false) : true;
  }

  /** The next scheduled time after `from`, or null when the pump is not scheduled. */
  computeNext(from: number): number | null {
    if (this.mode !== 'scheduled') return null;
    if (this.cron) return nextCronTime(this.cron, new Date(from))?.getTime() ?? null;
    const interval = Number(this.inst.pump.schedule_interval ?? 900);
    // ±5% jitter spreads pipes with the same interval, as the docs describe for the defaults.
    const jitter = interval * 0.05 * (Math.random() * 2 - 1);
    return from + Math.max(0.05, interval + jitter) * 1000;
  }

  isDue(now: number): boolean {
    return !this.disabled && !this.active && this.mode === 'scheduled' && this.nextRun !== null && this.nextRun <= now;
  }

  /** Schedules an immediate run because an input dataset changed. */
  signal(): void {
    if (this.mode !== 'scheduled' || this.disabled) return;
    if (this.active) this.signalled = true;
    else this.nextRun = Math.min(this.nextRun ?? Infinity, Date.now());
  }

  /** Starts a run; resolves when it ends. Throws 409 when one is running, 400 in mode "off". */
  start(request: RunRequest): Promise<RunOutcome> {
    if (this.active) throw new PumpError(`pipe "${this.id}" is already running`, 409);
    if (this.mode === 'off') throw new PumpError(`pipe "${this.id}" has pump mode "off" and cannot be started`, 400);
    const controller = new AbortController();
    const full = request.full === true || this.forceFullNext;
    this.forceFullNext = false;
    this.progress = { read: 0, written: 0, failed: 0 };
    const deps: RunDeps = {
      ...this.deps,
      onProgress: (id, p) => {
        this.progress = p;
        this.deps.onProgress?.(id, p);
      },
    };
    const leases = this.deps.leases;
    const run = async (): Promise<RunOutcome> => {
      if (leases && !(await leases.acquire(this.id))) {
        const holder = await leases.holderOf(this.id);
        const now = Date.now();
        return { status: 'skipped', syncType: 'incremental', read: 0, written: 0, unchanged: 0, deleted: 0, failed: 0, retried: 0, tracked: 0, started: now, ended: now, error: `pipe "${this.id}" is run by another runtime${holder ? ` (${holder})` : ''}` };
      }
      return (this.deps.execute ?? runPipe)(this.inst, deps, { ...request, full }, controller.signal);
    };
    // Whatever happens in the run (even its failure handling failing), it ends here, with an outcome.
    const ended = run().catch((err: unknown): RunOutcome => {
      const error = redactSecrets((err as Error).message);
      this.deps.logger.error({ pipe: this.id, err: error }, 'pipe run ended with an error');
      return { status: 'failed', syncType: 'incremental', read: 0, written: 0, unchanged: 0, deleted: 0, failed: 0, retried: 0, tracked: 0, started: Date.now(), ended: Date.now(), error };
    });
    const promise = ended.then(async (outcome) => {
      if (outcome.status !== 'skipped') this.lastOutcome = outcome;
      try {
        this.lastSeen = (await this.deps.store.getPipeState(this.id))?.last_seen ?? null;
      } catch (err) {
        this.deps.logger.warn({ pipe: this.id, err: (err as Error).message }, 'could not read the pipe state after a run');
      }
      // Still active until here, so that a signal arriving while the state is read sets
      // `signalled` rather than a nextRun that the line below would overwrite.
      this.active = null;
      // A pipe another runtime holds is looked at again once that lease could have expired.
      this.nextRun = outcome.status === 'skipped' ? Date.now() + (leases?.ttlMs ?? 30_000) / 2 : this.signalled ? Date.now() : this.computeNext(Date.now());
      this.signalled = false;
      this.deps.onRunFinished?.(this, outcome);
      return outcome;
    });
    this.active = { controller, promise, started: Date.now(), request };
    return promise;
  }

  /**
   * Takes the pump: waits for a running run to end, and no run starts until the returned release
   * function is called (receivers push entities through the pipe this way).
   */
  async claim(): Promise<(outcome?: Partial<RunOutcome>) => void> {
    while (this.active) await this.active.promise.catch(() => undefined);
    let done!: (o: RunOutcome) => void;
    const started = Date.now();
    const claim: ActiveRun = { controller: new AbortController(), promise: new Promise<RunOutcome>((r) => (done = r)), started, request: { reason: 'manual' } };
    this.active = claim;
    return (outcome = {}) => {
      if (this.active === claim) this.active = null;
      if (this.signalled) this.nextRun = Date.now();
      this.signalled = false;
      done({ status: 'completed', syncType: 'incremental', read: 0, written: 0, unchanged: 0, deleted: 0, failed: 0, retried: 0, tracked: 0, started, ended: Date.now(), ...outcome });
    };
  }

  async stop(): Promise<void> {
    const a = this.active;
    if (!a) return;
    a.controller.abort();
    await a.promise;
  }

  private async updateState(change: (s: PipeState) => PipeState): Promise<void> {
    const s = (await this.deps.store.getPipeState(this.id)) ?? { last_seen: null };
    await this.deps.store.setPipeState(this.id, change(s));
  }

  async operation(op: string, params: Record<string, string | undefined>, user?: string): Promise<void> {
    switch (op) {
      case 'start':
        void this.start({ reason: 'manual', user }).catch(() => undefined);
        return;
      case 'start-rescan':
      case 'rescan':
        void this.start({ reason: 'rescan', full: true, user }).catch(() => undefined);
        return;
      case 'stop':
        this.active?.controller.abort();
        return;
      case 'enable':
      case 'disable': {
        this.disabled = op === 'disable';
        await this.updateState((s) => ({ ...s, disabled: this.disabled }));
        await this.deps.log.append(this.id, { _id: `pump-${op}d`, event_type: `pump-${op}d`, event_time: isoNow(), comment: params.comment ?? null, ...(user ? { user: { user_id: user } } : {}) });
        if (!this.disabled && this.nextRun === null) this.nextRun = this.computeNext(Date.now());
        return;
      }
      case 'update-last-seen':
      case 'reset':
      case 'set-last-seen-to-end': {
        if (this.active) throw new PumpError(`pipe "${this.id}" is running; stop it before changing its offset`, 409);
        if (this.inst.plan.effective.disable_set_last_seen === true) throw new PumpError(`pipe "${this.id}" has disable_set_last_seen and its offset cannot be set`, 400);
        let value: Since = op === 'reset' ? null : (params['last-seen'] ?? '');
        if (op === 'set-last-seen-to-end') {
          const ds = this.inst.source.datasets[0];
          if (!ds) throw new PumpError(`pipe "${this.id}" doesn't support the operation "set-last-seen-to-end" (its source is not a dataset)`, 400);
          value = (await this.deps.store.datasetInfo(ds))?.lastOffset ?? -1;
        }
        if (value === '') value = null;
        else if (typeof value === 'string' && /^\d+$/.test(value)) value = Number(value);
        const original = this.lastSeen;
        await this.updateState((s) => ({ ...s, last_seen: value, run: null }));
        this.lastSeen = value;
        await this.deps.log.append(this.id, { _id: 'pump-offset-set', event_type: 'pump-offset-set', event_time: isoNow(), pipe_offset: value === null ? '' : String(value), original_pipe_offset: original === null ? '' : String(original), is_reset: value === null, ...(user ? { user: { user_id: user } } : {}) });
        return;
      }
      case 'reset-rescan':
        this.forceFullNext = true;
        return;
      case 'discard-retries':
        if (this.active) throw new PumpError(`pipe "${this.id}" is running; stop it before discarding retries`, 409);
        await this.updateState((s) => ({ ...s, retries: [] }));
        await this.deps.log.append(this.id, { _id: 'pump-discard-retries', event_type: 'pump-discard-retries', event_time: isoNow() });
        return;
      default:
        throw new PumpError(`the pump of pipe "${this.id}" doesn't support the operation "${op}" (supported: ${PUMP_OPERATIONS.join(', ')})`, 400);
    }
  }
}
