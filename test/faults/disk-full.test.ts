/**
 * Defect 1: the disk of the embedded store fills up while a pipe runs. The run ends (failed), the
 * pump can be stopped and started again, dataset counters only change with committed writes (also
 * after a restart), API writes answer 507, and freeing space is all it takes to recover.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startTestApi, waitFor, type TestApi } from '../api/support.js';
import { collect, configure, openRuntime } from '../support/runtime.js';
import { EmbeddedStore } from '../../runtime/store/embedded/store.js';
import type { Store } from '../../runtime/store/contract.js';
import { mountSmallFs, type SmallFs } from './small-fs.js';

const N = 20_000;
let fs: SmallFs;
let api: TestApi;
let dataDir: string;

function person(i: number, round = 0): Record<string, unknown> {
  return { _id: `p${i}`, name: `Person ${i}`, round, notes: `some text about person ${i}`.padEnd(160, '.') };
}

/** Whether each dataset's counters match the rows it holds. */
async function countersAgree(store: Store, dataset: string): Promise<{ counted: number; counter: number }> {
  const live = await collect(store.scan(dataset, { history: false, deleted: false }));
  return { counted: live.length, counter: (await store.datasetInfo(dataset))?.entityCount ?? 0 };
}

const form = (op: string) => ({ raw: `operation=${op}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });

async function pump(id: string): Promise<Record<string, any>> {
  return (await api.call('GET', `/api/pipes/${id}/pump`)).json.runtime;
}

beforeAll(async () => {
  fs = mountSmallFs(64 * 1024 * 1024);
  dataDir = join(fs.path, 'data');
  api = await startTestApi({ rt: await openRuntime({ dataDir }) });
  for (let i = 0; i < N; i += 5000) await api.rt.store.write('people', Array.from({ length: 5000 }, (_, j) => person(i + j)) as never);
  await configure(api.rt, [
    { _id: 'copy', type: 'pipe', source: { type: 'dataset', dataset: 'people' }, transform: { type: 'dtl', rules: { default: [['copy', '*'], ['add', 'upper', ['upper', '_S.name']]] } } },
  ]);
});

afterAll(async () => {
  await api?.close();
  await api?.rt.close();
  fs?.unmount();
});

describe('a full disk', () => {
  it('fails the run, which ends; stop and start work; counters stay right; API writes answer 507', async () => {
    (api.rt.store as EmbeddedStore).checkpointWal();
    fs.fill(512 * 1024);
    expect((await api.call('POST', '/api/pipes/copy/pump', form('start'))).status).toBe(200);
    await waitFor(async () => (await pump('copy'))['is-running'] === false, 60_000, 'the failing run to end');
    const failed = await pump('copy');
    expect(failed['last-run-status']).toBe('failed');
    expect(failed['last-message']).toMatch(/disk is full/);

    const { counted, counter } = await countersAgree(api.rt.store, 'copy');
    expect(counter).toBe(counted);
    expect(counted).toBeLessThan(N);

    expect((await api.call('POST', '/api/pipes/copy/pump', form('stop'))).status).toBe(200);
    expect((await api.call('POST', '/api/pipes/copy/pump', form('start'))).status).toBe(200);
    await waitFor(async () => (await pump('copy'))['is-running'] === false, 60_000, 'the second failing run to end');

    // No space at all (and no room left over in the write-ahead log): recording the failure fails
    // too, and the run still ends.
    fs.free();
    (api.rt.store as EmbeddedStore).checkpointWal();
    fs.fill(0);
    expect((await api.call('POST', '/api/pipes/copy/pump', form('start'))).status).toBe(200);
    await waitFor(async () => (await pump('copy'))['is-running'] === false, 60_000, 'a run whose failure cannot be recorded to end');
    expect((await pump('copy'))['last-message']).toMatch(/disk is full/);

    const env = await api.call('PUT', '/api/env', { body: { x: 'y'.repeat(4 * 1024 * 1024) } });
    expect(env.status, env.text).toBe(507);
    expect(env.json.error.code).toBe('INSUFFICIENT_STORAGE');
    expect(env.json.error.message).toMatch(/disk is full/);
    const posted = await api.call('POST', '/api/datasets/people/entities', { body: Array.from({ length: 5000 }, (_, i) => person(i, 1)) });
    expect(posted.status, posted.text).toBe(507);
    const again = await countersAgree(api.rt.store, 'people');
    expect(again).toEqual({ counted: N, counter: N });
  }, 240_000);

  it('recovers once space is freed, and the counters are right after a restart', async () => {
    fs.free();
    expect((await api.call('POST', '/api/pipes/copy/pump', form('start'))).status).toBe(200);
    await waitFor(async () => (await pump('copy'))['is-running'] === false, 60_000, 'the run to end');
    expect((await pump('copy'))['last-run-status']).toBe('completed');
    expect(await countersAgree(api.rt.store, 'copy')).toEqual({ counted: N, counter: N });
    expect((await api.call('PUT', '/api/env', { body: { x: 'y' } })).status).toBe(200);

    await api.close();
    await api.rt.close();
    const store = new EmbeddedStore({ dataDir });
    try {
      for (const ds of ['people', 'copy']) expect(await countersAgree(store, ds)).toEqual({ counted: N, counter: N });
      const log = await collect(store.scan('system:pump_execution:copy', { history: true }));
      expect(log.map((e) => e.event_type)).toContain('pump-completed');
    } finally {
      await store.close();
    }
    api = await startTestApi({ rt: await openRuntime({ dataDir }) });
  }, 120_000);
});
