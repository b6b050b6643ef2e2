/**
 * Config history: config entities are kept as entities with versions, as data is. Every time a
 * config is applied, its entities are written to the internal dataset `system:config` (a new
 * version only when an entity changed) and entities that left the config get a deleted version.
 * GET /api/config-history/entity reads one entity's versions back.
 */
import { randomUUID } from 'node:crypto';
import type { Entity } from '../../compiler/values/types.js';
import type { StoredEntity } from '../store/contract.js';
import type { SluiceRuntime } from './runtime.js';

export const CONFIG_DATASET = 'system:config';

const attached = new WeakSet<SluiceRuntime>();
const queues = new WeakMap<SluiceRuntime, Promise<void>>();

/** Writes the running config into `system:config`: changed entities get a version, removed ones a deleted version. */
export async function recordConfig(rt: SluiceRuntime, entities = rt.configEntities() as unknown as Entity[]): Promise<void> {
  const run = randomUUID();
  // No config and no history yet (a new or reset node): nothing to record.
  if (entities.length === 0 && !(await rt.store.datasetInfo(CONFIG_DATASET))) return;
  await rt.store.write(CONFIG_DATASET, entities, { seenRun: run });
  await rt.store.deleteUnseen(CONFIG_DATASET, run);
}

/** Records the config now and after every config change (once per runtime). */
export function attachConfigHistory(rt: SluiceRuntime): void {
  if (attached.has(rt)) return;
  attached.add(rt);
  const record = () => {
    // The config as it is now (a later change may be applied before this one is written), written
    // one recording at a time, in the order the changes were applied.
    const entities = rt.configEntities() as unknown as Entity[];
    const next = (queues.get(rt) ?? Promise.resolve()).then(() => recordConfig(rt, entities)).catch((err: Error) => rt.logger.warn({ err: err.message }, 'the config history could not be recorded'));
    queues.set(rt, next);
  };
  rt.on('plan-applied', record);
  record();
}

/** Waits until the config history has caught up with the running config. */
export async function configHistorySettled(rt: SluiceRuntime): Promise<void> {
  await queues.get(rt);
}

export interface HistoryQuery {
  since?: number;
  limit?: number;
  reverse?: boolean;
}

/** The stored versions of one config entity, oldest first (or newest first with `reverse`). */
export async function configHistory(rt: SluiceRuntime, entityId: string, q: HistoryQuery): Promise<StoredEntity[]> {
  await configHistorySettled(rt);
  let versions = (await rt.store.history(CONFIG_DATASET, entityId)).filter((v) => q.since === undefined || v._updated > q.since);
  if (q.reverse) versions = versions.reverse();
  return q.limit === undefined ? versions : versions.slice(0, q.limit);
}
