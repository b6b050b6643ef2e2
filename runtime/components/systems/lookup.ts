/**
 * Finding the system a component names, for system modules whose clients are made per component:
 * the id must name a defined system of the expected type, and errors carry the pipe and component.
 */
import type { ComponentContext } from '../types.js';
import type { ResolvedSystem } from './spec.js';

/** Builds the client of the system `systemId` (of type `type`, e.g. "system:smtp") for a component of the pipe in `ctx`. */
export function systemClientFor<T>(ctx: ComponentContext, systemId: unknown, type: string, kind: string, what: string, make: (system: ResolvedSystem) => T): T {
  const at = `pipe "${ctx.pipe.id}": ${what}`;
  const system = ctx.systems.get(String(systemId));
  if (!system) throw new Error(`${at} refers to system "${String(systemId)}", which is not defined`);
  if (system.type !== type) throw new Error(`${at} needs ${kind} (type "${type}"), but system "${system.id}" has type "${system.type}"`);
  try {
    return make(system);
  } catch (err) {
    throw new Error(`${at}: ${(err as Error).message}`);
  }
}

/** JSON text of a system config (big integers as digits), for cache keys and comparisons. */
export function systemConfigText(config: unknown): string {
  return JSON.stringify(config, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** The first `$SECRET(name)` a system config still holds (a secret that is not set), or null. */
export function unsetSecret(config: Record<string, unknown>): string | null {
  return /\$SECRET\(([^)]*)\)/.exec(systemConfigText(config))?.[1] ?? null;
}

/**
 * Why a request cannot be sent: a secret its system needs is not set. A missing secret fails the
 * first request or connection that needs it, not the pipes that name the system: a pipe that never
 * calls the system (an empty input, an operation without the secret) runs, and the system works
 * once the secret is set.
 */
export function unsetSecretMessage(systemId: string, name: string): string {
  return `system "${systemId}" needs the secret "${name}", which is not set: set it with PUT /api/systems/${systemId}/secrets (the system's own secrets) or PUT /api/secrets (global secrets)`;
}
