/** Shared CLI plumbing: reading config (folder, file or git ref) and env/secret sources. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readConfig, type SourceFile } from '../compiler/load/files.js';
import { readConfigFromGit } from '../compiler/load/git.js';
import type { EnvValues } from '../compiler/config/env.js';

export interface ConfigInputOptions {
  gitRef?: string;
  gitPath?: string;
  env?: string[];
  envFile?: string;
  profile?: string;
  secretsFile?: string;
}

export async function readConfigInput(path: string, opts: ConfigInputOptions): Promise<{ files: SourceFile[]; revision?: string }> {
  if (opts.gitRef) {
    const { files, revision } = await readConfigFromGit(path, opts.gitRef, opts.gitPath);
    return { files, revision };
  }
  return { files: readConfig(path) };
}

function readJsonObject(file: string, what: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file}: ${what} must be a JSON object`);
  return parsed as Record<string, unknown>;
}

/**
 * Environment variables for `$ENV(...)`: the config folder's `<profile>-env.json` (the layout the
 * Sesam client uses; profile "test" by default), then `--env-file`, then `-e NAME=VALUE`.
 */
export function envValues(path: string, opts: ConfigInputOptions): EnvValues {
  const env: EnvValues = {};
  const profileFile = existsSync(path) && statSync(path).isDirectory() ? join(path, `${opts.profile ?? 'test'}-env.json`) : undefined;
  if (profileFile && existsSync(profileFile)) Object.assign(env, readJsonObject(profileFile, 'an env file'));
  if (opts.envFile) Object.assign(env, readJsonObject(opts.envFile, 'an env file'));
  for (const kv of opts.env ?? []) {
    const i = kv.indexOf('=');
    if (i < 0) throw new Error(`-e ${kv}: expected NAME=VALUE`);
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

/** Secret names (values are not needed to compile): a JSON object or list of names. */
export function secretNames(opts: ConfigInputOptions): string[] | undefined {
  if (!opts.secretsFile) return undefined;
  const parsed: unknown = JSON.parse(readFileSync(opts.secretsFile, 'utf8'));
  return Array.isArray(parsed) ? parsed.map(String) : Object.keys(parsed as object);
}
