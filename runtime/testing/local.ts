/**
 * `sluice test`: a project in the client's layout run in-process, the way `sesam test` runs it on a
 * node, on a fresh embedded store in a temporary folder:
 *
 * 1. upload: the env file and the config (refused with its diagnostics when it has errors), then
 *    every `testdata/<pipe>.json` posted to the receiver of `<pipe>` (receiving.ts);
 * 2. run (`runs` times): the pipe runner (runner.ts) with the client's parameters;
 * 3. verify (or update) the output and endpoint pipes against `expected/` (verify.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { formatDiagnostic } from '../../compiler/diagnostics.js';
import { buildApi } from '../api/app.js';
import { normaliseStage, previewEntityTexts } from '../service/preview.js';
import { parseEntities, receiveEntities, ReceiveError, receiverOptionsOf, receiverPipe } from '../service/receiving.js';
import { runAllPipes, type RunnerLogLine } from '../service/runner.js';
import { SluiceRuntime } from '../service/runtime.js';
import { pipeViews } from '../service/views.js';
import { EmbeddedStore } from '../store/embedded/store.js';
import type { CompareOptions } from './compare.js';
import { envObject, hasTestdataFolder, projectConfigFiles, projectEnv, testdataFiles } from './project.js';
import { postTestdata } from './testdata.js';
import { updateProject, verifyProject, type PipeInfo, type Reporter, type VerifyResult, type VerifyTarget } from './verify.js';

/** Reads pipes and output straight from an in-process runtime (publishers through the API routes). */
export class LocalTarget implements VerifyTarget {
  private app: Promise<FastifyInstance> | null = null;

  constructor(private readonly rt: SluiceRuntime) {}

  async pipes(): Promise<PipeInfo[]> {
    return (await pipeViews(this.rt)) as unknown as PipeInfo[];
  }

  async pipeEntities(pipeId: string, stage: string | undefined): Promise<string> {
    const s = normaliseStage(stage);
    if (!s) throw new Error(`invalid stage "${stage}"`);
    return `[${(await previewEntityTexts(this.rt, pipeId, s)).join(',')}]`;
  }

  async published(pipeId: string, endpoint: string, query: string): Promise<Buffer> {
    this.app ??= buildApi(this.rt, { logger: false });
    const app = await this.app;
    // Read as a stream: the injected response keeps its buffered payload (and a text copy) alive
    // for as long as the test run lasts, one published output after another.
    const res = await app.inject({ method: 'GET', url: `/api/publishers/${encodeURIComponent(pipeId)}/${encodeURIComponent(endpoint)}${query}`, payloadAsStream: true });
    const chunks: Buffer[] = [];
    for await (const chunk of res.stream()) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (res.statusCode >= 400) throw new Error(`GET /api/publishers/${pipeId}/${endpoint}${query} answered ${res.statusCode}: ${body.toString('utf8').slice(0, 500)}`);
    return body;
  }

  async close(): Promise<void> {
    if (this.app) await (await this.app).close();
  }
}

export interface LocalTestOptions {
  profile?: string;
  /** Run cycles (the client's `-runs`), default 1. */
  runs?: number;
  /** The runner's parameters (the client's `-scheduler-*` options). */
  extraZeroRuns?: number;
  maxRuns?: number;
  maxRunTime?: number;
  /** Write the current output into expected/ instead of comparing. */
  update?: boolean;
  compare?: CompareOptions;
  /** Keep the store here instead of a temporary folder that is removed afterwards. */
  dataDir?: string;
  logLevel?: string;
  /** Progress lines (stderr). */
  progress?: (line: string) => void;
  /** The verification report (stdout). */
  report?: Reporter;
}

export interface LocalTestResult {
  ok: boolean;
  stage: 'upload' | 'testdata' | 'run' | 'verify' | 'update';
  message?: string;
  verify?: VerifyResult;
  updated?: string[];
  seconds: number;
}

function plural(n: number, word: string): string {
  return n === 1 ? `${n} ${word}` : `${n} ${word.endsWith('y') ? `${word.slice(0, -1)}ies` : `${word}s`}`;
}

