/**
 * The dataset sink's circuit breaker (`circuit_breaker_threshold_count` and
 * `circuit_breaker_threshold_factor`). Once the sink dataset is populated, a run holds the new
 * versions it produces in a holding dataset (`system:circuit-breaker:<dataset>`) instead of the
 * dataset, and counts them; deletions that deletion tracking would make after a full run count
 * too. A run within the limit moves its held versions into the dataset when it ends (with its
 * checkpoint), so readers never see a half-finished run. A run past the limit trips the breaker:
 * the run fails, the held versions stay uncommitted, and the pipe cannot run until the breaker is
 * rolled back (the held versions are discarded) or committed (they are written, as if the run had
 * ended), with `POST /api/datasets/{dataset}` and `operation=rollback-circuit-breaker` or
 * `commit-circuit-breaker`.
 */
import type { Entity } from '../../../compiler/values/types.js';
import { entityContent } from '../../datasets/content.js';
import type { PipeCheckpoint, Store, StoredEntity } from '../../store/contract.js';

export interface BreakerSettings {
  count: number | null;
  factor: number | null;
}

/** What a tripped breaker remembers, until it is rolled back or committed. */
export interface BreakerState {
  dataset: string;
  pipe: string;
  tripped_at: string;
  limit: number;
  /** New versions the run produced when it tripped (held, plus pending deletions). */
  count: number;
  run: { id: string; full: boolean };
  /** The full run's deletion tracking is still to be done on commit. */
  track_deletions: boolean;
  mark?: Record<string, unknown>;
  /** The pipe's checkpoint after the held versions, saved on commit. */
  checkpoint: PipeCheckpoint | null;
}

export function breakerSettings(config: Record<string, unknown>): BreakerSettings | null {
  const count = typeof config.circuit_breaker_threshold_count === 'number' ? config.circuit_breaker_threshold_count : null;
  const factor = typeof config.circuit_breaker_threshold_factor === 'number' ? config.circuit_breaker_threshold_factor : null;
  return count === null && factor === null ? null : { count, factor };
}

export function holdingDataset(dataset: string): string {
  return `system:circuit-breaker:${dataset}`;
}

const stateKey = (dataset: string) => `circuit-breaker:${dataset}`;

// Kept as JSON text: `mark` holds "$deletion_tracked", which document stores refuse as a field name.
export async function breakerState(store: Store, dataset: string): Promise<BreakerState | null> {
  const text = await store.getMeta<string>(stateKey(dataset));
  return text ? (JSON.parse(text) as BreakerState) : null;
}

/** The limit for a dataset holding `entities` latest entities (deleted ones included). */
export function breakerLimit(s: BreakerSettings, entities: number): number {
  return Math.max(s.count ?? 0, s.factor === null ? 0 : Math.floor(s.factor * entities));
}

export class CircuitBreakerTripped extends Error {
  readonly code = 'CIRCUIT_BREAKER_TRIPPED';
  /** The pump fails the run at once instead of retrying the batch. */
  readonly fatal = true;
}

function trippedMessage(s: BreakerState): string {
  return `the circuit breaker of dataset "${s.dataset}" tripped at ${s.tripped_at}: the run of pipe "${s.pipe}" produced ${s.count} new versions, over the limit of ${s.limit}; roll it back or commit it with POST /api/datasets/${encodeURIComponent(s.dataset)} (operation=rollback-circuit-breaker or commit-circuit-breaker)`;
}

/** Fails when the dataset's breaker is tripped: a tripped breaker prevents the pipe from running. */
export async function assertNotTripped(store: Store, dataset: string): Promise<void> {
  const s = await breakerState(store, dataset);
  if (s) throw new CircuitBreakerTripped(trippedMessage(s));
}

/** Moves every held version into the dataset (in held order), then drops the holding dataset. */
async function moveHeld(store: Store, dataset: string, seenRun: string | undefined): Promise<number> {
  const holding = holdingDataset(dataset);
  let written = 0;
  for await (const batch of store.scanBatches(holding, { history: true, batchSize: 1000 })) {
    written += (await store.write(dataset, batch.map(asWritten), { seenRun })).written;
  }
  await store.deleteDataset(holding);
  return written;
}

/** A held version as the sink would have written it (without the holding dataset's bookkeeping). */
function asWritten(e: StoredEntity): Entity {
  const { _updated: _u, _ts: _t, _hash: _h, _previous: _p, ...rest } = e;
  return rest as Entity;
}

/** One run of a sink with a circuit breaker. */
export class BreakerRun {
  private held = 0;
  /** Entities the full run sent that exist, not deleted, in the dataset (deletion tracking deletes the others). */
  private seenLive = 0;
  private checkpoint: PipeCheckpoint | null = null;

  private constructor(
    private readonly store: Store,
    private readonly dataset: string,
    private readonly pipe: string,
    readonly limit: number,
  ) {}

  /** A breaker run, or null when the breaker is off (no settings, or the dataset is not populated yet). */
  static async begin(store: Store, dataset: string, pipe: string, settings: BreakerSettings | null): Promise<BreakerRun | null> {
    await assertNotTripped(store, dataset);
    if (!settings) return null;
    // Versions held by a run that never ended (a crash) were never committed.
    await store.deleteDataset(holdingDataset(dataset));
    const info = await store.datasetInfo(dataset);
    if (!info?.populated) return null;
    return new BreakerRun(store, dataset, pipe, breakerLimit(settings, info.entityCount + info.deletedCount));
  }

