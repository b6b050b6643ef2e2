/**
 * Defect 5: a long pipe run must not hold the API. While a run is under way, requests are answered
 * before it ends (driven by the run's own progress, not by a clock); previews of heavy DTL stop at
 * their time and size limits with a clear error. Latency figures come from `npm run bench --
 * api-latency`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../api/support.js';
import { configure } from '../support/runtime.js';

const N = 40_000;
let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function seed(a: TestApi, n: number): Promise<void> {
  for (let i = 0; i < n; i += 10_000) {
    await a.rt.store.write('people', Array.from({ length: Math.min(10_000, n - i) }, (_, j) => ({ _id: `p${i + j}`, name: `Person ${i + j}`, n: i + j })) as never);
  }
}

const copy = { _id: 'copy', type: 'pipe', source: { type: 'dataset', dataset: 'people' }, transform: { type: 'dtl', rules: { default: [['copy', '*'], ['add', 'upper', ['upper', '_S.name']]] } } };

describe('the API during a long pipe run', () => {
  it('answers health checks, entity reads and status while the run is still going', async () => {
    api = await startTestApi();
    await seed(api, N);
    await configure(api.rt, [copy]);
    const pump = api.rt.pump('copy')!;
    const run = api.rt.runPipe('copy');
    const during = async (path: string) => {
      const r = await api!.call('GET', path);
      return { status: r.status, running: pump.running, read: pump.progress.read };
    };
    const answers = await Promise.all([during('/api/health'), during('/api/datasets/people/entity?entity_id=p7'), during('/api/pipes/copy/pump')]);
    const outcome = await run;
    expect(outcome).toMatchObject({ status: 'completed', written: N });
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.running).toBe(true);
      expect(a.read).toBeLessThan(N);
    }
  });
});

describe('previews of heavy DTL', () => {
  it('stop at the time limit with a clear error', async () => {
    api = await startTestApi();
    await seed(api, 2000);
    await configure(api.rt, [copy]);
    api.rt.previewLimits = { timeMs: 0, bytes: 64 * 1024 * 1024 };
    const r = await api.call('GET', '/api/pipes/copy/entities');
    expect(r.status, r.text).toBe(422);
    expect(r.json.error.code).toBe('PREVIEW_TIME_LIMIT');
    expect(r.json.error.message).toMatch(/pipe "copy": the preview took longer than its limit of 0 s/);
  });

  it('stop at the size limit with a clear error, and answer within the limits', async () => {
    api = await startTestApi();
    await seed(api, 2000);
    await configure(api.rt, [{ ...copy, transform: { type: 'dtl', rules: { default: [['copy', '*'], ['add', 'big', ['concat', ['map', '_S.name', ['range', 0, 100]]]]] } } }]);
    api.rt.previewLimits = { timeMs: 60_000, bytes: 1024 * 1024 };
    const r = await api.call('GET', '/api/pipes/copy/entities');
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('PREVIEW_SIZE_LIMIT');
    expect(r.json.error.message).toMatch(/pipe "copy": the preview is larger than its limit of 1 MiB; ask for fewer entities with "limit"/);
    const small = await api.call('GET', '/api/pipes/copy/entities?limit=10');
    expect(small.status).toBe(200);
    expect(small.json).toHaveLength(10);
  });
});
