/** Environment variables: read, replace all (PUT), merge (POST, PATCH), delete one. The config is recompiled after a change. */
import type { FastifyPluginAsync } from 'fastify';
import type { SluiceRuntime } from '../service/runtime.js';
import { badRequest, notFound } from './errors.js';
import { param, serialised } from './util.js';

function envBody(body: unknown): Record<string, unknown> {
  // The docs also mention a list of variables: a list of objects is merged in order.
  const list = Array.isArray(body) ? body : [body];
  const out: Record<string, unknown> = {};
  for (const item of list) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw badRequest('send a JSON object of environment variables ({"name": value, ...})', 'INVALID_BODY');
    for (const [k, v] of Object.entries(item as Record<string, unknown>)) {
      if (k === '') throw badRequest('environment variable names cannot be empty', 'INVALID_BODY');
      out[k] = v;
    }
  }
  return out;
}

const nameParams = { type: 'object', properties: { name: { type: 'string', description: 'The variable name' } }, required: ['name'] } as const;

export const envPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime }> = async (app, { runtime: rt }) => {
  app.get('/env', { schema: { summary: 'The environment variables', tags: ['env'] } }, async () => rt.env);

  const write = (replace: boolean) => async (request: { body: unknown; log: { info(o: object, m: string): void } }) => {
    const values = envBody(request.body);
    return serialised(rt, async () => {
      await rt.setEnv(values, replace);
      request.log.info({ names: Object.keys(values), replace }, 'environment variables set');
      return rt.env;
    });
  };
  const body = { consumes: ['application/json'], bodyDescription: 'A JSON object {"name": value, ...}' };
  app.put('/env', { schema: { summary: 'Replaces all environment variables', tags: ['env'], ...body } }, write(true));
  app.post('/env', { schema: { summary: 'Adds or overwrites environment variables, keeping the others', tags: ['env'], ...body } }, write(false));
  app.patch('/env', { schema: { summary: 'Adds or overwrites environment variables, keeping the others', tags: ['env'], ...body } }, write(false));

  app.delete('/env/:name', { schema: { summary: 'Deletes one environment variable', tags: ['env'], params: nameParams } }, async (request) => {
    const name = param(request, 'name');
    return serialised(rt, async () => {
      if (!(name in rt.env)) throw notFound(`no environment variable "${name}"`);
      await rt.deleteEnv(name);
      return rt.env;
    });
  });
};
