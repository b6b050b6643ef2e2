/**
 * The store contract: datasets (entity logs with change detection), pipe state and service
 * metadata. Every implementation (embedded SQLite, MongoDB) passes the same contract test suite
 * (test/store/contract.ts). Methods are asynchronous so that networked stores fit; the embedded
 * store answers synchronously underneath.
 */
import type { Entity, Value } from '../../compiler/values/types.js';

/** An entity as stored: the reserved fields the dataset maintains are always present. */
export interface StoredEntity extends Entity {
  _id: string;
  /** Offset in the dataset's log; strictly increasing per dataset. */
  _updated: number;
  /** Microseconds since the epoch when this version was written. */
  _ts: number;
  /** Content hash (only `_id` and `_deleted` of the reserved fields count). */
  _hash: string;
  /** Offset of the previous version, or null. */
  _previous: number | null;
}

export interface DatasetInfo {
  id: string;
  /** Offset of the newest version (-1 when empty: the first version gets offset 0). */
  lastOffset: number;
  /** Entities whose latest version is not deleted. */
  entityCount: number;
  /** Entities whose latest version is deleted. */
  deletedCount: number;
  /** Versions in the log (after compaction). */
  versionCount: number;
  createdAt: number;
  updatedAt: number;
  /** Set once a pipe has completed a run into it (the docs' "populated"). */
  populated: boolean;
  /** Property paths with secondary indexes. */
  indexes: string[][];
}

export interface PipeCheckpoint {
  pipeId: string;
  state: PipeState;
}

export interface WriteOptions {
  /** Marks written and unchanged entities as seen by this full run (for deletion tracking). */
  seenRun?: string;
  /** Saved in the same transaction as the entities (the embedded store) or right after them. */
  checkpoint?: PipeCheckpoint;
  /** Write the versions even when unchanged (never set by pipes; used by tests and tools). */
  force?: boolean;
  /** Microseconds since the epoch for `_ts` (defaults to now). */
  now?: number;
  /**
   * After the entities, deletes every entity `seenRun` did not see (as `deleteUnseen` does), in the
   * same transaction where the store has them: the last request of a full sync is one unit.
   */
  deleteUnseen?: { mark?: Record<string, unknown> };
}

export interface DeleteUnseenOptions {
  checkpoint?: PipeCheckpoint;
  now?: number;
  /** Properties added to each deleted version (the sink's `mark_deletion_tracked`). */
  mark?: Record<string, unknown>;
}

export interface WriteResult {
  /** New versions appended (including deletions). */
  written: number;
  unchanged: number;
  /** Of `written`, versions that mark an entity deleted. */
  deleted: number;
  lastOffset: number;
  /** Ids that got new versions (for signalling and dependency tracking). */
  changedIds: string[];
}

/** Two write results of one dataset as one (a write followed by its deletions). */
export function addResults(a: WriteResult, b: WriteResult): WriteResult {
  return { written: a.written + b.written, unchanged: a.unchanged + b.unchanged, deleted: a.deleted + b.deleted, lastOffset: Math.max(a.lastOffset, b.lastOffset), changedIds: [...a.changedIds, ...b.changedIds] };
}

export interface ScanOptions {
  /** Only versions with an offset greater than this. */
  since?: number;
  limit?: number;
  /** All versions in log order; otherwise only versions that are still the latest of their entity. */
  history?: boolean;
  /** Include versions that mark the entity deleted (default true). */
  deleted?: boolean;
  /** Newest first. */
  reverse?: boolean;
}

