/**
 * The service API: a fastify app over a SluiceRuntime, compatible with Sesam's service API (port
 * 9042, every path under /api). One plugin per resource; handlers stay thin and call the runtime
 * and the views in runtime/service. Errors answer `{"error": {"code", "message"}}`.
 */
import type { Ajv, ValidateFunction } from 'ajv';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { COMPILER_VERSION } from '../../compiler/version.js';
import { PumpError } from '../pump/pump.js';
import { isDiskFull, storeErrorOf } from '../store/errors.js';
import { redactSecrets } from '../security/redaction.js';
import { PreviewError } from '../service/preview.js';
import type { SluiceRuntime } from '../service/runtime.js';
import { AuthError, makeVerifier, userFromPayload, type AuthOptions } from './auth.js';
import { adminPlugin } from './admin.js';
import { utf8Text } from './bodies.js';
import { DEFAULT_ZIP_LIMITS, type ZipLimits } from './safe-unzip.js';
import { configPlugin } from './config.js';
import { configGroupsPlugin } from './config-groups.js';
import { metadataPlugin } from './metadata.js';
import { modelsPlugin } from './models.js';
import { datasetOpsPlugin } from './dataset-ops.js';
import { systemOpsPlugin } from './system-ops.js';
import { webhooksPlugin } from './webhooks.js';
import { excelPlugin } from './excel.js';
import { datasetsPlugin } from './datasets.js';
import { envPlugin } from './env.js';
import { ApiError, codeFor, unsupportedMediaType } from './errors.js';
import { createMetrics, metricsPlugin } from './metrics.js';
import { OpenApiCollector, openApiPlugin } from './openapi.js';
import { pipesPlugin } from './pipes.js';
import { pumpsPlugin } from './pumps.js';
import { receiversPlugin } from './receivers.js';
import { runnerPlugin } from './runner.js';
import { secretsPlugin } from './secrets.js';
import { servicePlugin } from './service.js';
import { studioPlugin } from './studio.js';
import { studioSupportPlugin } from './studio-support.js';
import { systemsPlugin } from './systems.js';
import { jsonText, normaliseBooleanQuery } from './util.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable without a token when authentication is on (health, ping). */
    public?: boolean;
  }
  interface FastifyRequest {
    /** The user named by the bearer token, if any. */
    sluiceUser?: string;
  }
}

export interface ApiOptions {
  /** A pino logger, true (fastify's own pino logger), false (no logs); default: a child of the runtime's logger. */
  logger?: Logger | boolean;
  /** Bearer-token authentication; without a secret or key the API is open. */
  auth?: AuthOptions;
  /** Largest request body in bytes (config zips, entity posts). Default 256 MiB. */
  bodyLimit?: number;
  /** Node.js process metrics on /metrics (memory, event loop); default false (startApi turns them on). */
  processMetrics?: boolean;
  /** Limits of config zip uploads (inflated size, entries, compression ratio); defaults in safe-unzip.ts. */
  zipLimits?: Partial<ZipLimits>;
}

export interface StartOptions extends ApiOptions {
  port?: number;
  host?: string;
}

export const DEFAULT_PORT = 9042;

/**
 * Route schemas are compiled when their route is first called rather than all at start: generating
 * the validators of every route took most of the API's start-up, and most routes are rarely called.
 */
function compileOnFirstUse(ajv: Ajv): void {
  const compile = ajv.compile.bind(ajv);
  ajv.compile = ((schema: object) => {
    let compiled: ValidateFunction | undefined;
    const validate = ((data: unknown) => {
      compiled ??= compile(schema);
      const ok = compiled(data);
      validate.errors = compiled.errors;
      return ok;
    }) as ValidateFunction;
    return validate;
  }) as Ajv['compile'];
}

