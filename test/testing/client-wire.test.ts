/**
 * The HTTP conversation of Sesam's client (sesam.py with sesamclient) for `upload`, `run`,
 * `verify` and `test` (and the calls of download, status, restart and wipe), replayed from this
 * test against a runtime over real sockets, with a bearer token: the same paths, parameters,
 * headers and bodies, in the same order (CLIENT-COMPAT.md; api-digest section 9). The answers are
 * checked for what the client reads from them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareBytes, compareEntities, compareXml, parametersQuery } from '../../runtime/testing/compare.js';
import { projectZip, testdataBody, testdataFiles } from '../../runtime/testing/project.js';
import { loadSpecFiles } from '../../runtime/testing/spec.js';
import { pipesToVerify, type PipeInfo } from '../../runtime/testing/verify.js';
import { startTestApi, type TestApi } from '../api/support.js';
import { repoRoot } from '../support/cli.js';

const secret = 'wire-test-secret';
const project = join(repoRoot, 'examples', 'ci-orders');
let api: TestApi;
let jwt: string;

beforeAll(async () => {
  api = await startTestApi({ auth: { jwtSecret: secret } });
  // A token without "principals" (the client would otherwise call Sesam's portal).
  jwt = await new SignJWT({ sub: 'ci@example.org' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(secret));
});

afterAll(async () => {
  await api?.close();
});

interface WireReply {
  status: number;
  headers: Headers;
  body: Buffer;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A request as the client makes it: node URL + /api, bearer token, `Accept: application/json,*\/*`. */
async function call(method: string, path: string, init: { body?: NonNullable<RequestInit['body']>; headers?: Record<string, string> } = {}): Promise<WireReply> {
  const res = await fetch(`${api.base}/api${path}`, { method, body: init.body, headers: { accept: 'application/json,*/*', authorization: `Bearer ${jwt}`, ...init.headers } });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) };
}

/** sesamclient's percent-encoding of ids (no safe characters). */
const quote = (id: string) => encodeURIComponent(id);

function multipart(data: Buffer, type: string): FormData {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(data)], { type }), 'config');
  return form;
}

