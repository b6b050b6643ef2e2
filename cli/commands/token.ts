/**
 * `sluice token`: mints a bearer token (HS256 JWT) for a node started with `--jwt-secret`, so
 * scripts and Sesam's client (`JWT=...`) can call its API. The secret comes from --jwt-secret,
 * --jwt-secret-file or SLUICE_JWT_SECRET; tokens always expire (default 30 days).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SignJWT } from 'jose';
import type { SetExit } from './shared.js';

/** `30d`, `12h`, `15m`, `90s` or a number of seconds. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+)\s*([smhdw]?)$/i.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2].toLowerCase() as '' | 's' | 'm' | 'h' | 'd' | 'w'];
  return n > 0 ? n * unit : null;
}

export async function mintToken(secret: string, opts: { subject: string; expiresInSeconds: number; claims?: Record<string, unknown> }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...opts.claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(opts.subject)
    .setIssuedAt(now)
    .setExpirationTime(now + opts.expiresInSeconds)
    .sign(new TextEncoder().encode(secret));
}

export function registerToken(program: Command, setExit: SetExit): void {
  program
    .command('token')
    .description('print a bearer token for a node started with --jwt-secret (use it as JWT=... or "Authorization: Bearer ...")')
    .option('--jwt-secret <secret>', "the node's secret (default: $SLUICE_JWT_SECRET)")
    .option('--jwt-secret-file <file>', "a file holding the node's secret")
    .option('--sub <subject>', 'who the token names (shown in execution logs)', 'sluice-cli')
    .option('--expires <duration>', 'how long the token is valid: 30d, 12h, 15m, 90s', '30d')
    .option('--claim <name=value...>', 'extra claims (values are JSON when they parse, text otherwise)')
    .action(async (opts) => {
      let secret: string | undefined = opts.jwtSecret ?? undefined;
      if (!secret && opts.jwtSecretFile) {
        try {
          secret = readFileSync(opts.jwtSecretFile, 'utf8').trim();
        } catch (err) {
          process.stderr.write(`error: cannot read the secret file ${opts.jwtSecretFile}: ${(err as Error).message}\n`);
          return setExit(2);
        }
      }
      secret ??= process.env.SLUICE_JWT_SECRET;
      if (!secret) {
        process.stderr.write('error: give the secret the node was started with: --jwt-secret, --jwt-secret-file or SLUICE_JWT_SECRET\n');
        return setExit(2);
      }
      const seconds = parseDuration(opts.expires);
      if (seconds === null) {
        process.stderr.write(`error: --expires "${opts.expires}" is not a duration (use e.g. 30d, 12h, 15m or 90s)\n`);
        return setExit(2);
      }
      const claims: Record<string, unknown> = {};
      for (const c of (opts.claim as string[] | undefined) ?? []) {
        const at = c.indexOf('=');
        if (at <= 0) {
          process.stderr.write(`error: --claim "${c}" must be name=value\n`);
          return setExit(2);
        }
        const raw = c.slice(at + 1);
        try {
          claims[c.slice(0, at)] = JSON.parse(raw);
        } catch {
          claims[c.slice(0, at)] = raw;
        }
      }
      process.stdout.write((await mintToken(secret, { subject: opts.sub, expiresInSeconds: seconds, claims })) + '\n');
      setExit(0);
    });
}
