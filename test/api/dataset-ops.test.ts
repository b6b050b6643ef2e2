import { afterEach, describe, expect, it } from 'vitest';
import { people, runViaApi, startTestApi, type TestApi } from './support.js';

let api: TestApi;
afterEach(async () => api?.close());

const form = (operation: string) => ({ raw: `operation=${operation}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
const names = (list: { _id: string; name?: string }[]) => list.map((e) => `${e._id}=${e.name}`).sort();

function source(entities: Record<string, unknown>[]) {
  return { ...people, source: { type: 'embedded', entities } };
}
const copy = {
  _id: 'copy',
  type: 'pipe',
  source: { type: 'dataset', dataset: 'people' },
  sink: { type: 'dataset', dataset: 'copy', circuit_breaker_threshold_count: 1 },
  pump: { mode: 'manual' },
};

describe('the circuit breaker of a dataset sink', () => {
  it('trips a run that writes more than the limit, holds its versions uncommitted, blocks the pipe until rolled back or committed', async () => {
    api = await startTestApi();
    const three = [{ _id: 'a', name: 'Ada' }, { _id: 'b', name: 'Bob' }, { _id: 'c', name: 'Cy' }];
    await api.call('PUT', '/api/config', { body: [source(three), copy] });
    await runViaApi(api, 'people');
    // The first run fills the dataset: a breaker only guards a populated dataset.
    expect((await runViaApi(api, 'copy')).json.runtime['last-run-status']).toBe('completed');
    expect(names((await api.call('GET', '/api/datasets/copy/entities?history=false')).json)).toEqual(['a=Ada', 'b=Bob', 'c=Cy']);

    // Two changed entities: over the limit of 1.
    await api.call('PUT', '/api/pipes/people/config', { body: source([{ _id: 'a', name: 'Ada L' }, { _id: 'b', name: 'Bob B' }, { _id: 'c', name: 'Cy' }]) });
    await runViaApi(api, 'people');
    const tripped = (await runViaApi(api, 'copy')).json.runtime;
    expect(tripped['last-run-status']).toBe('failed');
    expect(tripped['last-message']).toMatch(/circuit breaker of dataset "copy" tripped.*2 new versions, over the limit of 1/);
    // Readers see only committed versions; uncommitted=true shows the held ones too.
    expect(names((await api.call('GET', '/api/datasets/copy/entities?history=false')).json)).toEqual(['a=Ada', 'b=Bob', 'c=Cy']);
    const held = (await api.call('GET', '/api/datasets/copy/entities?uncommitted=true')).json.slice(3);
    expect(names(held)).toEqual(['a=Ada L', 'b=Bob B']);
    expect((await api.call('GET', '/api/datasets/copy/entity?entity_id=a&uncommitted=true')).json.name).toBe('Ada L');
    // The pipe cannot run, and the dataset takes no posted entities.
    expect((await runViaApi(api, 'copy')).json.runtime['last-message']).toMatch(/tripped/);
    expect((await api.call('POST', '/api/datasets/copy/entities', { body: [{ _id: 'z' }] })).status).toBe(409);

    // Commit: the held versions are written and the pipe runs again.
    const commit = await api.call('POST', '/api/datasets/copy', form('commit-circuit-breaker'));
    expect(commit.status).toBe(200);
    expect(commit.json._id).toBe('copy');
    expect(names((await api.call('GET', '/api/datasets/copy/entities?history=false')).json)).toEqual(['a=Ada L', 'b=Bob B', 'c=Cy']);
    expect((await runViaApi(api, 'copy')).json.runtime['last-run-status']).toBe('completed');
    expect((await api.call('POST', '/api/datasets/copy', form('commit-circuit-breaker'))).status).toBe(409);

    // Emptying the source deletes three entities: tripped again; a rollback discards the deletions.
    await api.call('PUT', '/api/pipes/people/config', { body: source([]) });
    await runViaApi(api, 'people');
    expect((await runViaApi(api, 'copy')).json.runtime['last-message']).toMatch(/3 new versions/);
    const rollback = await api.call('POST', '/api/datasets/copy', form('rollback-circuit-breaker'));
    expect(rollback.status).toBe(200);
    expect(names((await api.call('GET', '/api/datasets/copy/entities?history=false&deleted=false')).json)).toEqual(['a=Ada L', 'b=Bob B', 'c=Cy']);
    expect((await api.call('GET', '/api/datasets/copy/entities?uncommitted=true&history=false&deleted=false')).json).toHaveLength(3);

    expect((await api.call('POST', '/api/datasets/copy', form('explode'))).status).toBe(400);
    expect((await api.call('POST', '/api/datasets/nope', form('commit-circuit-breaker'))).status).toBe(404);
  });
});

describe('dataset indexes and subsets', () => {
  it('lists the indexes a sink declares, serves subsets through them, and drops an index', async () => {
    api = await startTestApi();
    const typed = {
      _id: 'things',
      type: 'pipe',
      source: { type: 'embedded', entities: [{ _id: 'a', kind: 'cat' }, { _id: 'b', kind: 'dog' }, { _id: 'c', kind: 'cat' }] },
      sink: { type: 'dataset', indexes: ['_S.kind'] },
    };
    await api.call('PUT', '/api/config', { body: [typed] });
    await runViaApi(api, 'things');
    const idx = await api.call('GET', '/api/datasets/things/indexes');
    expect(idx.json).toEqual([{ id: 1, expression: '_S.kind', path: ['kind'], status: 'ready' }]);

    const subset = encodeURIComponent(JSON.stringify(['eq', '_S.kind', 'cat']));
    expect((await api.call('GET', `/api/datasets/things/entities?subset=${subset}`)).json.map((e: { _id: string }) => e._id)).toEqual(['a', 'c']);
    expect((await api.call('GET', `/api/datasets/things/entity?entity_id=a&subset=${subset}`)).status).toBe(200);
    expect((await api.call('GET', `/api/datasets/things/entity?entity_id=b&subset=${subset}`)).status).toBe(404);
    expect((await api.call('GET', `/api/datasets/things/entities?subset=${encodeURIComponent('["eq", "_S.colour", "red"]')}`)).status).toBe(404);
    expect((await api.call('GET', `/api/datasets/things/entities?subset=${encodeURIComponent('["gt", 1]')}`)).status).toBe(400);

    expect((await api.call('DELETE', '/api/datasets/things/indexes/7')).status).toBe(404);
    expect((await api.call('DELETE', '/api/datasets/things/indexes/x')).status).toBe(400);
    const dropped = await api.call('DELETE', '/api/datasets/things/indexes/1');
    expect(dropped.json.expression).toBe('_S.kind');
    expect((await api.call('GET', '/api/datasets/things/indexes')).json).toEqual([]);
    expect((await api.call('GET', '/api/datasets/nothing/indexes')).status).toBe(404);
  });
});
