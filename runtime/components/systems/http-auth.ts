/**
 * Authentication schemes of URL systems that need more than a fixed header: OAuth2 tokens
 * (client credentials and refresh token grants, cached until `refresh_window` seconds before they
 * expire), Tripletex session tokens, and HTTP digest authentication.
 */
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';

export interface RawRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
}

export interface RawResponse {
  status: number;
  statusText: string;
  ok: boolean;
  text(): Promise<string>;
}

/** Sends a request the way the owning client does (its dispatcher, timeouts); never retries. */
export type RawFetch = (url: string, init: RawRequest) => Promise<RawResponse>;

export class AuthError extends Error {
  readonly code = 'AUTH_FAILED';
}

function snippet(text: string, max = 300): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

function formValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export interface OAuth2Config {
  client_id: string;
  client_secret: string;
  token_url: string;
  access_token?: string;
  refresh_token?: string;
  refresh_window?: number;
  scope?: string | string[];
  extra?: Record<string, unknown>;
}

/** Expiry of a JWT access token in ms, when the token is a JWT with `exp`. */
function jwtExpiry(token: string): number | null {
  try {
    const exp = decodeJwt(token).exp;
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

export class OAuth2Tokens {
  private token: string | null;
  private expiresAt: number | null;
  private refreshToken: string | null;
  private pending: Promise<string> | null = null;
  /** Sends client credentials in the form body once the provider refused HTTP basic. */
  private credentialsInBody = false;
  private readonly windowMs: number;

  constructor(
    private readonly config: OAuth2Config,
    private readonly send: RawFetch,
    private readonly systemId: string,
    private readonly now: () => number = Date.now,
  ) {
    this.token = config.access_token || null;
    this.expiresAt = this.token ? jwtExpiry(this.token) : null;
    this.refreshToken = config.refresh_token || null;
    this.windowMs = (config.refresh_window ?? 30) * 1000;
  }

  /** When the current token expires (ms since epoch), if known; for logs and tests. */
  get expiry(): number | null {
    return this.expiresAt;
  }

  /** A valid access token: the cached one, or a new one when it is missing or about to expire. */
  async get(): Promise<string> {
    if (this.token && (this.expiresAt === null || this.now() < this.expiresAt - this.windowMs)) return this.token;
    return this.renew();
  }

  /** Forgets the cached token (the server answered 401) and fetches a new one. */
  async renew(): Promise<string> {
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async fetchToken(): Promise<string> {
    const grant = this.refreshToken ? 'refresh_token' : 'client_credentials';
    let res = await this.request(grant, this.credentialsInBody);
    if ((res.status === 400 || res.status === 401) && !this.credentialsInBody) {
      // Some providers only take the client credentials as form fields (client_secret_post).
      const retry = await this.request(grant, true);
      if (retry.ok) this.credentialsInBody = true;
      res = retry;
    }
    const text = await res.text();
    if (!res.ok) throw new AuthError(`system "${this.systemId}": the OAuth2 token endpoint ${this.config.token_url} refused the ${grant} grant with ${res.status} ${res.statusText}: ${snippet(text)}`);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new AuthError(`system "${this.systemId}": the OAuth2 token endpoint ${this.config.token_url} did not answer with JSON: ${snippet(text)}`);
    }
    const token = body.access_token;
    if (typeof token !== 'string' || token === '') throw new AuthError(`system "${this.systemId}": the OAuth2 token endpoint ${this.config.token_url} answered without an access_token`);
    this.token = token;
    const expiresIn = Number(body.expires_in);
    this.expiresAt = Number.isFinite(expiresIn) && expiresIn > 0 ? this.now() + expiresIn * 1000 : jwtExpiry(token);
    if (typeof body.refresh_token === 'string' && body.refresh_token) this.refreshToken = body.refresh_token;
    return token;
  }

  private request(grant: string, inBody: boolean): Promise<RawResponse> {
    const form = new URLSearchParams();
    form.set('grant_type', grant);
    if (grant === 'refresh_token') form.set('refresh_token', this.refreshToken!);
    const scope = this.config.scope;
    if (scope !== undefined) form.set('scope', Array.isArray(scope) ? scope.join(' ') : scope);
    for (const [k, v] of Object.entries(this.config.extra ?? {})) {
      if (v === null || v === undefined) continue;
      if (Array.isArray(v)) for (const x of v) form.append(k, formValue(x));
      else form.set(k, formValue(v));
    }
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (inBody) {
      form.set('client_id', this.config.client_id);
      form.set('client_secret', this.config.client_secret);
    } else {
      const id = encodeURIComponent(this.config.client_id);
      const secret = encodeURIComponent(this.config.client_secret);
      headers.authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    }
    return this.send(this.config.token_url, { method: 'POST', headers, body: form.toString() });
  }
}

export interface TripletexConfig {
  consumer_token: string;
  employee_token: string;
  token_url: string;
  ttl?: number;
}

/** Tripletex session tokens: created with PUT on the token URL, used as the password of user "0". */
export class TripletexTokens {
  private token: string | null = null;
  private validUntil = 0;
  private pending: Promise<string> | null = null;

  constructor(
    private readonly config: TripletexConfig,
    private readonly send: RawFetch,
    private readonly systemId: string,
    private readonly now: () => number = Date.now,
  ) {}

  async authorization(): Promise<string> {
    const token = this.token && this.now() < this.validUntil ? this.token : await this.renew();
    return `Basic ${Buffer.from(`0:${token}`).toString('base64')}`;
  }

  renew(): Promise<string> {
    this.pending ??= this.create().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async create(): Promise<string> {
    const ttlMs = (this.config.ttl ?? 48) * 3_600_000;
    // Tripletex takes an expiration date (a day); a day's margin keeps tokens valid until refreshed.
    const expires = new Date(this.now() + ttlMs + 86_400_000).toISOString().slice(0, 10);
    const url = new URL(this.config.token_url);
    url.searchParams.set('consumerToken', this.config.consumer_token);
    url.searchParams.set('employeeToken', this.config.employee_token);
    url.searchParams.set('expirationDate', expires);
    const res = await this.send(url.href, { method: 'PUT', headers: { accept: 'application/json' } });
    const text = await res.text();
    if (!res.ok) throw new AuthError(`system "${this.systemId}": the Tripletex token service ${this.config.token_url} answered ${res.status} ${res.statusText}: ${snippet(text)}`);
    let token: unknown;
    try {
      const body = JSON.parse(text) as { value?: { token?: unknown }; token?: unknown };
      token = body.value?.token ?? body.token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || !token) throw new AuthError(`system "${this.systemId}": the Tripletex token service ${this.config.token_url} answered without a token`);
    this.token = token;
    this.validUntil = this.now() + ttlMs;
    return token;
  }
}

interface DigestChallenge {
  realm: string;
  nonce: string;
  qop?: string;
  opaque?: string;
  algorithm: string;
}

/** Parses the parameters of a `WWW-Authenticate: Digest ...` header, or null when it is not one. */
export function parseDigestChallenge(header: string | null): DigestChallenge | null {
  if (!header) return null;
  const m = /(?:^|,\s*)Digest\s+(.*)$/i.exec(header);
  if (!m) return null;
  const params: Record<string, string> = {};
  const re = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[1]))) params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  if (!params.nonce) return null;
  return { realm: params.realm ?? '', nonce: params.nonce, qop: params.qop, opaque: params.opaque, algorithm: params.algorithm ?? 'MD5' };
}

