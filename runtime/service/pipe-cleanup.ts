/**
 * Removing what a deleted pipe leaves behind, as the node metadata setting
 * `pipe_cleanup_after_deletion` (default true) says: its pipe state (offsets, retry queue,
 * dependency tracking), its execution log `system:pump_execution:<pipe>`, the dead letter dataset
 * made for it (`use_dead_letter_dataset`) and whatever its components registered as theirs
 * (components/pipe-owned.ts). Its sink dataset stays: other pipes may read it.
 *
 * A pipe is deleted when it leaves the config, not when it merely fails to compile. The pipes of the
 * config are remembered in the store, so a pipe removed while the runtime was down is cleaned up
 * when the runtime next loads the config.
 */
import type { Logger } from 'pino';
import type { ExecutionPlan } from '../../compiler/plan/types.js';
import { executionDatasetId } from '../pump/execution-log.js';
import type { Store } from '../store/contract.js';
import { ownedByPipe, pipeOwnedDataset, pipeOwnedDocument } from '../components/pipe-owned.js';

const META_PIPES = 'config:pipes';

pipeOwnedDataset(executionDatasetId);
// The automatic dead letter dataset of `use_dead_letter_dataset` (named by the executor).
pipeOwnedDataset((pipe) => `system:dead-letter:${pipe}`);

// Documents of modules a runtime does not always load (the API's), named here so they are known.
/** The pipe's webhook token (api/webhooks.ts). */
export const webhookTokenDocument = pipeOwnedDocument((pipe) => `webhook-token:${pipe}`);
/** The entity types inferred so far for a pipe's source and sink (entity-types.ts). */
export const entityTypesDocument = { source: pipeOwnedDocument((pipe) => `entity-types:${pipe}:source`), sink: pipeOwnedDocument((pipe) => `entity-types:${pipe}:sink`) };

/** Whether the node metadata asks for pipe data to be removed with the pipe (the default). */
export function cleanupAfterDeletion(plan: ExecutionPlan): boolean {
  return plan.metadata.effective.pipe_cleanup_after_deletion !== false;
}

/** Removes pipe `pipeId`'s state and what it owns; returns the datasets that were deleted. */
export async function removePipeData(store: Store, pipeId: string): Promise<string[]> {
  await store.setPipeState(pipeId, null);
  const owned = ownedByPipe(pipeId);
  for (const key of owned.documents) await store.setMeta(key, null);
  const deleted: string[] = [];
  for (const dataset of owned.datasets) if (await store.deleteDataset(dataset)) deleted.push(dataset);
  return deleted;
}

/**
 * Records the pipes of the config now running (`present`: in the plan or in the config with
 * errors) and cleans up after those that were in the previous config and are gone.
 */
export async function cleanupDeletedPipes(store: Store, plan: ExecutionPlan, present: Iterable<string>, logger: Logger): Promise<string[]> {
  const now = new Set(present);
  const before = (await store.getMeta<string[]>(META_PIPES)) ?? [];
  const gone = before.filter((id) => !now.has(id));
  if (gone.length && cleanupAfterDeletion(plan)) {
    for (const id of gone) {
      const datasets = await removePipeData(store, id);
      logger.info({ pipe: id, datasets }, 'removed the data of a deleted pipe (pipe_cleanup_after_deletion)');
    }
  }
  if (gone.length || now.size !== before.length) await store.setMeta(META_PIPES, [...now].sort());
  return gone;
}
