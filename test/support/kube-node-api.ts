/** The fake node's access to the API server: plain JSON requests and a list-then-watch informer. */
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';

/* eslint-disable @typescript-eslint/no-explicit-any */
export const FIELD_MANAGER = 'fake-node';
// ---------------------------------------------------------------------------------------------
// Minimal raw API access (plain JSON, no model classes)

export type Json = any;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class Api {
  constructor(readonly kc: KubeConfig) {}

  async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Json> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    const url = new URL(cluster.server + path);
    const opts: RequestOptions = { method, headers: { Accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(opts);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    if (payload) Object.assign(opts.headers!, { 'Content-Type': contentType, 'Content-Length': payload.length });
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { ...opts, timeout: 15_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            try {
              resolve(text ? JSON.parse(text) : undefined);
            } catch (err) {
              reject(err);
            }
          } else reject(new ApiError(status, `${method} ${path}: ${status} ${text.slice(0, 500)}`));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  async getOrNull(path: string): Promise<Json | null> {
    try {
      return await this.request('GET', path);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
  }

  mergePatch(path: string, body: unknown): Promise<Json> {
    return this.request('PATCH', `${path}?fieldManager=${FIELD_MANAGER}`, body, 'application/merge-patch+json');
  }
}

/** List, then watch from the list's resourceVersion; re-list whenever the watch ends or fails. */
export class Informer {
  private abort: AbortController | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly api: Api,
    private readonly path: string,
    private readonly labelSelector: string | undefined,
    private readonly onList: (items: Json[]) => void,
    private readonly onEvent: (type: string, obj: Json) => void,
    private readonly onError: (message: string) => void,
  ) {}

  /** Resolves after the first list and once the watch is established (or failed and is being retried). */
  async start(): Promise<void> {
    await this.run();
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    try {
      const q = this.labelSelector ? `?labelSelector=${encodeURIComponent(this.labelSelector)}` : '';
      const list = await this.api.request('GET', this.path + q);
      if (this.stopped) return;
      this.onList(list.items ?? []);
      let rv: string = list.metadata?.resourceVersion ?? '';
      let restarted = false;
      const restart = (delay: number): void => {
        if (restarted || this.stopped) return;
        restarted = true;
        this.retry = setTimeout(() => void this.run(), delay);
      };
      this.abort = await new Watch(this.api.kc).watch(
        this.path,
        { labelSelector: this.labelSelector, resourceVersion: rv, allowWatchBookmarks: true },
        (type, obj) => {
          if (type === 'ERROR') {
            // 410 Gone (too old resource version) and the like: start over with a fresh list.
            this.abort?.abort();
            restart(100);
            return;
          }
          if (obj?.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
          if (type !== 'BOOKMARK') this.onEvent(type, obj);
        },
        (err) => {
          if (this.stopped) return;
          if (err && (err as Error).name !== 'AbortError') this.onError(`watch ${this.path} ended: ${(err as Error).message ?? err}`);
          restart(err ? 500 : 0);
        },
      );
    } catch (err) {
      if (this.stopped) return;
      this.onError(`list/watch ${this.path} failed: ${(err as Error).message}`);
      this.retry = setTimeout(() => void this.run(), 1000);
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.abort?.abort();
  }
}