/** HTTP digest authentication (RFC 7616, qop "auth"): answers a challenge, then reuses its nonce. */
export class DigestAuth {
  private challenge: DigestChallenge | null = null;
  private count = 0;

  constructor(
    private readonly username: string,
    private readonly password: string,
  ) {}

  get ready(): boolean {
    return this.challenge !== null;
  }

  /** Takes a 401's challenge; false when the response carried no digest challenge. */
  accept(header: string | null): boolean {
    const c = parseDigestChallenge(header);
    if (!c) return false;
    if (!this.challenge || this.challenge.nonce !== c.nonce) this.count = 0;
    this.challenge = c;
    return true;
  }

  header(method: string, url: string): string | null {
    const c = this.challenge;
    if (!c) return null;
    const algo = c.algorithm.toUpperCase();
    const base = algo.replace(/-SESS$/, '');
    const hashName = base === 'SHA-256' ? 'sha256' : base === 'SHA-512-256' ? 'sha512-256' : 'md5';
    const H = (s: string) => createHash(hashName).update(s).digest('hex');
    const u = new URL(url);
    const uri = u.pathname + u.search;
    const cnonce = randomBytes(8).toString('hex');
    const nc = (++this.count).toString(16).padStart(8, '0');
    let ha1 = H(`${this.username}:${c.realm}:${this.password}`);
    if (algo.endsWith('-SESS')) ha1 = H(`${ha1}:${c.nonce}:${cnonce}`);
    const ha2 = H(`${method.toUpperCase()}:${uri}`);
    const qop = c.qop
      ?.split(',')
      .map((q) => q.trim())
      .includes('auth')
      ? 'auth'
      : undefined;
    const response = qop ? H(`${ha1}:${c.nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : H(`${ha1}:${c.nonce}:${ha2}`);
    const q = (s: string) => `"${s.replace(/(["\\])/g, '\\$1')}"`;
    let h = `Digest username=${q(this.username)}, realm=${q(c.realm)}, nonce=${q(c.nonce)}, uri=${q(uri)}, algorithm=${c.algorithm}, response=${q(response)}`;
    if (qop) h += `, qop=${qop}, nc=${nc}, cnonce=${q(cnonce)}`;
    if (c.opaque !== undefined) h += `, opaque=${q(c.opaque)}`;
    return h;
  }
}

/** The Authorization header of basic authentication. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** User info percent-decoded (kept as written when it is not valid percent-encoding). */
export function decodeUserinfo(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A configured URL (or URL pattern) without its user info, and the basic Authorization the user
 * info stands for. Text, not a URL object: a pattern's `%s` may sit where a URL parser would refuse it.
 */
export function withoutUserinfo(url: string): { url: string; authorization: string | null } {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i.exec(url);
  if (!m) return { url, authorization: null };
  const colon = m[2].indexOf(':');
  const username = decodeUserinfo(colon < 0 ? m[2] : m[2].slice(0, colon));
  const password = colon < 0 ? '' : decodeUserinfo(m[2].slice(colon + 1));
  return { url: m[1] + url.slice(m[0].length), authorization: basicAuthorization(username, password) };
}
