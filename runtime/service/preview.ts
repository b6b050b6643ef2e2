/**
 * Pipe entities at a stage, computed on the fly (`GET /api/pipes/{id}/entities`): the pipe's own
 * built components read its source from `since` (default: the start) and apply its transforms,
 * without writing anything and without touching the pipe's state.
 *
 * Stages: `source` = as read; `before-transforms` = after `add_namespaces`; `after-transforms` =
 * after the transforms; `sink` = after `remove_namespaces`, i.e. what the sink receives.
 */
import { randomUUID } from 'node:crypto';
import type { Entity } from '../../compiler/values/types.js';
import type { RunInfo, Since } from '../components/types.js';
import { settleHeap } from '../executor/heap-budget.js';
import { addNamespaces, removeNamespaces } from '../executor/namespaces.js';
import { stringifyValue } from '../../compiler/values/json.js';
import { yieldIfDue } from '../executor/time-slice.js';
import type { SluiceRuntime } from './runtime.js';

export const PREVIEW_STAGES = ['source', 'before-transforms', 'after-transforms', 'sink'] as const;
export type PreviewStage = (typeof PREVIEW_STAGES)[number];

/** Accepts Sesam's stage names and the singular spellings of its client's readme. */
export function normaliseStage(stage: string | undefined): PreviewStage | null {
  if (stage === undefined || stage === '') return 'sink';
  const s = stage.toLowerCase();
  if (s === 'before-transform') return 'before-transforms';
  if (s === 'after-transform') return 'after-transforms';
  return (PREVIEW_STAGES as readonly string[]).includes(s) ? (s as PreviewStage) : null;
}

export class PreviewError extends Error {
  constructor(
    message: string,
    readonly status: 404 | 409 | 413 | 422,
    /** A code more precise than the status (the limits). */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** How long a preview may evaluate, and how much it may hold (JSON text of its entities). */
export interface PreviewLimits {
  timeMs: number;
  bytes: number;
}

export const DEFAULT_PREVIEW_LIMITS: PreviewLimits = { timeMs: 60_000, bytes: 128 * 1024 * 1024 };

function mib(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MiB`;
}

export interface PreviewOptions {
  /** Continuation token to read from (as the pump would store it); default: from the start. */
  since?: Since;
  /** At most this many entities in the result. */
  limit?: number;
  /** Stops reading (a client that went away). */
  signal?: AbortSignal;
}

function sinceValue(since: Since | undefined): Since {
  if (since === undefined || since === null || since === '') return null;
  if (typeof since === 'string' && /^\d+$/.test(since)) return Number(since);
  return since;
}

/**
 * The entities of pipe `pipeId` at `stage`. When the source is a dataset the result has one
 * entity per `_id` at the transformed stages (the latest one wins, as it would in the sink).
 */
export function previewEntities(rt: SluiceRuntime, pipeId: string, stage: PreviewStage, options: PreviewOptions = {}): Promise<Entity[]> {
  return preview(rt, pipeId, stage, options, (e) => e);
}

/** The entities as JSON texts: a large output then takes a fraction of the memory its entities would. */
export function previewEntityTexts(rt: SluiceRuntime, pipeId: string, stage: PreviewStage, options: PreviewOptions = {}): Promise<string[]> {
  return preview(rt, pipeId, stage, options, (_e, text) => text);
}

async function preview<T>(rt: SluiceRuntime, pipeId: string, stage: PreviewStage, options: PreviewOptions, keep: (e: Entity, text: string) => T): Promise<T[]> {
  const pipe = rt.pipe(pipeId);
  if (!pipe) {
    if (rt.invalid.get(pipeId)?.kind === 'pipe') throw new PreviewError(`pipe "${pipeId}" has config errors and cannot run`, 409);
    throw new PreviewError(`no pipe "${pipeId}"`, 404);
  }
  const pump = rt.pump(pipeId);
  if (!pump) {
    const why = rt.instantiationErrors.get(pipeId);
    throw new PreviewError(`pipe "${pipeId}" cannot run in this runtime${why ? `: ${why}` : ' (it is still being deployed)'}`, 409);
  }
  const inst = pump.inst;
  const limit = options.limit ?? Infinity;
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const since = sinceValue(options.since);
  const run: RunInfo = { id: `preview:${randomUUID()}`, pipeId, full: since === null, signal: controller.signal };
  const unique = stage !== 'source' && stage !== 'before-transforms' && inst.source.datasets.length > 0;
  const list: T[] = [];
  const byId = new Map<string, T>();
  const count = () => (unique ? byId.size : list.length);
  const namespaces = pipe.add_namespaces && pipe.namespaces ? pipe.namespaces : null;
  // Previews run on the API's thread and their DTL can be arbitrarily heavy: they are bounded.
  const limits = rt.previewLimits;
  const deadline = performance.now() + limits.timeMs;
  let bytes = 0;
  const inTime = () => {
    if (performance.now() > deadline) throw new PreviewError(`pipe "${pipeId}": the preview took longer than its limit of ${limits.timeMs / 1000} s; ask for fewer entities with "limit", or read the sink dataset after a run`, 422, 'PREVIEW_TIME_LIMIT');
  };
  const held = (e: Entity): string => {
    const text = stringifyValue(e);
    bytes += text.length;
    if (bytes > limits.bytes) throw new PreviewError(`pipe "${pipeId}": the preview is larger than its limit of ${mib(limits.bytes)}; ask for fewer entities with "limit", or read the sink dataset after a run`, 413, 'PREVIEW_SIZE_LIMIT');
    return text;
  };

  try {
    if (limit <= 0) return [];
    for await (const batch of inst.source.read({ since, batchSize: inst.batchSize, run })) {
      inTime();
      let current = batch.entities;
      if (stage !== 'source') {
        if (namespaces) current = current.map((e) => addNamespaces(e, namespaces));
        if (stage !== 'before-transforms') {
          for (const t of inst.transforms) {
            try {
              current = (await t.apply(current, run)).entities;
            } catch (err) {
              throw new PreviewError(`pipe "${pipeId}": a transform failed: ${err instanceof Error ? err.message : String(err)}`, 422);
            }
            inTime();
          }
          if (stage === 'sink' && pipe.remove_namespaces) current = current.map(removeNamespaces);
        }
      }
      for (const e of current) {
        if (unique && typeof e._id === 'string') {
          byId.delete(e._id);
          byId.set(e._id, keep(e, held(e)));
        } else list.push(keep(e, held(e)));
        if (count() >= limit) break;
      }
      if (count() >= limit || controller.signal.aborted) break;
      settleHeap();
      await yieldIfDue();
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    controller.abort();
  }
  const out = unique ? [...list, ...byId.values()] : list;
  return out.slice(0, Number.isFinite(limit) ? limit : undefined);
}
