/** Test helpers for the runtime: a runtime on a fresh embedded store, with a quiet logger. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { EmbeddedStore } from '../../runtime/store/embedded/store.js';
import { SluiceRuntime } from '../../runtime/service/runtime.js';
import { entitiesToFiles, type ConfigEntity } from '../../runtime/service/config-files.js';
import type { Store } from '../../runtime/store/contract.js';

export const quietLogger = pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' });

export function tempDir(prefix = 'sluice-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The store suites run on: SLUICE_TEST_STORE=mongodb picks the test MongoDB-protocol server. */
export function testStoreKind(): 'embedded' | 'mongodb' {
  return process.env.SLUICE_TEST_STORE === 'mongodb' ? 'mongodb' : 'embedded';
}

export async function openTestStore(dataDir?: string): Promise<Store> {
  if (testStoreKind() === 'mongodb') {
    const { openMongoStore } = await import('./mongodb.js');
    return openMongoStore();
  }
  return new EmbeddedStore({ dataDir: dataDir ?? tempDir() });
}

/** Pipe worker threads of test runtimes: SLUICE_TEST_WORKERS=2 runs the suites with a pool of two. */
export function testWorkers(): number {
  return Number(process.env.SLUICE_TEST_WORKERS ?? 1);
}

export async function openRuntime(opts: { store?: Store; dataDir?: string; schedule?: boolean; workers?: number; workerModule?: URL } = {}): Promise<SluiceRuntime> {
  const store = opts.store ?? (await openTestStore(opts.dataDir));
  return SluiceRuntime.open({ store, logger: quietLogger, schedule: opts.schedule ?? false, workers: opts.workers ?? testWorkers(), workerModule: opts.workerModule });
}

export async function configure(rt: SluiceRuntime, entities: ConfigEntity[]): Promise<void> {
  const r = await rt.setConfigFiles(entitiesToFiles(entities));
  if (!r.ok) throw new Error(rt.describeErrors(r.diagnostics));
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
