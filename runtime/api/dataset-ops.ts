/**
 * Dataset operations: the secondary indexes of a dataset (GET /api/datasets/{id}/indexes, DELETE
 * /api/datasets/{id}/indexes/{n}) and the circuit breaker operations (POST /api/datasets/{id} with
 * `operation=rollback-circuit-breaker` or `commit-circuit-breaker`).
 */
import type { FastifyPluginAsync } from 'fastify';
import multipart from '@fastify/multipart';
import { breakerState, commitBreaker, rollbackBreaker } from '../components/sinks/circuit-breaker.js';
import type { SluiceRuntime } from '../service/runtime.js';
import { datasetView } from '../service/views.js';
import { multipartFormFields } from './bodies.js';
import { badRequest, conflict, notFound } from './errors.js';
import { idParams, jsonText, param, sendJsonText, serialised, userOf } from './util.js';

export const DATASET_OPERATIONS = ['rollback-circuit-breaker', 'commit-circuit-breaker'] as const;

interface IndexView {
  id: number;
  expression: string;
  path: string[];
  status: 'ready';
}

async function indexesOf(rt: SluiceRuntime, dataset: string): Promise<IndexView[]> {
  const info = await rt.store.datasetInfo(dataset);
  if (!info) throw notFound(`no dataset "${dataset}"`);
  return info.indexes.map((path, i) => ({ id: i + 1, expression: path[0] === '$ids' && path.length === 1 ? '$ids' : `_S.${path.join('.')}`, path, status: 'ready' }));
}

function field(body: unknown, name: string): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const v = (body as Record<string, unknown>)[name];
  const x = Array.isArray(v) ? v[v.length - 1] : v;
  return typeof x === 'string' ? x : x === undefined || x === null ? undefined : String(x);
}

export const datasetOpsPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime }> = async (app, { runtime: rt }) => {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
  await app.register(multipart, { limits: { fileSize: 1024, files: 0, fields: 10 } });
  app.addHook('preValidation', multipartFormFields);

  app.get('/datasets/:id/indexes', { schema: { summary: 'The secondary indexes of a dataset (declared by sinks, made by hops)', tags: ['datasets'], params: idParams } }, async (request, reply) =>
    sendJsonText(reply, jsonText(await indexesOf(rt, param(request)))),
  );

  app.delete(
    '/datasets/:id/indexes/:index',
    {
      schema: {
        summary: 'Drops a secondary index (by its id in the list); hops and sinks that need it build it again',
        tags: ['datasets'],
        params: { type: 'object', properties: { id: { type: 'string' }, index: { type: 'integer', minimum: 1, description: 'The index id (from GET .../indexes)' } }, required: ['id', 'index'] },
      },
    },
    async (request, reply) => {
      const dataset = param(request);
      const n = (request.params as { index: number }).index;
      return serialised(rt, async () => {
        const found = (await indexesOf(rt, dataset)).find((i) => i.id === n);
        if (!found) throw notFound(`dataset "${dataset}" has no index ${n}`);
        await rt.store.dropIndex(dataset, found.path);
        request.log.info({ dataset, index: found.expression }, 'index dropped');
        return sendJsonText(reply, jsonText(found));
      });
    },
  );

  app.post(
    '/datasets/:id',
    {
      schema: {
        summary: "Runs an operation on a dataset: rollback-circuit-breaker discards the versions a tripped circuit breaker holds, commit-circuit-breaker writes them; both reset the breaker so the pipe can run. Answers the dataset",
        tags: ['datasets'],
        params: idParams,
        consumes: ['application/x-www-form-urlencoded', 'multipart/form-data', 'application/json'],
        bodyDescription: `operation=${DATASET_OPERATIONS.join('|')}`,
      },
    },
    async (request, reply) => {
      const dataset = param(request);
      const op = field(request.body, 'operation') ?? field(request.query, 'operation');
      if (!op || !(DATASET_OPERATIONS as readonly string[]).includes(op)) throw badRequest(`the body needs an "operation": one of ${DATASET_OPERATIONS.join(', ')}${op ? ` (not "${op}")` : ''}`, 'INVALID_PARAMETER');
      return serialised(rt, async () => {
        if (!(await rt.store.datasetInfo(dataset))) throw notFound(`no dataset "${dataset}"`);
        const state = await breakerState(rt.store, dataset);
        if (!state) throw conflict(`the circuit breaker of dataset "${dataset}" is not tripped; there is nothing to ${op === 'commit-circuit-breaker' ? 'commit' : 'roll back'}`);
        if (rt.pump(state.pipe)?.running) throw conflict(`pipe "${state.pipe}" is running; stop it first`);
        if (op === 'commit-circuit-breaker') {
          const r = await commitBreaker(rt.store, dataset);
          if (r?.written) rt.notifyDatasetChanged(dataset);
          request.log.info({ dataset, pipe: state.pipe, written: r?.written, user: userOf(request) }, 'circuit breaker committed');
        } else {
          const r = await rollbackBreaker(rt.store, dataset);
          request.log.info({ dataset, pipe: state.pipe, discarded: r?.discarded, user: userOf(request) }, 'circuit breaker rolled back');
        }
        return sendJsonText(reply, jsonText(await datasetView(rt, dataset)));
      });
    },
  );
};