async function upload(): Promise<void> {
  // put_env: the profile file, as JSON
  const env = await call('PUT', '/env', { body: readFileSync(join(project, 'test-env.json')), headers: { 'content-type': 'application/json' } });
  expect(env.status).toBe(200);
  expect(env.json()).toEqual({ currency: 'NOK', vat_percent: 25 });
  // put_config: a zip of pipes/, systems/ and node-metadata.conf.json in a multipart field "file"
  const put = await call('PUT', '/config?force=false', { body: multipart(await projectZip(project), 'application/zip') });
  expect(put.status).toBe(200);
  expect(put.headers.get('content-type')).toMatch(/application\/json/);
  // 200 with warnings at most (the client ignores them)
  const items = put.json().validation_errors as { 'config-errors': { level: string }[] }[];
  expect(items.flatMap((i) => i['config-errors']).filter((e) => e.level === 'error')).toEqual([]);
  // wait_for_all_pipes_to_deploy: GET /api/pipes until no user pipe is Deploying
  for (let i = 0; ; i++) {
    const pipes = (await call('GET', '/pipes')).json() as PipeInfo[];
    for (const p of pipes) expect(p.runtime).toHaveProperty('state');
    if (!pipes.some((p) => p.runtime.state === 'Deploying')) break;
    expect(i).toBeLessThan(100);
    await new Promise((r) => setTimeout(r, 50));
  }
  // upload_testdata: GET the pipe, then POST the file's JSON to its receiver
  for (const job of testdataFiles(project)) {
    expect((await call('GET', `/pipes/${quote(job.pipe)}`)).status).toBe(200);
    const r = await call('POST', `/receivers/${quote(job.pipe)}/entities`, { body: testdataBody(project, job)!, headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({});
  }
}

async function run(): Promise<string> {
  const stop = await call('POST', '/pipes/stop-run-all-pipes?terminate_timeout=30');
  expect(stop.status).toBe(200);
  stop.json();
  // The client sends the booleans the Python way; delete_input_datasets=False because testdata/ exists.
  const running = call('POST', '/pipes/run-all-pipes?extra_zero_runs=2&max_run_time=900&max_runs=100&delete_input_datasets=False&request_mode=sync');
  // -print-scheduler-log: the log is polled while the sync request is open, then once more.
  let since: string | undefined;
  const lines: string[] = [];
  let done = false;
  void running.finally(() => (done = true));
  while (!done) {
    const log = (await call('GET', `/pipes/get-run-all-pipes-log${since ? `?since=${encodeURIComponent(since)}` : ''}`)).json() as { timestamp: string; loglevel: string; logdata: string }[];
    for (const l of log) {
      lines.push(`${l.timestamp} - ${l.loglevel} - ${l.logdata}`);
      since = l.timestamp;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const result = (await running).json();
  expect(result.status).toBe('success');
  for (const l of (await call('GET', `/pipes/get-run-all-pipes-log${since ? `?since=${encodeURIComponent(since)}` : ''}`)).json()) lines.push(l.logdata);
  expect(lines.join('\n')).toMatch(/Run 3: 8 pipes ran, 0 changes/);
  return result.additional_info;
}

async function verify(): Promise<{ compared: number; failed: string[] }> {
  const pipes = pipesToVerify((await call('GET', '/pipes')).json() as PipeInfo[]);
  expect(pipes.map((p) => p._id)).toEqual(['customer-api', 'order-report', 'order-xml']);
  const failed: string[] = [];
  let compared = 0;
  for (const spec of loadSpecFiles(project)) {
    const pipe = pipes.find((p) => p._id === spec.pipe)!;
    expect(pipe.runtime['is-valid-config']).toBe(true);
    compared++;
    if (spec.comparesEntities) {
      // The raw id in the path; ?stage= only when the spec has one.
      const r = await call('GET', `/pipes/${pipe._id}/entities${spec.stage ? `?stage=${spec.stage}` : ''}`);
      expect(r.status).toBe(200);
      if (!compareEntities(spec, spec.expectedEntities(), r.body.toString('utf8')).ok) failed.push(spec.specFile);
      continue;
    }
    // get_published_data: the pump first (enabled when disabled), then the publisher with the spec's parameters
    const pump = (await call('GET', `/pipes/${quote(pipe._id)}/pump`)).json();
    expect(pump.runtime['is-disabled']).toBe(false);
    const r = await call('GET', `/publishers/${pipe._id}/${spec.endpoint}${parametersQuery(spec.parameters)}`);
    expect(r.status).toBe(200);
    const c = spec.endpoint === 'xml' ? compareXml(spec, spec.expectedBytes(), r.body) : compareBytes(spec, spec.expectedBytes(), r.body);
    if (!c.ok) failed.push(spec.specFile);
  }
  return { compared, failed };
}

describe("the client's HTTP conversation", () => {
  it('GET /api/ (with the trailing slash) answers status.developer_mode; no token is refused', async () => {
    const r = await call('GET', '/');
    expect(r.status).toBe(200);
    expect(r.json().status.developer_mode).toBe(true);
    expect((await fetch(`${api.base}/api/`)).status).toBe(401);
  });

  it('upload, run, verify', async () => {
    await upload();
    expect(await run()).toMatch(/^Ran 8 pipes in 3 runs/);
    expect(await verify()).toEqual({ compared: 4, failed: [] });
  });

  it('test (upload, run twice, verify) is stable', async () => {
    await upload();
    await run();
    await run();
    expect(await verify()).toEqual({ compared: 4, failed: [] });
  });

  it('an upload with errors is refused with validation_errors the client can read', async () => {
    const bad = JSON.stringify([{ _id: 'oops', type: 'pipe', source: { type: 'embeded' } }]);
    const r = await call('PUT', '/config?force=false', { body: multipart(Buffer.from(bad), 'application/json') });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    const [item] = r.json().validation_errors;
    expect(item['posted-config']._id).toBe('oops');
    expect(item['config-errors'][0]).toMatchObject({ level: 'error', msg: expect.stringMatching(/embeded/), elements: expect.any(String) });
    // The running config is untouched.
    expect(((await call('GET', '/pipes')).json() as PipeInfo[]).length).toBe(8);
  });

  it('download and status: the env, and the config as a zip of pipes/<id>.conf.json and node-metadata.conf.json', async () => {
    expect((await call('GET', '/env')).json()).toEqual({ currency: 'NOK', vat_percent: 25 });
    const zip = await call('GET', '/config', { headers: { accept: 'application/zip' } });
    expect(zip.headers.get('content-type')).toBe('application/zip');
    const names = Object.keys(unzipSync(new Uint8Array(zip.body))).sort();
    expect(names).toContain('node-metadata.conf.json');
    expect(names).toContain('pipes/customer-api.conf.json');
    for (const [name, bytes] of Object.entries(unzipSync(new Uint8Array(zip.body)))) expect(() => JSON.parse(new TextDecoder().decode(bytes)), name).not.toThrow();
    // upload added disable_user_pipes to the node metadata
    const meta = JSON.parse(new TextDecoder().decode(unzipSync(new Uint8Array(zip.body))['node-metadata.conf.json']));
    expect(meta.task_manager.disable_user_pipes).toBe(true);
  });

  it('restart: GET /api/status, POST /api/admin operation=restart → {"message": "OK"}, node_start_time changes', async () => {
    const before = (await call('GET', '/status')).json().node_start_time;
    const r = await call('POST', '/admin', { body: 'operation=restart', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(r.json()).toEqual({ message: 'OK' });
    expect((await call('GET', '/status')).json().node_start_time).not.toBe(before);
    expect(await verify()).toEqual({ compared: 4, failed: [] });
  });

  it('wipe: stop, PUT config [metadata] and [] with force, PUT env {}, until no user pipes remain', async () => {
    expect((await call('POST', '/pipes/stop-run-all-pipes?terminate_timeout=30')).status).toBe(200);
    const meta = { _id: 'node', type: 'metadata', task_manager: { disable_user_pipes: true }, global_defaults: { use_signalling_internally: false, use_signalling_externally: false, enable_cpp_extensions: false } };
    for (const config of [[meta], []]) {
      const r = await call('PUT', '/config?force=true', { body: multipart(Buffer.from(JSON.stringify(config)), 'application/json') });
      expect(r.status).toBe(200);
    }
    expect((await call('PUT', '/env', { body: '{}', headers: { 'content-type': 'application/json' } })).json()).toEqual({});
    expect((await call('GET', '/pipes')).json()).toEqual([]);
  });
});
