import schema from '../../../schemas/sinks/dataset.schema.json' with { type: 'json' };
import { entityContent, EntityError } from '../../datasets/content.js';
import type { Entity } from '../../../compiler/values/types.js';
import type { EntityFailure, SinkResult, SinkSpec } from '../types.js';
import type { PipeCheckpoint } from '../../store/contract.js';
import { breakerSettings, BreakerRun } from './circuit-breaker.js';

export const datasetSink: SinkSpec = {
  kind: 'sink',
  type: 'dataset',
  doc: 'Writes entities to a dataset, storing a new version only when an entity changed, deleting entities a transform filtered out, and tracking deletions after full runs.',
  schema,
  create(component, ctx) {
    const config = component.config;
    const dataset = config.dataset as string;
    const maxBytes = (config.max_entity_bytes_size as number | undefined) ?? 104_857_600;
    const tracksDeletions = config.deletion_tracking !== false;
    const mark = config.mark_deletion_tracked === true ? { $deletion_tracked: true } : undefined;
    const preventVersions = config.prevent_multiple_versions as boolean | 'ignore' | undefined;
    const compaction = (ctx.pipe.effective.compaction ?? {}) as { sink?: boolean; keep_versions?: number; time_threshold_hours?: number | null };
    const breakerConfig = breakerSettings(config);
    /** The run's circuit breaker, when it is on (see circuit-breaker.ts). */
    let breaker: BreakerRun | null = null;
    /** `indexes`: "$ids", or index expressions such as "_S.type" (subsets, lookups). */
    const indexPaths = (config.indexes === '$ids' ? ['$ids'] : Array.isArray(config.indexes) ? config.indexes : [])
      .map((x) => (x === '$ids' ? ['$ids'] : typeof x === 'string' && /^_S\.[^.]/.test(x) ? x.slice(3).split('.') : null))
      .filter((p): p is string[] => p !== null);

    /** Filtered entities become deletions of existing ones; invalid ones become failures. */
    async function prepare(entities: Entity[]): Promise<{ ok: Entity[]; failures: EntityFailure[] }> {
      const ok: Entity[] = [];
      const failures: EntityFailure[] = [];
      const filtered: Entity[] = [];
      for (const e of entities) {
        try {
          const content = entityContent(e);
          if (content.body.length > maxBytes) throw new EntityError(`entity "${content.id}" is ${content.body.length} bytes, over the sink's max_entity_bytes_size of ${maxBytes}`, content.id);
          if (e._filtered === true) filtered.push(e);
          else ok.push(e);
        } catch (err) {
          failures.push({ entity: e, error: err as Error });
        }
      }
      if (filtered.length) {
        const existing = await ctx.store.getMany(dataset, filtered.map((e) => e._id as string));
        for (const e of filtered) {
          const prev = existing.get(e._id as string);
          if (prev && prev._deleted !== true) ok.push({ ...prev, _deleted: true });
        }
      }
      if (preventVersions) {
        const existing = await ctx.store.getMany(dataset, ok.map((e) => e._id as string));
        const kept: Entity[] = [];
        for (const e of ok) {
          const prev = existing.get(e._id as string);
          if (prev && prev._hash !== entityContent(e).hash) {
            if (preventVersions === 'ignore') continue;
            failures.push({ entity: e, error: new EntityError(`entity "${e._id as string}" already has a version in "${dataset}" and prevent_multiple_versions is set`, e._id) });
            continue;
          }
          kept.push(e);
        }
        return { ok: kept, failures };
      }
      return { ok, failures };
    }

    // Small pipe batches are gathered into larger commits: each commit carries the newest checkpoint,
    // so entities and pipe offset still always land together.
    let pending: Entity[] = [];
    let pendingCheckpoint: PipeCheckpoint | undefined;
    const flushAt = Math.max(1000, (ctx.pipe.effective.batch_size as number | undefined) ?? 0);
    // What is pending stays pending until the store has committed it (a full disk refuses a commit).
    const commit = async (run: { full: boolean; id: string }): Promise<SinkResult> => {
      if (!pending.length && !pendingCheckpoint) return { written: 0, unchanged: 0, deleted: 0, failures: [] };
      if (breaker) {
        const held = await breaker.write(pending, run, pendingCheckpoint);
        pending = [];
        pendingCheckpoint = undefined;
        return { written: 0, unchanged: held.unchanged, deleted: 0, failures: [] };
      }
      const r = await ctx.store.write(dataset, pending, { seenRun: run.full ? run.id : undefined, checkpoint: pendingCheckpoint });
      pending = [];
      pendingCheckpoint = undefined;
      return { written: r.written, unchanged: r.unchanged, deleted: r.deleted, failures: [], changed: r.written ? [dataset] : [] };
    };

    /** Marks the sink populated and compacts it after a completed run. */
    const afterRun = async (): Promise<void> => {
      await ctx.store.markPopulated(dataset);
      if (compaction.sink === false) return;
      const keepVersions = compaction.keep_versions ?? 2;
      const hours = compaction.time_threshold_hours;
      const limit = await (ctx.services.compactionLimit as ((d: string) => Promise<number | undefined>) | undefined)?.(dataset);
      if (keepVersions > 0) {
        await ctx.store.compact(dataset, {
          keepVersions,
          upTo: limit,
          olderThanMicros: typeof hours === 'number' ? Date.now() * 1000 - hours * 3_600_000_000 : undefined,
        });
      }
    };

    return {
      dataset,
      atomicCheckpoint: true,
      tracksDeletions,
      async beginRun() {
        pending = [];
        pendingCheckpoint = undefined;
        await ctx.store.ensureDataset(dataset);
        for (const path of indexPaths) await ctx.store.ensureIndex(dataset, path);
        breaker = await BreakerRun.begin(ctx.store, dataset, ctx.pipe.id, breakerConfig);
      },
      async write(entities, run, checkpoint): Promise<SinkResult> {
        const { ok, failures } = await prepare(entities);
        const before = { length: pending.length, checkpoint: pendingCheckpoint };
        for (const e of ok) pending.push(e);
        if (checkpoint) pendingCheckpoint = checkpoint;
        if (pending.length < flushAt) return { written: 0, unchanged: 0, deleted: 0, failures };
        try {
          return { ...(await commit(run)), failures };
        } catch (err) {
          // The caller may write this batch again: it must not be pending twice.
          pending.length = before.length;
          pendingCheckpoint = before.checkpoint;
          throw err;
        }
      },
      async flush(run) {
        const r = await commit(run);
        if (!breaker) return r;
        const written = await breaker.flush(run);
        return { ...r, written, changed: written ? [dataset] : [] };
      },
      async endRun(run, checkpoint: PipeCheckpoint): Promise<SinkResult> {
        const flushed = await commit(run);
        let written = flushed.written;
        let deleted = flushed.deleted;
        if (breaker) {
          const r = await breaker.end(run, checkpoint, tracksDeletions, mark);
          written += r.written;
          deleted += r.deleted;
        } else if (run.full && tracksDeletions) {
          const r = await ctx.store.deleteUnseen(dataset, run.id, { checkpoint, mark });
          written += r.written;
          deleted += r.deleted;
        } else {
          await ctx.store.setPipeState(checkpoint.pipeId, checkpoint.state);
        }
        await afterRun();
        return { written, unchanged: flushed.unchanged, deleted, failures: [], changed: written ? [dataset] : [] };
      },
      async writeAll(entities, run, checkpoint, { endRun }): Promise<SinkResult> {
        const { ok, failures } = await prepare(entities);
        if (failures.length) return { written: 0, unchanged: 0, deleted: 0, failures };
        const deleteUnseen = endRun && run.full && tracksDeletions ? { mark } : undefined;
        const r = await ctx.store.write(dataset, ok, { seenRun: run.full ? run.id : undefined, checkpoint, deleteUnseen });
        if (endRun) await afterRun();
        return { written: r.written, unchanged: r.unchanged, deleted: r.deleted, failures: [], changed: r.written ? [dataset] : [] };
      },
    };
  },
};
