/**
 * Models and entity types: GET/POST /api/models, GET/DELETE /api/models/{model},
 * GET /api/models/{model}/{entity type}, the inferred entity types of a pipe
 * (GET /api/pipes/{pipe}/entity-types/source|sink) and the schema definitions of a pipe's or a
 * dataset's entities (generate-schema-definition).
 */
import type { FastifyPluginAsync } from 'fastify';
import { datasetSchema, EntityTypeError, pipeEntityType, sampleSchema, schemaKeys } from '../service/entity-types.js';
import { addModels, deleteModel, getEntityType, getModel, listModels, ModelError, validateModels } from '../service/models.js';
import type { SluiceRuntime } from '../service/runtime.js';
import { ApiError } from './errors.js';
import { boolParam, idParams, intParam, jsonText, param, querySchema, sendJsonText, serialised, stringParam } from './util.js';

function apiError(err: unknown): unknown {
  if (err instanceof ModelError || err instanceof EntityTypeError) return new ApiError(err.status, err.status === 404 ? 'NOT_FOUND' : err.status === 409 ? 'PIPE_NOT_RUNNABLE' : 'INVALID_BODY', err.message);
  return err;
}

async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw apiError(err);
  }
}

const modelParams = { type: 'object', properties: { model: { type: 'string', description: 'The model id' } }, required: ['model'] } as const;
const typeParams = { type: 'object', properties: { model: { type: 'string', description: 'The model id' }, type: { type: 'string', description: 'The entity type ($id)' } }, required: ['model', 'type'] } as const;
const effective = boolParam('Merge implicit models (inferred from the pipes) into the explicit ones', false);
const schemaQuery = querySchema({ sample_size: { ...intParam('How many entities to sample', 1), default: 1000 }, keys_only: boolParam('Answer only the sorted list of property names (nested ones dotted)', false) });

export const modelsPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime }> = async (app, { runtime: rt }) => {
  app.get(
    '/models',
    {
      schema: {
        summary: 'Every model: the explicit ones and the implicit ones inferred from the pipes (Global, Input, Output, and one per pipe id prefix)',
        tags: ['models'],
        querystring: querySchema({ effective, verbose: boolParam('Whole entity types (true) or only their ids and titles', true), with_property: stringParam('Only models with an entity type that has this property') }),
      },
    },
    async (request, reply) => sendJsonText(reply, jsonText(await guarded(() => listModels(rt, request.query as object)))),
  );

  app.post(
    '/models',
    {
      schema: {
        summary: 'Adds models (or replaces those with the same _id); answers the posted models',
        tags: ['models'],
        querystring: querySchema({ force: boolParam('Accepted for compatibility', false) }),
        consumes: ['application/json'],
        bodyDescription: 'A JSON array of models: {"_id", "name"?, "entity_types": [JSON Schemas with "$id"]}',
      },
    },
    async (request, reply) => {
      const models = await guarded(async () => validateModels(request.body));
      return serialised(rt, async () => sendJsonText(reply, jsonText(await addModels(rt, models))));
    },
  );

  app.get('/models/:model', { schema: { summary: 'One model', tags: ['models'], params: modelParams, querystring: querySchema({ effective, verbose: boolParam('Whole entity types', true) }) } }, async (request, reply) =>
    sendJsonText(reply, jsonText(await guarded(() => getModel(rt, param(request, 'model'), request.query as object)))),
  );

  app.delete('/models/:model', { schema: { summary: 'Deletes an explicit model; answers it', tags: ['models'], params: modelParams } }, async (request, reply) =>
    serialised(rt, async () => sendJsonText(reply, jsonText(await guarded(() => deleteModel(rt, param(request, 'model')))))),
  );

  app.get('/models/:model/:type', { schema: { summary: 'One entity type (a JSON Schema) of a model', tags: ['models'], params: typeParams, querystring: querySchema({ effective }) } }, async (request, reply) =>
    sendJsonText(reply, jsonText(await guarded(() => getEntityType(rt, param(request, 'model'), param(request, 'type'), request.query as object)))),
  );

  for (const side of ['source', 'sink'] as const) {
    app.get(
      `/pipes/:id/entity-types/${side}`,
      { schema: { summary: `The entity type (a JSON Schema inferred from the data) of what the pipe ${side === 'source' ? 'reads' : 'writes'}; 404 when infer_pipe_entity_types is false`, tags: ['pipes'], params: idParams } },
      async (request, reply) => sendJsonText(reply, jsonText(await guarded(() => pipeEntityType(rt, param(request), side)))),
    );
  }

  app.get(
    '/pipes/:id/generate-schema-definition',
    { schema: { summary: "The schema of a sample of the pipe's output (computed from its source; nothing is written)", tags: ['pipes'], params: idParams, querystring: schemaQuery } },
    async (request, reply) => {
      const q = request.query as { sample_size: number; keys_only?: boolean };
      const schema = await guarded(() => sampleSchema(rt, param(request), 'sink', q.sample_size));
      return sendJsonText(reply, jsonText(q.keys_only ? schemaKeys(schema) : schema));
    },
  );

  app.get(
    '/datasets/:id/generate-schema-definition',
    { schema: { summary: "The schema of a sample of the dataset's latest entities", tags: ['datasets'], params: idParams, querystring: schemaQuery } },
    async (request, reply) => {
      const q = request.query as { sample_size: number; keys_only?: boolean };
      const schema = await guarded(() => datasetSchema(rt, param(request), q.sample_size));
      return sendJsonText(reply, jsonText(q.keys_only ? schemaKeys(schema) : schema));
    },
  );
};
