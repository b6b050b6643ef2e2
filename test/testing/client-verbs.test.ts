/**
 * The client verbs (cli/client): finding the node and token, client-style command lines, and
 * upload/run/verify/update/status/download/wipe/stop/restart/reset against a runtime over HTTP.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rewriteClientArgs } from '../../cli/client/argv.js';
import { cleanJwt, normaliseNodeUrl, parseSyncConfig, resolveConnection } from '../../cli/client/connection.js';
import { NodeClient } from '../../cli/client/node.js';
import * as verbs from '../../cli/client/verbs.js';
import { startTestApi, type TestApi } from '../api/support.js';
import { repoRoot, sluiceBin } from '../support/cli.js';
import { tempDir } from '../support/runtime.js';

describe('finding the node and the token', () => {
  it('normalises node URLs and tokens as the client does', () => {
    expect(normaliseNodeUrl('localhost:9042')).toBe('https://localhost:9042/api');
    expect(normaliseNodeUrl('"http://localhost:9042"')).toBe('http://localhost:9042/api');
    expect(normaliseNodeUrl('http://localhost:9042/api')).toBe('http://localhost:9042/api');
    expect(normaliseNodeUrl('http://localhost:9042/api/')).toBe('http://localhost:9042/api');
    expect(cleanJwt('"Bearer abc.def.ghi"')).toBe('abc.def.ghi');
    expect(cleanJwt('bearer abc')).toBe('abc');
  });

  it('reads .syncconfig as JSON or KEY=value lines', () => {
    expect(parseSyncConfig('{"node": "n", "JWT": "j"}')).toEqual({ node: 'n', jwt: 'j' });
    expect(parseSyncConfig('# comment\nNODE="https://x.sesam.cloud"\nJWT = abc\n; other\n')).toEqual({ node: '"https://x.sesam.cloud"', jwt: 'abc' });
  });

  it('takes flags, then NODE/JWT, then the nearest .syncconfig above the project', () => {
    const root = tempDir('sluice-sync-');
    const project = join(root, 'a', 'b');
    mkdirSync(project, { recursive: true });
    writeFileSync(join(root, '.syncconfig'), 'NODE=file-node:9042\nJWT="file-jwt"\n');
    expect(resolveConnection({ dir: project, env: {} })).toMatchObject({ nodeUrl: 'https://file-node:9042/api', jwt: 'file-jwt' });
    expect(resolveConnection({ dir: project, env: { NODE: 'http://env-node', JWT: 'env-jwt' } })).toMatchObject({ nodeUrl: 'http://env-node/api', jwt: 'env-jwt' });
    expect(resolveConnection({ dir: project, env: { NODE: 'http://env-node' }, node: 'http://flag', jwt: 'flag-jwt' })).toMatchObject({ nodeUrl: 'http://flag/api', jwt: 'flag-jwt' });
    expect(() => resolveConnection({ dir: tempDir('sluice-nosync-'), env: {}, syncConfigFile: '.no-such-syncconfig' })).toThrow(/no node given/);
  });

  it("rewrites the client's single-dash options; `run` without a folder is the client's run", () => {
    expect(rewriteClientArgs(['test', '-node', 'http://x', '-jwt', 't', '-runs', '2', '-vv'])).toEqual(['test', '--node', 'http://x', '--jwt', 't', '--runs', '2', '--verbose']);
    expect(rewriteClientArgs(['run', '-scheduler-zero-runs', '3'])).toEqual(['run-all', '--scheduler-zero-runs', '3']);
    expect(rewriteClientArgs(['run'])).toEqual(['run-all']);
    expect(rewriteClientArgs(['run', '--help'])).toEqual(['run', '--help']);
    expect(rewriteClientArgs(['run', 'examples/quickstart', '--port', '9042'])).toEqual(['run', 'examples/quickstart', '--port', '9042']);
    expect(rewriteClientArgs(['run', '--port', '9042', 'examples/quickstart'])).toEqual(['run', '--port', '9042', 'examples/quickstart']);
    expect(rewriteClientArgs(['run', '.', '--node', 'http://x'])).toEqual(['run-all', '.', '--node', 'http://x']);
    expect(rewriteClientArgs(['validate', '-e', 'A=1', 'x'])).toEqual(['validate', '-e', 'A=1', 'x']);
  });
});

/** Runs the real command without blocking this process (the API under test lives here). */
function sluiceAsync(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [sluiceBin, ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

describe('the verbs against a node', () => {
  let api: TestApi;
  let client: NodeClient;
  let dir: string;
  const lines: string[] = [];
  const out: verbs.Output = {
    progress: (m) => lines.push(m),
    report: { info: (m) => lines.push(m), warn: (m) => lines.push(`warning: ${m}`), error: (m) => lines.push(`error: ${m}`) },
  };

  beforeAll(async () => {
    api = await startTestApi();
    client = new NodeClient({ nodeUrl: `${api.base}/api`, jwt: null, from: 'test' });
    dir = join(tempDir('sluice-verbs-'), 'ci-orders');
    cpSync(join(repoRoot, 'examples', 'ci-orders'), dir, { recursive: true });
  });

  afterAll(async () => {
    await api?.close();
  });

  it('upload, run and verify pass; an edited expected file fails; update writes it back', async () => {
    await verbs.checkDeveloperMode(client, false);
    await verbs.upload(dir, client, out);
    expect(await verbs.run(dir, client, out, { printSchedulerLog: true })).toMatch(/^Ran 8 pipes/);
    expect(lines.some((l) => / - INFO - Run 1: 8 pipes ran/.test(l))).toBe(true);
    expect((await verbs.verify(dir, client, out)).ok).toBe(true);
    const file = join(dir, 'expected', 'order-report.csv');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('1500', '1501'));
    const failed = await verbs.verify(dir, client, out);
    expect(failed.ok).toBe(false);
    expect(failed.failed[0].comparison.diff).toContain('-o-2,Grace Hopper,1,1200,300,1501,NOK\r\n+o-2,Grace Hopper,1,1200,300,1500,NOK');
    expect(await verbs.update(dir, client, out)).toHaveLength(4);
    expect(readFileSync(file, 'utf8')).toBe(original);
  });

  it('async runs poll the runner status', async () => {
    expect(await verbs.run(dir, client, out, { requestMode: 'async' })).toMatch(/^Ran 8 pipes/);
  });

  it('status compares with the node; download writes the node config as the client formats it', async () => {
    expect(await verbs.status(dir, client, out, { diff: false })).toBe(false);
    const fresh = tempDir('sluice-download-');
    cpSync(join(dir, 'node-metadata.conf.json'), join(fresh, 'node-metadata.conf.json'));
    await verbs.download(fresh, client, out);
    expect(readFileSync(join(fresh, 'test-env.json'), 'utf8')).toBe('\ufeff{\n  "currency": "NOK",\n  "vat_percent": 25\n}\n');
    expect(readFileSync(join(fresh, 'pipes', 'order.conf.json'), 'utf8')).toBe('{\n  "_id": "order",\n  "type": "pipe",\n  "source": {\n    "type": "http_endpoint"\n  }\n}\n');
    // upload's disable_user_pipes is taken out again
    expect(readFileSync(join(fresh, 'node-metadata.conf.json'), 'utf8')).toBe('{\n  "_id": "node",\n  "type": "metadata"\n}\n');
    expect(await verbs.status(fresh, client, out)).toBe(true);
  });

  it('restart and reset wait for a new node_start_time; wipe empties the node', async () => {
    await verbs.restart(client, out, 'restart', 30);
    expect((await verbs.verify(dir, client, out)).ok).toBe(true);
    await verbs.wipe(dir, client, out);
    expect(await client.pipes()).toEqual([]);
    await verbs.upload(dir, client, out);
    await verbs.restart(client, out, 'reset', 30);
    expect(await client.pipes()).toEqual([]);
  });

  it('`sluice test --node` and `sluice run -node` (the CLI) against the node', { timeout: 120_000 }, async () => {
    const t = await sluiceAsync(['test', dir, '--node', api.base]);
    expect(t.stdout).toContain('all tests passed: 4 test specs for 3 pipes');
    expect(t.status).toBe(0);
    const r = await sluiceAsync(['run', dir, '-node', api.base, '-print-scheduler-log', '-scheduler-zero-runs', '1']);
    expect(r.stderr).toMatch(/Run 2: 8 pipes ran, 0 changes \(1 of 1 runs without changes\)/);
    expect(r.status).toBe(0);
    const v = await sluiceAsync(['verify', dir], { NODE: api.base, JWT: 'ignored' });
    expect(v.stdout + v.stderr).toContain('all tests passed');
    expect(v.status).toBe(0);
    const s = await sluiceAsync(['stop', dir, '--node', api.base]);
    expect(s.status).toBe(0);
  });
});
