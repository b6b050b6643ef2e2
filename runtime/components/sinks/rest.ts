import schema from '../../../schemas/sinks/rest.schema.json' with { type: 'json' };
import type { Entity } from '../../../compiler/values/types.js';
import type { RunInfo, SinkSpec } from '../types.js';
import { restComponentSetup } from '../systems/rest.js';
import { exchangeOnce } from '../systems/rest/exchange.js';
import { entityRequest } from '../systems/rest/entities.js';

const ignore = (): void => undefined;

/** Requests a sink has under way at once within a batch, unless the system sizes its connection pool. */
const DEFAULT_IN_FLIGHT = 16;

export const restSink: SinkSpec = {
  kind: 'sink',
  type: 'rest',
  doc: 'Sends each entity to a REST service with an operation of a REST system: the entity (or the sink) names the `operation`, its `properties` and `payload` fill the Jinja templates of the url, params, headers and payload, and the payload is sent as json, json-transit, form, multipart-form or text. Entities of a batch are sent up to 16 at a time, or as many as max_connections x pipelining of the system allow (in order per _id); a failed request fails the batch (the pipe retries entity by entity). The pipe batch_size defaults to 1.',
  schema,
  create(component, ctx) {
    const c = component.config;
    const { client, operations, what, tracer } = restComponentSetup(ctx, c, 'the rest sink');
    if (c.operation !== undefined) operations.get(c.operation);
    const retry = client.url.readRetryPolicy(ctx.pipe);
    const inFlight = client.url.capacity ?? DEFAULT_IN_FLIGHT;
    // Requests that would rather wait than fail: only connection failures are retried here; statuses fail the entity.
    const networkRetry: typeof retry = (failure, attempt) => (failure.status === 0 && failure.code !== 'HTTP_TIMEOUT' ? retry(failure, attempt) : null);

    const send = async (e: Entity, run: RunInfo): Promise<void> => {
      const op = operations.get(e.operation ?? c.operation);
      const { payload, context } = entityRequest(e, c, op);
      await exchangeOnce({ client, op, context, payload, paging: false, ignoreBody: true, options: { signal: run.signal, what: `${what}: entity "${e._id}"`, retry: networkRetry }, trace: tracer && run.trace ? { tracer, entries: run.trace } : undefined });
    };

    /**
     * Sends a batch, up to `inFlight` requests at a time; entities with the same _id go in order.
     * After a failure nothing new is sent; the first failure (in batch order) is thrown once the
     * requests under way have ended. With the default batch_size of 1 this is one request at a time.
     */
    const sendAll = async (entities: Entity[], run: RunInfo): Promise<void> => {
      let next = 0;
      const state: { failure: { index: number; error: unknown } | null } = { failure: null };
      const pendingById = new Map<unknown, Promise<unknown>>();
      const worker = async () => {
        while (next < entities.length && state.failure === null) {
          const index = next++;
          const e = entities[index];
          const before = pendingById.get(e._id);
          const sent = before ? before.then(() => send(e, run)) : send(e, run);
          pendingById.set(e._id, sent.catch(ignore));
          try {
            await sent;
          } catch (error) {
            const known = state.failure as { index: number } | null;
            if (known === null || index < known.index) state.failure = { index, error };
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(inFlight, entities.length) }, worker));
      if (state.failure !== null) throw state.failure.error;
    };

    return {
      dataset: null,
      atomicCheckpoint: false,
      tracksDeletions: false,
      async write(entities, run, checkpoint) {
        await sendAll(entities, run);
        if (checkpoint) await ctx.store.setPipeState(checkpoint.pipeId, checkpoint.state);
        let deleted = 0;
        for (const e of entities) if (e._deleted === true) deleted++;
        return { written: entities.length - deleted, unchanged: 0, deleted, failures: [] };
      },
      async endRun(_run, checkpoint) {
        await ctx.store.setPipeState(checkpoint.pipeId, checkpoint.state);
        return { written: 0, unchanged: 0, deleted: 0, failures: [] };
      },
    };
  },
};
