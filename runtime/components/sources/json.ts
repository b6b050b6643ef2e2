import schema from '../../../schemas/sources/json.schema.json' with { type: 'json' };
import { parseEntityJson, stringifyValue } from '../../../compiler/values/json.js';
import type { Entity, Value } from '../../../compiler/values/types.js';
import type { Since, SourceSpec } from '../types.js';
import { urlClientFor, type UrlResponse } from '../systems/url.js';
import { JsonEntitySplitter, JsonStreamError } from './json-stream.js';
import { pipeOwnedDocument } from '../pipe-owned.js';

/** The full-sync generation of the other node the source last read. */
const generationDocument = pipeOwnedDocument((pipe) => `json-source:${pipe}`);

/** `_updated` as a since token (big integers as text). */
export function sinceOf(v: unknown): Since | undefined {
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  return undefined;
}

export function later(a: Since, b: Since): boolean {
  if (a === null) return false;
  if (b === null) return true;
  if (typeof a === 'number' && typeof b === 'number') return a > b;
  const na = Number(a);
  const nb = Number(b);
  if (typeof a !== typeof b && Number.isFinite(na) && Number.isFinite(nb)) return na > nb;
  return String(a) > String(b);
}

function parseHeaderJson(v: string | null): unknown {
  if (v === null) return undefined;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

export const jsonSource: SourceSpec = {
  kind: 'source',
  type: 'json',
  doc: 'Pulls entities over HTTP from an endpoint speaking the JSON pull protocol (a JSON array, or NDJSON), optionally continuing from the `_updated` value of the last entity seen (`since`) and paging with `limit`.',
  schema,
  create(component, ctx) {
    const c = component.config;
    const what = `pipe "${ctx.pipe.id}": the json source`;
    const client = urlClientFor(ctx, c.system, 'the json source');
    const url = c.url as string;
    const headers: Record<string, string> = { accept: 'application/json', ...((c.headers ?? {}) as Record<string, string>) };
    const supportsSince = c.supports_since === true;
    const chronological = c.is_chronological === true;
    const comparable = c.is_since_comparable !== false;
    const pageSize = typeof c.page_size === 'number' ? c.page_size : undefined;
    const paging = pageSize !== undefined && supportsSince && chronological && comparable;
    if (pageSize !== undefined && !paging) ctx.logger.warn({ pipe: ctx.pipe.id }, 'the json source ignores page_size: paging needs supports_since, is_chronological and is_since_comparable set to true');
    const subset = c.subset !== undefined ? stringifyValue(c.subset as Value) : undefined;
    const failIfEmpty = c.if_source_empty === 'fail';
    const metaKey = generationDocument(ctx.pipe.id);
    const retry = client.readRetryPolicy(ctx.pipe);

    const get = (since: Since, signal: AbortSignal): Promise<UrlResponse> =>
      client.request({
        url,
        headers,
        query: { since: supportsSince && since !== null ? since : undefined, limit: paging ? pageSize : undefined, subset },
        signal,
        what,
        retry,
      });

    /** Streams the entities of one response. */
    async function* entitiesOf(res: UrlResponse): AsyncIterable<Entity> {
      const type = res.headers.get('content-type') ?? '';
      const lines = /ndjson|jsonl|json-seq|jsonlines/i.test(type);
      const splitter = new JsonEntitySplitter();
      const decoder = new TextDecoder('utf-8', { fatal: true });
      const parse = (text: string): Entity => {
        try {
          return parseEntityJson(text) as Entity;
        } catch (err) {
          throw new Error(`${what}: entity ${splitter.count} in the response of GET ${res.url} is not valid JSON: ${(err as Error).message}`);
        }
      };
      try {
        for await (const chunk of res.chunks()) {
          for (const text of splitter.push(decoder.decode(chunk, { stream: true }))) yield parse(text);
        }
        for (const text of splitter.push(decoder.decode())) yield parse(text);
        splitter.end(lines);
      } catch (err) {
        if (err instanceof JsonStreamError) throw new Error(`${what}: the response of GET ${res.url} is malformed: ${err.message}`);
        if (err instanceof TypeError && /encoded data was not valid/i.test(err.message)) throw new Error(`${what}: the response of GET ${res.url} is not valid UTF-8`);
        throw err;
      }
    }

    return {
      supportsSince,
      datasets: [],
      async *read({ since, batchSize, run }) {
        const initial: Since = supportsSince ? since : null;
        let current = initial;
        let res = await get(current, run.signal);
        // A recreated or restored remote dataset invalidates the since value: read it from the start.
        const generation = res.headers.get('x-dataset-generation');
        const maxUpdated = parseHeaderJson(res.headers.get('x-dataset-max-updated'));
        if (current !== null) {
          const known = (await ctx.store.getMeta<{ generation?: string }>(metaKey))?.generation;
          const newGeneration = generation !== null && known !== undefined && known !== generation;
          const behind = typeof maxUpdated === 'number' && typeof current === 'number' && current > maxUpdated;
          if (newGeneration || behind) {
            ctx.logger.warn({ pipe: ctx.pipe.id, since: current, generation, maxUpdated }, 'the remote dataset was recreated or reset; reading it from the start');
            await res.discard();
            current = null;
            res = await get(current, run.signal);
          }
        }
        if (generation !== null) await ctx.store.setMeta(metaKey, { generation });

        const start = current;
        const token = (s: Since): Since => (supportsSince ? s : null);
        let batch: Entity[] = [];
        let total = 0;
        let best: Since = current;
        for (let page = 1; ; page++) {
          let count = 0;
          let last: Since | undefined;
          for await (const e of entitiesOf(res)) {
            count++;
            const u = sinceOf(e._updated);
            if (u !== undefined) {
              last = u;
              if (!chronological && comparable ? later(u, best) : true) best = u;
            }
            batch.push(e);
            if (batch.length >= batchSize) {
              // Out-of-order sources only move the since value when the whole stream was read.
              yield { entities: batch, since: token(chronological ? best : start) };
              batch = [];
              if (run.signal.aborted) return;
            }
          }
          total += count;
          if (!paging || count === 0) break;
          const pageMax = parseHeaderJson(res.headers.get('x-dataset-max-updated'));
          if (count < pageSize! && pageMax === undefined) break;
          if (last === undefined) throw new Error(`${what}: page ${page} of GET ${res.url} has entities without "_updated", so paging cannot continue`);
          if (typeof pageMax === 'number' && typeof last === 'number' && last >= pageMax) break;
          if (current !== null && !later(last, current)) throw new Error(`${what}: GET ${res.url} returned entities up to _updated ${String(last)}, not after the since value ${String(current)}; the endpoint does not seem to honour "since"`);
          current = last;
          if (run.signal.aborted) break;
          res = await get(current, run.signal);
        }
        if (total === 0 && failIfEmpty && run.full) throw new Error(`${what}: GET ${client.resolve(url)} returned no entities and if_source_empty is "fail"`);
        if (batch.length || (!chronological && best !== start)) yield { entities: batch, since: token(best) };
      },
    };
  },
};
