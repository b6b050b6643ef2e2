/**
 * Microservice systems in the runtime: components reach a microservice like a URL system at the
 * address the directory gives (a service started here stands in for one the user runs), the
 * service API reports its status and says where logs are, and without an address or a working
 * container engine pipes say clearly why they cannot run and how to point the system at a service.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { startApi } from '../../runtime/api/app.js';
import { microservices, MicroserviceDirectory, parseGivenAddresses } from '../../runtime/microservices/directory.js';
import { detectEngine, runArguments } from '../../runtime/microservices/engine.js';
import { containerEnvironment, registryOf } from '../../compiler/plan/microservices.js';
import { LocalMicroservices } from '../../runtime/microservices/local.js';
import { Microservice, microserviceOperations } from '../../runtime/components/systems/microservice.js';
import { freePort } from '../../scripts/test-services/ports.js';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';
import { collect, configure, openRuntime, quietLogger } from '../support/runtime.js';

const FAKE_SERVICE = fileURLToPath(new URL('../support/fake-microservice.mjs', import.meta.url));

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  microservices.useContainers(null);
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

/** Runs the stand-in microservice as the user would run an image themselves; resolves with its URL. */
async function runService(env: Record<string, string> = {}): Promise<string> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [FAKE_SERVICE], { env: { PATH: process.env.PATH, PORT: String(port), ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(async () => child.kill('SIGTERM'));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`the stand-in microservice exited with ${code}`)));
  });
  return `http://127.0.0.1:${port}`;
}

async function runtime(): Promise<SluiceRuntime> {
  const rt = await openRuntime();
  cleanups.push(() => rt.close());
  return rt;
}

const system = (id: string, extra: Record<string, unknown> = {}) => ({ _id: id, type: 'system:microservice', docker: { image: 'example/enricher:1.0', port: 5000 }, ...extra });

