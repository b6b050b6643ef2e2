/**
 * `verify` and `update` as Sesam's client does them, against any node (VerifyTarget): the local
 * in-process runtime of `sluice test`, or a node over HTTP (`sluice verify --node ...`).
 *
 * - The pipes checked are the user pipes whose effective config makes them *output* pipes (no
 *   sink dataset, source not embedded) or *endpoint* pipes (sink type `*_endpoint`); output pipes
 *   come first. Pipes with invalid config are reported and left out.
 * - Every such pipe needs a spec; every spec must name such a pipe and (unless ignored) have its
 *   expected file. `update` instead creates what is missing (`{}` specs, `[]` files) and removes
 *   specs of pipes that do not exist.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareBytes, compareEntities, compareXml, parametersQuery, updatedEntitiesFile, updatedXmlFile, type CompareOptions, type Comparison } from './compare.js';
import { loadSpecFiles, TestSpec } from './spec.js';
import { settleHeap } from '../executor/heap-budget.js';

type Json = Record<string, unknown>;

export interface PipeInfo {
  _id: string;
  config: { original?: Json; effective?: Json };
  runtime: Json;
}

/** Where verify and update read pipes and their output. */
export interface VerifyTarget {
  pipes(): Promise<PipeInfo[]>;
  /** `GET /api/pipes/<id>/entities[?stage=]`: the JSON text of the entities. */
  pipeEntities(pipeId: string, stage: string | undefined): Promise<string>;
  /** `GET /api/publishers/<id>/<endpoint><query>`: the bytes. */
  published(pipeId: string, endpoint: string, query: string): Promise<Buffer>;
}

