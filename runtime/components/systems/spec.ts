/**
 * The contract of a system module. types.ts has no system spec yet (its ComponentSpec creates from a
 * pipe component); a system is built from the system's effective config instead, and what it
 * creates is a client that the sources, sinks and transforms naming the system share.
 */
import type { Logger } from 'pino';
import type { ExecutionPlan, PlanSystem } from '../../../compiler/plan/types.js';
import type { SystemOperations } from './operations.js';

/** A system as components get it: the plan entry plus its config with `$SECRET(...)` substituted. */
export type ResolvedSystem = PlanSystem & { config: Record<string, unknown> };

export interface SystemContext {
  logger: Logger;
  plan?: ExecutionPlan;
}

export interface SystemSpec<T> {
  kind: 'system';
  /** The type without the `system:` prefix, as in the schema file name. */
  type: string;
  /** One paragraph for `sluice docs` and the API. */
  doc: string;
  schema: Record<string, unknown>;
  create(system: ResolvedSystem, ctx: SystemContext): T;
  /** What the API's system endpoints (status, logs, reload, proxy) reach; see operations.ts. */
  operations?(system: ResolvedSystem, ctx: SystemContext): SystemOperations;
}
