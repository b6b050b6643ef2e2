/**
 * Connections for URL systems: an undici Agent per system (a keep-alive connection pool per
 * origin, TLS settings, timeouts, optional pipelining) and, when the system has `proxies`, a
 * connector that tunnels through HTTP(S) proxies (CONNECT) or SOCKS5 proxies.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { ConnectError } from './connect-error.js';

export interface AgentOptions {
  connectTimeoutMs: number;
  readTimeoutMs: number;
  rejectUnauthorized: boolean;
  ca?: string;
  proxies?: Record<string, string>;
  /** Requests sent on a connection before the answer to the first came (1: none). */
  pipelining?: number;
  /** Connections per origin (undefined: as many as requests under way). */
  connections?: number;
}

/** The proxy URL for a request, requests-style: `scheme://host` keys win over `scheme` and `all`. */
export function proxyFor(proxies: Record<string, string>, protocol: string, hostname: string): string | undefined {
  const scheme = protocol.replace(/:$/, '');
  for (const key of [`${scheme}://${hostname}`, `all://${hostname}`, scheme, 'all']) {
    const v = proxies[key];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

type ConnectOptions = buildConnector.Options;
type Callback = buildConnector.Callback;

function defaultPort(protocol: string): number {
  return protocol === 'https:' ? 443 : 80;
}

/** Reads from `socket` until `done` says the reply is complete; resolves with the bytes read. */
function readReply(socket: net.Socket, done: (buf: Buffer) => number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const n = done(buf);
      if (n > 0) {
        cleanup();
        if (buf.length > n) socket.unshift(buf.subarray(n));
        resolve(buf.subarray(0, n));
      }
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(new ConnectError('the proxy closed the connection during the handshake', 'PROXY_CLOSED'));
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
  });
}

