/**
 * A small REST layer over the Kubernetes API, on @kubernetes/client-node's KubeConfig (auth, TLS):
 * get, list, server-side apply (with the operator's field manager), merge patches, status updates,
 * deletes and events. Typed clients do not cover custom resources' subresources and apply patches
 * well, so requests are made directly; watches use client-node's informers (see manager.ts).
 */
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';

export const FIELD_MANAGER = 'sluice-operator';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
    finalizers?: string[];
    deletionTimestamp?: string;
    creationTimestamp?: string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export class KubeError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

/** API path of a resource: core group (`v1`) or a named group. */
export function resourcePath(apiVersion: string, plural: string, namespace?: string, name?: string, sub?: string): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return `${base}${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/${plural}${name ? `/${encodeURIComponent(name)}` : ''}${sub ? `/${sub}` : ''}`;
}

/** Plural resource names of the kinds the operator works with. */
export const PLURALS: Record<string, string> = {
  ConfigMap: 'configmaps',
  Secret: 'secrets',
  Service: 'services',
  Deployment: 'deployments',
  Event: 'events',
  Lease: 'leases',
  SluiceInstance: 'sluiceinstances',
  Pipe: 'pipes',
  System: 'systems',
  Pod: 'pods',
};

export class Kube {
  constructor(readonly kc: KubeConfig) {}

  get server(): string {
    return this.kc.getCurrentCluster()!.server;
  }

  async request<T = unknown>(method: string, path: string, options: { body?: unknown; contentType?: string; query?: Record<string, string> } = {}): Promise<T> {
    const url = new URL(path, this.server);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const opts: RequestOptions = { method, hostname: url.hostname, port: url.port, path: url.pathname + url.search, headers: { Accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(opts);
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    if (body) opts.headers = { ...opts.headers, 'Content-Type': options.contentType ?? 'application/json', 'Content-Length': String(body.length) };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<T>((resolve, reject) => {
      const req = send(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON
          }
          const status = res.statusCode ?? 0;
          if (status >= 400) {
            const message = (parsed as { message?: string } | undefined)?.message ?? text.slice(0, 300);
            reject(new KubeError(status, `${method} ${url.pathname}: ${status} ${message}`, parsed));
          } else resolve(parsed as T);
        });
      });
      req.on('error', reject);
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
      if (body) req.write(body);
      req.end();
    });
  }

  async get<T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<T | null> {
    try {
      return await this.request<T>('GET', resourcePath(apiVersion, PLURALS[kind], namespace, name));
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return null;
      throw err;
    }
  }

  async list<T extends KubeObject>(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<T[]> {
    const r = await this.request<{ items: T[] }>('GET', resourcePath(apiVersion, PLURALS[kind], namespace), { query: labelSelector ? { labelSelector } : {} });
    return (r.items ?? []).map((i) => ({ ...i, apiVersion, kind }));
  }

  /** Server-side apply: the operator owns the fields it sets; `force` takes them back from others (drift). */
  async apply<T extends KubeObject>(obj: KubeObject, subresource?: string): Promise<T> {
    const path = resourcePath(obj.apiVersion, PLURALS[obj.kind], obj.metadata.namespace, obj.metadata.name, subresource);
    return this.request<T>('PATCH', path, { body: obj, contentType: 'application/apply-patch+yaml', query: { fieldManager: FIELD_MANAGER, force: 'true' } });
  }

  /** A full update (PUT): the object becomes exactly this, fields of other managers included. */
  async replace<T extends KubeObject>(obj: KubeObject): Promise<T> {
    const path = resourcePath(obj.apiVersion, PLURALS[obj.kind], obj.metadata.namespace, obj.metadata.name);
    return this.request<T>('PUT', path, { body: obj, query: { fieldManager: FIELD_MANAGER } });
  }

  async mergePatch<T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string, patch: unknown, subresource?: string): Promise<T> {
    return this.request<T>('PATCH', resourcePath(apiVersion, PLURALS[kind], namespace, name, subresource), { body: patch, contentType: 'application/merge-patch+json', query: { fieldManager: FIELD_MANAGER } });
  }

  async delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<boolean> {
    try {
      await this.request('DELETE', resourcePath(apiVersion, PLURALS[kind], namespace, name), { body: { propagationPolicy: 'Background' } });
      return true;
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return false;
      throw err;
    }
  }

  /** Records a Kubernetes Event about an object (shown by kubectl describe). */
  async event(about: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = new Date().toISOString();
    const ns = about.metadata.namespace ?? 'default';
    await this.request('POST', resourcePath('v1', 'events', ns), {
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${about.metadata.name}.`, namespace: ns },
        involvedObject: { apiVersion: about.apiVersion, kind: about.kind, name: about.metadata.name, namespace: ns, uid: about.metadata.uid },
        reason,
        message: message.slice(0, 1000),
        type,
        source: { component: FIELD_MANAGER },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    }).catch(() => undefined);
  }
}
