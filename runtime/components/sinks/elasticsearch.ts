/**
 * The Elasticsearch sink: each batch is one bulk request. An entity becomes the document `_id`
 * with every property except the root `_*` and `$*` ones, in the index `$index` (or
 * `default_index`) with the type `$type` (or `default_type`, left out when neither is set, as
 * Elasticsearch 7+ expects); a deleted entity deletes its document. Index and delete operations
 * are idempotent, so a batch that fails (an unreachable server, 429 or 5xx answers) is simply sent
 * again; documents Elasticsearch refuses (4xx items) fail one by one.
 */
import schema from '../../../schemas/sinks/elasticsearch.schema.json' with { type: 'json' };
import { quoteJson, quoteKey, stringifyValue } from '../../../compiler/values/json.js';
import type { Entity } from '../../../compiler/values/types.js';
import { ElasticError, elasticClientFor, reasonOf } from '../systems/elasticsearch.js';
import type { EntityFailure, SinkSpec } from '../types.js';

interface BulkItemResult {
  status: number;
  error?: unknown;
}

interface BulkResponse {
  errors?: boolean;
  items?: Record<string, BulkItemResult>[];
}

const CHECK_ID = 'sluice-index-check';

/** The document: every property but the root `_*` and `$*` ones. */
function documentText(e: Entity): string {
  let out = '{';
  let first = true;
  for (const k of Object.keys(e)) {
    if (k.startsWith('_') || k.startsWith('$')) continue;
    out += `${first ? '' : ','}${quoteKey(k)}:${stringifyValue(e[k])}`;
    first = false;
  }
  return `${out}}`;
}

const path = (...parts: string[]) => `/${parts.map(encodeURIComponent).join('/')}`;

