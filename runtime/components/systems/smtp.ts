/**
 * The SMTP system: a mail transport (nodemailer) built from a `system:smtp` config, shared by the
 * mail sinks that name the system, with the system's hourly sending limit (`max_per_hour`) counted
 * across all of them.
 */
import schema from '../../../schemas/systems/smtp.schema.json' with { type: 'json' };
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { ComponentContext } from '../types.js';
import type { ResolvedSystem, SystemContext, SystemSpec } from './spec.js';
import { systemClientFor, unsetSecret, unsetSecretMessage } from './lookup.js';

export type SmtpErrorCode = 'SMTP_CONFIG' | 'SMTP_SECRET_UNSET' | 'SMTP_CONNECT' | 'SMTP_TIMEOUT' | 'SMTP_AUTH' | 'SMTP_TLS' | 'SMTP_REJECTED' | 'SMTP_TEMPORARY' | 'SMTP_PROTOCOL';

/** A message the SMTP server did not take, or a connection that failed. */
export class SmtpError extends Error {
  constructor(
    message: string,
    readonly code: SmtpErrorCode,
    /** The SMTP reply code, 0 when there was none. */
    readonly responseCode = 0,
  ) {
    super(message);
  }
}

export interface MailMessage {
  from: string;
  to: string[];
  subject: string;
  html?: string;
  text?: string;
}

/** Timeouts in ms; the documentation has no setting for them, so they are fixed except in tests. */
export interface SmtpTimeouts {
  connectMs?: number;
  greetingMs?: number;
  socketMs?: number;
}

const HOUR_MS = 3_600_000;

export class SmtpClient {
  readonly id: string;
  readonly maxPerHour: number;
  private readonly transportOptions: SMTPTransport.Options;
  /** Made at the first message: nodemailer is loaded only by runtimes that send mail. */
  private transport: Promise<Transporter> | null = null;
  private readonly where: string;
  /** A secret the config names that is not set: sending fails until it is. */
  private readonly unsetSecret: string | null;
  /** Send times within the last hour, oldest first. */
  private readonly sent: number[] = [];

  constructor(system: { id: string; config: Record<string, unknown> }, timeouts: SmtpTimeouts = {}) {
    const c = system.config;
    this.id = system.id;
    const fail = (msg: string): never => {
      throw new SmtpError(`system "${this.id}": ${msg}`, 'SMTP_CONFIG');
    };
    this.unsetSecret = unsetSecret(c);
    const host = typeof c.smtp_server === 'string' && c.smtp_server ? c.smtp_server : 'localhost';
    const port = typeof c.smtp_port === 'number' ? c.smtp_port : 25;
    const user = typeof c.smtp_username === 'string' && c.smtp_username !== '' ? c.smtp_username : null;
    const pass = typeof c.smtp_password === 'string' ? c.smtp_password : null;
    if (user !== null && pass === null) fail('"smtp_password" is required when "smtp_username" is set');
    const tls = c.use_tls === true;
    this.maxPerHour = typeof c.max_per_hour === 'number' ? c.max_per_hour : 1000;
    this.where = `${host}:${port}`;
    this.transportOptions = {
      host,
      port,
      // Port 465 speaks TLS from the first byte; elsewhere use_tls means STARTTLS, and without it the
      // connection stays plain even when the server offers STARTTLS.
      secure: tls && port === 465,
      requireTLS: tls && port !== 465,
      ignoreTLS: !tls,
      // No CA setting is documented for this system: like the reference's STARTTLS, the certificate is not verified.
      tls: { rejectUnauthorized: false },
      auth: user !== null ? { user, pass: pass! } : undefined,
      // One connection per message: nothing stays open between the runs of a pipe.
      pool: false,
      connectionTimeout: timeouts.connectMs ?? 60_000,
      greetingTimeout: timeouts.greetingMs ?? 30_000,
      socketTimeout: timeouts.socketMs ?? 600_000,
    };
  }

  private connection(): Promise<Transporter> {
    this.transport ??= import('nodemailer').then((m) => (m.default ?? m).createTransport(this.transportOptions));
    return this.transport;
  }

