/**
 * The pump execution log: entities in the dataset `system:pump_execution:<pipe>`, one version per
 * event (pump-started, pump-completed, pump-failed, entity errors), read back with history.
 */
import type { Store, StoredEntity } from '../store/contract.js';
import { decodeInPlace } from '../../compiler/values/transit.js';
import type { Entity } from '../../compiler/values/types.js';
import { redactDeep } from '../security/redaction.js';

export function executionDatasetId(pipeId: string): string {
  return `system:pump_execution:${pipeId}`;
}

export type ExecutionEvent = Record<string, unknown> & { _id: string; event_type: string };

export class ExecutionLog {
  constructor(private readonly store: Store) {}

  async append(pipeId: string, event: ExecutionEvent): Promise<void> {
    // A sequence number keeps two identical events (same second, same counts) distinct versions.
    const seq = Date.now() * 1000 + (this.counter = (this.counter + 1) % 1000);
    // Error messages can quote URLs and answers that hold secret values: the log keeps them masked.
    await this.store.write(executionDatasetId(pipeId), [decodeInPlace({ ...redactDeep(event), pipe: pipeId, sequence: seq }) as Entity]);
  }

  private counter = 0;

  /** Newest first. */
  async entries(pipeId: string, options: { limit?: number; since?: number } = {}): Promise<StoredEntity[]> {
    const out: StoredEntity[] = [];
    for await (const e of this.store.scan(executionDatasetId(pipeId), { history: true, reverse: true, limit: options.limit ?? 100, since: options.since })) out.push(e);
    return out;
  }
}

export function isoNow(ms = Date.now()): string {
  return new Date(ms).toISOString();
}
