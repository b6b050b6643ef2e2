/**
 * An SMTP server for the mail sink's tests (the smtp-server library, on a free port of 127.0.0.1):
 * optional login, STARTTLS or implicit TLS (the library's own self-signed certificate), recipients
 * it refuses, and a mode that accepts connections but never greets. Received messages are parsed
 * into headers and text/HTML parts.
 */
import net from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { freePort } from './ports.js';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The login used, if any. */
  user?: string;
  secure: boolean;
  headers: Record<string, string>;
  subject: string;
  text?: string;
  html?: string;
  raw: string;
}

export interface SmtpServerOptions {
  /** Require this login. */
  auth?: { user: string; pass: string };
  /** 'starttls' offers STARTTLS; 'implicit' speaks TLS from the first byte; default none. */
  tls?: 'starttls' | 'implicit';
  /** Recipients answered with 550. */
  refuse?: (address: string) => boolean;
  /** Answer DATA with 451 (try again later) while this says so. */
  deferData?: () => boolean;
  /** Accept connections and never answer (for time-outs). */
  silent?: boolean;
}

export interface TestSmtpServer {
  port: number;
  messages: ReceivedMail[];
  /** Resolves when `count` messages have arrived. */
  waitFor(count: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

function decodeWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=\s*/g, (_m, _charset: string, enc: string, text: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
  );
}

function splitHead(part: string): { headers: Record<string, string>; body: string } {
  const at = part.indexOf('\r\n\r\n');
  const head = at < 0 ? part : part.slice(0, at);
  const body = at < 0 ? '' : part.slice(at + 4);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, body };
}

function decodeBody(headers: Record<string, string>, body: string): string {
  const enc = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') {
    const bytes = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

function collectParts(headers: Record<string, string>, body: string, into: { text?: string; html?: string }): void {
  const type = headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    for (const chunk of body.split(`--${boundary}`).slice(1)) {
      if (chunk.startsWith('--')) break;
      const p = splitHead(chunk.replace(/^\r\n/, '').replace(/\r\n$/, ''));
      collectParts(p.headers, p.body, into);
    }
    return;
  }
  const text = decodeBody(headers, body).replace(/\r\n/g, '\n').replace(/\n$/, '');
  if (/^text\/html/i.test(type)) into.html = text;
  else if (/^text\/plain/i.test(type)) into.text = text;
}

export function parseMail(raw: string): Pick<ReceivedMail, 'headers' | 'subject' | 'text' | 'html'> {
  const { headers, body } = splitHead(raw);
  const parts: { text?: string; html?: string } = {};
  collectParts(headers, body, parts);
  return { headers, subject: decodeWords(headers.subject ?? ''), ...parts };
}

export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const port = await freePort();
  const messages: ReceivedMail[] = [];
  const waiters: { count: number; resolve: (m: ReceivedMail[]) => void }[] = [];
  if (options.silent) {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return {
      port,
      messages,
      waitFor: () => new Promise(() => undefined),
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    };
  }
  const config: SMTPServerOptions = {
    secure: options.tls === 'implicit',
    disabledCommands: [...(options.auth ? [] : ['AUTH']), ...(options.tls === 'starttls' ? [] : ['STARTTLS'])],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    logger: false,
    // Tests close the server while clients may still be connected.
    closeTimeout: 50,
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) return callback(null, { user: auth.username });
      const err = new Error('Invalid username or password') as Error & { responseCode: number };
      err.responseCode = 535;
      return callback(err);
    },
    onRcptTo(address, _session, callback) {
      if (options.refuse?.(address.address)) {
        const err = new Error(`mailbox ${address.address} unavailable`) as Error & { responseCode: number };
        err.responseCode = 550;
        return callback(err);
      }
      callback();
    },
    onData(stream, session, callback) {
      if (options.deferData?.()) {
        stream.resume();
        const err = new Error('try again later') as Error & { responseCode: number };
        err.responseCode = 451;
        return stream.on('end', () => callback(err));
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: typeof session.user === 'string' ? session.user : undefined,
          secure: session.secure,
          raw,
          ...parseMail(raw),
        });
        for (const w of [...waiters]) {
          if (messages.length >= w.count) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(messages.slice());
          }
        }
        callback();
      });
    },
  };
  const server = new SMTPServer(config);
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    messages,
    waitFor: (count) => (messages.length >= count ? Promise.resolve(messages.slice()) : new Promise((resolve) => waiters.push({ count, resolve }))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
