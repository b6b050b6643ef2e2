import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type pino from 'pino';
import type pinoPretty from 'pino-pretty';
import type { AuthOptions } from '../../runtime/api/auth.js';
import { redactingLogHooks, setSecretValues } from '../../runtime/security/redaction.js';

/** Options every config-reading command takes. */
export function configOptions(cmd: Command): Command {
  return cmd
    .option('--git-ref <ref>', 'read the config from this commit, branch or tag of the git repository at <path>')
    .option('--git-path <dir>', 'folder inside the git repository that holds the config')
    .option('-e, --env <NAME=VALUE...>', 'set an environment variable for $ENV(...)')
    .option('--env-file <file>', 'JSON object of environment variables')
    .option('--profile <name>', 'use <path>/<name>-env.json for environment variables', 'test')
    .option('--secrets-file <file>', 'JSON object (or list) naming the secrets that exist');
}

export type SetExit = (code: number) => void;

/** Options of the commands that serve the API (`.option(...jwtSecretOption)`): how bearer tokens are checked. */
export const jwtSecretOption = ['--jwt-secret <secret>', 'require HS256 JWT bearer tokens signed with this secret (visible in process lists: prefer --jwt-secret-file or SLUICE_JWT_SECRET)', process.env.SLUICE_JWT_SECRET] as const;
export const jwtSecretFileOption = ['--jwt-secret-file <file>', 'read the JWT secret from this file', process.env.SLUICE_JWT_SECRET_FILE] as const;
/** `--workers`: `sluice run` defaults to one per core; runtime pods (`sluice runtime`) to 1, Kubernetes scaling them by replicas. */
export const workersOption = (fallback: 'auto' | '1') =>
  ['--workers <n>', 'worker threads that run independent pipes in parallel on the embedded store ("auto": one per core; 1: every pipe in the main thread)', process.env.SLUICE_WORKERS ?? fallback] as const;
export const allowTokensWithoutExpiryOption = ['--allow-tokens-without-expiry', 'accept tokens without an "exp" claim (refused by default)', /^(1|true|yes)$/i.test(process.env.SLUICE_ALLOW_TOKENS_WITHOUT_EXPIRY ?? '')] as const;

/** The API's authentication from those options; the secret is masked in everything the process writes. */
export function authFrom(opts: { jwtSecret?: string; jwtSecretFile?: string; allowTokensWithoutExpiry?: boolean }): AuthOptions | undefined {
  if (opts.jwtSecret && opts.jwtSecretFile) throw new Error('give the JWT secret once: --jwt-secret (or SLUICE_JWT_SECRET) or --jwt-secret-file (or SLUICE_JWT_SECRET_FILE)');
  const secret = opts.jwtSecretFile ? readFileSync(opts.jwtSecretFile, 'utf8').replace(/\r?\n$/, '') : opts.jwtSecret;
  if (opts.jwtSecretFile && !secret) throw new Error(`the JWT secret file ${opts.jwtSecretFile} is empty`);
  if (!secret) return undefined;
  setSecretValues('api-jwt-secret', [secret]);
  return { jwtSecret: secret, allowTokensWithoutExpiry: opts.allowTokensWithoutExpiry === true };
}

/** The logger of a serving command: JSON lines with secret values masked. */
export function serviceLogger(level: string, readable = false): Logger {
  // Loaded by the commands that log (pino is left to Node's loader, outside the compiled bundle):
  // the others, such as `sluice validate`, start without it.
  const load = createRequire(import.meta.url);
  const logger = load('pino') as typeof pino;
  if (!readable) return logger({ level, hooks: redactingLogHooks });
  // Loaded only for a terminal: it and its dependencies cost a start that logs JSON lines.
  const pretty = load('pino-pretty') as typeof pinoPretty;
  return logger({ level, hooks: redactingLogHooks }, pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }));
}

/** The API's base URL as the server listens (IPv6 addresses in brackets). */
export function apiUrl(server: { address(): unknown }): string {
  const a = server.address() as { address: string; port: number; family: string };
  const host = a.family === 'IPv6' || a.address.includes(':') ? `[${a.address}]` : a.address;
  return `http://${host}:${a.port}/api`;
}
