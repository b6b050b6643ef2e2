/** Shared CLI plumbing: reading config (folder, file or git ref) and env/secret sources. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Diagnostic } from '../compiler/diagnostics.js';
import { ConfigIoError, readConfig, type SourceFile } from '../compiler/load/files.js';
import { readConfigFromGit } from '../compiler/load/git.js';
import { readJsonFile } from '../compiler/load/json-file.js';
import type { EnvValues } from '../compiler/config/env.js';

export interface ConfigInputOptions {
  gitRef?: string;
  gitPath?: string;
  env?: string[];
  envFile?: string;
  profile?: string;
  secretsFile?: string;
}

export interface ConfigInput {
  files: SourceFile[];
  revision?: string;
  env: EnvValues;
  /** Names of the secrets that exist, when a secrets file was given. */
  secrets?: string[];
  /** Problems with the files around the config (env and secrets files), located like config errors. */
  diagnostics: Diagnostic[];
}

/** The config and everything `$ENV(...)` and `$SECRET(...)` resolve against. Throws ConfigIoError when the path does not exist. */
export async function readConfigInput(path: string, opts: ConfigInputOptions): Promise<ConfigInput> {
  const { files, revision } = opts.gitRef ? await readConfigFromGit(path, opts.gitRef, opts.gitPath) : { files: readConfig(path), revision: undefined };
  const env = envValues(path, opts);
  const secrets = secretNames(opts);
  return { files, revision, env: env.env, secrets: secrets.names, diagnostics: [...env.diagnostics, ...secrets.diagnostics] };
}

function jsonObjectFile(path: string, shownAs: string, what: string, diagnostics: Diagnostic[]): Record<string, unknown> {
  const r = readJsonFile(path, shownAs);
  diagnostics.push(...r.diagnostics);
  if (r.value === undefined) return {};
  if (!r.value || typeof r.value !== 'object' || Array.isArray(r.value)) {
    diagnostics.push({ file: shownAs, line: 1, column: 1, severity: 'error', code: 'CONFIG_SCHEMA', message: `${what} must hold a JSON object of names and values` });
    return {};
  }
  return r.value as Record<string, unknown>;
}

/**
 * Environment variables for `$ENV(...)`: the config folder's `<profile>-env.json` (the layout the
 * Sesam client uses; profile "test" by default), then `--env-file`, then `-e NAME=VALUE`.
 */
export function envValues(path: string, opts: ConfigInputOptions): { env: EnvValues; diagnostics: Diagnostic[] } {
  const env: EnvValues = {};
  const diagnostics: Diagnostic[] = [];
  const profileName = `${opts.profile ?? 'test'}-env.json`;
  const profileFile = existsSync(path) && statSync(path).isDirectory() ? join(path, profileName) : undefined;
  if (profileFile && existsSync(profileFile)) Object.assign(env, jsonObjectFile(profileFile, profileName, 'an env file', diagnostics));
  if (opts.envFile) Object.assign(env, jsonObjectFile(opts.envFile, opts.envFile, 'an env file', diagnostics));
  for (const kv of opts.env ?? []) {
    const i = kv.indexOf('=');
    if (i < 0) throw new Error(`-e ${kv}: expected NAME=VALUE`);
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return { env, diagnostics };
}

/** Secret names (values are not needed to compile): a JSON object or list of names. */
export function secretNames(opts: ConfigInputOptions): { names?: string[]; diagnostics: Diagnostic[] } {
  if (!opts.secretsFile) return { diagnostics: [] };
  const r = readJsonFile(opts.secretsFile, opts.secretsFile);
  if (r.value === undefined) return { names: [], diagnostics: r.diagnostics };
  const names = Array.isArray(r.value) ? r.value.map(String) : r.value && typeof r.value === 'object' ? Object.keys(r.value) : [];
  return { names, diagnostics: r.diagnostics };
}

/** A path that cannot be read, as a diagnostic (for `--format json`, which must print one). */
export function ioDiagnostic(path: string, err: unknown): Diagnostic {
  const message = err instanceof ConfigIoError ? err.message.replace(`${path}: `, '') : (err as Error).message;
  return { file: path, line: 1, column: 1, severity: 'error', code: 'CONFIG_IO', message };
}