export interface Reporter {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export type PipeType = 'input' | 'endpoint' | 'internal' | 'output';

/** The client's classification of a pipe from its effective config. */
export function pipeType(p: PipeInfo): PipeType {
  const effective = p.config.effective ?? {};
  const source = (effective.source ?? {}) as Json;
  const sink = (effective.sink ?? {}) as Json;
  const sinkType = sink.type ?? '';
  if ((source.type ?? '') === 'embedded') return 'input';
  if (typeof sinkType === 'string' && sinkType.endsWith('_endpoint')) return 'endpoint';
  if ((source.dataset || source.datasets) && sink.dataset) return 'internal';
  if (!sink.dataset) return 'output';
  return 'internal';
}

/** Pipes that are not the node's own (system, search, replica, aggregator origins; `:singlenode` ids). */
export function isUserPipe(p: PipeInfo): boolean {
  const origin = ((p.config.original ?? {}).metadata as Json | undefined)?.origin ?? 'user';
  if (['system', 'search', 'replica', 'aggregator-storage-node'].includes(String(origin))) return false;
  return !p._id.includes(':singlenode');
}

/** Output pipes, then endpoint pipes (the pipes verify and update look at). */
export function pipesToVerify(pipes: PipeInfo[]): PipeInfo[] {
  const user = pipes.filter(isUserPipe);
  return [...user.filter((p) => pipeType(p) === 'output'), ...user.filter((p) => pipeType(p) === 'endpoint')];
}

export class VerifyError extends Error {}

/** Loads the specs and checks them against the pipes (the client's `load_test_specs`). */
function loadSpecs(dir: string, pipes: Map<string, PipeInfo>, update: boolean, log: Reporter): Map<string, TestSpec[]> {
  const specs = new Map<string, TestSpec[]>();
  let failed = false;
  for (const spec of loadSpecFiles(dir)) {
    const pipe = spec.pipe;
    if (!pipes.has(pipe)) {
      if (!update) {
        log.error(`test spec '${spec.specFile}' names pipe '${pipe}', which is not an output or endpoint pipe here; remove '${spec.specFile}' or fix its "pipe"`);
        failed = true;
      } else if (!spec.ignore) {
        log.warn(`test spec '${spec.specFile}' names pipe '${pipe}', which is not an output or endpoint pipe here: removing '${spec.specFile}'`);
        rmSync(join(dir, spec.specFile), { force: true });
        continue;
      } else log.warn(`test spec '${spec.specFile}' names pipe '${pipe}', which is not an output or endpoint pipe here, but it is ignored; consider removing it`);
    }
    if (!spec.ignore && !spec.expectedExists()) {
      log.warn(`test spec '${spec.specFile}' has no expected file '${spec.file}'`);
      if (update) {
        log.info(`creating an empty expected file '${spec.file}'`);
        writeFileSync(spec.expectedPath(), '[]\n');
      } else failed = true;
    }
    if (!failed && spec.ignore && spec.expectedExists()) {
      if (update) rmSync(spec.expectedPath(), { force: true });
      else log.warn(`pipe '${pipe}' is ignored, but its expected file '${spec.file}' still exists`);
    }
    specs.set(pipe, [...(specs.get(pipe) ?? []), spec]);
  }
  if (failed) throw new VerifyError('the test specs do not match the pipes; correct the errors above and try again');
  if (update) {
    for (const p of pipes.values()) {
      if (specs.has(p._id)) continue;
      log.warn(`pipe '${p._id}' has no test spec: creating 'expected/${p._id}.test.json'`);
      writeFileSync(join(dir, 'expected', `${p._id}.test.json`), '{\n}');
      specs.set(p._id, [new TestSpec(dir, `${p._id}.test.json`)]);
    }
  }
  return specs;
}

export interface FailedTest {
  spec: TestSpec;
  comparison: Comparison;
}

export interface VerifyResult {
  ok: boolean;
  /** Pipes with specs. */
  tests: number;
  /** Specs compared (not ignored). */
  compared: number;
  failed: FailedTest[];
  missing: string[];
}

async function compareSpec(spec: TestSpec, pipe: PipeInfo, target: VerifyTarget, options: CompareOptions): Promise<Comparison> {
  try {
    if (spec.comparesEntities) return compareEntities(spec, spec.expectedText(), await target.pipeEntities(pipe._id, spec.stage), options);
    const current = await target.published(pipe._id, spec.endpoint, parametersQuery(spec.parameters));
    if (spec.endpoint === 'xml') return compareXml(spec, spec.expectedBytes(), current);
    return compareBytes(spec, spec.expectedBytes(), current);
  } catch (err) {
    return { ok: false, message: `cannot compare test spec '${spec.specFile}': ${(err as Error).message}` };
  }
}

/** Compares the current output with the expected files. */
export async function verifyProject(dir: string, target: VerifyTarget, log: Reporter, options: CompareOptions = {}): Promise<VerifyResult> {
  const outputs = new Map<string, PipeInfo>();
  for (const p of pipesToVerify(await target.pipes())) {
    if (p.runtime['is-valid-config'] !== true) {
      log.error(`pipe '${p._id}' has invalid config and cannot be verified: ${JSON.stringify(p.runtime['config-errors'] ?? 'unknown')}`);
      continue;
    }
    outputs.set(p._id, p);
  }
  const specs = loadSpecs(dir, outputs, false, log);
  const result: VerifyResult = { ok: true, tests: specs.size, compared: 0, failed: [], missing: [] };
  if (specs.size === 0) {
    log.warn('found no tests (expected/*.test.json) to run');
    return result;
  }
  for (const pipe of outputs.values()) {
    const list = specs.get(pipe._id);
    if (!list) {
      log.error(`no test spec names pipe '${pipe._id}'`);
      result.missing.push(pipe._id);
      continue;
    }
    for (const spec of list) {
      if (spec.ignore) continue;
      result.compared++;
      const c = await compareSpec(spec, pipe, target, options);
      // A spec's output is garbage once compared: do not let it pile up under the next one's.
      settleHeap();
      if (c.ok) continue;
      result.failed.push({ spec, comparison: c });
      log.error(`pipe verify failed: ${c.message}`);
      if (c.diff) log.info(`diff:\n${c.diff.trimEnd()}`);
    }
  }
  result.ok = result.failed.length === 0 && result.missing.length === 0;
  if (result.failed.length) {
    log.error(`failed ${result.failed.length} of ${result.compared} test specs (for ${result.tests} pipes):`);
    for (const f of result.failed) log.error(`  ${f.spec.pipe} (${f.spec.specFile})`);
  }
  if (result.missing.length) {
    log.error(`missing ${result.missing.length} tests, for pipes:`);
    for (const id of result.missing) log.error(`  ${id}`);
  }
  if (result.ok) log.info(`all tests passed: ${result.compared} test specs for ${result.tests} pipes`);
  return result;
}

/** Writes the current output into the expected files. */
export async function updateProject(dir: string, target: VerifyTarget, log: Reporter, options: CompareOptions = {}): Promise<{ updated: string[] }> {
  const outputs = new Map(pipesToVerify(await target.pipes()).map((p) => [p._id, p] as const));
  if (!existsSync(join(dir, 'expected'))) throw new VerifyError(`there is no expected/ folder in ${dir}`);
  const specs = loadSpecs(dir, outputs, true, log);
  if (specs.size === 0) throw new VerifyError('found no tests (expected/*.test.json) to update');
  const updated: string[] = [];
  for (const pipe of outputs.values()) {
    for (const spec of specs.get(pipe._id) ?? []) {
      if (spec.ignore) continue;
      let data: Buffer;
      if (spec.comparesEntities) data = updatedEntitiesFile(spec, await target.pipeEntities(pipe._id, spec.stage), options);
      else {
        const current = await target.published(pipe._id, spec.endpoint, parametersQuery(spec.parameters));
        data = spec.endpoint === 'xml' ? updatedXmlFile(current) : current;
      }
      writeFileSync(spec.expectedPath(), data);
      updated.push(spec.file);
    }
  }
  log.info(`${updated.length} tests updated`);
  return { updated };
}
