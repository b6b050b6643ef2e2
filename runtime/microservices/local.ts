/**
 * Microservices under `sluice run`: each microservice system of the running plan becomes a
 * container of a working docker/podman (see engine.ts), created again when its settings change,
 * removed when the system goes, pulled again on its `pull_image_cron_expression`. The runtime
 * reaches a container through a loopback forwarder of its own whose port never changes, so the
 * address pipes were built with stays right when a container is recreated on another port.
 * Without a working engine nothing starts, and the directory's error tells the user to run the
 * image themselves and point the system at it.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import type { ExecutionPlan } from '../../compiler/plan/types.js';
import type { SluiceRuntime } from '../service/runtime.js';
import type { ContainerBackend } from './directory.js';
import { containerEnvironment, nextPullTime, registryOf, startsEagerly } from '../../compiler/plan/microservices.js';
import { containerName, detectEngine, firstLine, runArguments, runCommand, settingsDigest, type DockerSettings, type EngineCheck } from './engine.js';

/** How long after a failed start a container is tried again (by default). */
const RETRY_MS = 30_000;

/** How long a connection waits for a container that is being started. */
const FORWARD_WAIT_MS = 60_000;

interface Forwarder {
  server: net.Server;
  port: number;
  /** The container's published port, or null while it does not run. */
  target: number | null;
}

interface Wanted {
  docker: DockerSettings;
  digest: string;
}

/** A microservice system of a plan with its config resolved (secrets substituted). */
export interface ResolvedMicroservice {
  id: string;
  config: Record<string, unknown>;
}


async function listen(): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return server;
}

