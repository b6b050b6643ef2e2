/**
 * Datasets: list, inspect and delete datasets, stream their entities (JSON pull), read one
 * entity, and post entities. Entity streams are written incrementally from the store's raw JSON,
 * never holding a dataset in memory.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { parseEntityJson } from '../../compiler/values/json.js';
import type { Entity } from '../../compiler/values/types.js';
import { stringifyValue } from '../../compiler/values/json.js';
import type { SluiceRuntime } from '../service/runtime.js';
import { datasetIsInternal, datasetView, datasetViews } from '../service/views.js';
import { subsetEntities, SubsetError } from '../service/subsets.js';
import { breakerState, holdingDataset } from '../components/sinks/circuit-breaker.js';
import { utf8TextParser } from './bodies.js';
import { badRequest, conflict, forbidden, notFound } from './errors.js';
import { boolParam, entityArrayText, idParams, intParam, jsonArrayStream, jsonText, param, querySchema, sendJsonText, stringParam } from './util.js';

export interface EntityStreamQuery {
  since?: number;
  limit?: number;
  history?: boolean;
  deleted?: boolean;
  reverse?: boolean;
  start?: number;
  populated?: boolean;
  subset?: string;
  uncommitted?: boolean;
}

export const entityStreamQuery = querySchema({
  since: intParam('Only versions with an offset (`_updated`) greater than this'),
  limit: intParam('At most this many entities (default: all)'),
  history: boolParam('Every version (true) or only the latest version of each entity (false)', true),
  deleted: boolParam('Include deleted entities (only applies when history is false)', true),
  reverse: boolParam('Newest first', false),
  start: intParam('Skip this many entities after `since`'),
  populated: boolParam('Answer 404 unless the dataset is populated', false),
  uncommitted: boolParam("Also the versions held by a tripped circuit breaker (after the dataset's own)", false),
  subset: stringParam('A JSON subset expression ["eq", "_S.<path>", <value>]: the latest entities of that subset (404 when the dataset has no index on the path)'),
});

/** Streams a dataset's versions as a JSON array with JSON-pull headers. */
export async function streamEntities(rt: SluiceRuntime, reply: FastifyReply, dataset: string, q: EntityStreamQuery, opts: { missingIsEmpty?: boolean } = {}): Promise<FastifyReply> {
  const info = await rt.store.datasetInfo(dataset);
  if (!info && !opts.missingIsEmpty) throw notFound(`no dataset "${dataset}"`);
  if (q.populated === true && !info?.populated) throw notFound(`dataset "${dataset}" is not populated yet`);
  if (q.subset !== undefined) return sendJsonText(reply, entityArrayText(await subsetOrError(rt, dataset, q.subset, q)));
  reply.header('X-Dataset-Populated', String(info?.populated ?? false));
  reply.header('X-Dataset-Max-Updated', JSON.stringify(info?.lastOffset ?? -1));
  reply.type('application/json; charset=utf-8');
  if (!info) return reply.send('[]');
  const history = q.history !== false;
  const start = q.start ?? 0;
  const scan = (id: string) =>
    rt.store.scanJson(id, {
      since: q.since,
      limit: q.limit === undefined ? undefined : q.limit + start,
      history,
      deleted: history ? true : q.deleted !== false,
      reverse: q.reverse === true,
    });
  const items = q.uncommitted === true ? withUncommitted(scan(dataset), scan(holdingDataset(dataset)), q.limit === undefined ? undefined : q.limit + start) : scan(dataset);
  return reply.send(jsonArrayStream(items, { skip: start }));
}

async function subsetOrError(rt: SluiceRuntime, dataset: string, subset: string, q: EntityStreamQuery): Promise<Entity[]> {
  try {
    return await subsetEntities(rt, dataset, subset, { since: q.since, limit: q.limit });
  } catch (err) {
    if (err instanceof SubsetError) throw err.status === 404 ? notFound(err.message) : badRequest(err.message, 'INVALID_PARAMETER');
    throw err;
  }
}

