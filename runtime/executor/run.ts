/**
 * One pipe run: source → batches → transforms → sink, with checkpoints, per-entity failures,
 * retries of failed entities in later runs, deletion tracking after full runs, and the execution
 * log. The sink write and the checkpoint commit together (or idempotently), so killing the process
 * at any point and running again neither loses nor duplicates entities.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Entity } from '../../compiler/values/types.js';
import { DtlRuntimeError } from '../../compiler/dtl/runtime.js';
import type { EntityFailure, RunInfo, SinkResult, Since } from '../components/types.js';
import type { PipeCheckpoint, PipeState, RetryEntry, Store } from '../store/contract.js';
import { ExecutionLog, isoNow } from '../pump/execution-log.js';
import { isDiskFull } from '../store/errors.js';
import { yieldIfDue } from './time-slice.js';
import { redactSecrets } from '../security/redaction.js';
import { addNamespaces, removeNamespaces } from './namespaces.js';
import { currentOffsets, trackDependencies } from './dependencies.js';
import { settleHeap } from './heap-budget.js';
import type { PipeInstance } from './pipe-instance.js';

export type RunReason = 'schedule' | 'manual' | 'signal' | 'startup' | 'rescan' | 'runner';

export interface RunRequest {
  reason: RunReason;
  /** Force a full rescan. */
  full?: boolean;
  user?: string;
}

export interface RunOutcome {
  /** `skipped`: another runtime holds the pipe's lease. */
  status: 'completed' | 'failed' | 'stopped' | 'skipped';
  syncType: 'full' | 'incremental' | 'partial';
  read: number;
  written: number;
  unchanged: number;
  deleted: number;
  failed: number;
  retried: number;
  /** Entities re-processed by dependency tracking. */
  tracked: number;
  /** The first entities that failed in this run (at most MAX_REPORTED_FAILURES): their id and why. */
  failures?: { entity: string | null; reason: string }[];
  started: number;
  ended: number;
  error?: string;
}

export interface RunDeps {
  store: Store;
  log: ExecutionLog;
  logger: Logger;
  /** Called when a run wrote new versions to a dataset (signalling of downstream pipes). */
  onDatasetChanged?(dataset: string): void;
  /** Called per committed batch (metrics, progress). */
  onProgress?(pipeId: string, progress: { read: number; written: number; failed: number }): void;
}

/** The run cannot go on: too many entity failures, a fatal DTL error, a failing source or sink. */
export class RunFailedError extends Error {
  constructor(
    message: string,
    readonly entity?: Entity,
  ) {
    super(message);
  }
}

const MAX_REPORTED_FAILURES = 10;

function describeFailure(f: EntityFailure): string {
  const id = typeof f.entity?._id === 'string' ? `entity "${f.entity._id}"` : 'an entity';
  const at = f.error instanceof DtlRuntimeError && f.error.at ? ` at ${f.error.at}` : '';
  return `${id}${at}: ${f.error.message}`;
}

/** `entity "a": reason; entity "b": reason` for the failures an outcome kept, and how many more there were. */
export function describeFailedEntities(outcome: Pick<RunOutcome, 'failed' | 'failures'>): string {
  const listed = (outcome.failures ?? []).slice(0, 3);
  const text = listed.map((f) => `${f.entity === null ? 'an entity without a string _id' : `entity "${f.entity}"`}: ${f.reason}`).join('; ');
  const more = outcome.failed - listed.length;
  return more > 0 ? `${text}${text ? '; ' : ''}${more} more in the execution log` : text;
}

function shiftSince(since: Since, delta: number): Since {
  if (typeof since === 'number') return Math.max(0, since - delta);
  return since;
}

