/** Pipes: the pipe objects (config and runtime), their execution logs and their entities per stage. */
import type { FastifyPluginAsync } from 'fastify';
import { executionDatasetId } from '../pump/execution-log.js';
import { normaliseStage, previewEntities, PreviewError } from '../service/preview.js';
import type { SluiceRuntime } from '../service/runtime.js';
import { pipeExists, pipeView, pipeViews, type PipeView } from '../service/views.js';
import { streamEntities, type EntityStreamQuery } from './datasets.js';
import { ApiError, badRequest, notFound } from './errors.js';
import { boolParam, entityArrayText, idParams, intParam, jsonText, param, querySchema, sendJsonText, stringParam } from './util.js';

const FIELDS = ['config', 'runtime', 'storage', 'graph'] as const;

/** `fields=config,runtime` (comma-joined or repeated) selects top-level keys. */
function selectFields(v: PipeView, fields: string | string[] | undefined): Record<string, unknown> {
  if (fields === undefined) return v as unknown as Record<string, unknown>;
  const wanted = new Set((Array.isArray(fields) ? fields : [fields]).flatMap((f) => f.split(',')).map((f) => f.trim()).filter(Boolean));
  for (const f of wanted) if (!(FIELDS as readonly string[]).includes(f)) throw badRequest(`invalid query parameter "fields": "${f}" is not one of ${FIELDS.join(', ')}`, 'INVALID_PARAMETER');
  const out: Record<string, unknown> = { _id: v._id };
  for (const f of FIELDS) if (wanted.has(f)) out[f] = v[f];
  return out;
}

const fieldsParam = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: 'Top-level keys to return: config, runtime, storage, graph (comma-separated or repeated)' };

export const pipesPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime }> = async (app, { runtime: rt }) => {
  app.get(
    '/pipes',
    {
      schema: {
        summary: 'All pipes with their config (original and effective) and runtime state',
        tags: ['pipes'],
        querystring: querySchema({
          'include-internal-pipes': boolParam('Include system:* pipes', false),
          verbose: boolParam('Accepted for compatibility', false),
          fields: fieldsParam,
        }),
      },
    },
    async (request, reply) => {
      const q = request.query as { 'include-internal-pipes'?: boolean; fields?: string | string[] };
      const views = await pipeViews(rt, { includeInternal: q['include-internal-pipes'] === true });
      return sendJsonText(reply, jsonText(views.map((v) => selectFields(v, q.fields))));
    },
  );

  app.get('/pipes/:id', { schema: { summary: 'One pipe: config.original, config.effective and runtime', tags: ['pipes'], params: idParams, querystring: querySchema({ fields: fieldsParam }) } }, async (request, reply) => {
    const id = param(request);
    const v = await pipeView(rt, id);
    if (!v) throw notFound(`no pipe "${id}"`);
    return sendJsonText(reply, jsonText(selectFields(v, (request.query as { fields?: string | string[] }).fields)));
  });

  app.get(
    '/pipes/:id/log',
    {
      schema: {
        summary: 'The pump execution log (system:pump_execution:<id>): pump-started, pump-completed, pump-failed, write errors, operations',
        tags: ['pipes'],
        params: idParams,
        querystring: querySchema({
          since: intParam('Only entries with an offset greater than this'),
          limit: intParam('At most this many entries (default: all)'),
          history: boolParam('Every event (true) or only the latest of each kind', true),
          deleted: boolParam('Include deleted entries', true),
          reverse: boolParam('Newest first', false),
          start: intParam('Skip this many entries'),
        }),
      },
    },
    async (request, reply) => {
      const id = param(request);
      if (!pipeExists(rt, id)) throw notFound(`no pipe "${id}"`);
      return streamEntities(rt, reply, executionDatasetId(id), request.query as EntityStreamQuery, { missingIsEmpty: true });
    },
  );

  app.get(
    '/pipes/:id/entities',
    {
      schema: {
        summary: "The pipe's entities at a stage, computed on the fly from its source (nothing is written)",
        description: 'source = as read; before-transforms = after add_namespaces; after-transforms = after the transforms; sink = what the sink receives (after remove_namespaces).',
        tags: ['pipes'],
        params: idParams,
        querystring: querySchema({
          stage: { type: 'string', enum: ['source', 'before-transforms', 'after-transforms', 'sink', 'before-transform', 'after-transform'], default: 'sink', description: 'The stage' },
          since: stringParam('Read the source from this continuation token (default: from the start)'),
          limit: intParam('At most this many entities (default: all)'),
        }),
      },
    },
    async (request, reply) => {
      const id = param(request);
      const q = request.query as { stage?: string; since?: string; limit?: number };
      const stage = normaliseStage(q.stage);
      if (!stage) throw badRequest(`invalid query parameter "stage": "${q.stage}"`, 'INVALID_PARAMETER');
      const controller = new AbortController();
      // The client went away: stop reading the source.
      const onClose = () => {
        if (!reply.raw.writableFinished) controller.abort();
      };
      reply.raw.once('close', onClose);
      try {
        const entities = await previewEntities(rt, id, stage, { since: q.since, limit: q.limit, signal: controller.signal });
        return sendJsonText(reply, entityArrayText(entities));
      } catch (err) {
        if (err instanceof PreviewError) throw new ApiError(err.status, err.code ?? (err.status === 404 ? 'NOT_FOUND' : err.status === 409 ? 'PIPE_NOT_RUNNABLE' : 'TRANSFORM_FAILED'), err.message);
        throw err;
      } finally {
        reply.raw.off('close', onClose);
      }
    },
  );
};
