/**
 * The Studio's only way to the runtime: the public API under /api. A token, when the runtime
 * asks for one, is kept in localStorage and sent as a bearer token; it is also put in a cookie,
 * which the runtime checks before it serves the app's files beyond the sign-in page.
 */
const TOKEN_KEY = 'sluice-token';
const COOKIE = 'sluice_token';

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

export function storedToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token) {
    localStorage.setItem(TOKEN_KEY, token);
    document.cookie = `${COOKIE}=${encodeURIComponent(token)}; path=/; SameSite=Strict`;
  } else {
    localStorage.removeItem(TOKEN_KEY);
    document.cookie = `${COOKIE}=; path=/; Max-Age=0; SameSite=Strict`;
  }
}

/** Called when the API refuses the token (expired, revoked): the app shows the sign-in page. */
let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

export function enc(id: string): string {
  return encodeURIComponent(id);
}

export async function request(method: string, path: string, init: { body?: BodyInit; contentType?: string; token?: string | null } = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = init.token === undefined ? storedToken() : init.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.contentType) headers['content-type'] = init.contentType;
  return fetch(`/api${path}`, { method, headers, body: init.body });
}

async function parse<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (!res.ok) {
    if (res.status === 401) onUnauthorized();
    const err = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiProblem(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? `${res.status} ${res.statusText}`, body);
  }
  return body as T;
}

export async function get<T>(path: string): Promise<T> {
  return parse<T>(await request('GET', path));
}

export async function post<T>(path: string, body: unknown): Promise<T> {
  return parse<T>(await request('POST', path, { body: JSON.stringify(body), contentType: 'application/json' }));
}

export async function put<T>(path: string, body: BodyInit, contentType: string): Promise<T> {
  return parse<T>(await request('PUT', path, { body, contentType }));
}

export async function pumpOperation(pipe: string, operation: string, fields: Record<string, string> = {}): Promise<unknown> {
  return post(`/pipes/${enc(pipe)}/pump`, { operation, ...fields });
}