/** The state a pipe keeps between runs. */
export interface PipeState {
  /** The source's continuation token (`since`) after the last committed batch. */
  last_seen: string | number | null;
  /** A run in progress that must resume rather than restart (full runs keep their deletion tracking). */
  run?: { id: string; full: boolean; started: number; tracking?: Record<string, number> } | null;
  disabled?: boolean;
  /** Entities waiting to be retried (write errors). */
  retries?: RetryEntry[];
  /** Dependency-tracking offsets per hopped dataset: changes after these are still to be tracked. */
  tracking?: Record<string, number>;
  /** Consecutive runs and their kind, for rescan_run_count. */
  run_count?: number;
  last_run?: { started: number; ended: number; status: 'completed' | 'failed' | 'stopped'; error?: string } | null;
  /** The pipe config hash the state belongs to. */
  config_hash?: string;
  [key: string]: unknown;
}

export interface RetryEntry {
  entity: Entity;
  error: string;
  attempts: number;
  first_failed: number;
}

/** Exclusive, expiring leases (stores shared by several runtimes provide them). */
export interface LeaseStore {
  /** Takes or renews the lease for `ttlMs`; false while another holder's lease is live. */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
  leaseHolder(name: string): Promise<{ holder: string; expires: Date } | null>;
}

export interface Store {
  readonly kind: 'embedded' | 'mongodb';
  /** Present when several runtimes can share the store. */
  readonly leases?: LeaseStore;
  close(): Promise<void>;

  listDatasets(): Promise<DatasetInfo[]>;
  datasetInfo(id: string): Promise<DatasetInfo | null>;
  /** Creates an empty dataset if missing (idempotent). */
  ensureDataset(id: string): Promise<void>;
  deleteDataset(id: string): Promise<boolean>;
  markPopulated(id: string): Promise<void>;

  /** Appends a new version for every entity whose content changed. Atomic per call. */
  write(dataset: string, entities: Entity[], options?: WriteOptions): Promise<WriteResult>;
  /** Writes deleted versions of every non-deleted entity not seen by `seenRun` (deletion tracking). */
  deleteUnseen(dataset: string, seenRun: string, options?: DeleteUnseenOptions): Promise<WriteResult>;

  /** The latest version of an entity (deleted ones included), or null. */
  get(dataset: string, id: string): Promise<StoredEntity | null>;
  /** Latest versions of several entities. */
  getMany(dataset: string, ids: string[]): Promise<Map<string, StoredEntity>>;
  /** Versions in offset order. */
  scan(dataset: string, options?: ScanOptions): AsyncIterable<StoredEntity>;
  /** Versions in offset order, a page at a time (pipes read in batches). */
  scanBatches(dataset: string, options: ScanOptions & { batchSize: number }): AsyncIterable<StoredEntity[]>;
  /** Raw JSON text of versions in offset order, for streaming APIs without re-serialising. */
  scanJson(dataset: string, options?: ScanOptions): AsyncIterable<string>;
  /** The version stored at an offset (any entity), or null when compacted away. */
  getVersion(dataset: string, offset: number): Promise<StoredEntity | null>;
  /** All stored versions of one entity, oldest first. */
  history(dataset: string, id: string): Promise<StoredEntity[]>;

  /** Keeps the newest `keepVersions` versions of each entity (never beyond `upTo` offset); returns versions removed. */
  compact(dataset: string, options: { keepVersions: number; upTo?: number; olderThanMicros?: number }): Promise<number>;

  /** Maintains a secondary index on a property path (for hops). */
  ensureIndex(dataset: string, path: string[]): Promise<void>;
  /** Drops the secondary index on a property path; false when there is none. Hops recreate it when they need it. */
  dropIndex(dataset: string, path: string[]): Promise<boolean>;
  /** Latest non-deleted entities whose value at `path` equals (or contains) one of `values`. */
  lookup(dataset: string, path: string[], values: Value[]): Promise<StoredEntity[]>;

  getPipeState(pipeId: string): Promise<PipeState | null>;
  setPipeState(pipeId: string, state: PipeState | null): Promise<void>;

  /** Small documents (env vars, secrets, config, leases). */
  getMeta<T = unknown>(key: string): Promise<T | null>;
  setMeta(key: string, value: unknown): Promise<void>;
}
