/**
 * `POST /api/admin` with a form field `operation`: `restart`, `reset` (wipe the store, then
 * restart) or `load_config`. The work is done before the answer, which is exactly
 * `{"message": "OK"}` (Sesam's client compares it for equality); `node_start_time` in
 * `GET /api/status` has changed by then.
 */
import type { FastifyPluginAsync } from 'fastify';
import { ADMIN_OPERATIONS, adminOperation, type AdminOperation } from '../service/admin.js';
import type { SluiceRuntime } from '../service/runtime.js';
import { badRequest } from './errors.js';
import { serialised } from './util.js';

function field(source: unknown, name: string): string | undefined {
  if (!source || typeof source !== 'object') return undefined;
  const v = (source as Record<string, unknown>)[name];
  const x = Array.isArray(v) ? v[v.length - 1] : v;
  return x === undefined || x === null ? undefined : String(x);
}

export const adminPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime }> = async (app, { runtime: rt }) => {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const out: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(body as string)) out[k] = v;
    done(null, out);
  });

  // The published API description names this operation POST /api; Sesam's client posts to /api/admin.
  for (const path of ['/admin', '/']) {
    app.post(
      path,
      {
        schema: {
          summary: 'Node operations: restart, reset (deletes all data, config, env vars and secrets, then restarts) or load_config; answers {"message": "OK"}',
          tags: ['service'],
          consumes: ['application/x-www-form-urlencoded', 'application/json'],
          bodyDescription: 'operation=restart|reset|load_config',
        },
      },
      async (request, reply) => {
        const op = field(request.body, 'operation') ?? field(request.query, 'operation');
        if (!op || !(ADMIN_OPERATIONS as readonly string[]).includes(op)) {
          throw badRequest(`the body needs an "operation": one of ${ADMIN_OPERATIONS.join(', ')}${op ? ` (not "${op}")` : ''}`, 'INVALID_PARAMETER');
        }
        await serialised(rt, () => adminOperation(rt, op as AdminOperation));
        request.log.info({ operation: op, node_start_time: rt.startedAt.toISOString() }, 'admin operation');
        return reply.type('application/json').send('{"message": "OK"}');
      },
    );
  }
};
