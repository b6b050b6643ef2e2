import schema from '../../../schemas/transforms/http.schema.json' with { type: 'json' };
import { parseEntityJson, stringifyValue } from '../../../compiler/values/json.js';
import type { Entity } from '../../../compiler/values/types.js';
import type { EntityFailure, TransformSpec } from '../types.js';
import { triggerMatcher } from './trigger.js';
import { jsonExchangeHeaders, urlClientFor } from '../systems/url.js';

export const httpTransform: TransformSpec = {
  kind: 'transform',
  type: 'http',
  doc: 'Posts entities, `batch_size` at a time, as a JSON array to an HTTP service and continues with the JSON array of entities the service answers (it may change, drop or add entities); a failed request makes the entities of its batch failures.',
  schema,
  create(component, ctx) {
    const c = component.config;
    const what = `pipe "${ctx.pipe.id}": the http transform`;
    const client = urlClientFor(ctx, c.system, 'the http transform');
    const url = c.url as string;
    const batchSize = Math.max(1, (c.batch_size as number | undefined) ?? 100);
    const headers = jsonExchangeHeaders(c.headers);
    const triggered = triggerMatcher(c.trigger_on);

    /** Posts one batch; returns the entities the service answered. */
    const call = async (batch: Entity[], signal: AbortSignal): Promise<Entity[]> => {
      let body = '[';
      for (let i = 0; i < batch.length; i++) body += (i ? ',' : '') + stringifyValue(batch[i]);
      body += ']';
      const res = await client.request({ method: 'POST', url, headers, body, signal, what });
      const text = await res.text();
      let value: unknown;
      try {
        value = parseEntityJson(text);
      } catch (err) {
        throw new Error(`${what}: the response of POST ${res.url} is not valid JSON: ${(err as Error).message}`);
      }
      if (!Array.isArray(value)) throw new Error(`${what}: POST ${res.url} must answer a JSON array of entities, not ${value === null ? 'null' : typeof value === 'object' ? 'an object' : typeof value}`);
      value.forEach((e, i) => {
        if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new Error(`${what}: item ${i + 1} of the array POST ${res.url} answered is not an entity (a JSON object)`);
      });
      return value as Entity[];
    };

    return {
      async apply(entities, run) {
        const out: Entity[] = [];
        const failures: EntityFailure[] = [];
        let batch: Entity[] = [];
        const flush = async () => {
          if (!batch.length) return;
          const sent = batch;
          batch = [];
          try {
            const answered = await call(sent, run.signal);
            for (const e of answered) out.push(e);
          } catch (err) {
            for (const e of sent) failures.push({ entity: e, error: err as Error });
          }
        };
        for (const e of entities) {
          if (triggered && !triggered(e)) {
            // Entities the trigger does not select pass through untouched.
            out.push(e);
            continue;
          }
          batch.push(e);
          if (batch.length >= batchSize) await flush();
        }
        await flush();
        return { entities: out, failures };
      },
    };
  },
};
