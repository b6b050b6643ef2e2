import schema from '../../../schemas/sinks/json.schema.json' with { type: 'json' };
import { randomUUID } from 'node:crypto';
import { stringifyValue } from '../../../compiler/values/json.js';
import type { Entity } from '../../../compiler/values/types.js';
import type { RunInfo, SinkResult, SinkSpec } from '../types.js';
import { HttpError, jsonExchangeHeaders, urlClientFor } from '../systems/url.js';
import { pipeOwnedDocument } from '../pipe-owned.js';

/** The full sync sequence in progress (resumed after a stop). */
const sequenceDocument = pipeOwnedDocument((pipe) => `json-sink:${pipe}`);

/** What the sink remembers of a full sync, so that a resumed run continues the same sequence. */
interface SequenceState {
  runId: string;
  sequenceId: string;
  lastRequestId: string | null;
  conflicted?: boolean;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export const jsonSink: SinkSpec = {
  kind: 'sink',
  type: 'json',
  doc: 'Posts entities as JSON arrays to an HTTP endpoint speaking the JSON push protocol (such as a receiver of another Sluice or Sesam node), in requests of at most `batch_size` entities; full runs are sent as one sequence (sequence_id, request_id chain, is_first/is_last) so that the receiver can delete what was not sent.',
  schema,
  create(component, ctx) {
    const c = component.config;
    const what = `pipe "${ctx.pipe.id}": the json sink`;
    const client = urlClientFor(ctx, c.system, 'the json sink');
    const url = c.url as string;
    const batchSize = Math.max(1, (c.batch_size as number | undefined) ?? 100);
    const headers = jsonExchangeHeaders(c.headers);
    const metaKey = sequenceDocument(ctx.pipe.id);

    let seq: SequenceState | null = null;
    let full = false;
    let isFirst = false;
    /** The status of the last failed request, for write_retry_delay before the executor retries. */
    let lastFailure: number | null = null;

    const save = async () => {
      if (full && seq) await ctx.store.setMeta(metaKey, seq);
    };

    /** Forces the next run to start a new full sync from the beginning. */
    const restartFullSync = async (): Promise<void> => {
      const state = await ctx.store.getPipeState(ctx.pipe.id);
      if (state) await ctx.store.setPipeState(ctx.pipe.id, { ...state, last_seen: null, run: null });
      await ctx.store.setMeta(metaKey, null);
    };

    const conflictError = () =>
      new Error(`${what}: the receiver ${client.resolve(url)} rejected the full sync sequence ${seq?.sequenceId} with 409 Conflict; the sync stops and the next run starts a new full sync`);

    const post = async (entities: Entity[], run: RunInfo, last: boolean): Promise<void> => {
      if (!seq) throw new Error(`${what}: write before the run began`);
      const requestId = randomUUID();
      const query: Record<string, string | undefined> = {
        sequence_id: seq.sequenceId,
        is_full: full ? 'true' : 'false',
        request_id: requestId,
        previous_request_id: seq.lastRequestId ?? undefined,
        is_first: full && isFirst ? 'true' : undefined,
        is_last: full && last ? 'true' : undefined,
      };
      let body = '[';
      for (let i = 0; i < entities.length; i++) body += (i ? ',' : '') + stringifyValue(entities[i]);
      body += ']';
      const res = await client.request({ method: 'POST', url, query, headers, body, signal: run.signal, what, accept: (s) => s === 409 && full });
      if (res.status === 409) {
        await res.discard();
        seq.conflicted = true;
        await save();
        throw conflictError();
      }
      await res.discard();
      seq.lastRequestId = requestId;
      isFirst = false;
      await save();
    };

    /** Sends entities in batch_size requests; failures throw (the executor retries, then writes one entity at a time). */
    const send = async (entities: Entity[], run: RunInfo): Promise<void> => {
      if (seq?.conflicted) throw conflictError();
      if (lastFailure !== null) {
        const delay = client.retrySetting(ctx.pipe, 'write_retry_delay', lastFailure);
        await sleep(delay * 1000, run.signal);
      }
      try {
        for (let i = 0; i < entities.length; i += batchSize) await post(entities.slice(i, i + batchSize), run, false);
        lastFailure = null;
      } catch (err) {
        lastFailure = err instanceof HttpError ? err.status : 0;
        throw err;
      }
    };

    const empty = (): SinkResult => ({ written: 0, unchanged: 0, deleted: 0, failures: [] });

    return {
      dataset: null,
      atomicCheckpoint: false,
      tracksDeletions: false,
      async beginRun(run) {
        full = run.full;
        lastFailure = null;
        const saved = full ? await ctx.store.getMeta<SequenceState>(metaKey) : null;
        if (saved && saved.runId === run.id) {
          if (saved.conflicted) {
            await restartFullSync();
            throw new Error(`${what}: the receiver rejected the last full sync with 409 Conflict; the pipe was reset so that its next run starts a new full sync`);
          }
          // A resumed full run continues its sequence.
          seq = saved;
          isFirst = saved.lastRequestId === null;
          return;
        }
        seq = { runId: run.id, sequenceId: randomUUID(), lastRequestId: null };
        isFirst = true;
      },
      async write(entities, run, checkpoint) {
        if (entities.length) await send(entities, run);
        if (checkpoint) await ctx.store.setPipeState(checkpoint.pipeId, checkpoint.state);
        let deleted = 0;
        for (const e of entities) if (e._deleted === true) deleted++;
        return { written: entities.length - deleted, unchanged: 0, deleted, failures: [] };
      },
      async endRun(run, checkpoint) {
        if (full) {
          if (seq?.conflicted) {
            await restartFullSync();
            throw conflictError();
          }
          // The closing request of a full sync: is_last lets the receiver delete what was not sent.
          // The executor does not retry endRun: the closing request gets the pump's batch_retries here.
          for (let attempt = 0; ; attempt++) {
            if (lastFailure !== null) await sleep(client.retrySetting(ctx.pipe, 'write_retry_delay', lastFailure) * 1000, run.signal);
            try {
              await post([], run, true);
              lastFailure = null;
              break;
            } catch (err) {
              lastFailure = err instanceof HttpError ? err.status : 0;
              if (seq?.conflicted) {
                await restartFullSync();
                throw err;
              }
              if (attempt >= client.retrySetting(ctx.pipe, 'batch_retries', lastFailure) || run.signal.aborted) throw err;
            }
          }
          await ctx.store.setMeta(metaKey, null);
        }
        await ctx.store.setPipeState(checkpoint.pipeId, checkpoint.state);
        seq = null;
        return empty();
      },
    };
  },
};
