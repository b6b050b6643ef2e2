/**
 * Defect 2: a receiver request is all or nothing. A POST killed (SIGKILL) while it is being written
 * leaves none of its entities or all of them; a POST refused with 422 because the sink refused one
 * entity writes nothing; a request, even the last one of a full sync, is one store write.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { Entity } from '../../compiler/values/types.js';
import { startTestApi, type TestApi } from '../api/support.js';
import { configure, tempDir } from '../support/runtime.js';
import { startChild, tsxScript } from './child.js';
import { inboxConfig, roundEntities } from './receiver-config.js';

const N = 20_000;

/** Entities of request `round` in "received", and whether the dataset's counters agree with its rows. */
function countRound(dir: string, round: number): { n: number; countersAgree: boolean } {
  const db = new Database(join(dir, 'sluice.db'));
  try {
    const ds = db.prepare("SELECT ds, entity_count FROM datasets WHERE name = 'received'").get() as { ds: number; entity_count: number } | undefined;
    if (!ds) return { n: 0, countersAgree: true };
    const n = (db.prepare("SELECT count(*) AS n FROM cur c JOIN log l ON l.ds = c.ds AND l.off = c.off WHERE c.ds = ? AND json_extract(l.body, '$.round') = ?").get(ds.ds, round) as { n: number }).n;
    const live = (db.prepare('SELECT count(*) AS n FROM cur WHERE ds = ? AND deleted = 0').get(ds.ds) as { n: number }).n;
    return { n, countersAgree: live === ds.entity_count };
  } finally {
    db.close();
  }
}

/** Resolves once some entity of request `round` is visible to another connection (or `stop` is set). */
async function firstEntitySeen(dir: string, round: number, stop: { done: boolean }): Promise<void> {
  while (!stop.done) {
    if (countRound(dir, round).n > 0) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('receiver requests are atomic', () => {
  it('a POST killed while it is written leaves all or none of its entities', async () => {
    const dir = tempDir('sluice-atomic-');
    for (let round = 0; round < 6; round++) {
      const child = startChild(tsxScript(new URL('./receiver-child.ts', import.meta.url), [dir]));
      try {
        const port = Number((await child.line(/^listening \d+$/)).split(' ')[1]);
        const stop = { done: false };
        const posted = fetch(`http://127.0.0.1:${port}/api/receivers/inbox/entities`, { method: 'POST', body: JSON.stringify(roundEntities(round, N)), headers: { 'content-type': 'application/json' } }).then(
          (r) => r.status,
          () => 'no answer' as const,
        );
        // Even rounds: kill as the store write begins. Odd rounds: kill once a reader sees any of the request.
        const trigger = round % 2 === 0 ? child.line(/^commit /) : firstEntitySeen(dir, round, stop);
        await Promise.race([trigger, posted]);
        stop.done = true;
        await child.kill();
        const status = await posted;
        const { n, countersAgree } = countRound(dir, round);
        expect([0, N], `round ${round}: ${n} of ${N} entities stored`).toContain(n);
        if (status === 200) expect(n).toBe(N);
        expect(countersAgree).toBe(true);
      } finally {
        await child.kill();
      }
    }
  }, 300_000);
});

describe('refused receiver requests write nothing', () => {
  let api: TestApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('a 422 because the sink refuses one entity writes none of the others', async () => {
    api = await startTestApi();
    await configure(api.rt, [{ ...inboxConfig[0], sink: { type: 'dataset', dataset: 'received', max_entity_bytes_size: 400 } }]);
    const entities = [...roundEntities(1, 2500), { _id: 'huge', text: 'x'.repeat(1000) }];
    const r = await api.call('POST', '/api/receivers/inbox/entities', { body: entities });
    expect(r.status, r.text).toBe(422);
    expect(r.json.error.message).toMatch(/entity "huge"/);
    expect(r.json.error.message).toMatch(/nothing was written/);
    expect((await api.rt.store.datasetInfo('received'))?.versionCount ?? 0).toBe(0);
    expect((await api.call('POST', '/api/receivers/inbox/entities', { body: entities.slice(0, 10) })).status).toBe(200);
    expect((await api.rt.store.datasetInfo('received'))?.entityCount).toBe(10);
  });

  it('a request is one store write, the last request of a full sync with its deletions included', async () => {
    api = await startTestApi();
    await configure(api.rt, inboxConfig);
    const store = api.rt.store;
    const calls: string[] = [];
    const write = store.write.bind(store);
    const deleteUnseen = store.deleteUnseen.bind(store);
    store.write = (dataset: string, entities: Entity[], options) => {
      if (dataset === 'received') calls.push(`write ${entities.length}`);
      return write(dataset, entities, options);
    };
    store.deleteUnseen = (dataset, run, options) => {
      if (dataset === 'received') calls.push('deleteUnseen');
      return deleteUnseen(dataset, run, options);
    };
    const post = (entities: unknown[], query: string) => api!.call('POST', `/api/receivers/inbox/entities?${query}`, { body: entities });
    expect((await post(roundEntities(1, 2500), '')).status).toBe(200);
    expect(calls).toEqual(['write 2500']);
    calls.length = 0;
    expect((await post(roundEntities(2, 1500), 'is_full=true&sequence_id=s&request_id=r1&is_first=true')).status).toBe(200);
    expect((await post([{ _id: 'last' }], 'is_full=true&sequence_id=s&request_id=r2&previous_request_id=r1&is_last=true')).status).toBe(200);
    expect(calls).toEqual(['write 1500', 'write 1']);
    const info = await store.datasetInfo('received');
    // The full sync posted e0..e1499 and "last": the other 1000 of the first request are deleted.
    expect([info?.entityCount, info?.deletedCount]).toEqual([1501, 1000]);
  });
});
