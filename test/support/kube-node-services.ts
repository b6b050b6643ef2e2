/**
 * Services for the fake node (test/support/kube-node.ts): the test API server runs no kube-proxy
 * and no cluster DNS, so each Service port a process is told about gets a local TCP listener that
 * forwards every connection to a ready process of a Deployment whose pod labels match the
 * Service's selector (round robin), the way a ClusterIP does. A Service's DNS name in a process's
 * environment or arguments (`<service>.<namespace>.svc[.cluster.local]:<port>`, or
 * `<service>.<namespace>:<port>`) is replaced by that listener's 127.0.0.1 address, the way the
 * fake node already maps container paths and ports.
 */
import net from 'node:net';
import { Informer, type Api, type Json } from './kube-node-api.js';

/** Ready processes' ports for pods labelled to match `selector` in `namespace`. */
export type Endpoints = (namespace: string, selector: Record<string, string>) => number[];

interface Proxy {
  server: net.Server;
  port: number;
  next: number;
}

export class FakeServices {
  private readonly services = new Map<string, Json>();
  private readonly proxies = new Map<string, Promise<Proxy>>();
  private informer: Informer | undefined;

  constructor(
    private readonly api: Api,
    private readonly namespace: string | undefined,
    private readonly endpoints: Endpoints,
    private readonly note: (message: string) => void,
  ) {}

  async start(): Promise<void> {
    const path = this.namespace ? `/api/v1/namespaces/${this.namespace}/services` : '/api/v1/services';
    const key = (s: Json) => `${s.metadata.namespace}/${s.metadata.name}`;
    this.informer = new Informer(
      this.api,
      path,
      undefined,
      (items) => {
        this.services.clear();
        for (const s of items) this.services.set(key(s), s);
      },
      (type, s) => (type === 'DELETED' ? this.services.delete(key(s)) : this.services.set(key(s), s)),
      (msg) => this.note(msg),
    );
    await this.informer.start();
  }

  /** The local port standing in for `<name>.<namespace>:<port>` (made on first use; a Service created later is found then). */
  localPort(namespace: string, name: string, port: number): Promise<Proxy> {
    const key = `${namespace}/${name}:${port}`;
    let p = this.proxies.get(key);
    if (!p) {
      p = new Promise<Proxy>((resolve, reject) => {
        const proxy: Proxy = { server: net.createServer((socket) => this.forward(proxy, namespace, name, port, socket)), port: 0, next: 0 };
        proxy.server.once('error', reject);
        proxy.server.listen(0, '127.0.0.1', () => {
          proxy.port = (proxy.server.address() as net.AddressInfo).port;
          resolve(proxy);
        });
      });
      this.proxies.set(key, p);
    }
    return p;
  }

  private forward(proxy: Proxy, namespace: string, name: string, port: number, socket: net.Socket): void {
    const svc = this.services.get(`${namespace}/${name}`);
    const servicePort = (svc?.spec?.ports ?? []).find((p: Json) => p.port === port);
    const targets = svc && servicePort ? this.endpoints(namespace, svc.spec.selector ?? {}) : [];
    if (!targets.length) {
      // No Service, no such port or no ready pod: the connection is reset, as by a ClusterIP without
      // endpoints (a plain close would make HTTP clients retry on new connections without end).
      socket.resetAndDestroy();
      return;
    }
    const target = targets[proxy.next++ % targets.length];
    const upstream = net.connect(target, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  }

  /** Replaces Service DNS names with their local listeners' addresses. */
  async mapAddresses(text: string, defaultNamespace: string): Promise<string> {
    const pattern = /\b([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.svc(\.cluster\.local)?)?:(\d+)\b/g;
    const found = [...text.matchAll(pattern)].filter((m) => m[5] !== undefined || this.services.has(`${m[3]}/${m[1]}`));
    let out = text;
    for (const m of found.reverse()) {
      const proxy = await this.localPort(m[3] ?? defaultNamespace, m[1], Number(m[7]));
      out = out.slice(0, m.index) + `127.0.0.1:${proxy.port}` + out.slice(m.index! + m[0].length);
    }
    return out;
  }

  async stop(): Promise<void> {
    this.informer?.stop();
    for (const p of this.proxies.values()) {
      const proxy = await p.catch(() => undefined);
      proxy?.server.close();
    }
    this.proxies.clear();
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` (a tcpSocket readiness probe). */
export function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.setTimeout(1000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
  });
}
