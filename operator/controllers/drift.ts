/**
 * Drift repair. Server-side apply with `force` takes back every field the operator sets, but keeps
 * what others added (an extra Service port, another container). When the live object does not
 * conform to the desired one after the apply, it is replaced: the desired spec wins whole, while
 * labels and annotations others set, and fields the API server assigns for good (a Service's
 * cluster IPs), are kept.
 */
import { KubeError, type Kube, type KubeObject } from '../kube/rest.js';

/**
 * Whether `live` holds everything `desired` says: objects may have more keys (defaults), lists
 * must match item for item.
 */
export function conforms(live: unknown, desired: unknown): boolean {
  if (Array.isArray(desired)) return Array.isArray(live) && live.length === desired.length && desired.every((d, i) => conforms(live[i], d));
  if (desired !== null && typeof desired === 'object') {
    if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
    return Object.entries(desired).every(([k, v]) => conforms((live as Record<string, unknown>)[k], v));
  }
  return live === desired;
}

/** What the desired object's content is, without metadata (compared separately, as a subset). */
function content(obj: KubeObject): Record<string, unknown> {
  const { metadata: _metadata, status: _status, ...rest } = obj;
  return rest;
}

const KEPT_SERVICE_FIELDS = ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy'];

/** Applies `desired`; replaces the object if hand edits survive the apply. Returns whether it replaced. */
export async function applyAndRepair(kube: Kube, desired: KubeObject): Promise<boolean> {
  let live: KubeObject;
  try {
    live = await kube.apply<KubeObject>(desired);
  } catch (err) {
    // Hand edits can make the merged object invalid (two Service ports named alike): replace it.
    if (!(err instanceof KubeError && err.status === 422)) throw err;
    const current = await kube.get<KubeObject>(desired.apiVersion, desired.kind, desired.metadata.namespace, desired.metadata.name);
    if (!current) throw err;
    await kube.replace(replacementFor(desired, current));
    return true;
  }
  const metadataOk = conforms(live.metadata.labels ?? {}, desired.metadata.labels ?? {}) && conforms(live.metadata.annotations ?? {}, desired.metadata.annotations ?? {});
  if (metadataOk && conforms(content(live), content(desired))) return false;
  await kube.replace(replacementFor(desired, live));
  return true;
}

function replacementFor(desired: KubeObject, live: KubeObject): KubeObject {
  const replacement: KubeObject = {
    ...desired,
    metadata: {
      ...desired.metadata,
      resourceVersion: live.metadata.resourceVersion,
      labels: { ...live.metadata.labels, ...desired.metadata.labels },
      annotations: { ...live.metadata.annotations, ...desired.metadata.annotations },
    },
  };
  if (desired.kind === 'Service') {
    const liveSpec = (live.spec ?? {}) as Record<string, unknown>;
    const spec = { ...(desired.spec as Record<string, unknown>) };
    for (const f of KEPT_SERVICE_FIELDS) if (liveSpec[f] !== undefined) spec[f] = liveSpec[f];
    replacement.spec = spec;
  }
  return replacement;
}
