/**
 * The verbs of Sesam's client against a node: upload, download, status, run, verify, update,
 * wipe, stop, restart, reset and test. Each makes the HTTP calls the client makes, in its order,
 * with its parameters (see CLIENT-COMPAT.md); comparisons use runtime/testing.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readZip } from '../../runtime/api/safe-unzip.js';
import type { CompareOptions } from '../../runtime/testing/compare.js';
import { unifiedDiff } from '../../runtime/testing/diff.js';
import { formatPortalJson } from '../../runtime/testing/portal-format.js';
import { hasTestdataFolder, projectConfigEntries, projectEnv, projectZip, testdataBody, testdataFiles } from '../../runtime/testing/project.js';
import { dumpsPy, isPyDict, parsePyJson, type PyDict, type PyValue } from '../../runtime/testing/pyjson.js';
import { isUserPipe, updateProject, verifyProject, type PipeInfo, type Reporter, type VerifyResult, type VerifyTarget } from '../../runtime/testing/verify.js';
import { NodeClient, NodeHttpError } from './node.js';

export class VerbError extends Error {}

export interface Output {
  /** Progress (stderr). */
  progress(message: string): void;
  /** Results: verification reports, diffs (stdout). */
  report: Reporter;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function plural(n: number, word: string): string {
  return n === 1 ? `${n} ${word}` : `${n} ${word.endsWith('y') ? `${word.slice(0, -1)}ies` : `${word}s`}`;
}

/** The client refuses most commands on nodes that are not in developer mode. */
export async function checkDeveloperMode(client: NodeClient, allowWithForce: boolean): Promise<void> {
  const info = await client.apiInfo();
  if (!info || typeof info.status !== 'object' || info.status === null) throw new VerbError('GET /api/ did not answer a "status" object');
  if (!info.status.developer_mode && !allowWithForce) throw new VerbError('the node is not in developer mode (status.developer_mode is false); this command needs a developer node');
}

// ------------------------------------------------------------------------------------- upload

export interface UploadOptions {
  profile?: string;
  force?: boolean;
  enableUserPipes?: boolean;
  uploadDeleteSinkDatasets?: boolean;
  /** Parallel test data posts (default 8). */
  workers?: number;
}

function validationReport(errors: unknown[]): string[] {
  const lines: string[] = [];
  for (const item of errors as { 'posted-config'?: { _id?: string }; 'config-errors'?: { level?: string; msg?: string }[] }[]) {
    for (const e of item['config-errors'] ?? []) lines.push(`${e.level ?? 'error'}: ${item['posted-config']?._id ?? '?'}: ${e.msg ?? ''}`);
  }
  return lines;
}

/** Polls GET /api/pipes until no user pipe is Deploying. */
export async function waitForDeploy(client: NodeClient, out: Output, timeoutMs = 30 * 60_000): Promise<void> {
  const start = Date.now();
  let announced = false;
  for (;;) {
    const deploying = (await client.pipes()).filter((p) => isUserPipe(p as PipeInfo) && p.runtime?.state === 'Deploying');
    if (!deploying.length) return;
    if (!announced) out.progress(`waiting for ${plural(deploying.length, 'pipe')} to deploy`);
    announced = true;
    if (Date.now() - start > timeoutMs) throw new VerbError(`pipes were still deploying after ${timeoutMs / 1000} s: ${deploying.map((p) => p._id).join(', ')}`);
    await sleep(500);
  }
}

async function postTestdata(client: NodeClient, pipe: string, body: string): Promise<void> {
  if (!(await client.pipe(pipe))) throw new VerbError(`pipe '${pipe}' does not exist`);
  for (let attempt = 1; ; attempt++) {
    const started = Date.now();
    for (;;) {
      try {
        await client.postReceiver(pipe, body);
        return;
      } catch (err) {
        // Routes still deploying: 503 is retried for a minute.
        if (err instanceof NodeHttpError && err.status === 503 && Date.now() - started < 60_000) {
          await sleep(1000);
          continue;
        }
        const retryable = err instanceof NodeHttpError ? err.status === 429 || err.status >= 500 : true;
        if (attempt > 3 || !retryable) throw err;
        break;
      }
    }
    await sleep(1000 * 2 ** (attempt - 1) + Math.random() * 1000);
  }
}

