/**
 * The pipe runner ("run-all-pipes", what Sesam's client uses to run a config to completion in CI).
 *
 * A run (a *job*) first resets pipes and deletes their sink datasets, then runs every pipe once per
 * round, in dependency order (producers before consumers), until `extraZeroRuns` consecutive
 * rounds change nothing, or `maxRuns` rounds, or `maxRunTime` seconds have passed.
 *
 * - Input pipes (whose source reads no dataset: embedded, http_endpoint, and the sources that read
 *   an outside system) are reset and emptied only with `deleteInputDatasets` (the default; the
 *   client turns it off when it posts test data); every other pipe is reset and emptied with
 *   `resetPipesAndDeleteSinkDatasets` (the default).
 * - A failed pipe run fails the job, except failures of input pipes without `checkInputPipes`
 *   (they are logged as warnings): a CI node usually cannot reach the systems its input pipes
 *   read. Pipes whose pump mode is `off` are left out.
 * - Automatic scheduling is paused while a job runs. One job runs at a time per runtime; the last
 *   jobs are kept (with their logs) for status and log requests by token.
 * - The job log is a list of `{timestamp, loglevel, logdata}` lines; timestamps are ISO strings
 *   with microseconds that strictly increase, so `since` = the last timestamp seen continues it.
 */
import { randomUUID } from 'node:crypto';
import type { ExecutionPlan, PlanPipe } from '../../compiler/plan/types.js';
import { describeFailedEntities, type RunOutcome } from '../executor/run.js';
import type { SluiceRuntime } from './runtime.js';

export interface RunAllOptions {
  /** Consecutive rounds without changes that end the job (default 2; 0 = after the first round). */
  extraZeroRuns?: number;
  /** Rounds at most (default 100); a job that has not settled by then fails. */
  maxRuns?: number;
  /** Seconds at most (default 900); a job still running then is stopped and fails. */
  maxRunTime?: number;
  deleteInputDatasets?: boolean;
  checkInputPipes?: boolean;
  resetPipesAndDeleteSinkDatasets?: boolean;
  /** Per-pipe statistics in the log and in `additional_info`. */
  outputRunStatistics?: boolean;
  /** `active` or `poll`: accepted for compatibility; both run the same way here. */
  schedulerMode?: string;
}

export type RunnerStatus = 'running' | 'success' | 'failed' | 'stopped';

export interface RunnerLogLine {
  timestamp: string;
  loglevel: 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
  logdata: string;
}

export interface PipeStatistics {
  pipe: string;
  runs: number;
  read: number;
  written: number;
  deleted: number;
  failedEntities: number;
  failedRuns: number;
  seconds: number;
}

export interface RunnerResult {
  status: Exclude<RunnerStatus, 'running'>;
  additional_info: string;
  rounds: number;
  changes: number;
  statistics: PipeStatistics[];
}

export class RunnerBusyError extends Error {}

export class RunnerJob {
  readonly token = randomUUID();
  readonly started = Date.now();
  status: RunnerStatus = 'running';
  readonly log: RunnerLogLine[] = [];
  result: RunnerResult | null = null;
  promise!: Promise<RunnerResult>;
  /** Stop requested (stop-run-all-pipes) or the time is up. */
  stopReason: string | null = null;
  /** The pipe running right now. */
  currentPipe: string | null = null;
  private lastMicros = 0;
  private readonly listeners: ((line: RunnerLogLine) => void)[] = [];

  onLog(listener: (line: RunnerLogLine) => void): void {
    this.listeners.push(listener);
  }

  write(loglevel: RunnerLogLine['loglevel'], logdata: string): void {
    const micros = Math.max(Date.now() * 1000, this.lastMicros + 1);
    this.lastMicros = micros;
    const iso = new Date(Math.floor(micros / 1000)).toISOString();
    const line = { timestamp: `${iso.slice(0, 23)}${String(micros % 1000).padStart(3, '0')}Z`, loglevel, logdata };
    this.log.push(line);
    for (const l of this.listeners) l(line);
  }

  /** Log lines after `since` (a timestamp of an earlier line). */
  linesSince(since: string | undefined): RunnerLogLine[] {
    if (!since) return [...this.log];
    return this.log.filter((l) => l.timestamp > since);
  }
}

