/**
 * An OpenAPI 3.1 document built from the routes as they are registered (an onRoute hook collects
 * each route's schema: summary, params, querystring, body description) and the request and
 * response bodies of api-schemas.ts, served at GET /api/openapi.json; an interactive reference
 * (Swagger UI, served from the package's own files) at /api/reference.
 */
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import { COMPONENT_SCHEMAS, OPERATION_DOCS } from './api-schemas.js';

interface CollectedRoute {
  method: string;
  url: string;
  schema: Record<string, unknown>;
}

type JsonSchema = Record<string, unknown>;

export class OpenApiCollector {
  readonly routes: CollectedRoute[] = [];

  /** For `app.addHook('onRoute', collector.onRoute)`. */
  readonly onRoute = (route: RouteOptions): void => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const m of methods) {
      const method = String(m).toLowerCase();
      if (method === 'head') continue;
      this.routes.push({ method, url: route.url, schema: (route.schema ?? {}) as Record<string, unknown> });
    }
  };

  document(info: { title: string; version: string; description?: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    const seen = new Set<string>();
    for (const r of this.routes) {
      if (r.schema.hide === true) continue;
      // `/api` and `/api/` are one path; so are routes registered with and without a trailing slash.
      const path = toOpenApiPath(r.url);
      const key = `${r.method} ${path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      (paths[path] ??= {})[r.method] = operation(r, path);
    }
    const sorted: Record<string, unknown> = {};
    for (const p of Object.keys(paths).sort()) sorted[p] = paths[p];
    return {
      openapi: '3.1.0',
      info,
      servers: [{ url: '/' }],
      components: { schemas: COMPONENT_SCHEMAS, securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
      paths: sorted,
    };
  }
}

function toOpenApiPath(url: string): string {
  let p = url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\/\*$/, '/{rest_of_path}');
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

/** Drops JSON Schema keywords that only identify a schema file. */
function openApiSchema(s: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$id' || k === '$schema') continue;
    out[k] = v && typeof v === 'object' && !Array.isArray(v) ? (k === 'properties' ? Object.fromEntries(Object.entries(v as JsonSchema).map(([pk, pv]) => [pk, openApiSchema(pv as JsonSchema)])) : openApiSchema(v as JsonSchema)) : v;
  }
  return out;
}

function parametersOf(schema: JsonSchema | undefined, where: 'path' | 'query', pathParams: Set<string>): Record<string, unknown>[] {
  const props = (schema?.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema?.required as string[] | undefined) ?? []);
  return Object.entries(props)
    .filter(([name]) => where === 'query' || pathParams.has(name))
    .map(([name, s]) => {
      const { description, ...rest } = s;
      return {
        name,
        in: where,
        required: where === 'path' ? true : required.has(name),
        ...(description ? { description } : {}),
        schema: openApiSchema(rest),
      };
    });
}

function operation(r: CollectedRoute, path: string): Record<string, unknown> {
  const s = r.schema;
  const pathParams = new Set([...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]));
  const parameters = [...parametersOf(s.params as JsonSchema | undefined, 'path', pathParams), ...parametersOf(s.querystring as JsonSchema | undefined, 'query', pathParams)];
  // Path parameters the schema does not describe still have to be declared.
  for (const name of pathParams) if (!parameters.some((p) => p.name === name && p.in === 'path')) parameters.push({ name, in: 'path', required: true, schema: { type: 'string' } });
  const op: Record<string, unknown> = {
    operationId: `${r.method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: (s.summary as string | undefined) ?? `${r.method.toUpperCase()} ${path}`,
    ...(s.description ? { description: s.description } : {}),
    ...(s.tags ? { tags: s.tags } : {}),
    parameters,
    responses: responsesOf(r.method, path),
  };
  if (s.security !== undefined) op.security = s.security;
  const doc = OPERATION_DOCS[`${r.method.toUpperCase()} ${path}`];
  const body = doc?.body ?? (s.consumes as string[] | undefined)?.reduce<Record<string, JsonSchema>>((all, t) => ({ ...all, [t]: {} }), {});
  if (body && ['post', 'put', 'patch'].includes(r.method)) {
    op.requestBody = {
      required: true,
      ...(s.bodyDescription ? { description: s.bodyDescription } : {}),
      content: Object.fromEntries(Object.entries(body).map(([t, schema]) => [t, { schema }])),
    };
  }
  return op;
}

const ERROR = { $ref: '#/components/schemas/Error' };
const ERRORS: Record<string, string> = {
  '400': 'Bad request: a parameter or the body is not valid',
  '401': 'Missing or invalid bearer token (when authentication is configured)',
  '404': 'Unknown pipe, system, dataset, entity or route',
  '409': 'The request conflicts with the state of the node (a running pipe, a tripped circuit breaker, ...)',
  '500': 'Internal error',
};

/** The documented answers of an operation: its own (api-schemas.ts), then the error object for the rest. */
function responsesOf(method: string, path: string): Record<string, unknown> {
  const doc = OPERATION_DOCS[`${method.toUpperCase()} ${path}`];
  const out: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(doc?.responses ?? { '200': {} })) {
    const { description, 'x-content-type': type, ...rest } = schema as JsonSchema & { description?: string; 'x-content-type'?: string };
    const only = Object.keys(rest).length === 0 && description !== undefined;
    out[status] = { description: description ?? (status.startsWith('2') ? 'Success' : ERRORS[status] ?? 'Refused'), ...(only ? {} : { content: { [type ?? 'application/json']: { schema: type ? { type: 'string' } : rest } } }) };
  }
  for (const [status, description] of Object.entries(ERRORS)) if (!(status in out)) out[status] = { description, content: { 'application/json': { schema: ERROR } } };
  return out;
}

/** Whether an operation has its bodies described (the OpenAPI test checks every operation does). */
export function documented(method: string, path: string): boolean {
  return `${method.toUpperCase()} ${path}` in OPERATION_DOCS;
}

export const openApiPlugin: FastifyPluginAsync<{ collector: OpenApiCollector; version: string }> = async (app, opts) => {
  let cached: Record<string, unknown> | null = null;
  const document = () => (cached ??= opts.collector.document({ title: 'Sluice service API', version: opts.version, description: 'Sesam-compatible service API of a Sluice runtime' }));
  app.get('/openapi.json', { schema: { summary: 'This API as an OpenAPI 3.1 document', tags: ['service'] } }, async (_request, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(document())));

  // The interactive reference: static files and an HTML page, readable without a token (the
  // "Authorize" button takes one for the calls made from the page). Swagger UI and its file server
  // load with the first request for it, in an app of their own, so that starting the API does not
  // pay for them.
  const prefix = `${app.prefix}/reference`;
  let reference: Promise<FastifyInstance> | null = null;
  const referenceApp = async (): Promise<FastifyInstance> => {
    const { fastifySwaggerUi } = await import('@fastify/swagger-ui');
    const ui = Fastify({ logger: false });
    // The UI reads the document from `swagger()`, which @fastify/swagger would provide; this
    // document is built here instead, so a plugin of that name provides it.
    const provider = Object.assign(
      async (instance: FastifyInstance) => {
        instance.decorate('swagger', ((o?: { yaml?: boolean }) => (o?.yaml ? JSON.stringify(document()) : document())) as never);
      },
      { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: '@fastify/swagger', [Symbol.for('plugin-meta')]: { name: '@fastify/swagger', fastify: '5.x' } },
    );
    await ui.register(provider);
    await ui.register(fastifySwaggerUi, { routePrefix: prefix, uiConfig: { deepLinking: true, persistAuthorization: true }, staticCSP: true });
    await ui.ready();
    return ui;
  };
  const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date']);
  const serveReference = async (request: FastifyRequest, reply: FastifyReply) => {
    reference ??= referenceApp().catch((err: unknown) => {
      reference = null;
      throw err;
    });
    const ui = await reference;
    const res = await ui.inject({ method: request.method as 'GET' | 'HEAD', url: request.url, headers: request.headers });
    for (const [name, value] of Object.entries(res.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) reply.header(name, value);
    return reply.code(res.statusCode).send(res.rawPayload);
  };
  const hidden = { schema: { hide: true }, config: { public: true } };
  app.get('/reference', hidden, serveReference);
  app.get('/reference/*', hidden, serveReference);
};
