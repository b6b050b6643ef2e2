/** Systems: the system objects (config original and effective, runtime). Config CRUD is in config.ts. */
import type { FastifyPluginAsync } from 'fastify';
import type { SluiceRuntime } from '../service/runtime.js';
import { systemView, systemViews } from '../service/views.js';
import { notFound } from './errors.js';
import { boolParam, idParams, jsonText, param, querySchema, sendJsonText } from './util.js';

export const systemsPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime }> = async (app, { runtime: rt }) => {
  app.get(
    '/systems',
    {
      schema: {
        summary: 'All systems',
        tags: ['systems'],
        querystring: querySchema({ 'include-internal-systems': boolParam('Include system:* systems', false), verbose: boolParam('Accepted for compatibility', false) }),
      },
    },
    async (request, reply) => {
      const q = request.query as { 'include-internal-systems'?: boolean };
      return sendJsonText(reply, jsonText(await systemViews(rt, { includeInternal: q['include-internal-systems'] === true })));
    },
  );

  app.get('/systems/:id', { schema: { summary: 'One system: config.original, config.effective and runtime', tags: ['systems'], params: idParams } }, async (request, reply) => {
    const id = param(request);
    const v = await systemView(rt, id);
    if (!v) throw notFound(`no system "${id}"`);
    return sendJsonText(reply, jsonText(v));
  });
};