export async function upload(dir: string, client: NodeClient, out: Output, opts: UploadOptions = {}): Promise<void> {
  const { env, file, overridden } = projectEnv(dir, opts.profile ?? 'test');
  for (const k of overridden) out.progress(`${file}: "${k}" is replaced by the value in ../.additional_parameters.json`);
  if (opts.uploadDeleteSinkDatasets) {
    out.progress('deleting all sink datasets');
    out.progress(`deleted: ${JSON.stringify(await client.deleteAllSinkDatasets())}`);
  }
  await client.putEnv(dumpsPy(env));
  const zip = await projectZip(dir, { enableUserPipes: opts.enableUserPipes });
  const r = await client.putConfig(zip, opts.force === true);
  if (r.status === 400) {
    for (const line of validationReport(r.body.validation_errors ?? [])) out.report.error(line);
    throw new VerbError(`the node refused the config (${plural((r.body.validation_errors ?? []).length, 'component')} with problems)`);
  }
  await waitForDeploy(client, out);
  out.progress(`uploaded the config (${plural(Object.keys(JSON.parse(dumpsPy(env))).length, 'env variable')})`);
  const jobs = testdataFiles(dir);
  if (!jobs.length) {
    out.progress('no test data to upload');
    return;
  }
  const failures: string[] = [];
  let next = 0;
  let uploaded = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      try {
        const body = testdataBody(dir, job);
        if (body !== null) await postTestdata(client, job.pipe, body);
        uploaded++;
      } catch (err) {
        failures.push(`${job.path} (${job.pipe}): ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.workers ?? 8, jobs.length)) }, worker));
  out.progress(`test data: ${uploaded} of ${plural(jobs.length, 'file')} uploaded`);
  if (failures.length) {
    for (const f of failures) out.report.error(`test data upload failed: ${f}`);
    throw new VerbError(`test data upload failed for ${plural(failures.length, 'file')}`);
  }
}

// ------------------------------------------------------------------------------------- run

export interface RunOptions {
  zeroRuns?: number;
  maxRuns?: number;
  maxRunTime?: number;
  requestMode?: 'sync' | 'async';
  checkInputPipes?: boolean;
  dontResetPipesOrDeleteSinkDatasets?: boolean;
  outputRunStatistics?: boolean;
  schedulerMode?: string;
  printSchedulerLog?: boolean;
}

export async function stop(client: NodeClient, out: Output): Promise<void> {
  out.progress('stopping any running pipe runner');
  await client.stopRunner(30);
}

export async function run(dir: string, client: NodeClient, out: Output, opts: RunOptions = {}): Promise<string | undefined> {
  const started = Date.now();
  const mode = opts.requestMode ?? 'sync';
  if (opts.schedulerMode !== undefined && !['active', 'poll'].includes(opts.schedulerMode)) throw new VerbError("the scheduler mode can only be 'active' or 'poll'");
  if (!['sync', 'async'].includes(mode)) throw new VerbError("the request mode can only be 'sync' or 'async'");
  await stop(client, out);
  const params: Record<string, string | number | boolean | undefined> = {
    extra_zero_runs: opts.zeroRuns ?? 2,
    max_run_time: opts.maxRunTime ?? 900,
    max_runs: opts.maxRuns ?? 100,
    ...(hasTestdataFolder(dir) ? { delete_input_datasets: false } : {}),
    ...(opts.checkInputPipes ? { check_input_pipes: true } : {}),
    ...(opts.dontResetPipesOrDeleteSinkDatasets ? { reset_pipes_and_delete_sink_datasets: false } : {}),
    ...(opts.outputRunStatistics ? { output_run_statistics: true } : {}),
    ...(opts.schedulerMode ? { scheduler_mode: opts.schedulerMode } : {}),
    request_mode: mode,
  };
  out.progress('running all pipes until they settle');
  let token: string | undefined;
  let since: string | undefined;
  const printLog = async () => {
    if (!opts.printSchedulerLog) return;
    const lines = await client.runnerLog(since, token);
    for (const l of lines) {
      if (!l || typeof l !== 'object') return;
      const line = l as { timestamp: string; loglevel: string; logdata: string };
      out.progress(`${line.timestamp} - ${line.loglevel} - ${line.logdata}`);
      since = line.timestamp;
    }
  };
  let result: { status?: string; additional_info?: string; token?: string } | undefined;
  let failure: unknown;
  let done = false;
  const job = (async () => {
    try {
      result = await client.runAllPipes(params);
      if (mode === 'async') {
        if (!result.token) throw new VerbError("the node's answer to an async run-all-pipes has no token");
        token = result.token;
        for (;;) {
          const s = await client.runnerStatus(token);
          if (s.status === 'success') {
            result = { ...result, ...s };
            break;
          }
          if (s.status === 'failed' || s.status === 'stopped') {
            result = { ...result, ...s };
            failure = new VerbError(`the pipe runner failed: ${s.additional_info ?? JSON.stringify(s)}`);
            break;
          }
          if (s.status === 'not-running') {
            failure = new VerbError('the pipe runner is not running');
            break;
          }
          await sleep(2000);
        }
      } else if (result.status !== 'success') failure = new VerbError(`the pipes did not run to completion: ${JSON.stringify(result)}`);
    } catch (err) {
      failure = err;
    } finally {
      done = true;
    }
  })();
  while (!done) {
    await printLog().catch(() => undefined);
    await Promise.race([job, sleep(1000)]);
  }
  await printLog().catch(() => undefined);
  if (failure) throw failure;
  out.progress(`ran all pipes to completion in ${Math.round((Date.now() - started) / 1000)} s`);
  if (result?.additional_info) out.progress(result.additional_info);
  return result?.additional_info;
}

// ------------------------------------------------------------------------------------- verify and update

/** Verify and update against a node over HTTP. */
export class RemoteTarget implements VerifyTarget {
  constructor(private readonly client: NodeClient) {}

  async pipes(): Promise<PipeInfo[]> {
    return (await this.client.pipes()) as PipeInfo[];
  }

  pipeEntities(pipeId: string, stage: string | undefined): Promise<string> {
    return this.client.pipeEntities(pipeId, stage);
  }

  published(pipeId: string, endpoint: string, query: string): Promise<Buffer> {
    return this.client.published(pipeId, endpoint, query);
  }
}

export async function verify(dir: string, client: NodeClient, out: Output, options: CompareOptions = {}): Promise<VerifyResult> {
  out.progress('verifying the output against expected/');
  return verifyProject(dir, new RemoteTarget(client), out.report, options);
}

export async function update(dir: string, client: NodeClient, out: Output, options: CompareOptions = {}): Promise<string[]> {
  out.progress('updating expected/ from the current output');
  return (await updateProject(dir, new RemoteTarget(client), out.report, options)).updated;
}

// ------------------------------------------------------------------------------------- test

export interface TestOptions extends UploadOptions, RunOptions {
  runs?: number;
  compare?: CompareOptions;
}

export async function test(dir: string, client: NodeClient, out: Output, opts: TestOptions = {}): Promise<VerifyResult> {
  await upload(dir, client, out, opts);
  await waitForDeploy(client, out);
  let info: string | undefined;
  for (let i = 0; i < Math.max(1, opts.runs ?? 1); i++) info = await run(dir, client, out, opts);
  const result = await verify(dir, client, out, opts.compare);
  if (result.ok && info) out.progress(info);
  return result;
}

// ------------------------------------------------------------------------------------- wipe

function localMetadata(dir: string): PyDict {
  const p = join(dir, 'node-metadata.conf.json');
  if (!existsSync(p)) return new Map<string, PyValue>([
    ['_id', 'node'],
    ['type', 'metadata'],
  ]);
  const v = parsePyJson(readFileSync(p, 'utf8'));
  if (!isPyDict(v)) throw new VerbError('node-metadata.conf.json must hold a JSON object');
  return v;
}

function section(d: PyDict, name: string): PyDict {
  const s = d.get(name);
  if (isPyDict(s)) return s;
  const fresh: PyDict = new Map();
  d.set(name, fresh);
  return fresh;
}

export async function wipe(dir: string, client: NodeClient, out: Output): Promise<void> {
  await stop(client, out);
  out.progress('wiping the node');
  const meta = localMetadata(dir);
  section(meta, 'global_defaults').set('use_signalling_internally', false);
  section(meta, 'global_defaults').set('use_signalling_externally', false);
  section(meta, 'global_defaults').set('enable_cpp_extensions', false);
  section(meta, 'task_manager').set('disable_user_pipes', true);
  for (const config of [`[${dumpsPy(meta)}]`, '[]']) {
    const r = await client.putConfig(Buffer.from(config), true);
    if (r.status === 400) throw new VerbError(`the node refused the config: ${JSON.stringify(r.body).slice(0, 500)}`);
  }
  out.progress('removed the pipes and systems');
  await client.putEnv('{}');
  out.progress('removed the environment variables');
  const start = Date.now();
  for (;;) {
    const left = (await client.pipes()).filter((p) => isUserPipe(p as PipeInfo));
    if (!left.length) break;
    if (Date.now() - start > 30 * 60_000) throw new VerbError(`${plural(left.length, 'pipe')} were not removed`);
    await sleep(500);
  }
  out.progress('the node is wiped');
}

// ------------------------------------------------------------------------------------- restart and reset

export async function restart(client: NodeClient, out: Output, operation: 'restart' | 'reset', timeoutSeconds = 900): Promise<void> {
  await client.stopRunner(30).catch(() => undefined);
  out.progress(operation === 'reset' ? 'resetting the node' : 'restarting the node');
  const before = (await client.status()).node_start_time;
  const answer = await client.admin(operation);
  if (JSON.stringify(answer) !== JSON.stringify({ message: 'OK' })) throw new VerbError(`the node answered ${JSON.stringify(answer)} to the ${operation}, not {"message": "OK"}`);
  const start = Date.now();
  let last = 'no new node_start_time';
  for (;;) {
    try {
      if ((await client.status()).node_start_time !== before) break;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() - start > timeoutSeconds * 1000) throw new VerbError(`the node did not come back within ${timeoutSeconds} s: ${last}`);
    await sleep(1000);
  }
  out.progress(operation === 'reset' ? 'the node is reset' : 'the node is restarted');
}

// ------------------------------------------------------------------------------------- download and status

/**
 * The client's adjustment of a downloaded node-metadata.conf.json: settings that upload added
 * (`disable_user_pipes` true, `enable_cpp_extensions` and `eager_load_microservices` false) are
 * taken back to the local value, or removed when the local file does not have them.
 */
function withoutUploadSettings(remoteText: string, local: PyDict): string {
  const remote = parsePyJson(remoteText);
  if (!isPyDict(remote)) return remoteText;
  const localSection = (name: string) => (isPyDict(local.get(name)) ? (local.get(name) as PyDict) : new Map<string, PyValue>());
  const restore = (sectionName: string, key: string, uploaded: boolean) => {
    const s = remote.get(sectionName);
    if (!isPyDict(s) || !s.has(key) || s.get(key) !== uploaded) return;
    const l = localSection(sectionName);
    if (l.has(key)) s.set(key, l.get(key)!);
    else {
      s.delete(key);
      if (s.size === 0) remote.delete(sectionName);
    }
  };
  restore('task_manager', 'disable_user_pipes', true);
  restore('global_defaults', 'enable_cpp_extensions', false);
  restore('global_defaults', 'eager_load_microservices', false);
  return dumpsPy(remote, { indent: 2, ensureAscii: false });
}

function remoteConfig(zip: Buffer, dir: string): Map<string, string> {
  // The node's answer is inflated within the same limits the API puts on uploads.
  let entries: { path: string; bytes: Buffer }[];
  try {
    entries = readZip(new Uint8Array(zip), (path) => !path.endsWith('/'));
  } catch (err) {
    throw new VerbError(`the config the node sent cannot be read: ${(err as Error).message}`);
  }
  const out = new Map<string, string>();
  const local = existsSync(join(dir, 'node-metadata.conf.json')) ? parsePyJson(readFileSync(join(dir, 'node-metadata.conf.json'), 'utf8')) : new Map();
  for (const { path: name, bytes } of entries) {
    let text = new TextDecoder().decode(bytes);
    if (name === 'node-metadata.conf.json') text = withoutUploadSettings(text, isPyDict(local) ? local : new Map());
    out.set(name, text);
  }
  return out;
}

function formatted(text: string, name: string): string {
  try {
    return formatPortalJson(parsePyJson(text));
  } catch (err) {
    throw new VerbError(`${name} from the node is not JSON: ${(err as Error).message}`);
  }
}

export async function download(dir: string, client: NodeClient, out: Output, opts: { profile?: string; dump?: boolean } = {}): Promise<void> {
  const profileFile = `${opts.profile ?? 'test'}-env.json`;
  // The client writes the env file as utf-8-sig (with a byte order mark).
  writeFileSync(join(dir, profileFile), '\ufeff' + formatPortalJson(parsePyJson(await client.envText())));
  const files = remoteConfig(await client.configZip(), dir);
  const formattedFiles = new Map([...files].map(([name, text]) => [name, formatted(text, name)] as const));
  if (opts.dump) {
    const enc = new TextEncoder();
    // Loaded here: `sluice run` loads these verbs too, and should not pay for fflate at start.
    const { zipSync } = await import('fflate');
    writeFileSync(join(dir, 'sesam-config.zip'), zipSync(Object.fromEntries([...formattedFiles].map(([n, t]) => [n, enc.encode(t)]))));
    out.progress("wrote the downloaded config to 'sesam-config.zip'");
  }
  for (const sub of ['pipes', 'systems']) {
    const folder = join(dir, sub);
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder)) if (name.endsWith('.conf.json')) rmSync(join(folder, name), { force: true });
  }
  for (const [name, text] of formattedFiles) {
    const target = join(dir, name);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
  out.progress(`replaced the local config: ${plural(formattedFiles.size, 'file')} and ${profileFile}`);
}

/** Compares local and node config (and env); true when in sync. */
export async function status(dir: string, client: NodeClient, out: Output, opts: { profile?: string; diff?: boolean } = {}): Promise<boolean> {
  out.progress('comparing the local and the node config');
  const showDiff = opts.diff !== false;
  const local = new Map(projectConfigEntries(dir).map((e) => [e.path, e.text] as const));
  const remote = remoteConfig(await client.configZip(), dir);
  let differ = false;
  const compare = (localText: string, remoteText: string, name: string) => {
    if (localText === remoteText) return;
    differ = true;
    out.report.info(`file '${name}' differs from the node`);
    if (showDiff) out.report.info(unifiedDiff(localText, remoteText, name, name).trimEnd());
  };
  const profileFile = `${opts.profile ?? 'test'}-env.json`;
  if (existsSync(join(dir, profileFile))) {
    compare(formatted(readFileSync(join(dir, profileFile), 'utf8'), profileFile), formatPortalJson(parsePyJson(await client.envText())), profileFile);
  } else out.report.error(`cannot find the profile file '${profileFile}'`);
  for (const name of [...remote.keys()].sort()) {
    if (!local.has(name)) {
      out.report.info(`node file '${name}' is not in the local config`);
      differ = true;
    }
  }
  for (const name of [...local.keys()].sort()) {
    if (!remote.has(name)) {
      out.report.info(`local file '${name}' is not on the node`);
      differ = true;
    } else compare(local.get(name)!, formatted(remote.get(name)!, name), name);
  }
  out.report.info(differ ? 'the node config is NOT in sync with the local config' : 'the node config is up to date with the local config');
  return !differ;
}