export const elasticsearchSink: SinkSpec = {
  kind: 'sink',
  type: 'elasticsearch',
  doc: 'Indexes entities into Elasticsearch with the bulk API: document id from _id, index from $index or default_index, type from $type or default_type; deleted entities delete their documents. Optional index mappings, a marker document that resets the pipe when the index was emptied, and a delete_by_query at the start of full runs.',
  schema,
  create(component, ctx) {
    const c = component.config;
    const what = `pipe "${ctx.pipe.id}": the elasticsearch sink`;
    const client = elasticClientFor(ctx, c.system, 'the elasticsearch sink');
    const defaultIndex = typeof c.default_index === 'string' && c.default_index ? c.default_index : null;
    const defaultType = typeof c.default_type === 'string' && c.default_type ? c.default_type : null;
    const mapping = c.index_mapping_properties && typeof c.index_mapping_properties === 'object' ? (c.index_mapping_properties as Record<string, unknown>) : null;
    const deleteQuery = c.first_run_delete_query && typeof c.first_run_delete_query === 'object' ? c.first_run_delete_query : null;
    let check: { id: string; document: Record<string, unknown> } | null = null;
    if (c.index_check_document !== null && c.index_check_document !== undefined) {
      let doc: unknown = c.index_check_document;
      if (typeof doc === 'string') {
        try {
          doc = JSON.parse(doc) as unknown;
        } catch {
          throw new Error(`${what}: "index_check_document" is a string but not the JSON text of a document`);
        }
      }
      if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${what}: "index_check_document" must be a document (an object)`);
      if (!defaultIndex) throw new Error(`${what}: "index_check_document" needs "default_index" (the index the marker is kept in)`);
      const { _id, ...document } = doc as Record<string, unknown>;
      check = { id: typeof _id === 'string' && _id ? _id : CHECK_ID, document };
    }
    if (deleteQuery && !defaultIndex) throw new Error(`${what}: "first_run_delete_query" needs "default_index" (the index to delete from)`);

    /** Indexes whose mappings were put during this run. */
    let prepared = new Set<string>();

    const prepare = async (index: string, signal: AbortSignal) => {
      if (!mapping || prepared.has(index)) return;
      const exists = await client.request('HEAD', path(index), { accept: [404], signal, what });
      if (exists.status === 404) {
        const created = await client.request('PUT', path(index), { body: { mappings: { properties: mapping } }, accept: [400], signal, what });
        // Created meanwhile by someone else: put the mapping on it below.
        if (created.status === 400 && !/resource_already_exists/.test(reasonOf(created.body) ?? '')) throw new ElasticError(`${what}: creating the index "${index}" failed: ${reasonOf(created.body)}`, 'ES_STATUS', 400);
        if (created.status !== 400) return prepared.add(index);
      }
      await client.request('PUT', `${path(index)}/_mapping`, { body: { properties: mapping }, signal, what });
      prepared.add(index);
    };

    /** Whether the marker document is in the index as configured. */
    const markerPresent = async (signal: AbortSignal): Promise<boolean> => {
      const got = await client.request<{ found?: boolean; _source?: unknown }>('GET', `${path(defaultIndex!)}/_doc/${encodeURIComponent(check!.id)}`, { accept: [404], signal, what });
      if (got.status === 404 || got.body?.found === false) return false;
      // Without _source the index can only say that the marker exists.
      if (got.body?._source === undefined) return true;
      return JSON.stringify(sortKeys(got.body._source)) === JSON.stringify(sortKeys(check!.document));
    };

    return {
      dataset: null,
      atomicCheckpoint: false,
      tracksDeletions: false,
      async beginRun(run) {
        prepared = new Set();
        if (defaultIndex) await prepare(defaultIndex, run.signal);
        if (check && !run.full && !(await markerPresent(run.signal))) {
          const state = await ctx.store.getPipeState(ctx.pipe.id);
          if (state) await ctx.store.setPipeState(ctx.pipe.id, { ...state, last_seen: null, run: null });
          throw Object.assign(new Error(`${what}: the index "${defaultIndex}" does not hold the index_check_document "${check.id}" (emptied or replaced?); the pipe was reset so that its next run indexes everything again`), { code: 'ES_INDEX_CHECK' });
        }
        if (run.full && deleteQuery) {
          await client.request('POST', `${path(defaultIndex!)}/_delete_by_query?conflicts=proceed`, { body: { query: { match: deleteQuery } }, signal: run.signal, what });
        }
      },
      async write(entities, run, checkpoint) {
        const failures: EntityFailure[] = [];
        const sent: Entity[] = [];
        let ndjson = '';
        for (const e of entities) {
          const index = typeof e.$index === 'string' && e.$index ? e.$index : defaultIndex;
          if (!index) {
            failures.push({ entity: e, error: new Error(`${what}: entity "${String(e._id)}" has no "$index" and the sink has no "default_index"`) });
            continue;
          }
          const type = typeof e.$type === 'string' && e.$type ? e.$type : defaultType;
          await prepare(index, run.signal);
          const target = `"_index":${quoteJson(index)}${type ? `,"_type":${quoteJson(type)}` : ''},"_id":${quoteJson(String(e._id))}`;
          if (e._deleted === true) ndjson += `{"delete":{${target}}}\n`;
          else ndjson += `{"index":{${target}}}\n${documentText(e)}\n`;
          sent.push(e);
        }
        let written = 0;
        let deleted = 0;
        if (sent.length) {
          const res = await client.request<BulkResponse>('POST', '/_bulk', { ndjson, signal: run.signal, what });
          const items = res.body?.items;
          if (!Array.isArray(items) || items.length !== sent.length) throw new ElasticError(`${what}: the bulk answer has ${Array.isArray(items) ? items.length : 'no'} items for ${sent.length} operations`, 'ES_MALFORMED', res.status);
          let retry: string | null = null;
          items.forEach((item, i) => {
            const [op, result] = Object.entries(item)[0] ?? [];
            const e = sent[i];
            const status = result?.status ?? 0;
            if ((status >= 200 && status < 300) || (op === 'delete' && status === 404)) {
              if (op === 'delete') deleted++;
              else written++;
            } else if (status === 429 || status >= 500 || status === 0) retry ??= `entity "${String(e._id)}": ${status} ${reasonOf(result) ?? ''}`.trim();
            else failures.push({ entity: e, error: new ElasticError(`${what}: entity "${String(e._id)}" was refused (${status}): ${reasonOf(result) ?? 'no reason given'}`, 'ES_STATUS', status) });
          });
          // Overloaded or failing nodes: the whole batch goes again (indexing is idempotent).
          if (retry) throw new ElasticError(`${what}: Elasticsearch could not take the batch now (${retry})`, 'ES_STATUS', 429);
        }
        if (checkpoint) await ctx.store.setPipeState(checkpoint.pipeId, checkpoint.state);
        return { written, unchanged: 0, deleted, failures };
      },
      async endRun(run, checkpoint) {
        if (check && !(await markerPresent(run.signal))) {
          await client.request('PUT', `${path(defaultIndex!)}/_doc/${encodeURIComponent(check.id)}`, { body: check.document, signal: run.signal, what });
        }
        await ctx.store.setPipeState(checkpoint.pipeId, checkpoint.state);
        return { written: 0, unchanged: 0, deleted: 0, failures: [] };
      },
    };
  },
};

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}
