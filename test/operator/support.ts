/** Pieces the operator suites share: a git repository to push config to, an operator in-process, polling. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { Operator } from '../../operator/manager.js';
import { Kube } from '../../operator/kube/rest.js';

export function kubeClient(kubeconfig: string): { kc: KubeConfig; kube: Kube } {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return { kc, kube: new Kube(kc) };
}

/** Polls `probe` until it returns a value other than undefined/false; fails with the last observation. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, describe?: () => Promise<string> | string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const extra = describe ? `\n${await describe()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}${extra}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A bare repository (what the operator fetches) and a work tree that commits and pushes to it. */
export class ConfigRepo {
  readonly dir = mkdtempSync(join(tmpdir(), 'sluice-gitops-'));
  readonly bare = join(this.dir, 'origin.git');
  readonly work = join(this.dir, 'work');

  constructor() {
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', this.bare]);
    execFileSync('git', ['init', '-q', '-b', 'main', this.work]);
    this.git('remote', 'add', 'origin', this.bare);
  }

  git(...args: string[]): string {
    return execFileSync('git', ['-c', 'user.name=Sluice tests', '-c', 'user.email=tests@sluice.invalid', ...args], { cwd: this.work, encoding: 'utf8' }).trim();
  }

  /** Writes (or with null, deletes) files, commits and pushes; returns the new revision. */
  commit(message: string, files: Record<string, string | null>): string {
    for (const [path, text] of Object.entries(files)) {
      const full = join(this.work, path);
      if (text === null) rmSync(full, { force: true });
      else {
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, text);
      }
    }
    this.git('add', '-A');
    this.git('commit', '-q', '-m', message);
    this.git('push', '-q', 'origin', 'main');
    return this.git('rev-parse', 'HEAD');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function pipeFile(id: string, body: Record<string, unknown>): string {
  return `${JSON.stringify({ _id: id, type: 'pipe', ...body }, null, 2)}\n`;
}

export async function startOperator(kubeconfig: string, namespace: string, workDir: string, identity: string): Promise<Operator> {
  const { kc } = kubeClient(kubeconfig);
  const operator = new Operator({ kc, logger: pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' }), namespace, leaseNamespace: namespace, port: 0, workDir, identity, leaseDurationSeconds: 4 });
  await operator.start();
  return operator;
}

export async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: body as T };
}