/**
 * Pipes whose data comes from outside the node: their source reads no dataset (embedded, http_endpoint
 * receivers, and json, sql, rest and the other sources that read a system), as Sesam's scheduler counts them.
 */
export function isInputPipe(pipe: PlanPipe): boolean {
  return pipe.reads.length === 0;
}

export function automaticRunsOff(plan: ExecutionPlan | null): boolean {
  const tm = (plan?.metadata.effective.task_manager ?? {}) as Record<string, unknown>;
  return tm.disable_user_pipes === true || tm.disable_pump_scheduler === true;
}

/**
 * Resets a pipe (its offset, run state, retries and dependency tracking; `disabled` is kept) and,
 * with `deleteSink`, deletes the dataset it writes. A run in progress is stopped first.
 */
export async function resetPipe(rt: SluiceRuntime, pipeId: string, deleteSink: boolean): Promise<{ deleted: string | null }> {
  const pump = rt.pump(pipeId);
  if (pump?.active) await pump.stop().catch(() => undefined);
  const state = await rt.store.getPipeState(pipeId);
  await rt.store.setPipeState(pipeId, { last_seen: null, ...(state?.disabled ? { disabled: true } : {}) });
  if (pump) pump.lastSeen = null;
  const sink = rt.pipe(pipeId)?.writes ?? null;
  if (deleteSink && sink && (await rt.store.deleteDataset(sink))) return { deleted: sink };
  return { deleted: null };
}

/** Deletes the sink dataset of every pipe and resets the pipes (`POST /api/pipes/delete-all-sink-datasets`). */
export async function deleteAllSinkDatasets(rt: SluiceRuntime): Promise<string[]> {
  const deleted: string[] = [];
  for (const p of rt.plan?.pipes ?? []) {
    const r = await resetPipe(rt, p.id, true);
    if (r.deleted) deleted.push(r.deleted);
  }
  return deleted;
}

function plural(n: number, word: string): string {
  return n === 1 ? `${n} ${word}` : `${n} ${word.endsWith('y') ? `${word.slice(0, -1)}ies` : `${word}s`}`;
}

const KEEP_JOBS = 20;

export class PipeRunner {
  current: RunnerJob | null = null;
  private readonly jobs: RunnerJob[] = [];

  constructor(private readonly rt: SluiceRuntime) {}

  /** The job with this token, or the latest job without one. */
  job(token?: string): RunnerJob | undefined {
    if (token === undefined || token === '') return this.jobs[this.jobs.length - 1];
    return this.jobs.find((j) => j.token === token);
  }

  /** Starts a job; throws RunnerBusyError while one runs. */
  start(options: RunAllOptions = {}, onLog?: (line: RunnerLogLine) => void): RunnerJob {
    if (this.current) throw new RunnerBusyError(`the pipe runner is already running (token ${this.current.token}); stop it with POST /api/pipes/stop-run-all-pipes`);
    const job = new RunnerJob();
    if (onLog) job.onLog(onLog);
    this.current = job;
    this.jobs.push(job);
    if (this.jobs.length > KEEP_JOBS) this.jobs.shift();
    job.promise = this.execute(job, options).finally(() => {
      if (this.current === job) this.current = null;
    });
    return job;
  }