export async function runLocalTest(dir: string, options: LocalTestOptions = {}): Promise<LocalTestResult> {
  const t0 = Date.now();
  const progress = options.progress ?? (() => undefined);
  const report: Reporter = options.report ?? { info: () => undefined, warn: () => undefined, error: () => undefined };
  const seconds = () => (Date.now() - t0) / 1000;
  const fail = (stage: LocalTestResult['stage'], message: string): LocalTestResult => {
    report.error(message);
    return { ok: false, stage, message, seconds: seconds() };
  };

  const files = projectConfigFiles(dir);
  const { env, file: envFile, overridden } = projectEnv(dir, options.profile ?? 'test');
  for (const k of overridden) progress(`${envFile}: "${k}" is replaced by the value in ../.additional_parameters.json`);
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sluice-test-'));
  const store = new EmbeddedStore({ dataDir });
  const rt = await SluiceRuntime.open({ store, logger: pino({ level: options.logLevel ?? 'silent' }), schedule: false });
  const target = new LocalTarget(rt);
  try {
    // ------------------------------------------------------------------ upload
    await rt.setEnv(envObject(env), true);
    const loaded = await rt.setConfigFiles(files);
    const warnings = loaded.diagnostics.filter((d) => d.severity !== 'error');
    if (!loaded.applied) {
      for (const d of loaded.diagnostics) report.error(formatDiagnostic(d));
      const errors = loaded.diagnostics.filter((d) => d.severity === 'error').length;
      return fail('upload', `the config has ${plural(errors, 'error')}; nothing was run`);
    }
    for (const d of warnings) progress(formatDiagnostic(d));
    const plan = rt.plan!;
    progress(`uploaded ${plural(plan.pipes.length, 'pipe')} and ${plural(plan.systems.length, 'system')} (${envFile}: ${plural(env.size, 'variable')})`);

    const jobs = testdataFiles(dir);
    let posted = 0;
    const failures: string[] = [];
    for (const job of jobs) {
      try {
        const options = receiverOptionsOf(receiverPipe(rt, job.pipe));
        posted += (await postTestdata(dir, job, async (body) => {
          const entities = parseEntities(body, options);
          await receiveEntities(rt, job.pipe, entities, { isFull: false, isFirst: false, isLast: false });
          return entities.length;
        })) ?? 0;
      } catch (err) {
        const msg = err instanceof ReceiveError ? `${err.status} ${err.code}: ${err.message}` : (err as Error).message;
        failures.push(`${job.path} (${job.pipe}): ${msg}`);
      }
    }
    if (jobs.length) progress(`posted ${plural(posted, 'entity')} from ${plural(jobs.length - failures.length, 'test data file')}`);
    if (failures.length) {
      for (const f of failures) report.error(`test data upload failed: ${f}`);
      return fail('testdata', `test data upload failed for ${plural(failures.length, 'file')}`);
    }

    // ------------------------------------------------------------------ run
    const runs = Math.max(1, options.runs ?? 1);
    const keepInputs = hasTestdataFolder(dir);
    const failedEntities = new Map<string, number>();
    for (let i = 1; i <= runs; i++) {
      const prefix = runs > 1 ? `run ${i}/${runs}: ` : '';
      const onLog = (line: RunnerLogLine) => {
        if (/^(Run \d+:|Ran |The pipe)/.test(line.logdata) || line.loglevel === 'ERROR' || line.loglevel === 'WARNING') progress(`${prefix}${line.logdata}`);
      };
      const result = await runAllPipes(rt, { extraZeroRuns: options.extraZeroRuns ?? 2, maxRuns: options.maxRuns ?? 100, maxRunTime: options.maxRunTime ?? 900, deleteInputDatasets: !keepInputs }, onLog);
      if (result.status !== 'success') return fail('run', `the pipes did not run to completion: ${result.additional_info}`);
      for (const s of result.statistics) if (s.failedEntities) failedEntities.set(s.pipe, (failedEntities.get(s.pipe) ?? 0) + s.failedEntities);
    }
    // Entities that could not be written never pass for a clean run, even when the runner carried on.
    for (const [pipe, n] of [...failedEntities].sort()) report.warn(`pipe '${pipe}': ${plural(n, 'entity')} failed to be written (see the pipe's execution log)`);

    // ------------------------------------------------------------------ verify or update
    if (options.update) {
      const { updated } = await updateProject(dir, target, report, options.compare);
      return { ok: true, stage: 'update', updated, seconds: seconds() };
    }
    progress('verifying the output against expected/');
    const verify = await verifyProject(dir, target, report, options.compare);
    return { ok: verify.ok, stage: 'verify', verify, seconds: seconds() };
  } catch (err) {
    return fail('verify', (err as Error).message);
  } finally {
    await target.close();
    await rt.close();
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}
