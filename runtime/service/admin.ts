/**
 * Node administration (`POST /api/admin`): restart, reset and load_config, done in-process.
 *
 * - restart: stops the pipe runner and every pump, then loads the config, environment variables
 *   and plan from the store again and builds every pump anew; the scheduler starts again if it was
 *   running. The node start time changes (clients wait for that).
 * - reset: deletes every dataset, the pipe states of the known pipes, the config, the environment
 *   variables and the secrets, then restarts.
 * - load_config: loads the stored config and plan again (every pump is rebuilt), like restart.
 */
import type { SourceFile } from '../../compiler/load/files.js';
import { pipeRunner } from './runner.js';
import type { SluiceRuntime } from './runtime.js';

export const ADMIN_OPERATIONS = ['restart', 'reset', 'load_config'] as const;
export type AdminOperation = (typeof ADMIN_OPERATIONS)[number];

const META_FILES = 'config:files';
const META_ENV = 'env';

/** Whether the scheduler's timer runs (the runtime was opened with schedules on). */
function schedulerStarted(rt: SluiceRuntime): boolean {
  return (rt.scheduler as unknown as { timer: unknown }).timer != null;
}

/** A start time that differs from the previous one even after a very fast restart. */
function newStartTime(rt: SluiceRuntime): Date {
  const previous = rt.startedAt.getTime();
  return new Date(Math.max(Date.now(), previous + 1));
}

async function stopEverything(rt: SluiceRuntime): Promise<boolean> {
  await pipeRunner(rt).stop(30_000, 'the node is restarting');
  const started = schedulerStarted(rt);
  rt.scheduler.stop();
  await rt.scheduler.stopAll();
  rt.scheduler.pumps.clear();
  rt.instantiationErrors.clear();
  // With no plan, the next plan is applied as all new: every pump is built again.
  rt.plan = null;
  return started;
}

async function reload(rt: SluiceRuntime, restartScheduler: boolean): Promise<void> {
  rt.env = (await rt.store.getMeta<Record<string, unknown>>(META_ENV)) ?? {};
  // A runtime serving a config folder takes its config from the folder (a reset leaves the folder as it is).
  const files = rt.configFolder ? rt.configFolder.read() : ((await rt.store.getMeta<SourceFile[]>(META_FILES)) ?? []);
  await rt.setConfigFiles(files, { force: true, persist: false });
  rt.startedAt = newStartTime(rt);
  if (restartScheduler) rt.scheduler.start();
}

export async function restartNode(rt: SluiceRuntime): Promise<void> {
  const started = await stopEverything(rt);
  await reload(rt, started);
  rt.logger.info({ node_start_time: rt.startedAt.toISOString() }, 'node restarted');
}

export async function resetNode(rt: SluiceRuntime): Promise<void> {
  const pipeIds = new Set([...(rt.plan?.pipes ?? []).map((p) => p.id), ...[...rt.invalid.values()].filter((c) => c.kind === 'pipe').map((c) => c.id)]);
  const started = await stopEverything(rt);
  for (const d of await rt.store.listDatasets()) await rt.store.deleteDataset(d.id);
  for (const id of pipeIds) await rt.store.setPipeState(id, null);
  await rt.store.setMeta(META_FILES, []);
  await rt.store.setMeta(META_ENV, {});
  rt.files = [];
  rt.env = {};
  // Clears the secrets (and compiles the now empty config).
  await rt.setSecrets({}, true);
  rt.plan = null;
  await reload(rt, started);
  rt.logger.info({ node_start_time: rt.startedAt.toISOString() }, 'node reset');
}

export async function loadConfig(rt: SluiceRuntime): Promise<void> {
  const started = await stopEverything(rt);
  await reload(rt, started);
  rt.logger.info({ node_start_time: rt.startedAt.toISOString() }, 'config loaded again');
}

export async function adminOperation(rt: SluiceRuntime, op: AdminOperation): Promise<void> {
  if (op === 'restart') return restartNode(rt);
  if (op === 'reset') return resetNode(rt);
  return loadConfig(rt);
}
