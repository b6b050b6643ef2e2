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

/** The first `$SECRET(name)` a system config still holds (a secret that is not set), or null. */
export function unsetSecret(config: Record<string, unknown>): string | null {
  return /\$SECRET\(([^)]*)\)/.exec(JSON.stringify(config, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))?.[1] ?? null;
}

export function unsetSecretMessage(systemId: string, name: string): string {
  return `the secret "${name}" is not set (set it with PUT /api/systems/${systemId}/secrets or as a global secret)`;
}
