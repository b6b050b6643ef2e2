/**
 * The REST system (`system:rest`): everything of the URL system, plus named `operations`, templated
 * default `headers`, rate limiting of 429 answers, `json_content_types` and `custom_auth`. Its
 * client is shared by the REST sources, sinks and transforms that name it (rest/ holds the parts).
 */
import schema from '../../../schemas/systems/rest.schema.json' with { type: 'json' };
import type { Logger } from 'pino';
import type { ComponentContext } from '../types.js';
import { RestClient } from './rest/client.js';
import { OperationSet } from './rest/operation.js';
import { secretValues, traceSettings, type Tracer } from './rest/trace.js';
import type { ResolvedSystem, SystemContext, SystemSpec } from './spec.js';
import { systemConfigText } from './lookup.js';

const clients = new Map<string, RestClient>();
const MAX_CLIENTS = 200;

function configKey(system: { id: string; config: Record<string, unknown> }): string {
  return `${system.id}\u0000${systemConfigText(system.config)}`;
}

export function restClientForSystem(system: { id: string; config: Record<string, unknown> }, logger?: Logger): RestClient {
  const key = configKey(system);
  let client = clients.get(key);
  if (!client) {
    client = new RestClient(system, logger);
    if (clients.size >= MAX_CLIENTS) clients.delete(clients.keys().next().value as string);
    clients.set(key, client);
  }
  return client;
}

/** The REST client and the operations a component of the pipe in `ctx` can use. */
export function restComponentSetup(ctx: ComponentContext, config: Record<string, unknown>, what: string): { client: RestClient; operations: OperationSet; what: string; tracer: Tracer | null } {
  const at = `pipe "${ctx.pipe.id}": ${what}`;
  const systemId = config.system;
  if (typeof systemId !== 'string' || systemId === '') throw new Error(`${at} needs a "system" (the id of a REST system)`);
  const system = ctx.systems.get(systemId);
  if (!system) throw new Error(`${at} refers to system "${systemId}", which is not defined`);
  if (system.type !== 'system:rest') throw new Error(`${at} needs a REST system (type "system:rest"), but system "${systemId}" has type "${system.type}"`);
  let client: RestClient;
  try {
    client = restClientForSystem(system, ctx.logger);
  } catch (err) {
    throw new Error(`${at}: ${(err as Error).message}`);
  }
  const operations = new OperationSet(client.operations, config, system.config, at);
  if (operations.names().length === 0) throw new Error(`${at}: neither the component nor system "${systemId}" defines "operations"`);
  const settings = traceSettings(config.trace);
  const tracer = settings ? { settings, secrets: secretValues(system.effective, system.config) } : null;
  return { client, operations, what: at, tracer };
}

export const restSystem: SystemSpec<RestClient> = {
  kind: 'system',
  type: 'rest',
  doc: 'A REST service: a URL system (url_pattern, authentication, TLS, proxies, timeouts) with named operations (method, Jinja-templated url, headers, params and payload, paging through next_page_link), templated default headers, retries of 429 answers after Retry-After, json_content_types and custom token authentication.',
  schema,
  create(system: ResolvedSystem, ctx: SystemContext) {
    return restClientForSystem(system, ctx.logger);
  },
};