  /** Takes a slot of the hourly limit; false when the limit is reached (the message is to be dropped). */
  takeSlot(now = Date.now()): boolean {
    while (this.sent.length && this.sent[0] <= now - HOUR_MS) this.sent.shift();
    if (this.sent.length >= this.maxPerHour) return false;
    this.sent.push(now);
    return true;
  }

  /** Gives back a slot taken for a message that was not sent after all. */
  returnSlot(): void {
    this.sent.pop();
  }

  async send(message: MailMessage): Promise<{ messageId: string; accepted: string[] }> {
    if (this.unsetSecret !== null) throw new SmtpError(unsetSecretMessage(this.id, this.unsetSecret), 'SMTP_SECRET_UNSET');
    try {
      const info = await (await this.connection()).sendMail({ from: message.from, to: message.to, subject: message.subject, html: message.html, text: message.text });
      return { messageId: String(info.messageId ?? ''), accepted: (info.accepted ?? []).map(String) };
    } catch (err) {
      throw this.describe(err);
    }
  }

  private describe(err: unknown): SmtpError {
    const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
    const reply = e.response ? `: ${e.response}` : e.message ? `: ${e.message}` : '';
    const at = `system "${this.id}": the SMTP server ${this.where}`;
    switch (e.code) {
      case 'ECONNECTION':
      case 'ESOCKET':
      case 'EDNS':
        return new SmtpError(`${at} could not be reached${reply}`, 'SMTP_CONNECT');
      case 'ETIMEDOUT':
      case 'EGREET':
        return new SmtpError(`${at} did not answer in time${reply}`, 'SMTP_TIMEOUT');
      case 'EAUTH':
      case 'ENOAUTH':
        return new SmtpError(`${at} refused the login${reply}`, 'SMTP_AUTH', e.responseCode ?? 0);
      case 'ETLS':
        return new SmtpError(`${at} could not set up TLS${reply}`, 'SMTP_TLS');
      case 'EENVELOPE':
      case 'EMESSAGE':
        // 5xx refuses this message for good; 4xx asks to try again later.
        if ((e.responseCode ?? 0) >= 500) return new SmtpError(`${at} refused the message${reply}`, 'SMTP_REJECTED', e.responseCode);
        return new SmtpError(`${at} could not take the message now${reply}`, 'SMTP_TEMPORARY', e.responseCode ?? 0);
      default:
        return new SmtpError(`${at} failed${reply}`, 'SMTP_PROTOCOL', e.responseCode ?? 0);
    }
  }

  close(): void {
    void this.transport?.then((t) => t.close(), () => undefined);
  }
}

/** Clients per system config, so pipes share the connection pool and the hourly count. */
const clients = new Map<string, SmtpClient>();

export function smtpClientForSystem(system: { id: string; config: Record<string, unknown> }, timeouts?: SmtpTimeouts): SmtpClient {
  const key = `${system.id}\u0000${JSON.stringify(system.config)}`;
  let client = clients.get(key);
  if (!client) {
    // A changed config replaces the system's client.
    for (const [k, old] of clients) if (k.startsWith(`${system.id}\u0000`)) (old.close(), clients.delete(k));
    client = new SmtpClient(system, timeouts);
    clients.set(key, client);
  }
  return client;
}

/** The shared client of the SMTP system `systemId` for a component of the pipe in `ctx`. */
export function smtpClientFor(ctx: ComponentContext, systemId: unknown, what: string): SmtpClient {
  return systemClientFor(ctx, systemId, 'system:smtp', 'an SMTP system', what, (system) => smtpClientForSystem(system));
}

export const smtpSystem: SystemSpec<SmtpClient> = {
  kind: 'system',
  type: 'smtp',
  doc: 'An SMTP server for the mail sink: host and port, optional login, TLS (STARTTLS, or implicit TLS on port 465) and an hourly limit on messages sent through it; messages over the limit are logged and dropped.',
  schema,
  create(system: ResolvedSystem, _ctx: SystemContext) {
    return smtpClientForSystem(system);
  },
};