describe('microservice systems', () => {
  it('serve the json source and the http transform (with the system login) at the address given for them', async () => {
    const url = await runService({ GREETING: 'hi', MS_USER: 'sluice', MS_PASSWORD: 'pw' });
    microservices.give('enricher', url);
    const rt = await runtime();
    await rt.setSecrets({ 'ms-password': 'pw' }, true);
    await configure(rt, [
      system('enricher', { authentication: 'basic', username: 'sluice', password: '$SECRET(ms-password)' }),
      { _id: 'pulled', type: 'pipe', source: { type: 'json', system: 'enricher', url: '/entities' } },
      { _id: 'enriched', type: 'pipe', source: { type: 'dataset', dataset: 'pulled' }, transform: { type: 'http', system: 'enricher', url: 'transform' } },
    ]);
    expect((await rt.runPipe('pulled')).status).toBe('completed');
    expect((await rt.runPipe('enriched')).status).toBe('completed');
    const out = (await collect(rt.store.scan('enriched', { history: false }))).map((e) => [e._id, e.greeting]);
    expect(out).toEqual([
      ['1', 'hi one'],
      ['2', 'hi two'],
    ]);
  });

  it('make pipes fail with what to do when no address is given and no container can be started', async () => {
    const rt = await runtime();
    await configure(rt, [system('lonely'), { _id: 'p', type: 'pipe', source: { type: 'json', system: 'lonely', url: 'entities' } }]);
    expect(rt.instantiationErrors.get('p')).toMatch(
      /microservice "lonely" cannot be started: this runtime does not start containers .*sluice run <config> --microservice lonely=http:\/\/localhost:5000.*SLUICE_MICROSERVICES/,
    );

    // A container engine that is installed but does not work (here: a command that always fails).
    const broken = await LocalMicroservices.create({ logger: quietLogger, check: await detectEngine(['false']) });
    microservices.useContainers(broken);
    await configure(rt, [system('lonely', { comment: 'changed' }), { _id: 'p', type: 'pipe', source: { type: 'json', system: 'lonely', url: 'entities' } }]);
    expect(rt.instantiationErrors.get('p')).toMatch(/cannot be started: no working container engine: false is installed but does not work \(exit code 1\)\. Run its image yourself/);
    expect((await detectEngine(['sluice-no-such-engine'])).reason).toBe('no working container engine: sluice-no-such-engine is not installed');
  });

  it('have status, logs and reload in the service API', async () => {
    const url = await runService();
    microservices.give('reachable', url);
    const rt = await runtime();
    await configure(rt, [system('reachable'), system('nowhere', { docker: { image: 'x/y', port: 8080 } }), { _id: 'u', type: 'system:url', url_pattern: 'http://localhost/%s' }]);
    const app: FastifyInstance = await startApi(rt, { port: 0, host: '127.0.0.1', logger: false });
    cleanups.push(() => app.close());
    const api = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api`;
    const get = async (path: string, init?: RequestInit) => {
      const res = await fetch(`${api}${path}`, init);
      const text = await res.text();
      return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
    };

    const up = await get('/systems/reachable/status');
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ id: 'reachable', type: 'system:microservice', image: 'example/enricher:1.0', platform: 'external', url: `${url}/`, running: true, reachable: true, http_status: 200 });

    const down = await get('/systems/nowhere/status');
    expect(down.body).toMatchObject({ id: 'nowhere', platform: 'none', running: false });
    expect(down.body.error).toMatch(/--microservice nowhere=http:\/\/localhost:8080/);

    // A URL system answers the same generic routes with its client's status and activity.
    expect((await get('/systems/u/status')).body).toMatchObject({ _id: 'u', type: 'system:url', state: 'ready' });
    expect((await get('/systems/missing/status')).status).toBe(404);

    const logs = await get('/systems/reachable/logs');
    expect(logs.status).toBe(409);
    expect(logs.body.error).toMatchObject({ code: 'LOGS_NOT_AVAILABLE' });
    expect(logs.body.error.message).toMatch(/runs outside Sluice/);
    expect((await get('/systems/reachable/logs?since=yesterday')).status).toBe(400);
    expect((await get('/systems/u/logs')).status).toBe(200);

    const reload = await get('/systems/reachable/reload', { method: 'POST' });
    expect(reload.status).toBe(409);
    expect(reload.body.error.code).toBe('RELOAD_NOT_AVAILABLE');
  });

  it('read the addresses the operator gives in SLUICE_MICROSERVICES, and say where the logs are on Kubernetes', async () => {
    const url = await runService();
    const directory = new MicroserviceDirectory({ SLUICE_MICROSERVICES: JSON.stringify({ enricher: { url, deployment: 'shop-ms-enricher', namespace: 'prod' }, plain: 'http://plain:5000' }) });
    const ms = new Microservice({ id: 'enricher', config: system('enricher') }, directory);
    expect(ms.baseUrl()).toBe(`${url}/`);
    expect(await ms.status()).toMatchObject({ platform: 'kubernetes', deployment: 'shop-ms-enricher', namespace: 'prod', running: true });
    expect(await ms.logs()).toEqual({ available: false, reason: expect.stringMatching(/kubectl logs -n prod deployment\/shop-ms-enricher/) });
    expect(new Microservice({ id: 'plain', config: system('plain') }, directory).baseUrl()).toBe('http://plain:5000/');
    expect(() => parseGivenAddresses('{"a": "ftp://x"}')).toThrow(/must be an http or https URL/);
    expect(() => parseGivenAddresses('[1]')).toThrow(/must be a JSON object/);
  });

  it('offer the generic system operations: status, a proxy through their URL client, and logs/reload refused with the reason', async () => {
    const url = await runService({ MS_USER: 'u', MS_PASSWORD: 'p' });
    microservices.give('proxied', url);
    const resolved = { id: 'proxied', type: 'system:microservice', source_file: '', location: { file: '', line: 1, column: 1 }, original: {}, effective: {}, hash: '', config: system('proxied', { authentication: 'basic', username: 'u', password: 'p' }) };
    const ops = microserviceOperations(resolved as never, { logger: quietLogger });
    expect(await ops.status()).toMatchObject({ platform: 'external', running: true });
    const res = await ops.proxy({ method: 'GET', path: 'entities?x=1', headers: { authorization: 'Bearer the-callers-own', accept: 'application/json' } });
    expect(res.status).toBe(200);
    expect(JSON.parse(await res.text())).toHaveLength(2);
    await expect(ops.logs()).rejects.toMatchObject({ statusCode: 409, code: 'LOGS_NOT_AVAILABLE' });
    await expect(ops.reload()).rejects.toMatchObject({ statusCode: 409, code: 'RELOAD_NOT_AVAILABLE' });
  });

  it('turn the docker settings into container engine arguments', () => {
    const docker = {
      image: 'registry.example.org:5000/team/enricher:2',
      port: 5000,
      memory: 256,
      cpu_quota: 50,
      cpu_period: 100,
      cpuset_cpus: '0-1',
      environment: { PLAIN: 'text', CONFIG: { a: 1, b: ['x'] }, COUNT: 3 },
      hosts: { 'db.internal': '10.0.0.5' },
    };
    const args = runArguments('enricher', docker);
    expect(args.slice(0, 4)).toEqual(['run', '-d', '--name', 'sluice-ms-enricher']);
    expect(args.join(' ')).toContain('-p 127.0.0.1::5000 --memory 256m --cpu-period 100000 --cpu-quota 50000 --cpuset-cpus 0-1 --add-host db.internal:10.0.0.5 -e PLAIN -e CONFIG -e COUNT registry.example.org:5000/team/enricher:2');
    expect(containerEnvironment(docker)).toEqual({ PLAIN: 'text', CONFIG: '{"a":1,"b":["x"]}', COUNT: '3' });
    expect(registryOf(docker.image)).toBe('registry.example.org:5000');
    expect(registryOf('sesam/file-share:latest')).toBe('docker.io');
    expect(registryOf('ubuntu')).toBe('docker.io');
  });
});
