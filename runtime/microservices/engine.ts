/**
 * A container engine's command line (docker, or podman which takes the same commands): whether
 * one is installed and working, and the commands `sluice run` needs to run a microservice's image.
 * A microservice's `docker` settings become `run` options: memory and CPU limits (cpu_quota and
 * cpu_period are in thousandths of Docker's microsecond units), cpuset, extra hosts, environment
 * (strings as they are, other values as JSON text; handed to the CLI in its environment, never on
 * its command line),
 * with the container's port published on 127.0.0.1 only.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { containerEnvironment, type DockerSettings } from '../../compiler/plan/microservices.js';

export type { DockerSettings };

export interface EngineCheck {
  /** The working command (docker or podman), or null. */
  cli: string | null;
  /** Why no engine can be used, when cli is null. */
  reason?: string;
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}


export function runCommand(cli: string, args: string[], options: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(cli, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ? { ...process.env, ...options.env } : process.env });
    } catch (err) {
      return resolve({ code: null, stdout: '', stderr: (err as Error).message });
    }
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: err.code === 'ENOENT' ? 'ENOENT' : err.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Finds a container engine that works: SLUICE_CONTAINER_ENGINE, else docker, else podman. An
 * installed CLI that cannot reach its engine (no daemon, no permission) does not count.
 */
export async function detectEngine(candidates = process.env.SLUICE_CONTAINER_ENGINE ? [process.env.SLUICE_CONTAINER_ENGINE] : ['docker', 'podman']): Promise<EngineCheck> {
  const problems: string[] = [];
  for (const cli of candidates) {
    const r = await runCommand(cli, ['info', '--format', '{{json .ID}}'], { timeoutMs: 20_000 });
    if (r.code === 0) return { cli };
    if (r.stderr === 'ENOENT') problems.push(`${cli} is not installed`);
    else problems.push(`${cli} is installed but does not work (${firstLine(r.stderr || r.stdout) || `exit code ${r.code}`})`);
  }
  return { cli: null, reason: `no working container engine: ${problems.join('; ')}` };
}

export function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
}

export const containerName = (id: string) => `sluice-ms-${id}`;



/** A digest of what the container is made from: a changed digest recreates it. */
export function settingsDigest(docker: DockerSettings): string {
  return createHash('sha256').update(JSON.stringify(docker)).digest('hex').slice(0, 16);
}

/** `run` arguments for a microservice's container; `-e NAME` takes each value from the CLI's environment. */
export function runArguments(id: string, docker: DockerSettings): string[] {
  const args = ['run', '-d', '--name', containerName(id), '--label', `sluice.io/microservice=${id}`, '--label', `sluice.io/settings=${settingsDigest(docker)}`, '--restart', 'unless-stopped'];
  // Published on an ephemeral loopback port: the runtime reaches it through its own forwarder.
  args.push('-p', `127.0.0.1::${docker.port}`);
  args.push('--memory', `${docker.memory ?? 128}m`);
  args.push('--cpu-period', String((docker.cpu_period ?? 100) * 1000), '--cpu-quota', String((docker.cpu_quota ?? 25) * 1000));
  if (docker.cpuset_cpus) args.push('--cpuset-cpus', docker.cpuset_cpus);
  for (const [host, ip] of Object.entries(docker.hosts ?? {})) args.push('--add-host', `${host}:${ip}`);
  for (const name of Object.keys(containerEnvironment(docker))) args.push('-e', name);
  args.push(docker.image);
  return args;
}
