/**
 * The microservice system. Components reach a microservice exactly as they reach a URL system —
 * the JSON source, HTTP transform and JSON push sink take it through `urlClientFor` — at the base
 * URL the process's microservice directory gives: its Service on Kubernetes, the address the user
 * gave, or the container `sluice run` started. The system object also answers status and logs,
 * for the service API (`/api/systems/{id}/status`, `/logs`, `/reload`) and the generic system
 * routes: `baseUrl()`, `urlClient()`, `status()`, `logs()`, `reload()`.
 */
import schema from '../../../schemas/systems/microservice.schema.json' with { type: 'json' };
import type { Logger } from 'pino';
import { microservices as defaultDirectory, MicroserviceError, type MicroserviceDirectory } from '../../microservices/directory.js';
import type { ResolvedSystem, SystemContext, SystemSpec } from './spec.js';
import { clientForSystem, registerUrlLikeSystem, type UrlClient } from './url.js';

/** The URL-system settings a microservice shares (everything but `docker`, `use_https` and `eager_load`). */
const URL_SETTINGS = ['verify_ssl', 'username', 'password', 'authentication', 'connect_timeout', 'read_timeout', 'retry_strategy'];

export type LogsResult = { available: true; text: string } | { available: false; reason: string };

export class Microservice {
  readonly id: string;
  readonly config: Record<string, unknown>;

  constructor(
    system: { id: string; config: Record<string, unknown> },
    private readonly directory: MicroserviceDirectory = defaultDirectory,
  ) {
    this.id = system.id;
    this.config = system.config;
    const docker = system.config.docker as { image?: unknown; port?: unknown } | undefined;
    if (!docker || typeof docker.image !== 'string' || typeof docker.port !== 'number') throw new MicroserviceError(`system "${this.id}": "docker" needs "image" and "port"`, 'MICROSERVICE_CONFIG');
  }

  /** The address components use, with a trailing slash (relative URLs like "entities" and "/entities" both resolve under it). */
  baseUrl(): string {
    const url = new URL(this.directory.address(this.id, this.config));
    // use_https picks the scheme of addresses this process derives; a given URL keeps its own.
    if (this.config.use_https === true && !this.directory.givenAddress(this.id) && url.protocol === 'http:') url.protocol = 'https:';
    return url.href.endsWith('/') ? url.href : `${url.href}/`;
  }

  /** A URL system's config for the URL client. */
  asUrlSystem(): { id: string; config: Record<string, unknown> } {
    const config: Record<string, unknown> = { base_url: this.baseUrl() };
    for (const k of URL_SETTINGS) if (this.config[k] !== undefined) config[k] = this.config[k];
    return { id: this.id, config };
  }

  urlClient(logger?: Logger): UrlClient {
    return clientForSystem(this.asUrlSystem(), logger);
  }

  /** Where it runs and whether it answers (a subset of the container's state where a container engine runs it). */
  async status(): Promise<Record<string, unknown>> {
    const docker = this.config.docker as { image: string; port: number };
    const given = this.directory.givenAddress(this.id);
    const base = { id: this.id, type: 'system:microservice', image: docker.image, port: docker.port };
    if (!given && this.directory.containerBackend && !this.directory.containerBackend.unavailable) {
      return { ...base, platform: 'container', ...(await this.directory.containerBackend.status(this.id)) };
    }
    let url: string;
    try {
      url = this.baseUrl();
    } catch (err) {
      return { ...base, platform: 'none', running: false, error: (err as Error).message };
    }
    const probe = await reach(url);
    return {
      ...base,
      platform: given?.deployment ? 'kubernetes' : 'external',
      url,
      ...(given?.deployment ? { deployment: given.deployment, namespace: given.namespace } : {}),
      running: probe.reachable,
      ...probe,
    };
  }

  async logs(since?: string): Promise<LogsResult> {
    const given = this.directory.givenAddress(this.id);
    const containers = this.directory.containerBackend;
    if (!given && containers && !containers.unavailable) return { available: true, text: await containers.logs(this.id, since) };
    if (given?.deployment) return { available: false, reason: `microservice "${this.id}" runs on Kubernetes as Deployment ${given.namespace}/${given.deployment}; its logs are the pods' logs: kubectl logs -n ${given.namespace} deployment/${given.deployment}` };
    if (given) return { available: false, reason: `microservice "${this.id}" runs outside Sluice at ${given.url}; its logs are wherever that process writes them` };
    return { available: false, reason: `microservice "${this.id}" is not running: ${containers?.unavailable ?? 'this runtime does not start containers'}` };
  }

