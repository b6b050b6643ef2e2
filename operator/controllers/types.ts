/** The custom resources as the operator reads them. */
import type { KubeObject } from '../kube/rest.js';

export interface InstanceSpec {
  git?: { url: string; ref?: string; path?: string; pollInterval?: string; credentialsSecret?: string };
  env?: Record<string, unknown>;
  secretsSecret?: string;
  store?: { mongodbUriSecret?: { name: string; key?: string } };
  runtime?: { image?: string; replicas?: number; resources?: Record<string, unknown>; jwtSecret?: string };
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export interface InstanceStatus {
  observedGeneration?: number;
  observedRevision?: string;
  lastGoodRevision?: string;
  planHash?: string;
  conditions?: Condition[];
  diagnostics?: { file: string; line: number; column: number; severity: string; code: string; message: string }[];
  pipes?: { id: string; state: string; replica?: number; lastRun?: string; entities?: number; origin?: string }[];
  readyReplicas?: number;
  /** The microservices that run, and whether their Deployment has a ready pod. */
  microservices?: { id: string; deployment: string; image: string; ready: boolean }[];
}

export type SluiceInstance = KubeObject & { spec: InstanceSpec; status?: InstanceStatus };

export interface ComponentStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  pipeId?: string;
  source?: string;
  sink?: string;
  state?: string;
  lastRun?: string;
  entities?: number;
  replica?: number;
  diagnostics?: InstanceStatus['diagnostics'];
}

export type ComponentResource = KubeObject & { spec: Record<string, unknown> & { instance: string; id?: string }; status?: ComponentStatus };

/** Seconds from "90", "90s", "5m" or "1h". */
export function parseDuration(text: string | undefined, fallbackSeconds: number): number {
  if (!text) return fallbackSeconds;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return fallbackSeconds;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : m[2] === 'h' ? n * 3600 : n;
}

/** Sets a condition, keeping its transition time when the status did not change. */
export function setCondition(list: Condition[] | undefined, c: Condition): Condition[] {
  const now = new Date().toISOString();
  const current = (list ?? []).find((x) => x.type === c.type);
  const next = { ...c, lastTransitionTime: current && current.status === c.status ? current.lastTransitionTime : now };
  return [...(list ?? []).filter((x) => x.type !== c.type), next];
}
