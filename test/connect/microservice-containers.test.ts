/**
 * `sluice run`'s microservice containers. No container engine works on the test machines (docker's
 * CLI may be installed, but no daemon runs), so a stand-in for the docker command line
 * (test/support/fake-container-engine.mjs) runs each image as a local Node process; what is tested
 * is Sluice's side: the commands and options it gives the engine, the forwarder that keeps a
 * microservice's address while its container is recreated, status, logs, reload, scheduled pulls
 * and removal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { microservices } from '../../runtime/microservices/directory.js';
import { detectEngine } from '../../runtime/microservices/engine.js';
import { LocalMicroservices } from '../../runtime/microservices/local.js';
import { Microservice } from '../../runtime/components/systems/microservice.js';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';
import { collect, configure, openRuntime, quietLogger } from '../support/runtime.js';
import { sluiceBin } from '../support/cli.js';
import { freePort } from '../../scripts/test-services/ports.js';

const ENGINE = fileURLToPath(new URL('../support/fake-container-engine.mjs', import.meta.url));
const SERVICE = fileURLToPath(new URL('../support/fake-microservice.mjs', import.meta.url));
const IMAGE = 'registry.example.org/team/worker:1';

interface Call {
  args: string[];
  stdin?: string;
}

describe('microservice containers under sluice run', () => {
  let dir: string;
  let local: LocalMicroservices;
  let rt: SluiceRuntime;
  const saved = { ...process.env };
  const calls = (): Call[] => (existsSync(join(dir, 'calls.log')) ? readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Call) : []);
  const state = (name = 'sluice-ms-worker') => (existsSync(join(dir, 'containers', `${name}.json`)) ? (JSON.parse(readFileSync(join(dir, 'containers', `${name}.json`), 'utf8')) as { id: string; args: string[]; env: Record<string, string>; pid: number }) : null);
  const worker = (docker: Record<string, unknown> = {}) => ({
    _id: 'worker',
    type: 'system:microservice',
    docker: { image: IMAGE, port: 5000, memory: 64, cpu_quota: 10, environment: { GREETING: 'yo', OPTIONS: { retries: 3 }, TOKEN: '$SECRET(token)' }, hosts: { 'db.internal': '10.0.0.7' }, username: 'robot', password: '$SECRET(registry)', ...docker },
  });
  const pipes = [
    { _id: 'pulled', type: 'pipe', source: { type: 'json', system: 'worker', url: 'entities' } },
    { _id: 'greeted', type: 'pipe', source: { type: 'dataset', dataset: 'pulled' }, transform: { type: 'http', system: 'worker', url: '/transform' } },
  ];
  const greetings = async () => {
    expect((await rt.runPipe('pulled')).status).toBe('completed');
    const out = await rt.runPipe('greeted', { full: true });
    expect(out.error).toBeUndefined();
    return (await collect(rt.store.scan('greeted', { history: false }))).map((e) => e.greeting);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-engine-'));
    Object.assign(process.env, { FAKE_ENGINE_DIR: dir, FAKE_ENGINE_IMAGES: JSON.stringify({ [IMAGE]: SERVICE, 'example/other:2': SERVICE }), FAKE_ENGINE_PASSWORD: 'pull-pw' });
    local = await LocalMicroservices.create({ logger: quietLogger, check: await detectEngine([ENGINE]), retryMs: 100 });
    microservices.useContainers(local);
    rt = await openRuntime();
    await rt.setSecrets({ token: 't0k3n', registry: 'pull-pw' }, true);
    local.follow(rt, (id) => microservices.givenAddress(id) !== undefined);
  });

  afterAll(async () => {
    await rt?.close();
    await local?.close();
    microservices.useContainers(null);
    process.env = saved;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('logs in, pulls and runs the image with the docker settings, and pipes reach it', async () => {
    await configure(rt, [worker(), ...pipes]);
    await local.idle();
    expect(rt.instantiationErrors.size).toBe(0);
    const commands = calls().map((c) => c.args[0]);
    expect(commands).toEqual(expect.arrayContaining(['login', 'pull', 'rm', 'run', 'port']));
    expect(calls().find((c) => c.args[0] === 'login')).toEqual({ args: ['login', 'registry.example.org', '--username', 'robot', '--password-stdin'], stdin: 'pull-pw' });
    const run = state()!;
    expect(run.args.join(' ')).toContain('--memory 64m --cpu-period 100000 --cpu-quota 10000 --add-host db.internal:10.0.0.7 -e GREETING -e OPTIONS -e TOKEN registry.example.org/team/worker:1');
    // Secret values reach the container through the engine's environment, never its arguments.
    expect(run.args.join(' ')).not.toContain('t0k3n');
    expect(run.env).toMatchObject({ GREETING: 'yo', OPTIONS: '{"retries":3}', TOKEN: 't0k3n' });
    expect(await greetings()).toEqual(['yo one', 'yo two']);
  });

  it('reports status and logs from the engine', async () => {
    const ms = new Microservice({ id: 'worker', config: worker() });
    const status = await ms.status();
    expect(status).toMatchObject({ platform: 'container', running: true, container: { name: 'sluice-ms-worker', image: IMAGE }, state: { status: 'running', running: true } });
    expect(status.url).toBe(ms.baseUrl().replace(/\/$/, ''));
    const logs = await ms.logs();
    expect(logs.available).toBe(true);
    expect(logs.available && logs.text).toMatch(/GET \/entities\n[\s\S]*POST \/transform/);
  });

  it('keeps the address across a reload (a new pull and a new container)', async () => {
    const before = state()!;
    const address = new Microservice({ id: 'worker', config: worker() }).baseUrl();
    await local.reload('worker');
    expect(state()!.id).not.toBe(before.id);
    expect(new Microservice({ id: 'worker', config: worker() }).baseUrl()).toBe(address);
    expect(await greetings()).toEqual(['yo one', 'yo two']);
  });

  it('recreates the container on changed settings (without pulling when skip_pull)', async () => {
    const pulls = calls().filter((c) => c.args[0] === 'pull').length;
    await configure(rt, [worker({ skip_pull: true, environment: { GREETING: 'hei' }, username: null, password: null }), ...pipes]);
    await local.idle();
    expect(calls().filter((c) => c.args[0] === 'pull')).toHaveLength(pulls);
    expect(state()!.env.GREETING).toBe('hei');
    expect(await greetings()).toEqual(['hei one', 'hei two']);
  });

  it('tries a container that did not start again until it does', async () => {
    const images = process.env.FAKE_ENGINE_IMAGES!;
    await configure(rt, [worker({ image: 'example/late:1', skip_pull: true, username: null, password: null }), ...pipes]);
    await local.idle();
    const ms = new Microservice({ id: 'worker', config: worker({ image: 'example/late:1' }) });
    expect(await ms.status()).toMatchObject({ running: false, error: expect.stringMatching(/Unable to find image 'example\/late:1' locally/) });
    // The image appears (pulled by hand, say): a later attempt starts it.
    process.env.FAKE_ENGINE_IMAGES = JSON.stringify({ ...JSON.parse(images), 'example/late:1': SERVICE });
    for (let i = 0; i < 300 && (await ms.status()).running !== true; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await ms.status()).toMatchObject({ running: true, container: { image: 'example/late:1' } });
    expect(await greetings()).toEqual(['yo one', 'yo two']);
  });

  it('removes the container of a removed system, reports a failing pull, and starts no container for an idle system', async () => {
    await configure(rt, [
      { _id: 'broken', type: 'system:microservice', docker: { image: 'example/missing:1', port: 80 } },
      { _id: 'lazy', type: 'system:microservice', eager_load: false, docker: { image: 'example/other:2', port: 80 } },
      { _id: 'p', type: 'pipe', source: { type: 'json', system: 'broken', url: 'x' } },
    ]);
    await local.idle();
    expect(state()).toBeNull();
    expect(state('sluice-ms-lazy')).toBeNull();
    const broken = await new Microservice({ id: 'broken', config: { docker: { image: 'example/missing:1', port: 80 } } }).status();
    expect(broken).toMatchObject({ platform: 'container', running: false });
    expect(broken.error).toMatch(/pull example\/missing:1 failed: Error: pull access denied for example\/missing:1/);
    expect(await new Microservice({ id: 'lazy', config: { docker: { image: 'example/other:2', port: 80 } } }).status()).toMatchObject({ running: false, error: expect.stringMatching(/no pipe uses it and eager_load is off/) });
  });
});

/** `sluice run` in a child process, until `done` holds or the time is up; answers the API's port and the log. */
async function sluiceRun(dir: string, args: string[], env: Record<string, string>, done: (api: string, log: string) => Promise<boolean>, seen: () => unknown = () => null): Promise<string> {
  const child: ChildProcess = spawn(process.execPath, [sluiceBin, 'run', dir, '--port', '0', '--data-dir', join(dir, '.data'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  try {
    const deadline = Date.now() + 45_000;
    for (;;) {
      const port = /(?:localhost|127\.0\.0\.1):(\d+)\/api/.exec(log)?.[1];
      if (port && (await done(`http://127.0.0.1:${port}/api`, log).catch(() => false))) return log;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`sluice run did not get there (last seen: ${JSON.stringify(seen())}); its log:\n${log.split('\n').filter((l) => !l.includes('"msg":"incoming request"') && !l.includes('"msg":"request completed"')).join('\n').slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

describe('sluice run with microservices', () => {
  it('reaches a microservice at the address given with --microservice, and says what to do for one it cannot start', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-run-ms-'));
    const port = await freePort();
    const service = spawn(process.execPath, [SERVICE], { env: { PATH: process.env.PATH, PORT: String(port), GREETING: 'given' }, stdio: 'ignore' });
    try {
      mkdirSync(join(dir, 'systems'));
      mkdirSync(join(dir, 'pipes'));
      writeFileSync(join(dir, 'systems', 'mine.conf.json'), JSON.stringify({ _id: 'mine', type: 'system:microservice', docker: { image: 'me/mine:1', port: 5000 } }));
      writeFileSync(join(dir, 'systems', 'theirs.conf.json'), JSON.stringify({ _id: 'theirs', type: 'system:microservice', docker: { image: 'them/theirs:1', port: 8080 } }));
      writeFileSync(join(dir, 'pipes', 'pulled.conf.json'), JSON.stringify({ _id: 'pulled', type: 'pipe', source: { type: 'json', system: 'mine', url: 'entities' }, pump: { schedule_interval: 1 } }));
      writeFileSync(join(dir, 'pipes', 'other.conf.json'), JSON.stringify({ _id: 'other', type: 'pipe', source: { type: 'json', system: 'theirs', url: 'entities' } }));
      const log = await sluiceRun(dir, ['--microservice', `mine=http://127.0.0.1:${port}`], { SLUICE_CONTAINER_ENGINE: 'false' }, async (api, text) => {
        const pulled = (await (await fetch(`${api}/datasets/pulled/entities`)).json()) as unknown[];
        return pulled.length === 2 && text.includes('cannot be started: no working container engine');
      });
      expect(log).toContain('microservice \\"theirs\\" cannot be started: no working container engine: false is installed but does not work');
      expect(log).toContain('--microservice theirs=http://localhost:8080');
    } finally {
      service.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts the image with a working container engine and removes the container when it stops', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-run-ms-'));
    // Outside the config folder, which sluice run watches.
    const engineDir = mkdtempSync(join(tmpdir(), 'sluice-engine-'));
    try {
      mkdirSync(join(dir, 'pipes'), { recursive: true });
      writeFileSync(join(dir, 'pipes', 'pulled.conf.json'), JSON.stringify({ _id: 'pulled', type: 'pipe', source: { type: 'json', system: 'svc', url: 'entities' }, pump: { schedule_interval: 1 } }));
      mkdirSync(join(dir, 'systems'));
      writeFileSync(join(dir, 'systems', 'svc.conf.json'), JSON.stringify({ _id: 'svc', type: 'system:microservice', docker: { image: IMAGE, port: 5000, skip_pull: true } }));
      let last: unknown = null;
      const log = await sluiceRun(
        dir,
        [],
        { SLUICE_CONTAINER_ENGINE: ENGINE, FAKE_ENGINE_DIR: engineDir, FAKE_ENGINE_IMAGES: JSON.stringify({ [IMAGE]: SERVICE }) },
        async (api) => {
          const status = (await (await fetch(`${api}/systems/svc/status`)).json()) as { running?: boolean };
          const pulled = (await (await fetch(`${api}/datasets/pulled/entities`)).json()) as unknown[];
          last = { status, pulled, pipe: await (await fetch(`${api}/pipes/pulled`)).json() };
          return status.running === true && pulled.length === 2;
        },
        () => last,
      );
      // Stopped: the container is gone.
      expect(existsSync(join(engineDir, 'containers', 'sluice-ms-svc.json')), `${readFileSync(join(engineDir, 'calls.log'), 'utf8')}\n${log.split('\n').filter((l) => !l.includes('request')).join('\n').slice(-3000)}`).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(engineDir, { recursive: true, force: true });
    }
  });
});
