/**
 * Component contracts. A source, sink or transform is one module that declares its type, its
 * documentation, its JSON Schema (the same file the compiler validates with) and a factory; the
 * registry lists the modules and the pipe executor only sees these interfaces.
 */
import type { Logger } from 'pino';
import type { ExecutionPlan, PlanComponent, PlanPipe, PlanSystem } from '../../compiler/plan/types.js';
import type { Entity } from '../../compiler/values/types.js';
import type { HopsResolver } from '../../compiler/dtl/runtime.js';
import type { PipeCheckpoint, Store } from '../store/contract.js';

export type Since = string | number | null;

/** One pipe run as components see it. */
export interface RunInfo {
  id: string;
  pipeId: string;
  /** A full run reads everything and lets the sink track deletions afterwards. */
  full: boolean;
  signal: AbortSignal;
  /** `_B` for DTL: URL parameters of a publisher request. */
  bindings?: Record<string, unknown>;
  /** Entries components add when asked to trace (`trace`); the pump-completed/-failed event carries them. */
  trace?: Record<string, unknown>[];
}

export interface SourceBatch {
  entities: Entity[];
  /** The continuation token after this batch (saved with the checkpoint). */
  since: Since;
}

export interface Source {
  /** Whether the source continues from a `since` token (incremental runs). */
  readonly supportsSince: boolean;
  /** Entities are pushed to the pipe through the API; a pump run reads nothing and is never a full run. */
  readonly pushed?: boolean;
  /** Datasets the source reads (signalling, status). */
  readonly datasets: string[];
  read(options: { since: Since; batchSize: number; run: RunInfo }): AsyncIterable<SourceBatch>;
  /** Whether the source's input is ready (`require_populated_input`). */
  isPopulated?(): Promise<boolean>;
}

export interface EntityFailure {
  entity: Entity;
  error: Error;
}

export interface TransformResult {
  entities: Entity[];
  failures: EntityFailure[];
}

export interface Transform {
  apply(entities: Entity[], run: RunInfo): Promise<TransformResult>;
}

export interface SinkResult {
  written: number;
  unchanged: number;
  deleted: number;
  failures: EntityFailure[];
  /** Datasets that got new versions (for signalling). */
  changed?: string[];
}

export interface Sink {
  /** The dataset the sink writes, if any. */
  readonly dataset: string | null;
  /** The sink saves the checkpoint in the same transaction as the entities. */
  readonly atomicCheckpoint: boolean;
  /** Sinks that track deletions after full runs. */
  readonly tracksDeletions: boolean;
  beginRun?(run: RunInfo): Promise<void>;
  write(entities: Entity[], run: RunInfo, checkpoint?: PipeCheckpoint): Promise<SinkResult>;
  /**
   * Commits anything the sink holds back (a sink may gather several batches into one commit, always
   * together with the newest checkpoint it was given). Called before a stopped run saves its state.
   */
  flush?(run: RunInfo): Promise<SinkResult>;
  /** After a completed run (deletion tracking, compaction); saves the final checkpoint. */
  endRun?(run: RunInfo, checkpoint: PipeCheckpoint): Promise<SinkResult>;
  /**
   * Writes one request's entities and the checkpoint as one transaction (receivers): when any
   * entity cannot be written, returns the failures and writes nothing. With `endRun`, the run ends
   * in the same transaction (deletion tracking of a full sync).
   */
  writeAll?(entities: Entity[], run: RunInfo, checkpoint: PipeCheckpoint, options: { endRun: boolean }): Promise<SinkResult>;
}

/** What a component factory gets. */
export interface ComponentContext {
  store: Store;
  plan: ExecutionPlan;
  pipe: PlanPipe;
  logger: Logger;
  /** Systems by id, with `$SECRET(...)` references substituted. */
  systems: Map<string, PlanSystem & { config: Record<string, unknown> }>;
  /** Dataset access for DTL hops. */
  hopsResolver(): HopsResolver;
  /** Receivers push entities into `http_endpoint` sources through this queue. */
  services: Record<string, unknown>;
}

export interface ComponentSpec<T> {
  kind: 'source' | 'sink' | 'transform' | 'system';
  type: string;
  /** One paragraph for `sluice docs` and the API. */
  doc: string;
  /** The JSON Schema the compiler validates this component's config with. */
  schema: Record<string, unknown>;
  create(component: PlanComponent, ctx: ComponentContext): T;
}

export type SourceSpec = ComponentSpec<Source> & { kind: 'source' };
export type { SystemSpec, ResolvedSystem } from './systems/spec.js';
export type SinkSpec = ComponentSpec<Sink> & { kind: 'sink' };
export type TransformSpec = ComponentSpec<Transform> & { kind: 'transform' };