  /** Pulls the image again and restarts the container (a local container engine only). */
  /** Why this microservice cannot be reloaded from here (null when it can). */
  reloadRefusal(): string | null {
    const given = this.directory.givenAddress(this.id);
    const containers = this.directory.containerBackend;
    if (!given && containers && !containers.unavailable) return null;
    if (given?.deployment) return `on Kubernetes the operator pulls the image by pull_image_cron_expression; restart it now with: kubectl rollout restart -n ${given.namespace} deployment/${given.deployment}`;
    return given ? `microservice "${this.id}" runs outside Sluice at ${given.url}` : `microservice "${this.id}" is not running`;
  }

  async reload(): Promise<{ reloaded: boolean; reason?: string }> {
    const refusal = this.reloadRefusal();
    if (refusal !== null) return { reloaded: false, reason: refusal };
    await this.directory.containerBackend!.reload(this.id);
    return { reloaded: true };
  }
}

/** Whether anything answers HTTP at `url` (any status counts: the service is up). */
async function reach(url: string): Promise<{ reachable: boolean; http_status?: number; error?: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await res.body?.cancel().catch(() => undefined);
    return { reachable: true, http_status: res.status };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { reachable: false, error: cause?.code ?? cause?.message ?? (err as Error).message };
  }
}

registerUrlLikeSystem('system:microservice', (system) => new Microservice(system).asUrlSystem());

/** An error the API answers with its status (409: the platform cannot do this here). */
function refused(message: string, code: string): Error {
  return Object.assign(new Error(message), { statusCode: 409, code });
}

/** Request headers not passed on to the microservice by the proxy (hop-by-hop, and the caller's own credentials). */
const NOT_PROXIED = new Set(['host', 'connection', 'content-length', 'authorization', 'transfer-encoding', 'keep-alive', 'upgrade', 'cookie']);

/**
 * The system operations of the generic system routes (status, logs, reload, proxy), for a system
 * module's `operations`: logs and reload that the platform cannot give fail with status 409 and
 * the reason; the proxy goes through the microservice's URL client (its login and timeouts).
 */
export function microserviceOperations(system: ResolvedSystem, ctx: SystemContext) {
  const ms = new Microservice(system);
  return {
    status: () => ms.status(),
    reloadRefusal: () => ms.reloadRefusal(),
    async logs(since?: Date): Promise<string[]> {
      const logs = await ms.logs(since?.toISOString());
      if (!logs.available) throw refused(logs.reason, 'LOGS_NOT_AVAILABLE');
      return logs.text.split('\n').filter((l) => l !== '');
    },
    async reload(): Promise<void> {
      const outcome = await ms.reload();
      if (!outcome.reloaded) throw refused(outcome.reason ?? `microservice "${ms.id}" cannot be reloaded here`, 'RELOAD_NOT_AVAILABLE');
    },
    async proxy(req: { method: string; path: string; headers: Record<string, string>; body?: Uint8Array; signal?: AbortSignal }) {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (!NOT_PROXIED.has(k.toLowerCase())) headers[k] = v;
      return ms.urlClient(ctx.logger).request({ method: req.method, url: req.path, headers, body: req.body, signal: req.signal, what: `the proxy of microservice "${ms.id}"`, accept: () => true });
    },
  };
}

/** The system module; `operations` serves the generic system routes (status, logs, reload, proxy). */
export const microserviceSystem: SystemSpec<Microservice> & { operations: typeof microserviceOperations } = {
  kind: 'system',
  type: 'microservice',
  doc: 'An HTTP service run from a container image: a Deployment and a Service owned by the instance on Kubernetes, a docker/podman container under `sluice run`, or a service the user runs and names with `--microservice id=url`. The JSON source, HTTP transform and JSON push sink use it like a URL system; the API gives its status and logs.',
  schema,
  create(system: ResolvedSystem, _ctx: SystemContext) {
    return new Microservice(system);
  },
  operations: microserviceOperations,
};