export async function runPipe(inst: PipeInstance, deps: RunDeps, request: RunRequest, signal: AbortSignal): Promise<RunOutcome> {
  const { store, log } = deps;
  const pipe = inst.plan;
  const pump = inst.pump;
  const started = Date.now();
  let state: PipeState = (await store.getPipeState(pipe.id)) ?? { last_seen: null };
  const runCount = (state.run_count ?? 0) + 1;
  const rescanEvery = pump.rescan_run_count as number | undefined;
  const partialEvery = pump.partial_rescan_run_count as number | undefined;
  const resume = state.run ?? null;
  const full = inst.source.pushed ? false : resume ? resume.full : request.full === true || !inst.source.supportsSince || state.last_seen === null || (rescanEvery !== undefined && runCount % rescanEvery === 0);
  const partial = !full && !resume && partialEvery !== undefined && runCount % partialEvery === 0;
  const syncType = full ? 'full' : partial ? 'partial' : 'incremental';
  const run: RunInfo = { id: resume?.id ?? randomUUID(), pipeId: pipe.id, full, signal, trace: [] };
  const since: Since = resume ? state.last_seen : full ? null : partial ? shiftSince(state.last_seen, pump.partial_rescan_delta as number) : state.last_seen;
  // A full run sees the joined datasets as they are now: dependency tracking continues from here.
  const trackingStart = resume?.tracking ?? (full ? await currentOffsets(store, pipe.dependencies) : undefined);
  // A full run restarts from nothing; its progress is recorded so that a crash resumes the same run.
  state = { ...state, last_seen: resume || !full ? state.last_seen : null, run: { id: run.id, full, started, ...(trackingStart ? { tracking: trackingStart } : {}) }, run_count: runCount, config_hash: pipe.hash };
  const outcome: RunOutcome = { status: 'completed', syncType, read: 0, written: 0, unchanged: 0, deleted: 0, failed: 0, retried: 0, tracked: 0, failures: [], started, ended: 0 };

  const maxConsecutive = (pump.max_consecutive_write_errors as number | undefined) ?? 1;
  const maxInRetry = (pump.max_write_errors_in_retry_dataset as number | undefined) ?? 0;
  const maxRetries = (pump.max_retries_per_entity as number | undefined) ?? 5;
  const batchRetries = (pump.batch_retries as number | undefined) ?? 3;
  const fallback = pump.fallback_to_single_entities_on_batch_fail !== false;
  const deadLetter = (pump.dead_letter_dataset as string | undefined) ?? (pump.use_dead_letter_dataset === true ? `system:dead-letter:${pipe.id}` : undefined);
  let retries: RetryEntry[] = [...(state.retries ?? [])];
  let consecutive = 0;

  const changed = (r: SinkResult) => {
    for (const d of r.changed ?? []) deps.onDatasetChanged?.(d);
  };

  const transform = async (entities: Entity[]): Promise<{ entities: Entity[]; failures: EntityFailure[] }> => {
    let current = pipe.add_namespaces && pipe.namespaces ? entities.map((e) => addNamespaces(e, pipe.namespaces!)) : entities;
    const failures: EntityFailure[] = [];
    for (const t of inst.transforms) {
      const r = await t.apply(current, run);
      current = r.entities;
      failures.push(...r.failures);
    }
    if (pipe.remove_namespaces) current = current.map(removeNamespaces);
    return { entities: current, failures };
  };

  /** Writes a batch; a failing batch is retried and then written one entity at a time. */
  const write = async (entities: Entity[], checkpoint?: PipeCheckpoint): Promise<SinkResult> => {
    let lastError: unknown;
    for (let attempt = 0; attempt <= batchRetries; attempt++) {
      try {
        return await inst.sink.write(entities, run, checkpoint);
      } catch (err) {
        // A sink can refuse the whole run (e.g. a receiver rejecting a sync sequence): no retries.
        if ((err as { fatal?: boolean }).fatal === true) throw new RunFailedError((err as Error).message);
        // A full disk is no entity's fault: retrying, or writing one entity at a time, cannot help.
        if (isDiskFull(err)) throw err;
        lastError = err;
        if (entities.length <= 1) break;
      }
    }
    if (!fallback || entities.length <= 1) {
      if (entities.length === 1) return { written: 0, unchanged: 0, deleted: 0, failures: [{ entity: entities[0], error: lastError as Error }] };
      throw new RunFailedError(`the sink failed to write a batch of ${entities.length}: ${(lastError as Error).message}`);
    }
    const total: SinkResult = { written: 0, unchanged: 0, deleted: 0, failures: [], changed: [] };
    for (let i = 0; i < entities.length; i++) {
      try {
        const r = await inst.sink.write([entities[i]], run, i === entities.length - 1 ? checkpoint : undefined);
        total.written += r.written;
        total.unchanged += r.unchanged;
        total.deleted += r.deleted;
        total.failures.push(...r.failures);
        total.changed!.push(...(r.changed ?? []));
      } catch (err) {
        if ((err as { fatal?: boolean }).fatal === true) throw new RunFailedError((err as Error).message);
        if (isDiskFull(err)) throw err;
        total.failures.push({ entity: entities[i], error: err as Error });
      }
    }
    if (checkpoint && total.failures.length && total.failures.some((f) => f.entity === entities[entities.length - 1])) await store.setPipeState(checkpoint.pipeId, checkpoint.state);
    return total;
  };

  /** Records failures: into the retry queue while it has room, otherwise the run fails. */
  const handleFailures = async (failures: EntityFailure[]) => {
    if (failures.length === 0) {
      consecutive = 0;
      return;
    }
    for (const f of failures) {
      consecutive++;
      outcome.failed++;
      if (outcome.failures!.length < MAX_REPORTED_FAILURES) outcome.failures!.push({ entity: typeof f.entity?._id === 'string' ? f.entity._id : null, reason: f.error.message });
      const retryable = maxInRetry > 0 && retries.length < maxInRetry;
      await log.append(pipe.id, {
        _id: `write-error:${String(f.entity?._id ?? '?')}`,
        event_type: 'write-error',
        error_code: 1,
        event_time: isoNow(),
        retry_attempts: 0,
        retryable,
        resolved: false,
        dead: false,
        entity: (f.entity ?? null) as never,
        original_error_message: describeFailure(f),
      });
      if (retryable) {
        retries.push({ entity: f.entity, error: f.error.message, attempts: 0, first_failed: Date.now() });
        continue;
      }
      if (consecutive >= maxConsecutive) throw new RunFailedError(`${describeFailure(f)} (max_consecutive_write_errors is ${maxConsecutive})`, f.entity);
    }
  };

  try {
    await store.setPipeState(pipe.id, state);
    await log.append(pipe.id, { _id: 'pump-started', event_type: 'pump-started', start_time: isoNow(started), sync_type: syncType, pump_definition: pipe.id, reason: request.reason, ...(request.user ? { user: { user_id: request.user } } : {}) });
    await inst.sink.beginRun?.(run);
    // Entities that failed in earlier runs go first, one at a time.
    if (retries.length) {
      const pending = retries;
      retries = [];
      for (const entry of pending) {
        const { entities, failures } = await transform([entry.entity]);
        const r = failures.length ? { written: 0, unchanged: 0, deleted: 0, failures } : await write(entities);
        changed(r);
        const attempts = entry.attempts + 1;
        const errorEvent = (fields: Record<string, unknown>) =>
          log.append(pipe.id, { _id: `write-error:${String(entry.entity._id)}`, event_type: 'write-error', error_code: 1, event_time: isoNow(), retry_attempts: attempts, retryable: true, entity: entry.entity as never, ...fields });
        if (r.failures.length === 0) {
          outcome.retried++;
          outcome.written += r.written;
          await errorEvent({ resolved: true, dead: false, original_error_message: entry.error });
          continue;
        }
        if (attempts >= maxRetries) {
          if (deadLetter) await store.write(deadLetter, [{ ...entry.entity, _id: String(entry.entity._id), $error: r.failures[0].error.message } as Entity]);
          await errorEvent({ resolved: false, dead: true, original_error_message: r.failures[0].error.message, dead_letter_dataset: deadLetter ?? null });
        } else retries.push({ ...entry, attempts, error: r.failures[0].error.message });
      }
    }
    let batches = 0;
    let lastSince = since;
    let committed: PipeState = { ...state, retries };
    for await (const batch of inst.source.read({ since, batchSize: inst.batchSize, run })) {
      outcome.read += batch.entities.length;
      const { entities, failures } = await transform(batch.entities);
      await yieldIfDue();
      batches++;
      lastSince = batch.since;
      const next: PipeState = { ...committed, last_seen: batch.since, retries };
      const due = batches % inst.checkpointInterval === 0;
      const r = await write(entities, due ? { pipeId: pipe.id, state: next } : undefined);
      changed(r);
      outcome.written += r.written;
      outcome.unchanged += r.unchanged;
      outcome.deleted += r.deleted;
      await handleFailures([...failures, ...r.failures]);
      if (due) committed = next;
      deps.onProgress?.(pipe.id, { read: outcome.read, written: outcome.written, failed: outcome.failed });
      settleHeap();
      if (signal.aborted) {
        outcome.status = 'stopped';
        break;
      }
      await yieldIfDue();
    }
    // A source may end early because the run was stopped: that run is not complete (no deletion tracking).
    if (signal.aborted) outcome.status = 'stopped';
    // Dependency tracking: re-process the source entities whose joined entities changed.
    let tracking = trackingStart ?? state.tracking;
    if (!full && outcome.status !== 'stopped' && pipe.dependencies.length && pipe.reads.length) {
      const limits = (pipe.effective.dependency_tracking ?? {}) as { dependency_warning_threshold?: number; dependency_error_threshold?: number };
      const errorAt = limits.dependency_error_threshold ?? 50_000;
      const warnAt = limits.dependency_warning_threshold ?? 10_000;
      const since: Record<string, number> = { ...(await currentOffsets(store, pipe.dependencies.filter((d) => state.tracking?.[d.dataset] === undefined))), ...(state.tracking ?? {}) };
      const found = await trackDependencies(store, pipe.dependencies, since, errorAt);
      if (found.ids.size > errorAt) throw new RunFailedError(`dependency tracking found more than ${errorAt} entities to re-process (dependency_error_threshold)`);
      if (found.ids.size > warnAt) deps.logger.warn({ pipe: pipe.id, entities: found.ids.size }, 'dependency tracking re-processes more entities than dependency_warning_threshold');
      const ids = [...found.ids];
      for (let i = 0; i < ids.length && !signal.aborted; i += inst.batchSize) {
        const batch = [...(await store.getMany(pipe.reads[0], ids.slice(i, i + inst.batchSize))).values()];
        outcome.read += batch.length;
        outcome.tracked += batch.length;
        const { entities, failures } = await transform(batch);
        const r = await write(entities);
        changed(r);
        outcome.written += r.written;
        outcome.unchanged += r.unchanged;
        outcome.deleted += r.deleted;
        await handleFailures([...failures, ...r.failures]);
        await yieldIfDue();
      }
      if (!signal.aborted) tracking = found.offsets;
    }
    const ended = Date.now();
    if (outcome.status === 'stopped') {
      // Keep the run open: the next run resumes it from the last checkpoint.
      if (inst.sink.flush) {
        const flushed = await inst.sink.flush(run);
        changed(flushed);
        outcome.written += flushed.written;
        outcome.unchanged += flushed.unchanged;
        outcome.deleted += flushed.deleted;
      }
      await store.setPipeState(pipe.id, { ...committed, last_seen: lastSince, retries });
    } else {
      const last_run = { started, ended, status: 'completed' as const };
      const final: PipeState = { ...committed, last_seen: lastSince, retries, run: null, last_run, ...(tracking ? { tracking } : {}) };
      const endResult = inst.sink.endRun ? await inst.sink.endRun(run, { pipeId: pipe.id, state: final }) : (await store.setPipeState(pipe.id, final), undefined);
      if (endResult) {
        changed(endResult);
        outcome.written += endResult.written;
        outcome.unchanged += endResult.unchanged;
        outcome.deleted += endResult.deleted;
      }
      deps.onProgress?.(pipe.id, { read: outcome.read, written: outcome.written, failed: outcome.failed });
    }
    outcome.ended = Date.now();
    await log.append(pipe.id, {
      _id: 'pump-completed',
      event_type: 'pump-completed',
      pump_definition: pipe.id,
      start_time: isoNow(started),
      end_time: isoNow(outcome.ended),
      total_time: String((outcome.ended - started) / 1000),
      sync_type: syncType,
      status: outcome.status,
      retry_entities_exist: retries.length > 0,
      entities_succeeded: outcome.written + outcome.unchanged,
      entities_failed: outcome.failed,
      metrics: { read: outcome.read, written: outcome.written, unchanged: outcome.unchanged, deleted: outcome.deleted, retried: outcome.retried, tracked: outcome.tracked },
      ...(run.trace?.length ? { trace: run.trace as never } : {}),
    });
    return outcome;
  } catch (err) {
    outcome.status = 'failed';
    outcome.ended = Date.now();
    outcome.error = redactSecrets(err instanceof DtlRuntimeError ? err.toString() : (err as Error).message);
    deps.logger.warn({ pipe: pipe.id, err: outcome.error }, 'pipe run failed');
    // Recording the failure can fail for the same reason (a full disk): the run ends all the same.
    try {
      const failedState = (await store.getPipeState(pipe.id)) ?? state;
      await store.setPipeState(pipe.id, { ...failedState, last_run: { started, ended: outcome.ended, status: 'failed', error: outcome.error } });
    } catch (again) {
      deps.logger.error({ pipe: pipe.id, err: (again as Error).message }, 'could not record the failed run in the pipe state');
    }
    await log
      .append(pipe.id, {
        _id: 'pump-failed',
        event_type: 'pump-failed',
        pump_definition: pipe.id,
        start_time: isoNow(started),
        end_time: isoNow(outcome.ended),
        sync_type: syncType,
        reason_why_stopped: outcome.error,
        original_error: outcome.error,
        entity: err instanceof RunFailedError && err.entity ? (err.entity as never) : null,
        entities_succeeded: outcome.written + outcome.unchanged,
        entities_failed: outcome.failed,
        tripped: err instanceof DtlRuntimeError && err.trip,
        ...(run.trace?.length ? { trace: run.trace as never } : {}),
      })
      .catch((again: unknown) => deps.logger.error({ pipe: pipe.id, err: (again as Error).message }, 'could not write the failed run to the execution log'));
    return outcome;
  }
}