/** The dataset's versions, then those a tripped circuit breaker holds (`uncommitted=true`). */
async function* withUncommitted(committed: AsyncIterable<string>, held: AsyncIterable<string>, limit: number | undefined): AsyncGenerator<string> {
  let n = 0;
  for (const part of [committed, held]) {
    for await (const item of part) {
      if (limit !== undefined && n >= limit) return;
      n++;
      yield item;
    }
  }
}

/** Execution logs, dead letters and the like are the runtime's own record: never written from outside. */
function internalDataset(id: string) {
  return forbidden(`internal dataset "${id}" (an id starting with "system:") is written by the runtime only; the API cannot write or delete it`);
}

/** Entities posted to a dataset: a JSON array (or one object) of entities with string `_id`s. */
function postedEntities(body: unknown): Entity[] {
  if (typeof body !== 'string' || body.trim() === '') throw badRequest('send a JSON array of entities', 'EMPTY_BODY');
  let value: unknown;
  try {
    value = parseEntityJson(body);
  } catch (err) {
    throw badRequest(`the body is not valid JSON: ${(err as Error).message}`, 'INVALID_JSON');
  }
  const list = Array.isArray(value) ? value : [value];
  list.forEach((e, i) => {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw badRequest(`entity ${i + 1} of ${list.length} is not a JSON object`, 'INVALID_ENTITY');
    const id = (e as Record<string, unknown>)._id;
    if (typeof id !== 'string' || id === '') throw badRequest(`entity ${i + 1} of ${list.length} needs a non-empty string "_id"`, 'INVALID_ENTITY');
    const deleted = (e as Record<string, unknown>)._deleted;
    if (deleted !== undefined && typeof deleted !== 'boolean') throw badRequest(`entity ${i + 1} of ${list.length} ("${id}") has a "_deleted" that is ${deleted === null ? 'null' : Array.isArray(deleted) ? 'a list' : `a ${typeof deleted}`}, not true or false`, 'INVALID_ENTITY');
  });
  return list as Entity[];
}

