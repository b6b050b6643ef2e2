/**
 * The pipe pool: decides where a pipe run happens. Pipes that only read and write the runtime's
 * data directory (dataset-like sources, DTL, a dataset sink) run on worker threads (tinypool), each
 * with its own connection to the same SQLite database; SQLite serialises their write transactions.
 * Everything else (receivers, publishers, sources and sinks that talk to other systems, and every
 * pipe on other stores) runs on the main thread as before. Either way the run is `runPipe`.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import type { Tinypool } from 'tinypool';
import type { Logger } from 'pino';
import type { ExecutionPlan, PlanPipe, PlanSystem } from '../../compiler/plan/types.js';
import { EmbeddedStore } from '../store/embedded/store.js';
import type { Store } from '../store/contract.js';
import { isoNow } from '../pump/execution-log.js';
import { redactSecrets } from '../security/redaction.js';
import type { PoolMessage, PoolTask } from './pool-worker.js';
import type { RunDeps, RunOutcome, RunRequest } from './run.js';
import type { PipeInstance } from './pipe-instance.js';

type ResolvedSystems = Map<string, PlanSystem & { config: Record<string, unknown> }>;

/** Component types whose whole state lives in the store: a worker thread can run them. */
const WORKER_SOURCES = new Set(['dataset', 'embedded', 'empty', 'merge', 'merge_datasets', 'union_datasets']);
const WORKER_TRANSFORMS = new Set(['dtl']);
const WORKER_SINKS = new Set(['dataset']);

/** `--workers` and the runtime's `workers` option: a positive integer, or the machine's cores. */
export function poolSize(value: string | number | undefined): number {
  if (value === undefined || value === '' || value === 'auto') return availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`the pipe worker pool size must be a positive whole number or "auto", not "${value}"`);
  return n;
}

export interface PipePoolOptions {
  size: number;
  logLevel: string;
  logger?: Logger;
  /** The worker's handler module (default: pool-worker). Tests give one that crashes. */
  module?: URL;
}

export class PipePool {
  /** The threads, made with the first run: loading tinypool took a noticeable part of a start. */
  private pool: Promise<Tinypool> | null = null;
  readonly size: number;
  /** Runs handed to the workers so far. */
  tasks = 0;

  private constructor(
    private readonly store: EmbeddedStore,
    private readonly writeTurn: SharedArrayBuffer,
    private readonly options: PipePoolOptions,
  ) {
    this.size = options.size;
  }

  private threads(): Promise<Tinypool> {
    this.pool ??= import('tinypool').then(({ Tinypool }) => {
      // From the TypeScript sources the worker registers tsx before it loads the handler (pool-worker-ts.mjs);
      // the compiled build has the handler as its own bundle beside sluice.cjs (scripts/build-server.mjs).
      const workerFile = import.meta.url.endsWith('.ts') ? './pool-worker-ts.mjs' : process.env.SLUICE_COMPILED_BUILD === 'true' ? './pool-worker.cjs' : './pool-worker.js';
      const pool = new Tinypool({
        filename: (this.options.module ?? new URL(workerFile, import.meta.url)).href,
        minThreads: 0,
        maxThreads: this.options.size,
        // Idle workers keep their store connection for the next run for a while.
        idleTimeout: 60_000,
      });
      // A dying worker fails its task (see run); the pool itself must not take the process down.
      pool.on('error', (err: Error) => this.options.logger?.error({ err: err.message }, 'a pipe worker thread failed'));
      return pool;
    });
    return this.pool;
  }

  /** A pool for the store, or null when pipes stay on the main thread (size 1, or not an embedded store on disk). */
  static for(store: Store, options: PipePoolOptions): PipePool | null {
    if (options.size <= 1 || !(store instanceof EmbeddedStore) || store.dataDir === ':memory:') return null;
    return new PipePool(store, store.allowOtherWriters(), options);
  }

  /** Whether this pipe can run on a worker thread (see WORKER_SOURCES and the others). */
  static canRun(pipe: PlanPipe): boolean {
    return WORKER_SOURCES.has(pipe.source.type) && pipe.transforms.every((t) => WORKER_TRANSFORMS.has(t.type)) && WORKER_SINKS.has(pipe.sink.type);
  }

  /** Runs the pipe on a worker; a worker that dies fails the run with the reason, and the pool replaces it. */
  async run(plan: ExecutionPlan, systems: ResolvedSystems, inst: PipeInstance, deps: RunDeps, request: RunRequest, signal: AbortSignal): Promise<RunOutcome> {
    const channel = new MessageChannel();
    const receive = (m: PoolMessage) => {
      if (m.kind === 'progress') {
        deps.onProgress?.(inst.plan.id, m.progress);
        this.store.walGrownElsewhere();
      } else if (m.kind === 'changed') deps.onDatasetChanged?.(m.dataset);
    };
    channel.port1.on('message', receive);
    const abort = () => channel.port1.postMessage({ kind: 'abort' });
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
    // Only the systems this pipe names travel to the worker, with their secrets.
    const own = [...systems].filter(([id]) => inst.plan.systems.includes(id));
    const task: PoolTask = { dataDir: this.store.dataDir, writeTurn: this.writeTurn, plan, pipe: inst.plan, systems: own, request, logLevel: this.options.logLevel, port: channel.port2 };
    const started = Date.now();
    this.tasks++;
    try {
      const pool = await this.threads();
      return (await pool.run(task, { transferList: [channel.port2] })) as RunOutcome;
    } catch (err) {
      return await this.recordCrash(inst.plan.id, deps, started, err as Error);
    } finally {
      signal.removeEventListener('abort', abort);
      // The result comes through the pool's own port: what the worker said just before it may still be queued here.
      for (let m = receiveMessageOnPort(channel.port1); m; m = receiveMessageOnPort(channel.port1)) receive(m.message as PoolMessage);
      channel.port1.close();
    }
  }

  /** A run whose worker died: failed, in the pipe state and the execution log, as a failed run would be. */
  private async recordCrash(pipeId: string, deps: RunDeps, started: number, err: Error): Promise<RunOutcome> {
    const ended = Date.now();
    const error = redactSecrets(`the worker thread running pipe "${pipeId}" failed: ${err?.message ?? String(err)}`);
    deps.logger.error({ pipe: pipeId, err: error }, 'pipe run failed in its worker thread');
    try {
      // The run's own record (state.run) stays: the next run resumes it, as after a crash of the process.
      const state = (await deps.store.getPipeState(pipeId)) ?? { last_seen: null };
      await deps.store.setPipeState(pipeId, { ...state, last_run: { started, ended, status: 'failed', error } });
      await deps.log.append(pipeId, { _id: 'pump-failed', event_type: 'pump-failed', pump_definition: pipeId, start_time: isoNow(started), end_time: isoNow(ended), reason_why_stopped: error, original_error: error, entity: null });
    } catch (again) {
      deps.logger.error({ pipe: pipeId, err: (again as Error).message }, 'could not record the failed run');
    }
    return { status: 'failed', syncType: 'incremental', read: 0, written: 0, unchanged: 0, deleted: 0, failed: 0, retried: 0, tracked: 0, started, ended, error };
  }

  async close(): Promise<void> {
    await (await this.pool)?.destroy();
  }
}
