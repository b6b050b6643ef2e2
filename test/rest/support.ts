/** Shared setup of the REST suites: the REST fixture service, runtimes, and cleanup after each test. */
import { afterEach } from 'vitest';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';
import type { StoredEntity } from '../../runtime/store/contract.js';
import { startRestFixture, type FixtureOptions, type RestFixture } from '../../scripts/test-services/rest-fixture.js';
import { collect, openRuntime } from '../support/runtime.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

export function onCleanup(fn: () => Promise<unknown>): void {
  cleanups.push(fn);
}

export async function fixture(options?: FixtureOptions): Promise<RestFixture> {
  const f = await startRestFixture(options);
  cleanups.push(() => f.close());
  return f;
}

export async function runtime(): Promise<SluiceRuntime> {
  const rt = await openRuntime();
  cleanups.push(() => rt.close());
  return rt;
}

export const restSystem = (id: string, base: string, extra: Record<string, unknown> = {}) => ({ _id: id, type: 'system:rest', url_pattern: `${base}/%s`, ...extra });

export async function latest(rt: SluiceRuntime, dataset: string): Promise<StoredEntity[]> {
  return (await collect(rt.store.scan(dataset, { history: false }))).filter((e) => !e._deleted);
}
