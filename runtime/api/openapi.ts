/**
 * An OpenAPI 3.0 document built from the routes as they are registered (an onRoute hook collects
 * each route's schema: summary, params, querystring, body description), served at
 * GET /api/openapi.json.
 */
import type { FastifyPluginAsync, RouteOptions } from 'fastify';

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
      openapi: '3.0.3',
      info,
      servers: [{ url: '/' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
      paths: sorted,
    };
  }
}

function toOpenApiPath(url: string): string {
  let p = url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

/** Drops JSON Schema keywords OpenAPI 3.0 does not have. */
function openApiSchema(s: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$id' || k === '$schema' || k === 'const') continue;
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
    responses: {
      '200': { description: 'Success' },
      '400': { description: 'Bad request: `{"error": {"code", "message"}}`' },
      '401': { description: 'Missing or invalid bearer token (when authentication is configured)' },
      '404': { description: 'Unknown pipe, system, dataset or route' },
    },
  };
  if (s.security !== undefined) op.security = s.security;
  const body = s.consumes as string[] | undefined;
  if (body && ['post', 'put', 'patch'].includes(r.method)) {
    op.requestBody = {
      required: true,
      ...(s.bodyDescription ? { description: s.bodyDescription } : {}),
      content: Object.fromEntries(body.map((t) => [t, { schema: {} }])),
    };
  }
  return op;
}

export const openApiPlugin: FastifyPluginAsync<{ collector: OpenApiCollector; version: string }> = async (app, opts) => {
  let cached: string | null = null;
  app.get('/openapi.json', { schema: { summary: 'This API as an OpenAPI 3.0 document', tags: ['service'] } }, async (_request, reply) => {
    cached ??= JSON.stringify(opts.collector.document({ title: 'Sluice service API', version: opts.version, description: "Sesam-compatible service API of a Sluice runtime" }));
    return reply.type('application/json; charset=utf-8').send(cached);
  });
};
