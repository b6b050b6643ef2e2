/**
 * The LDAP system: connections (ldapts) to a directory built from a `system:ldap` config — plain
 * or LDAPS (`use_ssl`, `verify_ssl`, `custom_ca_pem_chain`), an optional simple bind, timeouts —
 * and the directory's `charset`, which the LDAP source decodes attribute values with. Each read
 * opens its own connection and closes it when done.
 */
import schema from '../../../schemas/systems/ldap.schema.json' with { type: 'json' };
import { Client } from 'ldapts';
import type { ComponentContext } from '../types.js';
import type { ResolvedSystem, SystemContext, SystemSpec } from './spec.js';
import { systemClientFor, unsetSecret, unsetSecretMessage } from './lookup.js';

export type LdapErrorCode = 'LDAP_CONFIG' | 'LDAP_SECRET_UNSET' | 'LDAP_CONNECT' | 'LDAP_TIMEOUT' | 'LDAP_TLS' | 'LDAP_AUTH' | 'LDAP_SEARCH';

export class LdapError extends Error {
  constructor(
    message: string,
    readonly code: LdapErrorCode,
    /** The LDAP result code, when the server sent one. */
    readonly resultCode?: number,
  ) {
    super(message);
  }
}

/** Decodes attribute bytes in the directory's charset. */
export type Decoder = (bytes: Buffer) => string;

function decoderFor(charset: string): Decoder | null {
  const name = charset.trim().toLowerCase().replace(/_/g, '-');
  // Latin-1 proper (TextDecoder would read windows-1252 for these labels).
  if (['latin-1', 'latin1', 'iso-8859-1', 'iso8859-1', 'l1'].includes(name)) return (b) => b.toString('latin1');
  if (['utf-8', 'utf8'].includes(name)) return (b) => b.toString('utf8');
  try {
    const d = new TextDecoder(name);
    return (b) => d.decode(b);
  } catch {
    return null;
  }
}

export class LdapConnector {
  readonly id: string;
  readonly url: string;
  readonly decode: Decoder;
  private readonly username: string | null;
  private readonly password: string | null;
  private readonly connectMs: number;
  private readonly readMs: number;
  private readonly tlsOptions: { rejectUnauthorized: boolean; ca?: string } | undefined;
  /** A secret the config names that is not set: connecting fails until it is. */
  private readonly unsetSecret: string | null;

  constructor(system: { id: string; config: Record<string, unknown> }) {
    const c = system.config;
    this.id = system.id;
    const fail = (msg: string): never => {
      throw new LdapError(`system "${this.id}": ${msg}`, 'LDAP_CONFIG');
    };
    this.unsetSecret = unsetSecret(c);
    const host = typeof c.host === 'string' && c.host ? c.host : 'localhost';
    if (/^ldaps?:\/\//i.test(host)) fail(`"host" is a URL ("${host}"); give the host name in "host" and use "port" and "use_ssl" for the rest`);
    const port = typeof c.port === 'number' ? c.port : 389;
    const ssl = c.use_ssl === true;
    this.url = `${ssl ? 'ldaps' : 'ldap'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.username = typeof c.username === 'string' && c.username !== '' ? c.username : null;
    this.password = typeof c.password === 'string' ? c.password : null;
    if (this.username !== null && this.password === null) fail('"password" is required when "username" is set');
    const charset = typeof c.charset === 'string' ? c.charset : 'latin-1';
    this.decode = decoderFor(charset) ?? fail(`unknown charset "${charset}"`);
    this.connectMs = (typeof c.connect_timeout === 'number' ? c.connect_timeout : 60) * 1000;
    this.readMs = (typeof c.read_timeout === 'number' ? c.read_timeout : 1800) * 1000;
    this.tlsOptions = ssl ? { rejectUnauthorized: c.verify_ssl !== false, ...(typeof c.custom_ca_pem_chain === 'string' && c.custom_ca_pem_chain ? { ca: c.custom_ca_pem_chain } : {}) } : undefined;
  }

  /** A connected (and bound, when the system has a username) client; the caller unbinds it. */
  async connect(what: string): Promise<Client> {
    if (this.unsetSecret !== null) throw new LdapError(`${what}: ${unsetSecretMessage(this.id, this.unsetSecret)}`, 'LDAP_SECRET_UNSET');
    const client = new Client({ url: this.url, connectTimeout: this.connectMs, timeout: this.readMs, tlsOptions: this.tlsOptions, strictDN: false });
    try {
      if (this.username !== null) await client.bind(this.username, this.password!);
      else await client.bind('', '');
      return client;
    } catch (err) {
      await client.unbind().catch(() => undefined);
      throw this.describe(err, what, 'bind');
    }
  }

  /** An LdapError naming the system, the server and what failed. */
  describe(err: unknown, what: string, doing: 'bind' | 'search'): LdapError {
    if (err instanceof LdapError) return err;
    const e = err as { code?: number | string; message?: string; cause?: { code?: string } };
    const message = e.message ?? String(err);
    const at = `${what}: the LDAP server ${this.url} (system "${this.id}")`;
    const netCode = typeof e.code === 'string' ? e.code : e.cause?.code;
    if (netCode && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ECONNRESET|EPIPE)$/.test(netCode)) return new LdapError(`${at} could not be reached (${netCode})`, 'LDAP_CONNECT');
    if (/timeout|timed out/i.test(message)) return new LdapError(`${at} did not answer in time: ${message}`, 'LDAP_TIMEOUT');
    if (/certificate|self[- ]signed|SSL|TLS|handshake/i.test(message) || (netCode && /^(ERR_TLS|ERR_SSL|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO|CERT_)/.test(netCode))) return new LdapError(`${at}: the TLS connection failed: ${message}`, 'LDAP_TLS');
    const resultCode = typeof e.code === 'number' ? e.code : undefined;
    if (doing === 'bind' || resultCode === 49) return new LdapError(`${at} refused the bind${this.username ? ` as "${this.username}"` : ''}: ${message}`, 'LDAP_AUTH', resultCode);
    return new LdapError(`${at}: the search failed: ${message}${resultCode !== undefined ? ` (LDAP result ${resultCode})` : ''}`, 'LDAP_SEARCH', resultCode);
  }
}

export function ldapConnectorFor(ctx: ComponentContext, systemId: unknown, what: string): LdapConnector {
  return systemClientFor(ctx, systemId, 'system:ldap', 'an LDAP system', what, (system) => new LdapConnector(system));
}

export const ldapSystem: SystemSpec<LdapConnector> = {
  kind: 'system',
  type: 'ldap',
  doc: 'An LDAP directory (Active Directory too) for the LDAP source: host, port, LDAPS with certificate checks or a custom CA, an optional simple bind, the directory charset, and connect/read timeouts.',
  schema,
  create(system: ResolvedSystem, _ctx: SystemContext) {
    return new LdapConnector(system);
  },
};