function tcp(host: string, port: number, secure: boolean, tlsOptions: tls.ConnectionOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = secure ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...tlsOptions }) : net.connect({ host, port });
    s.once(secure ? 'secureConnect' : 'connect', () => {
      s.removeListener('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

async function socks5(proxy: URL, host: string, port: number, tlsOptions: tls.ConnectionOptions): Promise<net.Socket> {
  const s = await tcp(proxy.hostname.replace(/^\[|\]$/g, ''), Number(proxy.port || 1080), false, tlsOptions);
  try {
    const user = decodeURIComponent(proxy.username);
    const pass = decodeURIComponent(proxy.password);
    s.write(Buffer.from(user ? [5, 2, 0, 2] : [5, 1, 0]));
    const greet = await readReply(s, (b) => (b.length >= 2 ? 2 : 0));
    if (greet[0] !== 5) throw new ConnectError('the SOCKS proxy did not answer as a SOCKS5 server', 'PROXY_PROTOCOL');
    if (greet[1] === 2) {
      const u = Buffer.from(user);
      const p = Buffer.from(pass);
      s.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
      const auth = await readReply(s, (b) => (b.length >= 2 ? 2 : 0));
      if (auth[1] !== 0) throw new ConnectError('the SOCKS5 proxy refused the username and password', 'PROXY_AUTH');
    } else if (greet[1] !== 0) throw new ConnectError('the SOCKS5 proxy accepts none of the offered authentication methods', 'PROXY_AUTH');
    const ipType = net.isIP(host);
    const portBytes = Buffer.from([port >> 8, port & 255]);
    let addr: Buffer;
    if (ipType === 4) addr = Buffer.from([1, ...host.split('.').map(Number)]);
    else {
      const name = Buffer.from(host);
      addr = Buffer.concat([Buffer.from([3, name.length]), name]);
    }
    s.write(Buffer.concat([Buffer.from([5, 1, 0]), addr, portBytes]));
    const reply = await readReply(s, (b) => {
      if (b.length < 5) return 0;
      const len = b[3] === 1 ? 4 : b[3] === 4 ? 16 : b[4] + 1;
      return b.length >= 4 + len + 2 ? 4 + len + 2 : 0;
    });
    if (reply[1] !== 0) throw new ConnectError(`the SOCKS5 proxy could not connect to ${host}:${port} (reply code ${reply[1]})`, 'PROXY_REFUSED');
    return s;
  } catch (err) {
    s.destroy();
    throw err;
  }
}

async function httpConnect(proxy: URL, host: string, port: number, tlsOptions: tls.ConnectionOptions): Promise<net.Socket> {
  const secure = proxy.protocol === 'https:';
  const s = await tcp(proxy.hostname.replace(/^\[|\]$/g, ''), Number(proxy.port || (secure ? 443 : 80)), secure, tlsOptions);
  try {
    const target = `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
    let head = `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n`;
    if (proxy.username) head += `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n`;
    s.write(head + '\r\n');
    const reply = await readReply(s, (b) => {
      const i = b.indexOf('\r\n\r\n');
      return i < 0 ? 0 : i + 4;
    });
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(reply.toString('latin1'));
    if (!status || status[1] !== '200') throw new ConnectError(`the proxy refused to tunnel to ${target}: ${reply.toString('latin1').split('\r\n')[0]}`, 'PROXY_REFUSED');
    return s;
  } catch (err) {
    s.destroy();
    throw err;
  }
}

/** undici connector that goes through the configured proxies (and directly where none applies). */
function proxyConnector(options: AgentOptions) {
  const tlsOptions: tls.ConnectionOptions = { rejectUnauthorized: options.rejectUnauthorized, ...(options.ca ? { ca: options.ca } : {}) };
  const proxies = options.proxies ?? {};
  return (opts: ConnectOptions, callback: Callback): void => {
    const host = opts.hostname.replace(/^\[|\]$/g, '');
    const port = Number(opts.port) || defaultPort(opts.protocol);
    const secure = opts.protocol === 'https:';
    const proxyUrl = proxyFor(proxies, opts.protocol, host);
    let finished = false;
    const finish = (err: Error | null, socket: net.Socket | null) => {
      if (finished) {
        socket?.destroy();
        return;
      }
      finished = true;
      clearTimeout(timer);
      if (err || !socket) callback(err ?? new ConnectError('no connection', 'CONNECT_FAILED'), null);
      else callback(null, socket);
    };
    const timer = setTimeout(() => finish(new ConnectError(`connecting to ${host}:${port}${proxyUrl ? ' through a proxy' : ''} timed out`, 'CONNECT_TIMEOUT'), null), options.connectTimeoutMs);
    const run = async (): Promise<net.Socket> => {
      if (!proxyUrl) return tcp(host, port, secure, tlsOptions);
      let proxy: URL;
      try {
        proxy = new URL(proxyUrl);
      } catch {
        throw new ConnectError(`the proxy "${proxyUrl}" is not a valid URL`, 'PROXY_CONFIG');
      }
      let tunnel: net.Socket;
      if (proxy.protocol === 'socks5:' || proxy.protocol === 'socks5h:') tunnel = await socks5(proxy, host, port, tlsOptions);
      else if (proxy.protocol === 'http:' || proxy.protocol === 'https:') tunnel = await httpConnect(proxy, host, port, tlsOptions);
      else throw new ConnectError(`the proxy "${proxy.protocol}//${proxy.host}" has an unsupported scheme (use http, https or socks5)`, 'PROXY_CONFIG');
      if (!secure) return tunnel;
      return new Promise<net.Socket>((resolve, reject) => {
        const t = tls.connect({ socket: tunnel, servername: opts.servername || (net.isIP(host) ? undefined : host), ...tlsOptions });
        t.once('secureConnect', () => {
          t.removeListener('error', reject);
          resolve(t);
        });
        t.once('error', reject);
      });
    };
    run().then(
      (socket) => {
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 60_000);
        finish(null, socket);
      },
      (err: Error) => finish(err, null),
    );
  };
}

/**
 * Makes the requests written to `socket` in one tick leave in one write: undici writes each request
 * on its own (cork, head, body, uncork), which with pipelining costs a system call per request;
 * holding the socket corked until the tick ends sends what the tick wrote together, as Node's
 * HTTP server does with its responses.
 */
function coalesceWrites(socket: net.Socket): void {
  const uncork = socket.uncork.bind(socket);
  let held = 0;
  const release = () => {
    const n = held;
    held = 0;
    for (let i = 0; i < n; i++) uncork();
  };
  socket.uncork = () => {
    if (held++ === 0) process.nextTick(release);
  };
}

/** The dispatcher of a system: its TLS, timeout and proxy settings, connections kept alive per origin. */
export function createAgent(options: AgentOptions): Dispatcher {
  const hasProxies = options.proxies && Object.keys(options.proxies).length > 0;
  const pipelining = options.pipelining ?? 1;
  const connect = hasProxies ? proxyConnector(options) : buildConnector({ timeout: options.connectTimeoutMs, rejectUnauthorized: options.rejectUnauthorized, ...(options.ca ? { ca: options.ca } : {}) });
  return new Agent({
    headersTimeout: options.readTimeoutMs,
    bodyTimeout: options.readTimeoutMs,
    pipelining,
    connections: options.connections ?? null,
    connect:
      pipelining > 1
        ? (opts, callback) =>
            connect(opts, (err, socket) => {
              if (socket) coalesceWrites(socket);
              (callback as (e: Error | null, s: net.Socket | null) => void)(err, socket);
            })
        : connect,
  });
}
