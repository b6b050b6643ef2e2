/** Secrets: names only are ever returned. PUT replaces all, POST adds; the config is recompiled after a change. */
import type { FastifyPluginAsync } from 'fastify';
import type { SluiceRuntime } from '../service/runtime.js';
import { badRequest, notFound } from './errors.js';
import { boolParam, param, querySchema, serialised } from './util.js';

function secretsBody(body: unknown): Record<string, string> {
  // The security docs also allow a list of such objects.
  const list = Array.isArray(body) ? body : [body];
  const out: Record<string, string> = {};
  for (const item of list) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw badRequest('send a JSON object of secrets ({"name": "value", ...})', 'INVALID_BODY');
    for (const [k, v] of Object.entries(item as Record<string, unknown>)) {
      if (k === '') throw badRequest('secret names cannot be empty', 'INVALID_BODY');
      if (typeof v !== 'string') throw badRequest(`the value of secret "${k}" must be a string`, 'INVALID_BODY');
      out[k] = v;
    }
  }
  return out;
}

const keyParams = { type: 'object', properties: { key: { type: 'string', description: 'The secret name' } }, required: ['key'] } as const;
const encryptQuery = querySchema({ encrypt: boolParam('Accepted for compatibility; secrets are always kept out of API answers', true) });

export const secretsPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime }> = async (app, { runtime: rt }) => {
  app.get('/secrets', { schema: { summary: 'The names of the secrets (values are never returned)', tags: ['secrets'], querystring: querySchema({ 'include-internal-secrets': boolParam('Accepted for compatibility', false) }) } }, async () => rt.secretNames());

  const write = (replace: boolean) => async (request: { body: unknown; log: { info(o: object, m: string): void } }) => {
    const values = secretsBody(request.body);
    return serialised(rt, async () => {
      await rt.setSecrets(values, replace);
      request.log.info({ names: Object.keys(values), replace }, 'secrets set');
      return rt.secretNames();
    });
  };
  const body = { querystring: encryptQuery, consumes: ['application/json'], bodyDescription: 'A JSON object {"name": "value", ...}' };
  app.put('/secrets', { schema: { summary: 'Replaces all secrets', tags: ['secrets'], ...body } }, write(true));
  app.post('/secrets', { schema: { summary: 'Adds or overwrites secrets, keeping the others', tags: ['secrets'], ...body } }, write(false));

  app.delete('/secrets/:key', { schema: { summary: 'Deletes one secret', tags: ['secrets'], params: keyParams } }, async (request) => {
    const key = param(request, 'key');
    return serialised(rt, async () => {
      if (!(await rt.deleteSecret(key))) throw notFound(`no secret "${key}"`);
      return rt.secretNames();
    });
  });
};
