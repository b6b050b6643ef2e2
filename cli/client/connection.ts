/**
 * Which node to talk to, found the way Sesam's client finds it: `--node`/`--jwt` (also written
 * `-node`/`-jwt`), else the environment variables NODE and JWT, else a `.syncconfig` file in the
 * project folder or the nearest folder above it (JSON, or `KEY=value` lines).
 *
 * The node URL is normalised as the client does it: quotes removed, `https://` added when there is
 * no scheme, `/api` appended unless it ends with it (a trailing `/` is dropped first). The JWT may
 * be quoted or carry a `Bearer ` prefix; both are removed. Without a JWT no Authorization header
 * is sent (a Sluice node without --jwt-secret needs none).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';

export interface NodeConnection {
  /** e.g. `http://localhost:9042/api` */
  nodeUrl: string;
  jwt: string | null;
  /** Where the values came from, for messages. */
  from: string;
}

export class ConnectionError extends Error {}

/** Parses a .syncconfig: a JSON object, or lines of `key=value` / `key: value` (keys lowercased; `#`/`;` comments). */
export function parseSyncConfig(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && Object.keys(parsed).length) {
      for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) if (v !== null && v !== undefined) out[k.toLowerCase()] = String(v);
      return out;
    }
  } catch {
    // not JSON: key=value lines
  }
  let last: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*([#;]|$)/.test(raw) || /^\s*\[.*\]\s*$/.test(raw)) {
      last = null;
      continue;
    }
    if (/^\s/.test(raw) && last !== null) {
      // a continuation line
      out[last] += '\n' + raw.trim();
      continue;
    }
    const m = /^([^=:]+?)\s*[=:]\s*(.*?)\s*$/.exec(raw);
    if (!m) continue;
    last = m[1].trim().toLowerCase();
    out[last] = m[2];
  }
  return out;
}

/** The .syncconfig to use: `file` itself if it exists (relative to the current folder), else the first `basename(file)` found from `startDir` upwards. */
export function findSyncConfig(startDir: string, file = '.syncconfig'): { path: string; values: Record<string, string> } | null {
  if ((isAbsolute(file) || existsSync(file)) && existsSync(file) && statSync(file).isFile()) {
    const values = parseSyncConfig(readFileSync(file, 'utf8'));
    return Object.keys(values).length ? { path: resolve(file), values } : null;
  }
  let dir = resolve(startDir);
  for (;;) {
    const p = join(dir, basename(file));
    if (existsSync(p) && statSync(p).isFile()) {
      const values = parseSyncConfig(readFileSync(p, 'utf8'));
      if (Object.keys(values).length) return { path: p, values };
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

export function normaliseNodeUrl(url: string): string {
  let u = url.replace(/"/g, '').trim().replace(/\/+$/, '');
  if (!u.startsWith('http')) u = `https://${u}`;
  if (!u.endsWith('/api')) u = `${u}/api`;
  return u;
}

export function cleanJwt(jwt: string): string {
  let t = jwt.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1);
  return t.replace(/^[Bb]earer /, '');
}

export interface ConnectionOptions {
  node?: string;
  jwt?: string;
  syncConfigFile?: string;
  /** Where to start looking for .syncconfig (the project folder). */
  dir?: string;
  env?: NodeJS.ProcessEnv;
}

export function resolveConnection(opts: ConnectionOptions): NodeConnection {
  const env = opts.env ?? process.env;
  const sync = findSyncConfig(opts.dir ?? '.', opts.syncConfigFile ?? '.syncconfig');
  const pick = (flag: string | undefined, envName: string, key: string): { value?: string; from: string } => {
    if (flag) return { value: flag, from: `--${key}` };
    if (env[envName]) return { value: env[envName], from: `$${envName}` };
    if (sync?.values[key]) return { value: sync.values[key], from: sync.path };
    return { from: '' };
  };
  const node = pick(opts.node, 'NODE', 'node');
  const jwt = pick(opts.jwt, 'JWT', 'jwt');
  if (!node.value) throw new ConnectionError('no node given: use --node <url>, the NODE environment variable or a .syncconfig file (NODE=... and JWT=... lines)');
  return { nodeUrl: normaliseNodeUrl(node.value), jwt: jwt.value ? cleanJwt(jwt.value) : null, from: [...new Set([node.from, jwt.from].filter(Boolean))].join(', ') };
}
