/**
 * What the service API offers for microservice systems: `GET /systems/{id}/status` (where it runs
 * and whether it answers; a subset of the container's state under a local container engine),
 * `GET /systems/{id}/logs?since=` (the container's log where the platform gives it) and
 * `POST /systems/{id}/reload` (pull the image again and recreate the container). Generic system
 * routes may take these paths over; they reach microservices through `microserviceFor` and the
 * Microservice's status()/logs()/reload()/urlClient(), so each route is registered here only when
 * no other plugin has it (this plugin is registered after the others).
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { Microservice } from '../components/systems/microservice.js';
import type { SluiceRuntime } from '../service/runtime.js';
import { ApiError, notFound } from './errors.js';
import { idParams, param, querySchema, stringParam } from './util.js';

/** The microservice system `id` of the running config, or null when it is another kind (or absent). */
export function microserviceFor(rt: SluiceRuntime, id: string): Microservice | null {
  const system = rt.plan?.systems.find((s) => s.id === id);
  if (!system || system.type !== 'system:microservice') return null;
  return new Microservice({ id, config: rt.systemsFor({ ...rt.plan!, systems: [system] }).get(id)!.config });
}

function systemOf(rt: SluiceRuntime, id: string) {
  const system = rt.plan?.systems.find((s) => s.id === id);
  if (!system) throw notFound(`no system "${id}"`);
  return system;
}

function isFree(app: FastifyInstance, method: 'GET' | 'POST', url: string): boolean {
  return !app.hasRoute({ method, url });
}

export const microservicesPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime }> = async (app, { runtime: rt }) => {
  if (isFree(app, 'GET', '/api/systems/:id/status')) {
    app.get('/systems/:id/status', { schema: { summary: 'Status of a system: for a microservice, where it runs and whether it answers', tags: ['systems'], params: idParams } }, async (request) => {
      const id = param(request);
      const system = systemOf(rt, id);
      const ms = microserviceFor(rt, id);
      if (!ms) return { id, type: system.type };
      return ms.status();
    });
  }

  if (isFree(app, 'GET', '/api/systems/:id/logs')) {
    app.get(
      '/systems/:id/logs',
      { schema: { summary: "A microservice's log (the last 1000 lines, or those since an ISO time)", tags: ['systems'], params: idParams, querystring: querySchema({ since: stringParam('ISO datetime: lines from this point on') }) } },
      async (request, reply) => {
        const id = param(request);
        const system = systemOf(rt, id);
        const ms = microserviceFor(rt, id);
        if (!ms) throw notFound(`system "${id}" is a ${system.type}; only microservice systems have logs`);
        const since = (request.query as { since?: string }).since;
        if (since !== undefined && Number.isNaN(Date.parse(since))) throw new ApiError(400, 'INVALID_PARAMETER', `invalid query parameter "since": "${since}" is not an ISO datetime`);
        const logs = await ms.logs(since);
        if (!logs.available) throw new ApiError(409, 'LOGS_NOT_AVAILABLE', logs.reason);
        return reply.type('text/plain; charset=utf-8').send(logs.text);
      },
    );
  }

  if (isFree(app, 'POST', '/api/systems/:id/reload')) {
    app.post('/systems/:id/reload', { schema: { summary: "Pull a microservice's image again and recreate it (queued)", tags: ['systems'], params: idParams } }, async (request, reply) => {
      const id = param(request);
      const system = systemOf(rt, id);
      const ms = microserviceFor(rt, id);
      if (!ms) throw notFound(`system "${id}" is a ${system.type}; only microservice systems can be reloaded`);
      const status = await ms.status();
      if (status.platform !== 'container') {
        const outcome = await ms.reload();
        throw new ApiError(409, 'RELOAD_NOT_AVAILABLE', outcome.reason ?? `microservice "${id}" cannot be reloaded here`);
      }
      void ms.reload().catch((err: Error) => request.log.error({ system: id, err: err.message }, 'microservice reload failed'));
      return reply.code(202).send({ id, reload: 'queued' });
    });
  }
};