export class LocalMicroservices implements ContainerBackend {
  readonly unavailable?: string;
  private readonly cli: string | null;
  private readonly forwarders = new Map<string, Forwarder>();
  private spare: net.Server[] = [];
  private readonly wanted = new Map<string, Wanted>();
  private readonly errors = new Map<string, string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  /** Engine commands run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The latest reconcile (plans are reconciled one after another). */
  private reconciling: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    check: EngineCheck,
    private readonly logger: Logger,
    private readonly retryMs: number,
  ) {
    this.cli = check.cli;
    if (!check.cli) this.unavailable = check.reason ?? 'no working container engine';
  }

  static async create(options: { logger: Logger; check?: EngineCheck; retryMs?: number }): Promise<LocalMicroservices> {
    const local = new LocalMicroservices(options.check ?? (await detectEngine()), options.logger, options.retryMs ?? RETRY_MS);
    if (local.cli) await local.refill();
    else options.logger.warn({ reason: local.unavailable }, 'microservices cannot be started here; point microservice systems at services you run yourself with --microservice <id>=<url>');
    return local;
  }

  /** Keeps a few listening loopback ports ready, so that an address can be handed out at once. */
  private async refill(): Promise<void> {
    while (!this.closed && this.spare.length < 4) this.spare.push(await listen());
  }

  address(id: string): string | null {
    if (!this.cli) return null;
    let f = this.forwarders.get(id);
    if (!f) {
      const server = this.spare.shift();
      if (!server) return null;
      void this.refill();
      f = { server, port: (server.address() as net.AddressInfo).port, target: null };
      const forwarder = f;
      server.on('connection', (socket) => void this.forward(id, forwarder, socket));
      this.forwarders.set(id, f);
    }
    return `http://127.0.0.1:${f.port}`;
  }

  /**
   * Passes a connection on to the container; while it is being (re)created the connection waits
   * for it, and when it does not come the caller gets an HTTP 503 saying why.
   */
  private async forward(id: string, forwarder: Forwarder, socket: net.Socket): Promise<void> {
    socket.pause();
    socket.on('error', () => undefined);
    for (let waited = 0; forwarder.target === null && waited < FORWARD_WAIT_MS && !this.closed && !this.errors.has(id); waited += 100) await new Promise((r) => setTimeout(r, 100));
    if (forwarder.target === null) {
      const why = `microservice "${id}" is not running${this.errors.has(id) ? `: ${this.errors.get(id)}` : ''}`;
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(why)}\r\nConnection: close\r\n\r\n${why}`);
      return;
    }
    const upstream = net.connect(forwarder.target, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.resume();
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
  }

  private engine(args: string[], options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}) {
    const run = this.queue.then(() => runCommand(this.cli!, args, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async must(args: string[], what: string, options: { input?: string; env?: Record<string, string> } = {}): Promise<string> {
    const r = await this.engine(args, options);
    if (r.code !== 0) throw new Error(`${this.cli} ${what} failed: ${firstLine(r.stderr || r.stdout) || `exit code ${r.code}`}`);
    return r.stdout;
  }

  /**
   * Keeps the containers matching the runtime's plan from now on: its microservice systems (secrets
   * substituted), except those given an address with --microservice.
   */
  follow(runtime: SluiceRuntime, given: (id: string) => boolean): void {
    const apply = (plan: ExecutionPlan) => {
      const systems = [...runtime.systemsFor(plan).values()].filter((s) => s.type === 'system:microservice' && !given(s.id));
      this.reconciling = this.reconciling.then(() => this.reconcile(plan, systems)).catch((err: Error) => this.logger.error({ err: err.message }, 'microservices could not be reconciled'));
    };
    runtime.on('plan-applied', apply);
    if (runtime.plan) apply(runtime.plan);
  }

  /** Resolves when the reconciles started so far are done. */
  idle(): Promise<void> {
    return this.reconciling;
  }

  /** Makes the containers match the plan's microservice systems. */
  async reconcile(plan: ExecutionPlan, systems: ResolvedMicroservice[]): Promise<void> {
    if (!this.cli || this.closed) return;
    const next = new Map<string, Wanted>();
    for (const s of systems) if (startsEagerly(plan, s.id, s.config)) next.set(s.id, { docker: s.config.docker as DockerSettings, digest: settingsDigest(s.config.docker as DockerSettings) });
    for (const id of [...this.wanted.keys()]) if (!next.has(id)) await this.remove(id);
    for (const [id, w] of next) {
      const before = this.wanted.get(id);
      this.wanted.set(id, w);
      this.schedulePull(id, w.docker);
      try {
        if (!before || before.digest !== w.digest || !(await this.runningWith(id, w.digest))) await this.create(id, w.docker, { pull: !w.docker.skip_pull });
        else await this.track(id);
        this.errors.delete(id);
      } catch (err) {
        this.failed(id, err as Error);
      }
    }
  }

  /** Remembers why a container did not start, and tries again a while later (as a restart policy would). */
  private failed(id: string, err: Error): void {
    this.errors.set(id, err.message);
    this.logger.error({ microservice: id, err: err.message, retry_in_s: this.retryMs / 1000 }, 'microservice did not start');
    clearTimeout(this.retries.get(id));
    const timer = setTimeout(() => {
      this.retries.delete(id);
      const w = this.wanted.get(id);
      if (!w || this.closed || !this.errors.has(id)) return;
      this.reconciling = this.reconciling
        .then(() => this.create(id, w.docker, { pull: !w.docker.skip_pull }))
        .then(() => void this.errors.delete(id))
        .catch((e: Error) => {
          if (this.wanted.get(id) === w) this.failed(id, e);
        });
    }, this.retryMs);
    timer.unref();
    this.retries.set(id, timer);
  }

  /** Whether the container runs with these settings (left from an earlier `sluice run`, say). */
  private async runningWith(id: string, digest: string): Promise<boolean> {
    const r = await this.engine(['inspect', '--format', '{{index .Config.Labels "sluice.io/settings"}} {{.State.Running}}', containerName(id)]);
    return r.code === 0 && r.stdout.trim() === `${digest} true`;
  }

  private async login(docker: DockerSettings): Promise<void> {
    if (!docker.username) return;
    await this.must(['login', registryOf(docker.image), '--username', docker.username, '--password-stdin'], `login to ${registryOf(docker.image)}`, { input: docker.password ?? '' });
  }

  private async create(id: string, docker: DockerSettings, options: { pull: boolean }): Promise<void> {
    const stopping = () => {
      if (this.closed) throw new Error('sluice run is stopping');
    };
    stopping();
    if (options.pull) {
      await this.login(docker);
      await this.must(['pull', docker.image], `pull ${docker.image}`);
    }
    stopping();
    await this.engine(['rm', '-f', containerName(id)]);
    stopping();
    await this.must(runArguments(id, docker), `run ${docker.image}`, { env: containerEnvironment(docker) });
    this.logger.info({ microservice: id, image: docker.image }, 'microservice container started');
    await this.track(id);
  }

  /** Points the forwarder at the container's published port. */
  private async track(id: string): Promise<void> {
    const docker = this.wanted.get(id)!.docker;
    const out = await this.must(['port', containerName(id), `${docker.port}/tcp`], 'port');
    const port = Number(/:(\d+)\s*$/m.exec(out.trim())?.[1]);
    if (!Number.isInteger(port) || port <= 0) throw new Error(`${this.cli} port gave no published port for ${containerName(id)}: ${firstLine(out)}`);
    this.address(id);
    this.forwarders.get(id)!.target = port;
  }

  private async remove(id: string): Promise<void> {
    this.wanted.delete(id);
    this.errors.delete(id);
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    clearTimeout(this.retries.get(id));
    this.retries.delete(id);
    const f = this.forwarders.get(id);
    if (f) f.target = null;
    await this.engine(['rm', '-f', containerName(id)]);
    this.logger.info({ microservice: id }, 'microservice container removed');
  }

  /** Pulls on the cron schedule; a new image recreates the container. */
  private schedulePull(id: string, docker: DockerSettings): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    if (!docker.pull_image_cron_expression || this.closed) return;
    const at = nextPullTime(docker.pull_image_cron_expression, new Date());
    if (!at) {
      this.logger.warn({ microservice: id, cron: docker.pull_image_cron_expression }, 'pull_image_cron_expression is not a valid cron expression (or never fires); the image is not pulled on a schedule');
      return;
    }
    const timer = setTimeout(() => void this.pullAndRestart(id).finally(() => this.wanted.get(id) && this.schedulePull(id, this.wanted.get(id)!.docker)), Math.min(at.getTime() - Date.now(), 2 ** 31 - 1));
    timer.unref();
    this.timers.set(id, timer);
  }

  private async imageId(image: string): Promise<string> {
    const r = await this.engine(['image', 'inspect', '--format', '{{.Id}}', image]);
    return r.code === 0 ? r.stdout.trim() : '';
  }

  private async pullAndRestart(id: string): Promise<void> {
    const w = this.wanted.get(id);
    if (!w) return;
    try {
      const before = await this.imageId(w.docker.image);
      await this.login(w.docker);
      await this.must(['pull', w.docker.image], `pull ${w.docker.image}`);
      if ((await this.imageId(w.docker.image)) !== before) await this.create(id, w.docker, { pull: false });
    } catch (err) {
      this.errors.set(id, (err as Error).message);
      this.logger.error({ microservice: id, err: (err as Error).message }, 'scheduled image pull failed');
    }
  }

  async reload(id: string): Promise<void> {
    const w = this.wanted.get(id);
    if (!w) throw new Error(`microservice "${id}" is not running here`);
    await this.create(id, w.docker, { pull: true });
  }

  async status(id: string): Promise<Record<string, unknown>> {
    const url = this.forwarders.has(id) ? `http://127.0.0.1:${this.forwarders.get(id)!.port}` : undefined;
    const error = this.errors.get(id);
    const r = await this.engine(['inspect', containerName(id)]);
    if (r.code !== 0) return { running: false, url, error: error ?? (this.wanted.has(id) ? 'the container is not there' : 'not started (no pipe uses it and eager_load is off)') };
    const info = (JSON.parse(r.stdout) as Record<string, any>[])[0] ?? {};
    const state = info.State ?? {};
    return {
      running: state.Running === true,
      url,
      container: { id: String(info.Id ?? '').slice(0, 12), name: String(info.Name ?? '').replace(/^\//, ''), image: info.Config?.Image, created: info.Created, restart_count: info.RestartCount ?? 0 },
      state: { status: state.Status, running: state.Running, started_at: state.StartedAt, finished_at: state.FinishedAt, exit_code: state.ExitCode, error: state.Error || undefined, oom_killed: state.OOMKilled },
      ...(error ? { error } : {}),
    };
  }

  async logs(id: string, since?: string): Promise<string> {
    const args = ['logs', '--timestamps', ...(since ? ['--since', since] : ['--tail', '1000']), containerName(id)];
    const r = await this.engine(args);
    if (r.code !== 0) throw new Error(`${this.cli} logs failed: ${firstLine(r.stderr) || `exit code ${r.code}`}`);
    // The container's stdout and stderr, ordered by their timestamps.
    return [...r.stdout.split('\n'), ...r.stderr.split('\n')].filter((l) => l !== '').sort().join('\n') + '\n';
  }

  /** Removes the containers and stops forwarding (sluice run stopping). */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of [...this.timers.values(), ...this.retries.values()]) clearTimeout(t);
    // A reconcile in progress stops at its next step; then every container it may have made goes.
    await this.reconciling;
    if (this.cli) for (const id of new Set([...this.wanted.keys(), ...this.forwarders.keys()])) await this.remove(id);
    for (const s of [...this.spare, ...[...this.forwarders.values()].map((f) => f.server)]) s.close();
    this.spare = [];
  }
}
