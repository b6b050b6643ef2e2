import { afterEach, describe, expect, it } from 'vitest';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';
import { openRuntime } from '../support/runtime.js';
import { people, runViaApi, startTestApi, waitFor, type TestApi } from './support.js';

let api: TestApi;
let rt: SluiceRuntime;
afterEach(async () => {
  await api?.close();
  await rt?.close();
});

const copy = { _id: 'copy', type: 'pipe', source: { type: 'dataset', dataset: 'people' }, pump: { schedule_interval: 86400 } };
const lastRun = async (pipe: string) => (await api.call('GET', `/api/pipes/${pipe}`)).json.runtime['last-run'] as string | null;

describe('webhooks', () => {
  it("runs a pipe when its webhook is called with its token, and calls a dataset's registered webhooks when it changes", async () => {
    // The scheduler runs: a webhook schedules a run rather than starting one.
    rt = await openRuntime({ schedule: true });
    api = await startTestApi({ rt });
    await api.call('PUT', '/api/config', { body: [{ ...people, pump: { mode: 'manual' } }, copy] });
    await runViaApi(api, 'people');
    const hook = await api.call('GET', '/api/pipes/copy/webhook');
    expect(hook.json.path).toBe('/api/pipes/copy/webhook');
    const token = hook.json.token as string;

    expect((await api.call('POST', '/api/pipes/copy/webhook', { body: { token: 'wrong' } })).status).toBe(404);
    expect((await api.call('POST', '/api/pipes/nope/webhook', { body: { token } })).status).toBe(404);
    expect((await api.call('POST', '/api/pipes/copy/webhook', { body: { not: 'a token' } })).status).toBe(400);
    const before = await lastRun('copy');
    const ok = await api.call('POST', '/api/pipes/copy/webhook', { body: { token } });
    expect(ok.status).toBe(200);
    await waitFor(async () => (await lastRun('copy')) !== before, 15_000, 'the webhook run');

    // Register copy's webhook on the people dataset: a run of people that changes it calls it.
    const url = `${api.base}/api/pipes/copy/webhook`;
    const reg = await api.call('OPTIONS', `/api/datasets/people/entities?webhook=${encodeURIComponent(url)}&token=${token}`);
    expect(reg.status).toBe(200);
    expect((await api.call('OPTIONS', `/api/datasets/people/entities?webhook=${encodeURIComponent(url)}`)).status).toBe(400);
    await waitFor(async () => (await api.call('GET', '/api/datasets/copy/entities?history=false')).json?.length === 3, 15_000, 'copy to catch up');
    const more = { ...people, pump: { mode: 'manual' }, source: { type: 'embedded', entities: [...people.source.entities, { _id: 'd', name: 'Di' }] } };
    expect((await api.call('PUT', '/api/pipes/people/config', { body: more })).status).toBe(200);
    await runViaApi(api, 'people');
    await waitFor(async () => (await api.call('GET', '/api/datasets/copy/entities?history=false')).json?.length === 4, 15_000, 'the dataset webhook run');
  });
});
