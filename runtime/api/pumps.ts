/**
 * Pumps: GET the pump of a pipe, POST an operation to it (start, stop, enable, disable,
 * update-last-seen, reset, ...). The body is form-encoded, multipart or JSON with `operation` and
 * the operation's fields; the answer is the updated pump object.
 */
import type { FastifyPluginAsync } from 'fastify';
import multipart from '@fastify/multipart';
import { PUMP_OPERATIONS, PumpError } from '../pump/pump.js';
import type { SluiceRuntime } from '../service/runtime.js';
import { pipeExists, pumpView } from '../service/views.js';
import { multipartFormFields } from './bodies.js';
import { ApiError, badRequest, conflict, notFound } from './errors.js';
import { idParams, jsonText, param, sendJsonText, userOf } from './util.js';

/** How long a `stop` waits for the run to wind down before answering. */
const STOP_WAIT_MS = 10_000;

function formFields(body: unknown): Record<string, string | undefined> {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body must be a form (operation=...) or a JSON object with "operation"');
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    const x = Array.isArray(v) ? v[v.length - 1] : v;
    out[k] = x === null || x === undefined ? undefined : typeof x === 'object' ? JSON.stringify(x) : String(x);
  }
  return out;
}

export const pumpsPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime }> = async (app, { runtime: rt }) => {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const out: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(body as string)) out[k] = v;
    done(null, out);
  });
  await app.register(multipart, { limits: { fileSize: 1024 * 1024, files: 1, fields: 50 } });
  app.addHook('preValidation', multipartFormFields);

  app.get('/pipes/:id/pump', { schema: { summary: "The pipe's pump: runtime state (is-running, is-disabled, last-seen, queues, supported-operations, ...)", tags: ['pumps'], params: idParams } }, async (request, reply) => {
    const id = param(request);
    const v = await pumpView(rt, id);
    if (!v) throw notFound(`no pipe "${id}"`);
    return sendJsonText(reply, jsonText(v));
  });

  app.post(
    '/pipes/:id/pump',
    {
      schema: {
        summary: 'Runs a pump operation and answers the updated pump; 409 when starting a running pump',
        description: `Operations: ${PUMP_OPERATIONS.join(', ')}. Fields: operation (required), last-seen (update-last-seen; "" resets), comment (disable).`,
        tags: ['pumps'],
        params: idParams,
        consumes: ['application/x-www-form-urlencoded', 'multipart/form-data', 'application/json'],
        bodyDescription: 'operation=<name> and the fields of the operation',
      },
    },
    async (request, reply) => {
      const id = param(request);
      const fields = { ...formFields(request.body), ...formFields(request.query) };
      const op = fields.operation;
      if (!op) throw badRequest(`the body needs an "operation" (one of ${PUMP_OPERATIONS.join(', ')})`, 'INVALID_PARAMETER');
      const pump = rt.pump(id);
      if (!pump) {
        if (!pipeExists(rt, id)) throw notFound(`no pipe "${id}"`);
        throw conflict(`pipe "${id}" cannot run${rt.instantiationErrors.has(id) ? `: ${rt.instantiationErrors.get(id)}` : ' (it has config errors)'}`);
      }
      try {
        await pump.operation(op, fields, userOf(request));
      } catch (err) {
        if (err instanceof PumpError) {
          const status = err.status;
          throw new ApiError(status, status === 409 ? 'CONFLICT' : /doesn't support the operation/.test(err.message) ? 'UNSUPPORTED_OPERATION' : status === 400 ? 'BAD_REQUEST' : 'PUMP_ERROR', err.message, status === 409 ? ((await pumpView(rt, id)) as unknown as Record<string, unknown>) : undefined);
        }
        throw err;
      }
      if (op === 'stop' && pump.active) {
        await Promise.race([pump.active.promise.catch(() => undefined), new Promise((r) => setTimeout(r, STOP_WAIT_MS).unref())]);
      }
      request.log.info({ pipe: id, operation: op }, 'pump operation');
      return sendJsonText(reply, jsonText(await pumpView(rt, id)));
    },
  );
};
