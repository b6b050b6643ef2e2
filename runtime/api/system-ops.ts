/**
 * System operations: GET /api/systems/{id}/status and /logs, POST /api/systems/{id}/reload, any
 * method on /api/systems/{id}/proxy/{path} (passed through to the system), and the system's own
 * secrets (GET/PUT/POST /api/systems/{id}/secrets, DELETE /api/systems/{id}/secrets/{key}), which
 * its config's `$SECRET(...)` finds before the global ones. What a system can do comes from its
 * module's `operations` (runtime/components/systems/operations.ts).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { components } from '../components/registry.js';
import type { SystemOperations } from '../components/systems/operations.js';
import type { SluiceRuntime } from '../service/runtime.js';
import { systemIds } from '../service/views.js';
import { ApiError, badRequest, conflict, notFound } from './errors.js';
import { idParams, jsonText, param, querySchema, sendJsonText, serialised, stringParam } from './util.js';

function operationsOf(rt: SluiceRuntime, id: string): SystemOperations {
  const system = rt.resolvedSystem(id);
  if (!system) {
    if (systemIds(rt).includes(id)) throw conflict(`system "${id}" has config errors and is not running`);
    throw notFound(`no system "${id}"`);
  }
  const spec = components.systems.find((s) => `system:${s.type}` === system.type);
  if (!spec?.operations) throw new ApiError(501, 'NOT_IMPLEMENTED', `systems of type "${system.type}" have no status, logs or proxy in this runtime`);
  return spec.operations(system, { logger: rt.logger, plan: rt.plan ?? undefined });
}

function secretsBody(body: unknown): Record<string, string> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('send a JSON object of secrets ({"name": "value", ...})', 'INVALID_BODY');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (k === '') throw badRequest('secret names cannot be empty', 'INVALID_BODY');
    if (typeof v !== 'string') throw badRequest(`the value of secret "${k}" must be a string`, 'INVALID_BODY');
    out[k] = v;
  }
  return out;
}

const PROXY_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export const systemOpsPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime }> = async (app, { runtime: rt }) => {
  // Proxied bodies pass through untouched, whatever their type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.get('/systems/:id/status', { schema: { summary: 'The status of a system, as its module reports it', tags: ['systems'], params: idParams } }, async (request, reply) =>
    sendJsonText(reply, jsonText(await operationsOf(rt, param(request)).status())),
  );

  app.get(
    '/systems/:id/logs',
    { schema: { summary: "The system's log, oldest line first, as plain text", tags: ['systems'], params: idParams, querystring: querySchema({ since: stringParam('Only lines after this ISO date-time') }) } },
    async (request, reply) => {
      const { since } = request.query as { since?: string };
      const at = since === undefined ? undefined : new Date(since);
      if (at && Number.isNaN(at.getTime())) throw badRequest(`invalid query parameter "since": "${since}" is not an ISO date-time`, 'INVALID_PARAMETER');
      const lines = await operationsOf(rt, param(request)).logs(at);
      return reply.type('text/plain; charset=utf-8').send(lines.map((l) => l + '\n').join(''));
    },
  );

  app.post('/systems/:id/reload', { schema: { summary: "Recreates the system's connections (or process) in the background; answers 202", tags: ['systems'], params: idParams } }, async (request, reply) => {
    const id = param(request);
    const ops = operationsOf(rt, id);
    const refusal = ops.reloadRefusal?.() ?? null;
    if (refusal !== null) throw new ApiError(409, 'RELOAD_NOT_AVAILABLE', refusal);
    void ops.reload().catch((err: Error) => request.log.warn({ system: id, err: err.message }, 'system reload failed'));
    return reply.code(202).type('application/json; charset=utf-8').send(jsonText({ _id: id, message: 'reload queued' }));
  });

  const proxy = async (request: FastifyRequest, reply: FastifyReply) => {
    const id = param(request);
    const rest = (request.params as { '*': string })['*'] ?? '';
    if (/^[a-z][a-z0-9+.-]*:/i.test(rest) || rest.startsWith('/')) throw badRequest('the proxied path must be relative to the system', 'INVALID_PARAMETER');
    const ops = operationsOf(rt, id);
    if (!ops.proxy) throw new ApiError(501, 'NOT_IMPLEMENTED', `system "${id}" has no HTTP interface to proxy to`);
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(request.headers)) if (typeof v === 'string') headers[k] = v;
    const controller = new AbortController();
    reply.raw.once('close', () => controller.abort());
    let res;
    try {
      res = await ops.proxy({ method: request.method, path: rest + query, headers, body: Buffer.isBuffer(request.body) && request.body.length ? request.body : undefined, signal: controller.signal });
    } catch (err) {
      throw new ApiError(502, 'BAD_GATEWAY', (err as Error).message);
    }
    const type = res.headers.get('content-type');
    if (type) reply.type(type);
    return reply.code(res.status).send(Buffer.from(await res.text()));
  };
  for (const method of PROXY_METHODS) {
    app.route({ method, url: '/systems/:id/proxy/*', schema: { summary: `Passes a ${method} request through to the system (with its headers and authentication) and answers its response`, tags: ['systems'] }, handler: proxy });
  }

  const known = (id: string) => {
    if (!systemIds(rt).includes(id)) throw notFound(`no system "${id}"`);
  };
  app.get('/systems/:id/secrets', { schema: { summary: "The names of the system's own secrets (values are never returned)", tags: ['systems'], params: idParams } }, async (request) => {
    const id = param(request);
    known(id);
    return rt.systemSecretNames(id);
  });
  for (const [method, replace] of [
    ['PUT', true],
    ['POST', false],
  ] as const) {
    app.route({
      method,
      url: '/systems/:id/secrets',
      schema: { summary: replace ? "Replaces the system's secrets" : 'Adds or overwrites secrets of the system, keeping the others', tags: ['systems'], params: idParams, consumes: ['application/json'], bodyDescription: 'A JSON object {"name": "value", ...}' },
      handler: async (request) => {
        const id = param(request);
        known(id);
        let parsed: unknown;
        try {
          parsed = JSON.parse(Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '');
        } catch {
          throw badRequest('the body is not valid JSON: send a JSON object of secrets', 'INVALID_JSON');
        }
        const values = secretsBody(parsed);
        return serialised(rt, async () => {
          await rt.setSystemSecrets(id, values, replace);
          request.log.info({ system: id, names: Object.keys(values), replace }, 'system secrets set');
          return rt.systemSecretNames(id);
        });
      },
    });
  }
  app.delete(
    '/systems/:id/secrets/:key',
    { schema: { summary: 'Deletes one secret of the system', tags: ['systems'], params: { type: 'object', properties: { id: { type: 'string' }, key: { type: 'string' } }, required: ['id', 'key'] } } },
    async (request) => {
      const id = param(request);
      const key = param(request, 'key');
      known(id);
      return serialised(rt, async () => {
        if (!(await rt.deleteSystemSecret(id, key))) throw notFound(`system "${id}" has no secret "${key}"`);
        return rt.systemSecretNames(id);
      });
    },
  );
};
