/**
 * Secret values never leave the process in text. Whatever holds secrets (a runtime's `$SECRET`
 * values, the API's JWT key) registers them here; error messages, execution log entries, API
 * error answers and every log line (through the logger's stream hook) are passed through
 * `redactSecrets`, which masks each value in every spelling it can take in a URL, a form, JSON or
 * a basic-auth header. Values shorter than four characters are not masked: they would mask
 * ordinary words.
 */

export const MASK = '********';
const MIN_LENGTH = 4;

const owners = new Map<unknown, string[]>();
let pattern: RegExp | null = null;

/** The spellings of `value` that text can contain: as is, percent- and form-encoded, base64, JSON-escaped. */
function spellings(value: string): string[] {
  const out = new Set<string>([value, encodeURIComponent(value), encodeURI(value), new URLSearchParams({ v: value }).toString().slice(2), Buffer.from(value).toString('base64')]);
  try {
    const url = new URL('http://host/');
    url.password = value;
    out.add(url.password);
  } catch {
    // not expressible as user info
  }
  for (const s of [...out]) out.add(JSON.stringify(s).slice(1, -1));
  return [...out];
}

function rebuild(): void {
  const all = new Set<string>();
  for (const values of owners.values()) for (const v of values) if (v.length >= MIN_LENGTH) for (const s of spellings(v)) all.add(s);
  // Longest first, so that a spelling containing another is masked whole.
  const sorted = [...all].sort((a, b) => b.length - a.length);
  pattern = sorted.length ? new RegExp(sorted.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g') : null;
}

/** Registers (or replaces) the secret values `owner` holds. */
export function setSecretValues(owner: unknown, values: string[]): void {
  owners.set(owner, values.filter((v) => typeof v === 'string'));
  rebuild();
}

export function forgetSecretValues(owner: unknown): void {
  if (owners.delete(owner)) rebuild();
}

export function redactSecrets(text: string): string {
  return pattern ? text.replace(pattern, MASK) : text;
}

/** A copy of `value` with every string in it redacted (objects and lists are walked). */
export function redactDeep<T>(value: T): T {
  if (!pattern) return value;
  if (typeof value === 'string') return redactSecrets(value) as T;
  if (Array.isArray(value)) return value.map(redactDeep) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)])) as T;
  }
  return value;
}

/** pino options that mask secrets in every line the logger writes. */
export const redactingLogHooks = { streamWrite: redactSecrets };
