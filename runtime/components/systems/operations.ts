/**
 * What the service API can do with a system (GET /api/systems/{id}/status and /logs,
 * POST /api/systems/{id}/reload, /api/systems/{id}/proxy/...). Any system module can offer these by
 * giving its SystemSpec an `operations` function; a module that runs a process (a microservice)
 * answers with that process's status and log, a module that only reaches a server (a URL system)
 * with its client's. URL systems proxy through their client, so proxied requests carry the
 * system's headers and authentication.
 */
import type { Logger } from 'pino';
import { clientForSystem, forgetClients, type UrlResponse } from './url.js';
import { withoutUserinfo } from './http-auth.js';
import type { ResolvedSystem, SystemContext } from './spec.js';

export interface ProxyRequest {
  method: string;
  /** The path after `/proxy/`, with the query string. */
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  signal?: AbortSignal;
}

export interface SystemOperations {
  /** A JSON status document (what the system is, whether it is up). */
  status(): Promise<Record<string, unknown>>;
  /** Log lines, oldest first; `since` is an ISO date-time. */
  logs(since?: Date): Promise<string[]>;
  /** Recreates the system's connections (or process). */
  reload(): Promise<void>;
  /** Why `reload` cannot be done at all here (answered at once, before the reload is queued); null or absent when it can. */
  reloadRefusal?(): string | null;
  /** Passes a request through to the system; absent when it has no HTTP interface. */
  proxy?(req: ProxyRequest): Promise<UrlResponse>;
}

interface Activity {
  at: Date;
  line: string;
}

/** What the API did through each URL system, kept for its status and log (most recent 1000 lines). */
const activity = new Map<string, Activity[]>();
const MAX_LINES = 1000;

function record(systemId: string, line: string): void {
  let lines = activity.get(systemId);
  if (!lines) activity.set(systemId, (lines = []));
  lines.push({ at: new Date(), line });
  if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
}

/** The system's base URL as shown in its status: without user info (credentials). */
function baseUrlOf(config: Record<string, unknown>): string | null {
  if (typeof config.url_pattern === 'string') return withoutUserinfo(config.url_pattern).url.split('%s')[0];
  return typeof config.base_url === 'string' ? withoutUserinfo(config.base_url).url : null;
}

/** Hop-by-hop and origin headers that must not be passed on. */
const DROPPED = new Set(['host', 'connection', 'content-length', 'authorization', 'transfer-encoding', 'keep-alive', 'upgrade', 'cookie']);

export function urlSystemOperations(system: ResolvedSystem, ctx: SystemContext): SystemOperations {
  const logger: Logger = ctx.logger;
  return {
    async status() {
      const lines = activity.get(system.id) ?? [];
      const last = lines[lines.length - 1];
      return { _id: system.id, type: system.type, state: 'ready', 'base-url': baseUrlOf(system.config), requests: lines.filter((l) => l.line.startsWith('proxy ')).length, 'last-activity': last ? last.at.toISOString() : null, 'last-message': last?.line ?? null };
    },
    async logs(since) {
      return (activity.get(system.id) ?? []).filter((l) => !since || l.at > since).map((l) => `${l.at.toISOString()} ${l.line}`);
    },
    async reload() {
      const n = await forgetClients(system.id);
      record(system.id, `reload: ${n} client${n === 1 ? '' : 's'} closed; the next request connects again`);
      logger.info({ system: system.id }, 'system reloaded');
    },
    async proxy(req) {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (!DROPPED.has(k.toLowerCase())) headers[k] = v;
      const started = Date.now();
      try {
        const res = await clientForSystem(system, logger).request({ method: req.method, url: req.path, headers, body: req.body, signal: req.signal, what: `the proxy of system "${system.id}"`, accept: () => true });
        record(system.id, `proxy ${req.method} /${req.path.split('?')[0]} -> ${res.status} (${Date.now() - started} ms)`);
        return res;
      } catch (err) {
        record(system.id, `proxy ${req.method} /${req.path.split('?')[0]} failed: ${(err as Error).message}`);
        throw err;
      }
    },
  };
}
