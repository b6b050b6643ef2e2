/**
 * Child processes for the fault tests: a script run with tsx (or the real `sluice` command) whose
 * stdout lines the test waits for, so that kills and checks follow the child's own progress.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Child {
  proc: ChildProcess;
  /** Every stdout line so far. */
  lines: string[];
  stderr(): string;
  /** Resolves with the first line (already seen or still to come) matching `pattern`; rejects when the child exits first. */
  line(pattern: RegExp): Promise<string>;
  /** Resolves when the child has exited: its code, or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): Promise<void>;
}

export function startChild(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Child {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env }, cwd: opts.cwd });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  const waiters: { pattern: RegExp; resolve(line: string): void; reject(e: Error): void }[] = [];
  let ended: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('exit', (code, signal) => {
      ended = { code, signal };
      for (const w of waiters.splice(0)) w.reject(new Error(`the child exited (${signal ?? code}) before printing ${w.pattern}; stderr: ${err.slice(-2000)}`));
      resolve(ended);
    });
  });
  proc.stdout!.on('data', (d: Buffer) => {
    partial += d.toString('utf8');
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      lines.push(line);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i].pattern.test(line)) waiters.splice(i, 1)[0].resolve(line);
      }
    }
  });
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  return {
    proc,
    lines,
    stderr: () => err,
    line(pattern) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      if (ended) return Promise.reject(new Error(`the child has exited (${ended.signal ?? ended.code}) without printing ${pattern}; stderr: ${err.slice(-2000)}`));
      return new Promise((resolve, reject) => waiters.push({ pattern, resolve, reject }));
    },
    exited,
    async kill() {
      if (!ended) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** A script of this folder run with tsx. */
export function tsxScript(url: URL, args: string[]): string[] {
  return ['--import', 'tsx', decodeURIComponent(url.pathname), ...args];
}
