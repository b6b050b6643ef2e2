import type { Command } from 'commander';

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

/** The API's base URL as the server listens (IPv6 addresses in brackets). */
export function apiUrl(server: { address(): unknown }): string {
  const a = server.address() as { address: string; port: number; family: string };
  const host = a.family === 'IPv6' || a.address.includes(':') ? `[${a.address}]` : a.address;
  return `http://${host}:${a.port}/api`;
}
