/**
 * Receivers: `POST /api/receivers/{pipe}/entities` (JSON push into a pipe whose source is
 * http_endpoint). The body is one entity or an array of entities (`application/json`); the push
 * protocol's parameters (`sequence_id`, `is_full`, `request_id`, `previous_request_id`, `is_first`,
 * `is_last`) drive full syncs with deletion tracking. The answer is `{}`; bad bodies are 400, too
 * large ones 413, protocol conflicts 409, and nothing is written when a request is refused.
 *
 * This plugin also registers the publishers (runtime/api/publishers.ts).
 */
import type { FastifyError, FastifyPluginAsync } from 'fastify';
import { parseCompleteness, parseEntities, receiveEntities, ReceiveError, receiverOptionsOf, receiverPipe } from '../service/receiving.js';
import type { SluiceRuntime } from '../service/runtime.js';
import { utf8TextParser } from './bodies.js';
import { ApiError, unsupportedMediaType } from './errors.js';
import { publishersPlugin } from './publishers.js';
import { boolParam, idParams, jsonText, param, querySchema, stringParam } from './util.js';

interface PushQuery {
  sequence_id?: string;
  is_full?: boolean;
  request_id?: string;
  previous_request_id?: string;
  is_first?: boolean;
  is_last?: boolean;
}

function apiError(err: unknown): unknown {
  return err instanceof ReceiveError ? new ApiError(err.status, err.code, err.message) : err;
}

export const receiversPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime; bodyLimit?: number }> = async (app, { runtime: rt, bodyLimit }) => {
  await app.register(publishersPlugin, { runtime: rt });

  await app.register(async (scope) => {
    // The body is parsed by the route (entity JSON keeps big integers and decodes transit values).
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, utf8TextParser);
    scope.setErrorHandler((err: FastifyError, _request, _reply) => {
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `the request body is larger than the receiver's limit of ${bodyLimit ?? 'the configured'} bytes; post the entities in smaller requests`);
      if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') throw unsupportedMediaType(_request.headers['content-type']);
      throw err;
    });

    scope.post(
      '/receivers/:id/entities',
      {
        bodyLimit,
        schema: {
          summary: 'Receives entities into a pipe whose source is http_endpoint (JSON push protocol)',
          description:
            'The body is one entity or a JSON array of entities, each with a string _id. Full syncs (is_full=true) span requests with one sequence_id; the request with is_last=true deletes from the sink the entities the sequence did not post. 409 when previous_request_id does not follow the last request, when is_full changes within a sequence, or when is_first=true arrives on a sequence that already started.',
          tags: ['receivers'],
          params: idParams,
          querystring: querySchema({
            sequence_id: stringParam('The sync this request belongs to (one id per full sync)'),
            is_full: boolParam('Part of a full sync (deletion tracking at the last request)', false),
            request_id: stringParam('The id of this request'),
            previous_request_id: stringParam('The request_id of the previous request of the sequence'),
            is_first: boolParam('The first request of a full sync', false),
            is_last: boolParam('The last request of a full sync', false),
          }),
          consumes: ['application/json'],
          bodyDescription: 'One entity (a JSON object) or a JSON array of entities, each with a string _id',
        },
      },
      async (request, reply) => {
        const id = param(request);
        const q = request.query as PushQuery;
        try {
          const pipe = receiverPipe(rt, id);
          const text = typeof request.body === 'string' ? request.body : '';
          const entities = parseEntities(text, receiverOptionsOf(pipe));
          const completeness = parseCompleteness(request.headers['x-dataset-completeness']);
          const r = await receiveEntities(
            rt,
            id,
            entities,
            { sequenceId: q.sequence_id, isFull: q.is_full === true, requestId: q.request_id, previousRequestId: q.previous_request_id, isFirst: q.is_first === true, isLast: q.is_last === true },
            { headers: request.headers, body: text.slice(0, 4096), completeness },
          );
          request.log.info({ pipe: id, ...r }, 'entities received');
        } catch (err) {
          throw apiError(err);
        }
        return reply.type('application/json; charset=utf-8').send(jsonText({}));
      },
    );
  });
};
