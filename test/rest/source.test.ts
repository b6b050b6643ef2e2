/** The REST source against the REST fixture service over real sockets. */
import { describe, expect, it } from 'vitest';
import { makeRecords } from '../../scripts/test-services/rest-fixture.js';
import { configure } from '../support/runtime.js';
import { fixture, latest, restSystem, runtime } from './support.js';

describe('rest source', () => {
  it('pages through a body next link with payload_property and id_expression', async () => {
    const f = await fixture();
    f.put(...makeRecords(25));
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations: { list: { method: 'GET', url: 'records', params: { page_size: 10 }, next_page_link: '{{ body.next }}' } } }),
      { _id: 'pull', type: 'pipe', source: { type: 'rest', system: 'api', operation: 'list', payload_property: 'data', id_expression: '{{ id }}' } },
    ]);
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 25 });
    const got = await latest(rt, 'pull');
    expect(got.map((e) => e._id).sort()).toEqual(makeRecords(25).map((r) => r.id).sort());
    expect(f.seen.map((s) => s.query.get('cursor'))).toEqual([null, '10', '20']);
  });
});
