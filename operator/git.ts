/**
 * Config from git for the operator: a mirror clone per instance in the operator's work directory,
 * fetched on the poll interval or at a webhook, read at the instance's ref without a work tree.
 */
import { existsSync, mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { readConfigFromGit } from '../compiler/load/git.js';
import type { SourceFile } from '../compiler/load/files.js';

export interface GitSpec {
  url: string;
  ref?: string;
  path?: string;
}

export interface GitCredentials {
  username?: string;
  password?: string;
  sshPrivateKey?: string;
}

export interface FetchedConfig {
  revision: string;
  files: SourceFile[];
}

function withCredentials(url: string, c: GitCredentials): string {
  if (!c.username || !/^https?:/.test(url)) return url;
  const u = new URL(url);
  u.username = encodeURIComponent(c.username);
  u.password = encodeURIComponent(c.password ?? '');
  return u.toString();
}

export class GitSource {
  constructor(private readonly workDir: string) {}

  /** Fetches the repository and reads the config at the ref. */
  async fetch(key: string, spec: GitSpec, credentials: GitCredentials = {}): Promise<FetchedConfig> {
    const dir = join(this.workDir, key.replace(/[^A-Za-z0-9_.-]/g, '_'));
    mkdirSync(this.workDir, { recursive: true });
    // Only what git needs: simple-git refuses inherited variables that could run programs (EDITOR, PAGER, ...).
    const env: Record<string, string> = { GIT_TERMINAL_PROMPT: '0' };
    for (const name of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY']) if (process.env[name]) env[name] = process.env[name]!;
    if (credentials.sshPrivateKey) {
      const keyFile = join(this.workDir, `${key.replace(/[^A-Za-z0-9_.-]/g, '_')}.key`);
      writeFileSync(keyFile, credentials.sshPrivateKey);
      chmodSync(keyFile, 0o600);
      env.GIT_SSH_COMMAND = `ssh -i ${keyFile} -o StrictHostKeyChecking=accept-new`;
    }
    const url = withCredentials(spec.url, credentials);
    const git = (baseDir?: string) => simpleGit({ baseDir, allowEnvironment: Object.keys(env), unsafe: { allowUnsafeSshCommand: Boolean(credentials.sshPrivateKey) } }).env(env);
    if (!existsSync(join(dir, 'HEAD'))) {
      await git().clone(url, dir, ['--mirror', '--quiet']);
    } else {
      const repo = git(dir);
      await repo.remote(['set-url', 'origin', url]);
      await repo.raw(['fetch', '--prune', '--quiet', 'origin', '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*']);
    }
    return readConfigFromGit(dir, spec.ref ?? 'main', spec.path ?? '');
  }
}
