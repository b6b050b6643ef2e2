/**
 * Publishers: the output of a pipe whose sink is an endpoint (http_endpoint, csv_endpoint,
 * xml_endpoint), computed on request from the pipe's source through its transforms, the way
 * preview.ts computes the `sink` stage, but as a stream: entities are produced only as fast as the
 * client takes them, and nothing is written.
 *
 * - `since` continues from a source token (for a dataset source: an offset, `_updated`); `limit`
 *   caps the number of entities. Each output entity carries the `_updated` of the source entity it
 *   came from (unless the transforms set one), so a client can continue with `since`.
 * - A dataset source yields the latest version of each entity, once.
 * - The URL parameters are bound to `_B` for the pipe's DTL transforms.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { PlanPipe } from '../../compiler/plan/types.js';
import type { Dict, Entity, Value } from '../../compiler/values/types.js';
import type { EntityFailure, RunInfo, Since } from '../components/types.js';
import { addNamespaces, removeNamespaces } from '../executor/namespaces.js';
import type { PipeInstance } from '../executor/pipe-instance.js';
import type { SluiceRuntime } from './runtime.js';

export type EndpointSinkType = 'http_endpoint' | 'csv_endpoint' | 'xml_endpoint';

export class PublishError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Publisher {
  pipe: PlanPipe;
  inst: PipeInstance;
}

const FORMAT: Record<EndpointSinkType, string> = { http_endpoint: 'JSON', csv_endpoint: 'CSV', xml_endpoint: 'XML' };

/** The pipe behind a publisher URL; 404 unless its sink is `sinkType`, 409 when it cannot run. */
export function publisher(rt: SluiceRuntime, pipeId: string, sinkType: EndpointSinkType): Publisher {
  const pipe = rt.pipe(pipeId);
  if (!pipe) {
    if (rt.invalid.get(pipeId)?.kind === 'pipe') throw new PublishError(409, 'PIPE_NOT_RUNNABLE', `pipe "${pipeId}" has config errors and cannot publish entities`);
    throw new PublishError(404, 'NOT_FOUND', `no pipe "${pipeId}"`);
  }
  if (pipe.sink.type !== sinkType) {
    throw new PublishError(404, 'NOT_A_PUBLISHER', `pipe "${pipeId}" has no ${FORMAT[sinkType]} publisher: its sink is "${pipe.sink.type}", not "${sinkType}"`);
  }
  const pump = rt.pump(pipeId);
  if (!pump) {
    const why = rt.instantiationErrors.get(pipeId);
    if (why) throw new PublishError(409, 'PIPE_NOT_RUNNABLE', `pipe "${pipeId}" cannot run in this runtime: ${why}`);
    throw new PublishError(503, 'UNAVAILABLE', `pipe "${pipeId}" is still being deployed; try again shortly`);
  }
  return { pipe, inst: pump.inst };
}

/** The URL parameters as `_B`: each name to its value (a list when the name is repeated). */
export function bindingsFromUrl(url: string): Dict {
  const i = url.indexOf('?');
  const out: Dict = {};
  if (i < 0) return out;
  for (const [k, v] of new URLSearchParams(url.slice(i + 1))) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [prev, v];
  }
  return out;
}

/** The `since` token as the source expects it; a dataset source needs an offset. */
export function sinceToken(p: Publisher, since: string | undefined): Since {
  if (since === undefined || since === '') return null;
  if (/^-?\d+$/.test(since)) return Number(since);
  if (p.inst.source.datasets.length > 0) {
    throw new PublishError(400, 'INVALID_PARAMETER', `invalid query parameter "since": pipe "${p.pipe.id}" reads dataset "${p.inst.source.datasets[0]}", so since must be an offset (an integer), not "${since}"`);
  }
  return since;
}

/** A stable UUID for one incarnation of a dataset (a deleted and recreated dataset gets another). */
function generationOf(dataset: string, createdAt: number): string {
  const h = createHash('sha256').update(`${dataset}\u0000${createdAt}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The JSON pull response headers (X-Dataset-*), from the source's dataset when it has one. */
export async function publisherHeaders(rt: SluiceRuntime, p: Publisher): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  const populated = p.inst.source.isPopulated ? await p.inst.source.isPopulated() : true;
  headers['X-Dataset-Populated'] = String(populated);
  const datasets = p.inst.source.datasets;
  if (datasets.length === 1) {
    const info = await rt.store.datasetInfo(datasets[0]);
    headers['X-Dataset-Max-Updated'] = JSON.stringify(info?.lastOffset ?? -1);
    if (info) headers['X-Dataset-Generation'] = generationOf(info.id, info.createdAt);
  }
  headers['X-Dataset-Filtered'] = String(p.pipe.transforms.length > 0);
  return headers;
}

// ------------------------------------------------------------------------------------- transforms

type Step = (entities: Entity[]) => Promise<{ entities: Entity[]; failures: EntityFailure[] }>;

function transformSteps(p: Publisher, run: RunInfo, bindings: Dict): Step[] {
  // URL parameters reach DTL as `_B` through the run.
  const withBindings: RunInfo = { ...run, bindings };
  return p.inst.transforms.map((t): Step => (entities) => t.apply(entities, withBindings));
}

// ------------------------------------------------------------------------------------- entities

export interface PublishOptions {
  since?: string;
  limit?: number;
  /** `_B` for the transforms. */
  bindings?: Dict;
  /** Stops reading (the client went away). */
  signal?: AbortSignal;
  /** Told about entities a transform refused (they are left out). */
  onFailure?(failure: EntityFailure): void;
}

/**
 * The published entities, one at a time. Source entities go through the transforms one by one, so
 * that every output entity is known to come from exactly one source entity (its `_updated`).
 */
export async function* publishedEntities(rt: SluiceRuntime, p: Publisher, options: PublishOptions = {}): AsyncGenerator<Entity> {
  const limit = options.limit ?? Infinity;
  if (limit <= 0) return;
  const since = sinceToken(p, options.since);
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const bindings = options.bindings ?? {};
  const run: RunInfo & { bindings: Dict } = { id: `publish:${randomUUID()}`, pipeId: p.pipe.id, full: since === null, signal: controller.signal, bindings };
  const steps = transformSteps(p, run, bindings);
  const pipe = p.pipe;
  const namespaces = pipe.add_namespaces && pipe.namespaces ? pipe.namespaces : null;
  let emitted = 0;
  try {
    for await (const batch of p.inst.source.read({ since, batchSize: p.inst.batchSize, run })) {
      for (const source of batch.entities) {
        let current: Entity[] = [namespaces ? addNamespaces(source, namespaces) : source];
        for (const step of steps) {
          const r = await step(current);
          for (const f of r.failures) options.onFailure?.(f);
          current = r.entities;
          if (!current.length) break;
        }
        const updated: Value | undefined = source._updated;
        for (let e of current) {
          if (pipe.remove_namespaces) e = removeNamespaces(e);
          if (typeof e._updated !== 'number' && typeof updated === 'number') e = { ...e, _updated: updated };
          yield e;
          if (++emitted >= limit) return;
        }
      }
      if (controller.signal.aborted) return;
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    controller.abort();
  }
}