function describeValidation(err: FastifyError): string {
  const v = err.validation?.[0];
  if (!v) return err.message;
  const where = err.validationContext === 'querystring' ? 'query parameter' : err.validationContext === 'params' ? 'path parameter' : String(err.validationContext ?? 'parameter');
  const missing = (v.params as { missingProperty?: string } | undefined)?.missingProperty;
  const name = missing ?? v.instancePath.replace(/^\//, '').replace(/\/.*$/, '');
  const allowed = (v.params as { allowedValues?: unknown[] } | undefined)?.allowedValues;
  return `invalid ${where} "${name}": ${missing ? 'is required' : v.message}${allowed ? ` (${allowed.map(String).join(', ')})` : ''}`;
}

export async function buildApi(runtime: SluiceRuntime, options: ApiOptions = {}): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? 256 * 1024 * 1024;
  const logger = options.logger;
  const app = Fastify({
    ...(logger === undefined ? { loggerInstance: runtime.logger.child({ component: 'api' }) } : typeof logger === 'boolean' ? { logger } : { loggerInstance: logger.child({ component: 'api' }) }),
    bodyLimit,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    // The route schemas are ours and fixed: checking them against JSON Schema's meta-schema would compile
    // that meta-schema at the first request, which cost more than the route's own validator.
    ajv: { customOptions: { coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: false, validateSchema: false }, onCreate: compileOnFirstUse },
  }) as unknown as FastifyInstance;

  const collector = new OpenApiCollector();
  app.addHook('onRoute', collector.onRoute);
  app.setReplySerializer((payload) => jsonText(payload));
  // JSON bodies as fastify parses them (prototype poisoning refused), but an empty body is no body
  // (clients send a JSON content type on DELETE requests too), and the text must be UTF-8.
  const parseJson = app.getDefaultJsonParser('error', 'ignore');
  // No route takes plain text: a text/plain body (which a browser form can send anywhere) is refused.
  app.removeContentTypeParser('text/plain');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = utf8Text(body as Buffer);
    } catch (err) {
      return done(err as Error);
    }
    if (text.trim() === '') return done(null, undefined);
    parseJson(request, text, done);
  });

  // ------------------------------------------------------------------ errors

  app.setErrorHandler((err: FastifyError | Error, request, reply) => {
    let status: number;
    let code: string;
    let message = err.message;
    let extra: Record<string, unknown> | undefined;
    if (err instanceof ApiError) {
      ({ statusCode: status, code, extra } = err);
    } else if (err instanceof AuthError) {
      status = 401;
      code = 'UNAUTHORIZED';
      reply.header('www-authenticate', 'Bearer');
    } else if (err instanceof PumpError) {
      status = err.status;
      code = codeFor(status);
    } else if (err instanceof PreviewError) {
      status = err.status;
      code = codeFor(status);
    } else if (isDiskFull(err)) {
      status = 507;
      code = 'INSUFFICIENT_STORAGE';
      message = (storeErrorOf(err, 'the data directory') as Error).message;
    } else {
      const fe = err as FastifyError;
      status = fe.statusCode && fe.statusCode >= 400 ? fe.statusCode : 500;
      code = fe.validation ? 'INVALID_PARAMETER' : codeFor(status, fe.code);
      if (fe.validation) message = describeValidation(fe);
      if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') message = unsupportedMediaType(request.headers['content-type']).message;
    }
    if (status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ status, code, message }, 'request refused');
    if (status >= 500 && status !== 507 && !(err instanceof ApiError)) message = `internal error: ${err.message}`;
    message = redactSecrets(message);
    return reply.code(status).type('application/json; charset=utf-8').send(jsonText({ ...extra, error: { code, message } }));
  });

  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).type('application/json; charset=utf-8').send(jsonText({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } }));
  });

  // ------------------------------------------------------------------ authentication

  const verify = makeVerifier(options.auth);
  if (verify) {
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.config?.public === true) return;
      const payload = await verify(request.headers.authorization);
      request.sluiceUser = userFromPayload(payload);
    });
  }

  app.addHook('preValidation', normaliseBooleanQuery);

  // ------------------------------------------------------------------ metrics

  const metrics = createMetrics(runtime, { processMetrics: options.processMetrics });
  app.addHook('onResponse', metrics.onResponse);
  app.addHook('onClose', async () => metrics.close());
  await app.register(metricsPlugin, { metrics });

  // ------------------------------------------------------------------ resources under /api

  await app.register(
    async (api) => {
      await api.register(servicePlugin, { runtime });
      const zipLimits = { ...DEFAULT_ZIP_LIMITS, ...options.zipLimits };
      await api.register(configPlugin, { runtime, bodyLimit, zipLimits });
      await api.register(configGroupsPlugin, { runtime, bodyLimit, zipLimits });
      await api.register(metadataPlugin, { runtime, bodyLimit, zipLimits });
      await api.register(runnerPlugin, { runtime });
      await api.register(pipesPlugin, { runtime });
      await api.register(pumpsPlugin, { runtime });
      await api.register(webhooksPlugin, { runtime });
      await api.register(datasetsPlugin, { runtime });
      await api.register(datasetOpsPlugin, { runtime });
      await api.register(modelsPlugin, { runtime });
      await api.register(receiversPlugin, { runtime, bodyLimit });
      await api.register(excelPlugin, { runtime });
      await api.register(systemsPlugin, { runtime });
      await api.register(systemOpsPlugin, { runtime });
      await api.register(envPlugin, { runtime });
      await api.register(secretsPlugin, { runtime });
      await api.register(adminPlugin, { runtime });
      await api.register(studioSupportPlugin, { runtime });
      await api.register(openApiPlugin, { collector, version: COMPILER_VERSION });
    },
    { prefix: '/api' },
  );
  await app.register(studioPlugin, { verify });

  await app.ready();
  return app;
}

/** Builds the API and listens (default port 9042 on the loopback interface). */
export async function startApi(runtime: SluiceRuntime, options: StartOptions = {}): Promise<FastifyInstance> {
  const { port = DEFAULT_PORT, host = '127.0.0.1', ...rest } = options;
  const app = await buildApi(runtime, { processMetrics: true, ...rest });
  await app.listen({ port, host });
  return app;
}