export const datasetsPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime }> = async (app, { runtime: rt }) => {
  // Entity bodies keep big integers and decode transit strings.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, utf8TextParser);

  app.get(
    '/datasets',
    {
      schema: {
        summary: 'All datasets',
        tags: ['datasets'],
        querystring: querySchema({ 'include-internal-datasets': boolParam('Include system:* datasets (execution logs, dead letters)', true), verbose: boolParam('Accepted for compatibility', false) }),
      },
    },
    async (request) => {
      const q = request.query as { 'include-internal-datasets'?: boolean };
      return datasetViews(rt, { includeInternal: q['include-internal-datasets'] !== false });
    },
  );

  app.get('/datasets/:id', { schema: { summary: 'One dataset', tags: ['datasets'], params: idParams } }, async (request) => {
    const id = param(request);
    const v = await datasetView(rt, id);
    if (!v) throw notFound(`no dataset "${id}"`);
    return v;
  });

  app.delete('/datasets/:id', { schema: { summary: 'Deletes a dataset and all its versions', tags: ['datasets'], params: idParams } }, async (request) => {
    const id = param(request);
    if (datasetIsInternal(id)) throw internalDataset(id);
    const v = await datasetView(rt, id);
    if (!v) throw notFound(`no dataset "${id}"`);
    const writer = [...rt.scheduler.pumps.values()].find((p) => p.running && (p.inst.sink.dataset === id || p.inst.source.datasets.includes(id)));
    if (writer) throw conflict(`dataset "${id}" is in use by the running pipe "${writer.id}"; stop it first`);
    await rt.store.deleteDataset(id);
    request.log.info({ dataset: id }, 'dataset deleted');
    return v;
  });

  app.get(
    '/datasets/:id/entities',
    { schema: { summary: 'The entities of a dataset, streamed as a JSON array (JSON pull), with X-Dataset-Populated and X-Dataset-Max-Updated headers', tags: ['datasets'], params: idParams, querystring: entityStreamQuery } },
    async (request, reply) => streamEntities(rt, reply, param(request), request.query as EntityStreamQuery),
  );

  const entityQuery = querySchema({
    entity_id: stringParam('The entity _id'),
    offset: intParam('404 unless the latest version is at this offset'),
    subset: stringParam('A JSON subset expression: 404 unless the entity is in that subset'),
    uncommitted: boolParam('Look at the versions held by a tripped circuit breaker first', false),
  });
  const oneEntity = async (reply: FastifyReply, dataset: string, entityId: string | undefined, offset: number | undefined, q: { subset?: string; uncommitted?: boolean } = {}) => {
    if (!entityId) throw badRequest('the query parameter "entity_id" is required', 'INVALID_PARAMETER');
    if (!(await rt.store.datasetInfo(dataset))) throw notFound(`no dataset "${dataset}"`);
    const held = q.uncommitted === true ? await rt.store.get(holdingDataset(dataset), entityId) : null;
    const e = held ?? (await rt.store.get(dataset, entityId));
    if (e && q.subset !== undefined && !(await subsetOrError(rt, dataset, q.subset, {})).some((x) => x._id === entityId)) throw notFound(`entity "${entityId}" is not in subset ${q.subset} of dataset "${dataset}"`);
    if (!e || (offset !== undefined && e._updated !== offset)) throw notFound(`dataset "${dataset}" has no entity "${entityId}"${offset !== undefined ? ` at offset ${offset}` : ''}`);
    return sendJsonText(reply, stringifyValue(e));
  };
  app.get('/datasets/:id/entity', { schema: { summary: 'The latest version of one entity', tags: ['datasets'], params: idParams, querystring: entityQuery } }, async (request, reply) => {
    const q = request.query as { entity_id?: string; offset?: number; subset?: string; uncommitted?: boolean };
    return oneEntity(reply, param(request), q.entity_id, q.offset, q);
  });
  app.get(
    '/datasets/:id/entities/:entity_id',
    {
      schema: {
        summary: 'Deprecated: the latest version of one entity (use /entity?entity_id=)',
        tags: ['datasets'],
        params: { type: 'object', properties: { id: { type: 'string' }, entity_id: { type: 'string' } }, required: ['id', 'entity_id'] },
        querystring: entityQuery,
      },
    },
    async (request, reply) => {
      const q = request.query as { offset?: number; subset?: string; uncommitted?: boolean };
      return oneEntity(reply, param(request), param(request, 'entity_id'), q.offset, q);
    },
  );

  app.post(
    '/datasets/:id/entities',
    {
      schema: {
        summary: 'Writes entities to a dataset (a new version only when an entity changed, unless `force`)',
        tags: ['datasets'],
        params: idParams,
        querystring: querySchema({ force: boolParam('Write a new version even when the entity is unchanged', false) }),
        consumes: ['application/json'],
        bodyDescription: 'A JSON array of entities (or one entity) with string _id',
      },
    },
    async (request, reply) => {
      const id = param(request);
      if (datasetIsInternal(id)) throw internalDataset(id);
      const { force } = request.query as { force?: boolean };
      const entities = postedEntities(request.body);
      const tripped = await breakerState(rt.store, id);
      if (tripped) throw conflict(`dataset "${id}" has a tripped circuit breaker; entities cannot be posted to it until it is rolled back or committed`);
      const r = await rt.store.write(id, entities, { force: force === true });
      if (r.written) {
        rt.notifyDatasetChanged(id);
      }
      return reply.type('application/json; charset=utf-8').send(jsonText({ written: r.written, unchanged: r.unchanged, deleted: r.deleted, 'last-offset': r.lastOffset }));
    },
  );
};
