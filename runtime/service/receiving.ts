/**
 * Receivers (JSON push into pipes whose source is `http_endpoint`): posted entities go through the
 * pipe's own built components (namespaces, transforms, sink) at once, as one small run.
 *
 * - A receive and a pump run of the same pipe never interleave: the receive waits for a running
 *   run to end and then holds the pump (as its active run) until it is done; receives of one pipe
 *   are queued one after the other.
 * - Everything is checked before anything is written: the entities (by the route), the protocol
 *   state (409), and the transforms (all entities are transformed before the first write).
 * - A request is one transaction of the sink (`writeAll`; a dataset sink writes the entities, the
 *   deletions that end a full sync and the pipe state together): a request killed half-way or
 *   refused by the sink (422) leaves nothing behind.
 * - Full syncs (`is_full=true`) are sequences of requests sharing a `sequence_id`; every request of
 *   the sequence marks what it wrote as seen by the sequence, and the request with `is_last=true`
 *   ends the run with deletion tracking, so the sink deletes what the sequence did not post. The
 *   sequence state is part of the pipe state and is saved with the sink's checkpoint.
 */
import { randomUUID } from 'node:crypto';
import { DtlRuntimeError } from '../../compiler/dtl/runtime.js';
import type { PlanPipe } from '../../compiler/plan/types.js';
import { parseEntityJson } from '../../compiler/values/json.js';
import { parseJsonLossless } from '../../compiler/values/lossless-json.js';
import { decodeInPlace } from '../../compiler/values/transit.js';
import { isDict, type Entity } from '../../compiler/values/types.js';
import { receiverOptions, type ReceiverOptions } from '../components/sources/http_endpoint.js';
import type { EntityFailure, RunInfo, SinkResult } from '../components/types.js';
import { addNamespaces, removeNamespaces } from '../executor/namespaces.js';
import type { RunOutcome } from '../executor/run.js';
import type { PipeInstance } from '../executor/pipe-instance.js';
import { isoNow } from '../pump/execution-log.js';
import type { Pump } from '../pump/pump.js';
import type { PipeCheckpoint, PipeState } from '../store/contract.js';
import type { SluiceRuntime } from './runtime.js';

export class ReceiveError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The JSON push protocol's request parameters. */
export interface PushParams {
  sequenceId?: string;
  isFull: boolean;
  requestId?: string;
  previousRequestId?: string;
  isFirst: boolean;
  isLast: boolean;
}

/** What the pipe state keeps for its receiver (key `receiver`). */
export interface ReceiverState {
  /** The full sync in progress, if any. */
  sequence?: { sequence_id: string; run_id: string; last_request_id: string | null; requests: number; started: number } | null;
  /** The last incremental sequence id seen (a full request may not reuse it). */
  incremental_sequence_id?: string | null;
  /** The completeness the last request gave (X-Dataset-Completeness), in microseconds. */
  completeness?: number;
}

export interface ReceiveRequestInfo {
  headers?: Record<string, string | string[] | undefined>;
  /** The start of the request body (for `trace`). */
  body?: string;
  /** X-Dataset-Completeness, already checked. */
  completeness?: number;
}

export interface ReceiveResult {
  received: number;
  written: number;
  unchanged: number;
  deleted: number;
  /** The full sync ended with this request (deletion tracking ran). */
  sequenceEnded: boolean;
}

// ------------------------------------------------------------------------------------- lookup

/** The pipe behind a receiver URL: 404 for unknown pipes and pipes without an http_endpoint source. */
export function receiverPipe(rt: SluiceRuntime, pipeId: string): PlanPipe {
  const pipe = rt.pipe(pipeId);
  if (!pipe) {
    if (rt.invalid.get(pipeId)?.kind === 'pipe') throw new ReceiveError(409, 'PIPE_NOT_RUNNABLE', `pipe "${pipeId}" has config errors and cannot receive entities`);
    throw new ReceiveError(404, 'NOT_FOUND', `no pipe "${pipeId}"`);
  }
  if (pipe.source.type !== 'http_endpoint') throw new ReceiveError(404, 'NOT_A_RECEIVER', `pipe "${pipeId}" has no receiver endpoint: its source is "${pipe.source.type}", not "http_endpoint"`);
  return pipe;
}

export function receiverOptionsOf(pipe: PlanPipe): ReceiverOptions {
  return receiverOptions(pipe.source.config);
}

// ------------------------------------------------------------------------------------- parsing

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * The entities of a posted body: one JSON object or an array of them, each with a non-empty string
 * `_id` (and a boolean `_deleted` if any). Throws a 400 naming the first problem.
 */