  /**
   * Takes a batch: unchanged entities are only marked seen in the dataset, changed ones are held.
   * Trips (and throws) when the run's new versions go past the limit.
   */
  async write(entities: Entity[], run: { id: string; full: boolean }, checkpoint: PipeCheckpoint | undefined): Promise<{ unchanged: number }> {
    if (checkpoint) this.checkpoint = checkpoint;
    const latest = new Map<string, Entity>();
    for (const e of entities) latest.set(e._id as string, e);
    const existing = await this.store.getMany(this.dataset, [...latest.keys()]);
    const unchanged: Entity[] = [];
    const changed: Entity[] = [];
    for (const e of entities) {
      const prev = existing.get(e._id as string);
      if (prev && prev._hash === entityContent(e).hash) unchanged.push(e);
      else changed.push(e);
    }
    if (run.full) for (const id of latest.keys()) if (existing.get(id) && existing.get(id)!._deleted !== true) this.seenLive++;
    if (unchanged.length) await this.store.write(this.dataset, unchanged, { seenRun: run.full ? run.id : undefined });
    if (changed.length) this.held += (await this.store.write(holdingDataset(this.dataset), changed, { force: true })).written;
    if (this.held > this.limit) await this.trip(run, this.held, false);
    return { unchanged: unchanged.length };
  }

  /** Commits what is held so far (a stopped run keeps its progress); the run goes on counting. */
  async flush(run: { id: string; full: boolean }): Promise<number> {
    const written = await moveHeld(this.store, this.dataset, run.full ? run.id : undefined);
    if (this.checkpoint) await this.store.setPipeState(this.checkpoint.pipeId, this.checkpoint.state);
    return written;
  }

  /**
   * Ends a run: the deletions a full run's deletion tracking would make are counted first; within
   * the limit, the held versions are written with the final checkpoint and deletion tracking runs.
   */
  async end(run: { id: string; full: boolean }, checkpoint: PipeCheckpoint, tracksDeletions: boolean, mark?: Record<string, unknown>): Promise<{ written: number; deleted: number }> {
    this.checkpoint = checkpoint;
    const trackDeletions = run.full && tracksDeletions;
    let pendingDeletions = 0;
    if (trackDeletions) {
      const info = await this.store.datasetInfo(this.dataset);
      pendingDeletions = Math.max(0, (info?.entityCount ?? 0) - this.seenLive);
    }
    if (this.held + pendingDeletions > this.limit) await this.trip(run, this.held + pendingDeletions, trackDeletions, mark);
    return commitHeld(this.store, this.dataset, { run, checkpoint, track_deletions: trackDeletions, mark });
  }

  private async trip(run: { id: string; full: boolean }, count: number, trackDeletions: boolean, mark?: Record<string, unknown>): Promise<never> {
    const state: BreakerState = { dataset: this.dataset, pipe: this.pipe, tripped_at: new Date().toISOString(), limit: this.limit, count, run: { id: run.id, full: run.full }, track_deletions: trackDeletions, ...(mark ? { mark } : {}), checkpoint: this.checkpoint };
    await this.store.setMeta(stateKey(this.dataset), JSON.stringify(state));
    throw new CircuitBreakerTripped(trippedMessage(state));
  }
}

/** Writes the held versions, saves the checkpoint and runs the deletion tracking a full run left. */
async function commitHeld(store: Store, dataset: string, s: Pick<BreakerState, 'run' | 'checkpoint' | 'track_deletions' | 'mark'>): Promise<{ written: number; deleted: number }> {
  let written = await moveHeld(store, dataset, s.run.full ? s.run.id : undefined);
  let deleted = 0;
  if (s.track_deletions) {
    const r = await store.deleteUnseen(dataset, s.run.id, { checkpoint: s.checkpoint ?? undefined, mark: s.mark });
    written += r.written;
    deleted = r.deleted;
  } else if (s.checkpoint) await store.setPipeState(s.checkpoint.pipeId, s.checkpoint.state);
  return { written, deleted };
}

/** `commit-circuit-breaker`: the held versions are written as if the run had ended; the breaker is reset. */
export async function commitBreaker(store: Store, dataset: string): Promise<{ state: BreakerState; written: number; deleted: number } | null> {
  const state = await breakerState(store, dataset);
  if (!state) return null;
  const r = await commitHeld(store, dataset, state);
  if (state.checkpoint) {
    // The run that tripped is over: the next run starts afresh from the committed checkpoint.
    const current = await store.getPipeState(state.checkpoint.pipeId);
    if (current) await store.setPipeState(state.checkpoint.pipeId, { ...current, last_seen: state.checkpoint.state.last_seen, run: null });
  }
  await store.setMeta(stateKey(dataset), null);
  return { state, ...r };
}

/** `rollback-circuit-breaker`: the held versions are discarded; the breaker is reset. */
export async function rollbackBreaker(store: Store, dataset: string): Promise<{ state: BreakerState; discarded: number } | null> {
  const state = await breakerState(store, dataset);
  if (!state) return null;
  const discarded = (await store.datasetInfo(holdingDataset(dataset)))?.versionCount ?? 0;
  await store.deleteDataset(holdingDataset(dataset));
  await store.setMeta(stateKey(dataset), null);
  return { state, discarded };
}
