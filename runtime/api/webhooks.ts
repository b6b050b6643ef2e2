/**
 * Webhooks between nodes. A pipe has a webhook (POST /api/pipes/{id}/webhook with
 * `{"token": "..."}`) that schedules a run of its pump; a token other than the pipe's answers 404,
 * which tells the sender to forget the webhook. GET /api/pipes/{id}/webhook tells the pipe's token.
 * The other side: `OPTIONS /api/datasets/{id}/entities?webhook=<url>&token=<token>` registers a
 * webhook that this node POSTs `{"token"}` to whenever the dataset gets new versions.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { SluiceRuntime } from '../service/runtime.js';
import { webhookTokenDocument } from '../service/pipe-cleanup.js';
import { pipeExists } from '../service/views.js';
import { badRequest, notFound } from './errors.js';
import { idParams, jsonText, param, querySchema, sendJsonText, stringParam } from './util.js';

const tokenKey = webhookTokenDocument;
const subscribersKey = (dataset: string) => `webhooks:${dataset}`;

interface Subscriber {
  url: string;
  token: string;
}

/** The pipe's webhook token, made on first use. */
export async function pipeWebhookToken(rt: SluiceRuntime, pipe: string): Promise<string> {
  const existing = await rt.store.getMeta<string>(tokenKey(pipe));
  if (existing) return existing;
  const token = randomBytes(24).toString('base64url');
  await rt.store.setMeta(tokenKey(pipe), token);
  return token;
}

const notifying = new WeakSet<SluiceRuntime>();

/** POSTs `{"token"}` to the webhooks registered on a changed dataset; a 404 unregisters one. */
function notifySubscribers(rt: SluiceRuntime): void {
  if (notifying.has(rt)) return;
  notifying.add(rt);
  rt.on('dataset-changed', (dataset: string) => {
    void (async () => {
      const subs = (await rt.store.getMeta<Subscriber[]>(subscribersKey(dataset))) ?? [];
      for (const s of subs) {
        try {
          const res = await fetch(s.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: s.token }), signal: AbortSignal.timeout(10_000) });
          await res.body?.cancel();
          if (res.status === 404) {
            const now = (await rt.store.getMeta<Subscriber[]>(subscribersKey(dataset))) ?? [];
            await rt.store.setMeta(
              subscribersKey(dataset),
              now.filter((x) => x.url !== s.url),
            );
          }
        } catch (err) {
          rt.logger.warn({ dataset, webhook: s.url.split('?')[0], err: (err as Error).message }, 'a dataset webhook did not answer');
        }
      }
    })();
  });
}

export const webhooksPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime }> = async (app, { runtime: rt }) => {
  notifySubscribers(rt);

  app.post(
    '/pipes/:id/webhook',
    {
      schema: {
        summary: 'Schedules a run of the pipe when the token is the pipe\'s; 404 for an unknown pipe or token (the sender then forgets the webhook)',
        tags: ['pipes'],
        params: idParams,
        consumes: ['application/json'],
        bodyDescription: '{"token": "<the pipe\'s webhook token>"}',
      },
    },
    async (request, reply) => {
      const id = param(request);
      const body = request.body as { token?: unknown } | undefined;
      if (!body || typeof body !== 'object' || Array.isArray(body) || typeof body.token !== 'string') throw badRequest('send {"token": "..."}', 'INVALID_BODY');
      const pump = rt.pump(id);
      if (!pump || body.token !== (await rt.store.getMeta<string>(tokenKey(id)))) throw notFound(`unknown webhook or pipe "${id}"`);
      pump.signal();
      request.log.info({ pipe: id }, 'webhook: pipe run scheduled');
      return sendJsonText(reply, jsonText({ _id: id, status: 'scheduled' }));
    },
  );

  app.get('/pipes/:id/webhook', { schema: { summary: "The pipe's webhook: its path and token, to register with an upstream node", tags: ['pipes'], params: idParams } }, async (request, reply) => {
    const id = param(request);
    if (!pipeExists(rt, id)) throw notFound(`no pipe "${id}"`);
    return sendJsonText(reply, jsonText({ _id: id, path: `/api/pipes/${encodeURIComponent(id)}/webhook`, token: await pipeWebhookToken(rt, id) }));
  });

  app.options(
    '/datasets/:id/entities',
    {
      schema: {
        summary: 'Registers a webhook that is POSTed {"token"} whenever the dataset gets new versions',
        tags: ['datasets'],
        params: idParams,
        querystring: querySchema({ webhook: stringParam('The URL to POST to'), token: stringParam('The token to send (required with webhook)') }),
      },
    },
    async (request, reply) => {
      const dataset = param(request);
      const q = request.query as { webhook?: string; token?: string };
      if (q.webhook !== undefined) {
        if (!q.token) throw badRequest('the query parameter "token" is required with "webhook"', 'INVALID_PARAMETER');
        if (!/^https?:\/\//i.test(q.webhook)) throw badRequest('the webhook must be an http(s) URL', 'INVALID_PARAMETER');
        const subs = ((await rt.store.getMeta<Subscriber[]>(subscribersKey(dataset))) ?? []).filter((s) => s.url !== q.webhook);
        await rt.store.setMeta(subscribersKey(dataset), [...subs, { url: q.webhook, token: q.token }]);
      }
      return reply.header('allow', 'GET, POST, OPTIONS').type('text/plain; charset=utf-8').send('');
    },
  );
};
