/**
 * Where this process finds the microservices of its config. Addresses come from outside — on
 * Kubernetes the operator gives each runtime pod its microservices' Service addresses in
 * SLUICE_MICROSERVICES; locally the user gives them with `sluice run --microservice id=url` or the
 * same variable — or from a container backend (`sluice run` with a working docker/podman), which
 * runs the images itself. A given address always wins over a container.
 */

/** A microservice reached at an address this process was given. */
export interface GivenAddress {
  url: string;
  /** On Kubernetes: the Deployment and namespace the operator runs it in. */
  deployment?: string;
  namespace?: string;
}

/** What the system module needs of a container backend. */
export interface ContainerBackend {
  /** Why no container can be started here (no working engine), or undefined when it can. */
  readonly unavailable?: string;
  /** The address the container of `id` is (or will be) published at, or null when it cannot run. */
  address(id: string, config: Record<string, unknown>): string | null;
  status(id: string): Promise<Record<string, unknown>>;
  /** The container's log lines (since an ISO time when given). */
  logs(id: string, since?: string): Promise<string>;
  /** Pulls the image again and recreates the container. */
  reload(id: string): Promise<void>;
}

export const MICROSERVICES_ENV = 'SLUICE_MICROSERVICES';

export class MicroserviceError extends Error {
  constructor(
    message: string,
    readonly code: 'MICROSERVICE_NO_ADDRESS' | 'MICROSERVICE_CONFIG' | 'MICROSERVICE_NO_LOGS' | 'MICROSERVICE_ENGINE',
  ) {
    super(message);
  }
}

/** Parses SLUICE_MICROSERVICES: a JSON object of id → URL, or id → { url, deployment, namespace }. */
export function parseGivenAddresses(text: string | undefined): Map<string, GivenAddress> {
  const out = new Map<string, GivenAddress>();
  if (!text || !text.trim()) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new MicroserviceError(`${MICROSERVICES_ENV} is not JSON (expected {"<system id>": "<url>", ...})`, 'MICROSERVICE_CONFIG');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new MicroserviceError(`${MICROSERVICES_ENV} must be a JSON object of system id to URL`, 'MICROSERVICE_CONFIG');
  for (const [id, v] of Object.entries(parsed)) {
    const entry = typeof v === 'string' ? { url: v } : (v as GivenAddress);
    if (!entry || typeof entry.url !== 'string') throw new MicroserviceError(`${MICROSERVICES_ENV}: the entry for "${id}" has no "url"`, 'MICROSERVICE_CONFIG');
    out.set(id, checkedAddress(id, entry));
  }
  return out;
}

function checkedAddress(id: string, entry: GivenAddress): GivenAddress {
  let url: URL;
  try {
    url = new URL(entry.url);
  } catch {
    throw new MicroserviceError(`the address of microservice "${id}" ("${entry.url}") is not a URL`, 'MICROSERVICE_CONFIG');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new MicroserviceError(`the address of microservice "${id}" must be an http or https URL, not "${entry.url}"`, 'MICROSERVICE_CONFIG');
  return { ...entry, url: url.href };
}

export class MicroserviceDirectory {
  private given: Map<string, GivenAddress>;
  private containers: ContainerBackend | null = null;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.given = parseGivenAddresses(env[MICROSERVICES_ENV]);
  }

  /** Points microservice `id` at `url` (`sluice run --microservice id=url`). */
  give(id: string, url: string): void {
    this.given.set(id, checkedAddress(id, { url }));
  }

  givenAddress(id: string): GivenAddress | undefined {
    return this.given.get(id);
  }

  useContainers(backend: ContainerBackend | null): void {
    this.containers = backend;
  }

  get containerBackend(): ContainerBackend | null {
    return this.containers;
  }

  /** The base URL of microservice `id`, or a MicroserviceError saying why there is none and what to do. */
  address(id: string, config: Record<string, unknown>): string {
    const given = this.given.get(id);
    if (given) return given.url;
    const fromContainer = this.containers?.address(id, config);
    if (fromContainer) return fromContainer;
    const port = (config.docker as { port?: number } | undefined)?.port ?? 5000;
    const why = this.containers?.unavailable ?? 'this runtime does not start containers (only `sluice run` does, with docker or podman)';
    throw new MicroserviceError(
      `microservice "${id}" cannot be started: ${why}. Run its image yourself and point the system at it: \`sluice run <config> --microservice ${id}=http://localhost:${port}\` (or ${MICROSERVICES_ENV}='{"${id}": "http://localhost:${port}"}')`,
      'MICROSERVICE_NO_ADDRESS',
    );
  }
}

/** The process's directory (one runtime per process outside tests). */
export const microservices = new MicroserviceDirectory();
