/**
 * What a plan says about its microservice systems, shared by the operator (Deployments and
 * Services) and `sluice run` (containers): which of them run, their container environment, the
 * registry their image comes from, and the last and next image pulls of their cron schedules.
 */
import { nextCronTime, parseCron } from './cron.js';
import type { ExecutionPlan, PlanSystem } from './types.js';

export interface DockerSettings {
  image: string;
  port: number;
  username?: string | null;
  password?: string | null;
  memory?: number;
  cpu_quota?: number;
  cpu_period?: number;
  cpuset_cpus?: string | null;
  environment?: Record<string, unknown>;
  hosts?: Record<string, string>;
  skip_pull?: boolean;
  pull_image_cron_expression?: string | null;
}

export const MICROSERVICE_TYPE = 'system:microservice';

export function microserviceSystems(plan: ExecutionPlan): PlanSystem[] {
  return plan.systems.filter((s) => s.type === MICROSERVICE_TYPE);
}

/** Whether a microservice runs: a pipe uses it, or eager_load (else global_defaults.eager_load_microservices, default true) says so. */
export function startsEagerly(plan: ExecutionPlan, id: string, config: Record<string, unknown>): boolean {
  if (plan.pipes.some((p) => p.systems.includes(id))) return true;
  if (typeof config.eager_load === 'boolean') return config.eager_load;
  const defaults = (plan.metadata.effective.global_defaults ?? {}) as Record<string, unknown>;
  return defaults.eager_load_microservices !== false;
}

/** Environment values as the container gets them: strings as they are, anything else as JSON text. */
export function containerEnvironment(docker: DockerSettings): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(docker.environment ?? {})) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

/** The registry host of an image name (Docker Hub when the first part is not a host). */
export function registryOf(image: string): string {
  const first = image.split('/')[0];
  return image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

function schedule(expr: string | null | undefined) {
  if (!expr) return null;
  try {
    return parseCron(expr);
  } catch {
    return null;
  }
}

/** The latest time at or before `now` that the cron expression names (within a year), or null. */
export function lastCronTime(expr: string | null | undefined, now: Date): Date | null {
  const s = schedule(expr);
  if (!s) return null;
  // nextCronTime(after) grows with `after`: find the largest `after` whose next time is still <= now.
  let lo = now.getTime() - 366 * 86_400_000;
  let hi = now.getTime();
  const first = nextCronTime(s, new Date(lo));
  if (!first || first.getTime() > hi) return null;
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2);
    const t = nextCronTime(s, new Date(mid));
    if (t && t.getTime() <= now.getTime()) lo = mid;
    else hi = mid;
  }
  return nextCronTime(s, new Date(lo));
}

export function nextPullTime(expr: string | null | undefined, now: Date): Date | null {
  const s = schedule(expr);
  return s ? nextCronTime(s, now) : null;
}