  /** Stops the running job and waits for it to end (at most `timeoutMs`); false when nothing ran. */
  async stop(timeoutMs = 30_000, reason = 'stopped on request'): Promise<boolean> {
    const job = this.current;
    if (!job) return false;
    job.stopReason ??= reason;
    if (job.currentPipe) this.rt.pump(job.currentPipe)?.active?.controller.abort();
    await Promise.race([job.promise.catch(() => undefined), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    return true;
  }

  private async execute(job: RunnerJob, options: RunAllOptions): Promise<RunnerResult> {
    const rt = this.rt;
    const extraZeroRuns = Math.max(0, options.extraZeroRuns ?? 2);
    const maxRuns = Math.max(1, options.maxRuns ?? 100);
    const maxRunTime = Math.max(0, options.maxRunTime ?? 900);
    const deleteInputs = options.deleteInputDatasets ?? true;
    const resetOthers = options.resetPipesAndDeleteSinkDatasets ?? true;
    const checkInputs = options.checkInputPipes ?? false;
    rt.scheduler.paused = true;
    const roundChanges: number[] = [];
    const stats = new Map<string, PipeStatistics>();
    const failedPipes = new Set<string>();
    let rounds = 0;
    let totalChanges = 0;
    const deadline = job.started + maxRunTime * 1000;
    // Timers may fire a little before Date.now() reaches the deadline, so the time-out is a flag, not a clock comparison.
    let timedOut = false;
    const timeOut = () => {
      if (job.stopReason) return;
      timedOut = true;
      job.stopReason = `max_run_time (${maxRunTime} s) was reached`;
    };
    const timer = setTimeout(() => {
      timeOut();
      if (job.currentPipe) rt.pump(job.currentPipe)?.active?.controller.abort();
    }, Math.max(0, deadline - Date.now()));
    timer.unref();
    const finish = (status: RunnerResult['status'], summary: string): RunnerResult => {
      const statistics = [...stats.values()];
      let info = summary;
      if (options.outputRunStatistics && statistics.length) {
        const lines = statistics.map((s) => `  ${s.pipe}: ${plural(s.runs, 'run')}, read ${s.read}, written ${s.written}, deleted ${s.deleted}, failed entities ${s.failedEntities}, failed runs ${s.failedRuns}, ${s.seconds.toFixed(3)} s`);
        for (const l of lines) job.write('INFO', l.trim());
        info += `\nPipe statistics:\n${lines.join('\n')}`;
      }
      job.write(status === 'success' ? 'INFO' : 'ERROR', summary);
      job.status = status;
      job.result = { status, additional_info: info, rounds, changes: totalChanges, statistics };
      return job.result;
    };
    try {
      const plan = rt.plan;
      if (!plan) return finish('success', 'There is no config: nothing to run');
      job.write(
        'INFO',
        `run-all-pipes started: extra_zero_runs=${extraZeroRuns}, max_runs=${maxRuns}, max_run_time=${maxRunTime}, delete_input_datasets=${deleteInputs}, reset_pipes_and_delete_sink_datasets=${resetOthers}, check_input_pipes=${checkInputs}, scheduler_mode=${options.schedulerMode ?? 'active'}`,
      );
      // Nothing else writes while the job resets and runs.
      for (const pump of rt.scheduler.pumps.values()) if (pump.active) await pump.active.promise.catch(() => undefined);
      let reset = 0;
      const deleted: string[] = [];
      for (const p of plan.pipes) {
        if (!(isInputPipe(p) ? deleteInputs : resetOthers)) continue;
        const r = await resetPipe(rt, p.id, true);
        reset++;
        if (r.deleted) deleted.push(r.deleted);
      }
      if (reset) job.write('INFO', `Reset ${plural(reset, 'pipe')} and deleted ${plural(deleted.length, 'sink dataset')}`);
      const order = plan.graph.order;
      const skipped = new Set<string>();
      let zeroStreak = 0;
      for (;;) {
        if (rounds >= maxRuns) {
          return finish('failed', `The pipes did not settle within max_runs (${maxRuns} runs): the last run changed ${plural(lastChanges(), 'entity')}`);
        }
        rounds++;
        let changes = 0;
        let ran = 0;
        for (const id of order) {
          if (job.stopReason) break;
          const pipe = rt.pipe(id);
          if (!pipe) continue;
          const pump = rt.pump(id);
          if (!pump) {
            const reason = rt.instantiationErrors.get(id) ?? 'it is not deployed';
            if (isInputPipe(pipe) && !checkInputs) {
              if (!skipped.has(id)) job.write('WARNING', `Input pipe '${id}' cannot run (ignored without check_input_pipes): ${reason}`);
              skipped.add(id);
            } else {
              if (!failedPipes.has(id)) job.write('ERROR', `Pipe '${id}' cannot run: ${reason}`);
              failedPipes.add(id);
            }
            continue;
          }
          if (pump.mode === 'off') {
            if (!skipped.has(id)) job.write('INFO', `Pipe '${id}' has pump mode "off" and is left out`);
            skipped.add(id);
            continue;
          }
          job.currentPipe = id;
          let outcome: RunOutcome;
          try {
            outcome = await rt.runPipe(id);
          } catch (err) {
            const now = Date.now();
            outcome = { status: 'failed', syncType: 'incremental', read: 0, written: 0, unchanged: 0, deleted: 0, failed: 0, retried: 0, tracked: 0, started: now, ended: now, error: (err as Error).message };
          } finally {
            job.currentPipe = null;
          }
          // Runs on the embedded store may complete without giving timers and sockets a turn.
          await new Promise((r) => setImmediate(r));
          if (Date.now() >= deadline) timeOut();
          ran++;
          const s = stats.get(id) ?? { pipe: id, runs: 0, read: 0, written: 0, deleted: 0, failedEntities: 0, failedRuns: 0, seconds: 0 };
          s.runs++;
          s.read += outcome.read;
          s.written += outcome.written;
          s.deleted += outcome.deleted;
          s.failedEntities += outcome.failed;
          s.seconds += Math.max(0, outcome.ended - outcome.started) / 1000;
          stats.set(id, s);
          changes += outcome.written;
          if (outcome.status === 'failed') {
            s.failedRuns++;
            if (isInputPipe(pipe) && !checkInputs) job.write('WARNING', `Input pipe '${id}' failed (ignored without check_input_pipes): ${outcome.error ?? 'unknown error'}`);
            else {
              failedPipes.add(id);
              job.write('ERROR', `Pipe '${id}' failed: ${outcome.error ?? 'unknown error'}`);
            }
          } else if (outcome.written || outcome.failed) {
            // Entities the pump put aside (retry queue, dead letters) must not pass unnoticed.
            const failed = outcome.failed ? `, ${outcome.failed} failed (${describeFailedEntities(outcome)})` : '';
            job.write(outcome.failed ? 'WARNING' : 'INFO', `Pipe '${id}' ${outcome.syncType} run: read ${outcome.read}, written ${outcome.written}${outcome.deleted ? ` (${outcome.deleted} deleted)` : ''}${failed}`);
          }
        }
        roundChanges.push(changes);
        totalChanges += changes;
        if (job.stopReason) {
          return finish(timedOut ? 'failed' : 'stopped', `The pipe runner was stopped in run ${rounds}: ${job.stopReason}`);
        }
        zeroStreak = changes === 0 ? zeroStreak + 1 : 0;
        job.write('INFO', `Run ${rounds}: ${plural(ran, 'pipe')} ran, ${plural(changes, 'change')}${changes === 0 ? ` (${zeroStreak} of ${extraZeroRuns} runs without changes)` : ''}`);
        if (zeroStreak >= extraZeroRuns) break;
      }
      const seconds = ((Date.now() - job.started) / 1000).toFixed(1);
      const summary = `Ran ${plural(stats.size, 'pipe')} in ${plural(rounds, 'run')} (${plural(totalChanges, 'change')}) in ${seconds} s`;
      if (failedPipes.size) return finish('failed', `${summary}; failed: ${[...failedPipes].sort().join(', ')}`);
      return finish('success', summary);
    } catch (err) {
      return finish('failed', `The pipe runner failed: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
      rt.scheduler.paused = automaticRunsOff(rt.plan);
    }

    function lastChanges(): number {
      return roundChanges[roundChanges.length - 1] ?? 0;
    }
  }
}

const runners = new WeakMap<SluiceRuntime, PipeRunner>();

/** The pipe runner of a runtime (one per runtime). */
export function pipeRunner(rt: SluiceRuntime): PipeRunner {
  let r = runners.get(rt);
  if (!r) runners.set(rt, (r = new PipeRunner(rt)));
  return r;
}

/** Runs a job to its end (the sync mode of run-all-pipes, and `sluice test`). */
export async function runAllPipes(rt: SluiceRuntime, options: RunAllOptions = {}, onLog?: (line: RunnerLogLine) => void): Promise<RunnerResult> {
  return pipeRunner(rt).start(options, onLog).promise;
}