export function parseEntities(text: string, options: Pick<ReceiverOptions, 'floatAsInt'>): Entity[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new ReceiveError(400, 'EMPTY_BODY', 'the request has no body: send a JSON object (one entity) or a JSON array of entities');
  let value: unknown;
  try {
    // Integral floats (`2.0`) stay floats only when do_float_as_int is off.
    value = options.floatAsInt ? parseEntityJson(text) : decodeInPlace(parseJsonLossless(text, true));
  } catch (err) {
    throw new ReceiveError(400, 'INVALID_JSON', `the body is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(value) && !isDict(value)) throw new ReceiveError(400, 'INVALID_ENTITY', `the body must be a JSON object (one entity) or an array of entities, not ${kindOf(value)}`);
  const list = (Array.isArray(value) ? value : [value]) as unknown[];
  for (let i = 0; i < list.length; i++) {
    const e = list[i];
    const where = Array.isArray(value) ? `the entity at index ${i}` : 'the entity';
    if (!isDict(e)) throw new ReceiveError(400, 'INVALID_ENTITY', `${where} is ${kindOf(e)}, not a JSON object`);
    const id = e._id;
    if (id === undefined) throw new ReceiveError(400, 'INVALID_ENTITY', `${where} has no "_id"`);
    if (typeof id !== 'string') throw new ReceiveError(400, 'INVALID_ENTITY', `${where} has an "_id" that is ${kindOf(id)}, not a string`);
    if (id === '') throw new ReceiveError(400, 'INVALID_ENTITY', `${where} has an empty "_id"`);
    if (e._deleted !== undefined && typeof e._deleted !== 'boolean') throw new ReceiveError(400, 'INVALID_ENTITY', `${where} ("${id}") has a "_deleted" that is ${kindOf(e._deleted)}, not true or false`);
  }
  return list as Entity[];
}

/** X-Dataset-Completeness: a positive integer (microseconds since the epoch). */
export function parseCompleteness(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const text = (Array.isArray(header) ? header[0] : header).trim();
  if (!/^\d+$/.test(text) || Number(text) <= 0 || !Number.isSafeInteger(Number(text))) throw new ReceiveError(400, 'INVALID_HEADER', `the X-Dataset-Completeness header must be a positive integer (microseconds since the epoch), not "${text}"`);
  return Number(text);
}

// ------------------------------------------------------------------------------------- protocol

interface Step {
  next: ReceiverState;
  runId: string;
  full: boolean;
  endsSequence: boolean;
}

/** Checks the request against the receiver state (409 on conflicts) and gives the state after it. */
export function protocolStep(pipeId: string, state: ReceiverState, p: PushParams, now = Date.now()): Step {
  const active = state.sequence ?? null;
  if (!p.isFull) {
    // Incremental requests ignore the protocol parameters, except that a full sequence cannot turn incremental.
    if (p.sequenceId !== undefined && active?.sequence_id === p.sequenceId) {
      throw new ReceiveError(409, 'CONFLICT', `pipe "${pipeId}": sequence "${p.sequenceId}" is a full sync (is_full=true) and this request says is_full=false`);
    }
    return { next: { ...state, incremental_sequence_id: p.sequenceId ?? state.incremental_sequence_id ?? null }, runId: randomUUID(), full: false, endsSequence: false };
  }
  if (p.sequenceId === undefined && !(p.isFirst && p.isLast)) {
    throw new ReceiveError(400, 'INVALID_PARAMETER', `pipe "${pipeId}": a full sync (is_full=true) needs a sequence_id, unless one request is both is_first=true and is_last=true`);
  }
  if (p.sequenceId !== undefined && state.incremental_sequence_id === p.sequenceId) {
    throw new ReceiveError(409, 'CONFLICT', `pipe "${pipeId}": sequence "${p.sequenceId}" was incremental (is_full=false) and this request says is_full=true`);
  }
  let sequence: NonNullable<ReceiverState['sequence']>;
  if (active && p.sequenceId !== undefined && active.sequence_id === p.sequenceId) {
    if (p.isFirst) throw new ReceiveError(409, 'CONFLICT', `pipe "${pipeId}": is_first=true, but sequence "${p.sequenceId}" has already had ${active.requests} request(s)`);
    if ((p.previousRequestId ?? null) !== active.last_request_id) {
      throw new ReceiveError(
        409,
        'CONFLICT',
        `pipe "${pipeId}": previous_request_id ${p.previousRequestId === undefined ? 'is missing' : `is "${p.previousRequestId}"`}, but the last request of sequence "${p.sequenceId}" was ${active.last_request_id === null ? 'sent without a request_id' : `"${active.last_request_id}"`}`,
      );
    }
    sequence = { ...active, last_request_id: p.requestId ?? null, requests: active.requests + 1 };
  } else {
    // A new sequence replaces the active one; it cannot continue a request it never had.
    if (p.previousRequestId !== undefined) {
      throw new ReceiveError(409, 'CONFLICT', `pipe "${pipeId}": previous_request_id "${p.previousRequestId}" refers to a request of sequence "${p.sequenceId ?? ''}", which is not the active sequence (${active ? `"${active.sequence_id}" is` : 'none is'}); start it again with is_first=true`);
    }
    sequence = { sequence_id: p.sequenceId ?? randomUUID(), run_id: randomUUID(), last_request_id: p.requestId ?? null, requests: 1, started: now };
  }
  return { next: { ...state, sequence: p.isLast ? null : sequence }, runId: sequence.run_id, full: true, endsSequence: p.isLast };
}

// ------------------------------------------------------------------------------------- serialising

const queues = new WeakMap<SluiceRuntime, Map<string, Promise<unknown>>>();

/** Runs receives of one pipe one at a time. */
function queued<T>(rt: SluiceRuntime, pipeId: string, work: () => Promise<T>): Promise<T> {
  let perPipe = queues.get(rt);
  if (!perPipe) queues.set(rt, (perPipe = new Map()));
  const prev = perPipe.get(pipeId) ?? Promise.resolve();
  const next = prev.then(work, work);
  const settled = next.catch(() => undefined);
  perPipe.set(pipeId, settled);
  void settled.then(() => {
    if (perPipe.get(pipeId) === settled) perPipe.delete(pipeId);
  });
  return next;
}

/** Waits until the pump is idle and takes it (as its active run) until `release` is called. */
async function claimPump(rt: SluiceRuntime, pipeId: string): Promise<{ pump: Pump; release(outcome: Partial<RunOutcome>): void }> {
  for (;;) {
    const pump = rt.pump(pipeId);
    if (!pump) {
      const why = rt.instantiationErrors.get(pipeId);
      if (why) throw new ReceiveError(409, 'PIPE_NOT_RUNNABLE', `pipe "${pipeId}" cannot receive entities in this runtime: ${why}`);
      throw new ReceiveError(503, 'UNAVAILABLE', `pipe "${pipeId}" is still being deployed; try again shortly`);
    }
    const release = await pump.claim();
    // The pipe may have been rebuilt while this request waited: claim the current pump.
    if (rt.pump(pipeId) !== pump) {
      release();
      continue;
    }
    return { pump, release };
  }
}

// ------------------------------------------------------------------------------------- receiving

function describe(f: EntityFailure): string {
  const id = typeof f.entity?._id === 'string' ? `entity "${f.entity._id}"` : 'an entity';
  const at = f.error instanceof DtlRuntimeError && f.error.at ? ` at ${f.error.at}` : '';
  return `${id}${at}: ${f.error.message}`;
}

function add(total: SinkResult, r: SinkResult | undefined): void {
  if (!r) return;
  total.written += r.written;
  total.unchanged += r.unchanged;
  total.deleted += r.deleted;
  total.failures.push(...r.failures);
  total.changed!.push(...(r.changed ?? []));
}

function redact(value: string, bytes: number): string {
  if (bytes < 0 || bytes >= value.length) return '*'.repeat(value.length);
  return value.slice(0, value.length - bytes) + '*'.repeat(bytes);
}

function traceHeaders(headers: ReceiveRequestInfo['headers'], redactedBytes: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    const text = Array.isArray(v) ? v.join(', ') : v;
    out[k] = k.toLowerCase() === 'authorization' ? redact(text, redactedBytes) : text;
  }
  return out;
}

/**
 * Sinks that cannot write a request as one unit (no `writeAll`, e.g. sinks that send entities
 * elsewhere) get it in batches, as a pump run would write it.
 */
async function writeInBatches(rt: SluiceRuntime, inst: PipeInstance, entities: Entity[], run: RunInfo, checkpoint: PipeCheckpoint, endRun: boolean): Promise<SinkResult> {
  const total: SinkResult = { written: 0, unchanged: 0, deleted: 0, failures: [], changed: [] };
  const sink = inst.sink;
  await sink.beginRun?.(run);
  const size = Math.max(1, inst.batchSize);
  let i = 0;
  do {
    const batch = entities.slice(i, i + size);
    i += size;
    add(total, await sink.write(batch, run, i >= entities.length ? checkpoint : undefined));
  } while (i < entities.length);
  if (endRun && sink.endRun) add(total, await sink.endRun(run, checkpoint));
  else if (sink.flush) add(total, await sink.flush(run));
  else if (!sink.atomicCheckpoint) await rt.store.setPipeState(checkpoint.pipeId, checkpoint.state);
  return total;
}

/**
 * Receives `entities` (already parsed and checked) into pipe `pipeId` under the push parameters.
 * Nothing is written when the protocol or a transform refuses the request.
 */
export async function receiveEntities(rt: SluiceRuntime, pipeId: string, entities: Entity[], params: PushParams, info: ReceiveRequestInfo = {}): Promise<ReceiveResult> {
  receiverPipe(rt, pipeId);
  return queued(rt, pipeId, async () => {
    const { pump, release } = await claimPump(rt, pipeId);
    const inst = pump.inst;
    const pipe = inst.plan;
    const options = receiverOptions(pipe.source.config);
    const started = Date.now();
    const syncType = params.isFull ? 'full' : 'incremental';
    const trace = options.trace;
    const traceFields = () =>
      trace
        ? {
            ...(trace.requestHeaders ? { request_headers: traceHeaders(info.headers, trace.redactedBytes) } : {}),
            request_body: (info.body ?? '').slice(0, Math.max(0, trace.bodyBytes)),
          }
        : {};
    let outcome: Partial<RunOutcome> = { syncType, read: entities.length, started };
    try {
      if (trace) await rt.log.append(pipeId, { _id: 'pump-started', event_type: 'pump-started', start_time: isoNow(started), sync_type: syncType, pump_definition: pipeId, reason: 'receiver' });
      const state: PipeState = (await rt.store.getPipeState(pipeId)) ?? { last_seen: null };
      const step = protocolStep(pipeId, (state.receiver ?? {}) as ReceiverState, params, started);
      if (info.completeness !== undefined) step.next.completeness = info.completeness;
      const controller = new AbortController();
      const run: RunInfo = { id: step.runId, pipeId, full: step.full, signal: controller.signal };

      // Transform everything first: a failing entity refuses the whole request before any write.
      let current = pipe.add_namespaces && pipe.namespaces ? entities.map((e) => addNamespaces(e, pipe.namespaces!)) : entities;
      for (const t of inst.transforms) {
        let r;
        try {
          r = await t.apply(current, run);
        } catch (err) {
          throw new ReceiveError(422, 'TRANSFORM_FAILED', `pipe "${pipeId}": a transform failed: ${err instanceof DtlRuntimeError ? err.toString() : (err as Error).message}`);
        }
        if (r.failures.length) {
          throw new ReceiveError(422, 'TRANSFORM_FAILED', `pipe "${pipeId}": ${r.failures.length} of ${current.length} entities failed in a transform, nothing was written; first: ${describe(r.failures[0])}`);
        }
        current = r.entities;
      }
      if (pipe.remove_namespaces) current = current.map(removeNamespaces);

      const ended = Date.now();
      const checkpoint: PipeCheckpoint = { pipeId, state: { ...state, run: null, receiver: step.next, last_run: { started, ended, status: 'completed' } } };
      // The last request of a full sync ends the run with deletion tracking; other requests of a
      // full sync only commit (their entities are marked as seen by the sequence). An incremental
      // request completes a run too, which marks the sink populated (auto_populate_dataset).
      const endRun = step.endsSequence || (!step.full && options.autoPopulate);
      const total = inst.sink.writeAll ? await inst.sink.writeAll(current, run, checkpoint, { endRun }) : await writeInBatches(rt, inst, current, run, checkpoint, endRun);
      for (const d of new Set(total.changed)) rt.notifyDatasetChanged(d);
      outcome = { ...outcome, written: total.written, unchanged: total.unchanged, deleted: total.deleted, failed: total.failures.length };
      if (total.failures.length) {
        const others = inst.sink.writeAll ? 'nothing was written' : 'the others were written';
        throw new ReceiveError(422, 'WRITE_FAILED', `pipe "${pipeId}": ${total.failures.length} of ${current.length} entities could not be written to the sink, ${others}; first: ${describe(total.failures[0])}`);
      }
      if (trace) {
        await rt.log.append(pipeId, {
          _id: 'pump-completed',
          event_type: 'pump-completed',
          pump_definition: pipeId,
          start_time: isoNow(started),
          end_time: isoNow(),
          total_time: String((Date.now() - started) / 1000),
          sync_type: syncType,
          status: 'completed',
          entities_succeeded: total.written + total.unchanged,
          entities_failed: 0,
          metrics: { read: entities.length, written: total.written, unchanged: total.unchanged, deleted: total.deleted },
          ...traceFields(),
        });
      }
      return { received: entities.length, written: total.written, unchanged: total.unchanged, deleted: total.deleted, sequenceEnded: step.endsSequence };
    } catch (err) {
      outcome = { ...outcome, status: 'failed', error: (err as Error).message };
      if (trace) {
        await rt.log
          .append(pipeId, {
            _id: 'pump-failed',
            event_type: 'pump-failed',
            pump_definition: pipeId,
            start_time: isoNow(started),
            end_time: isoNow(),
            sync_type: syncType,
            reason_why_stopped: (err as Error).message,
            original_error_message: (err as Error).message,
            ...traceFields(),
          })
          .catch(() => undefined);
      }
      throw err;
    } finally {
      release(outcome);
    }
  });
}
