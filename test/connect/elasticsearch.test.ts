/**
 * The Elasticsearch system and sink against a server speaking Elasticsearch's bulk API (started
 * here; no Elasticsearch build runs on the test machines): documents, $index/$type and the
 * defaults, deletes, mappings, the index check document, first_run_delete_query, several hosts,
 * basic authentication, and bad answers (500s, non-JSON, short bulk answers, refused and
 * rejected documents, no answer at all).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestElasticsearch, type TestElasticsearch, type TestElasticsearchOptions } from '../../scripts/test-services/elasticsearch.js';
import { freePort } from '../../scripts/test-services/ports.js';
import { ElasticClient, ElasticError } from '../../runtime/components/systems/elasticsearch.js';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';
import { configure, openRuntime } from '../support/runtime.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function es(options?: TestElasticsearchOptions): Promise<TestElasticsearch> {
  const s = await startTestElasticsearch(options);
  cleanups.push(() => s.close());
  return s;
}

async function runtime(): Promise<SluiceRuntime> {
  const rt = await openRuntime();
  cleanups.push(() => rt.close());
  return rt;
}

const system = (hosts: string[], extra: Record<string, unknown> = {}) => ({ _id: 'search', type: 'system:elasticsearch', hosts, ...extra });

/** `people` (embedded → dataset) and `index` (dataset → elasticsearch), so that `index` runs incrementally. */
function pipes(entities: Record<string, unknown>[], sink: Record<string, unknown>, pump: Record<string, unknown> = {}) {
  return [
    { _id: 'people', type: 'pipe', source: { type: 'embedded', entities } },
    { _id: 'index', type: 'pipe', source: { type: 'dataset', dataset: 'people' }, sink: { type: 'elasticsearch', system: 'search', ...sink }, pump },
  ];
}

async function sync(rt: SluiceRuntime) {
  expect((await rt.runPipe('people')).status).toBe('completed');
  return rt.runPipe('index');
}

const people = [
  { _id: 'ada', name: 'Ada', born: 1815, $index: 'mathematicians', _secret: 'x', $extra: 'y' },
  { _id: 'grace', name: 'Grace', born: 1906 },
  { _id: 'alan', name: 'Alan', born: 1912 },
];

describe('the elasticsearch sink', () => {
  it('indexes documents by _id without the _ and $ properties, into $index or default_index', async () => {
    const s = await es({ types: true });
    const rt = await runtime();
    await configure(rt, [system([s.hostPort]), ...pipes([people[0], { ...people[1], $type: 'admiral' }, people[2]], { default_index: 'people', default_type: 'person' })]);
    const out = await sync(rt);
    expect(out.status).toBe('completed');
    expect(out.written).toBe(3);
    expect(s.docs('mathematicians')).toEqual({ ada: { name: 'Ada', born: 1815 } });
    expect(s.docs('people')).toEqual({ grace: { name: 'Grace', born: 1906 }, alan: { name: 'Alan', born: 1912 } });
    expect(s.indexes.get('people')!.docs.get('grace')!.type).toBe('admiral');
    expect(s.indexes.get('people')!.docs.get('alan')!.type).toBe('person');
    expect(s.requests.filter((r) => r.path === '/_bulk')).toHaveLength(1);
  });

  it('leaves _type out when neither $type nor default_type is set (Elasticsearch 7+ refuses it)', async () => {
    const s = await es();
    const rt = await runtime();
    await configure(rt, [system([s.url]), ...pipes([{ _id: 'a', v: 1 }], { default_index: 'x' })]);
    expect((await sync(rt)).status).toBe('completed');
    expect(s.docs('x')).toEqual({ a: { v: 1 } });
    expect(s.requests.find((r) => r.path === '/_bulk')!.body).not.toContain('_type');
  });

  it('deletes the documents of deleted entities, and writes only what changed on the next run', async () => {
    const s = await es();
    const rt = await runtime();
    await configure(rt, [system([s.hostPort]), ...pipes(people.slice(1), { default_index: 'people' })]);
    await sync(rt);
    expect(Object.keys(s.docs('people')).sort()).toEqual(['alan', 'grace']);
    await configure(rt, [system([s.hostPort]), ...pipes([{ _id: 'grace', name: 'Grace Hopper', born: 1906 }], { default_index: 'people' })]);
    const out = await sync(rt);
    expect(out.status).toBe('completed');
    expect(out.deleted).toBe(1);
    expect(s.docs('people')).toEqual({ grace: { name: 'Grace Hopper', born: 1906 } });
    const bulks = s.requests.filter((r) => r.path === '/_bulk');
    expect(bulks).toHaveLength(2);
    expect(bulks[1].body.trim().split('\n')).toHaveLength(3);
  });

  it('puts index_mapping_properties on the indexes it writes to, creating them when needed', async () => {
    const s = await es();
    const rt = await runtime();
    const mapping = { name: { type: 'keyword' }, born: { type: 'integer' } };
    await configure(rt, [system([s.hostPort]), ...pipes(people, { default_index: 'people', index_mapping_properties: mapping })]);
    await sync(rt);
    expect(s.indexes.get('people')!.properties).toEqual(mapping);
    expect(s.indexes.get('mathematicians')!.properties).toEqual(mapping);

    // An existing index gets the mapping added; documents the mapping refuses fail one by one.
    await configure(rt, [
      system([s.hostPort]),
      ...pipes([...people, { _id: 'bad', name: 'Bad', born: 'long ago' }], { default_index: 'people', index_mapping_properties: { ...mapping, tag: { type: 'keyword' } } }, { max_consecutive_write_errors: 5 }),
    ]);
    const out = await sync(rt);
    expect(out.status).toBe('completed');
    expect(out.failed).toBe(1);
    expect(s.indexes.get('people')!.properties.tag).toEqual({ type: 'keyword' });
    const errors = (await rt.log.entries('index')).filter((e) => e.event_type === 'write-error').map((e) => String(e.original_error_message));
    expect(errors.join('\n')).toMatch(/entity "bad" was refused \(400\): document_parsing_exception: failed to parse field \[born\] of type \[integer\]/);
  });

  it('resets the pipe when the index no longer holds the index_check_document', async () => {
    const s = await es();
    const rt = await runtime();
    const sink = { default_index: 'people', index_check_document: { _id: 'marker', pipe: 'index', version: 1 } };
    await configure(rt, [system([s.hostPort]), ...pipes(people.slice(1), sink)]);
    expect((await sync(rt)).status).toBe('completed');
    expect(s.docs('people').marker).toEqual({ pipe: 'index', version: 1 });

    // Unchanged index: incremental runs go on.
    expect((await rt.runPipe('index')).status).toBe('completed');

    // Someone empties the index: the next run notices, resets the pipe, and the one after re-indexes everything.
    s.indexes.delete('people');
    const noticed = await rt.runPipe('index');
    expect(noticed.status).toBe('failed');
    expect(noticed.error).toMatch(/does not hold the index_check_document "marker".*the pipe was reset/);
    const again = await rt.runPipe('index');
    expect(again.status).toBe('completed');
    expect(again.syncType).toBe('full');
    expect(Object.keys(s.docs('people')).sort()).toEqual(['alan', 'grace', 'marker']);

    // The marker as JSON text, without _id (the default marker id).
    const s2 = await es();
    const rt2 = await runtime();
    await configure(rt2, [system([s2.hostPort]), ...pipes(people.slice(1), { default_index: 'p', index_check_document: '{"by": "sluice"}' })]);
    await sync(rt2);
    expect(s2.docs('p')['sluice-index-check']).toEqual({ by: 'sluice' });
  });

  it('deletes with first_run_delete_query at the start of every full run', async () => {
    const s = await es();
    const rt = await runtime();
    await configure(rt, [system([s.hostPort]), ...pipes(people.slice(1).map((p) => ({ ...p, dataset: 'people' })), { default_index: 'people', first_run_delete_query: { dataset: 'people' } })]);
    s.indexes.set('people', { properties: {}, docs: new Map([['stale', { source: { dataset: 'people' } }], ['other', { source: { dataset: 'cars' } }]]) });
    await sync(rt);
    expect(Object.keys(s.docs('people')).sort()).toEqual(['alan', 'grace', 'other']);
    const dbq = s.requests.filter((r) => r.path.includes('_delete_by_query'));
    expect(dbq).toHaveLength(1);
    expect(JSON.parse(dbq[0].body)).toEqual({ query: { match: { dataset: 'people' } } });
    // Incremental runs do not delete.
    await rt.runPipe('index');
    expect(s.requests.filter((r) => r.path.includes('_delete_by_query'))).toHaveLength(1);
  });

  it('sends basic authentication, and reports a refused login', async () => {
    const s = await es({ auth: { user: 'elastic', pass: 'pw' } });
    const rt = await runtime();
    await rt.setSecrets({ es: 'pw' }, true);
    await configure(rt, [system([s.hostPort], { authentication: 'basic', username: 'elastic', password: '$SECRET(es)' }), ...pipes(people.slice(1), { default_index: 'p' })]);
    expect((await sync(rt)).status).toBe('completed');
    expect(Object.keys(s.docs('p'))).toHaveLength(2);

    const rt2 = await runtime();
    await configure(rt2, [system([s.hostPort], { authentication: 'basic', username: 'elastic', password: 'nope' }), ...pipes(people.slice(1), { default_index: 'q' }, { fallback_to_single_entities_on_batch_fail: false })]);
    const out = await sync(rt2);
    expect(out.status).toBe('failed');
    expect(out.error).toMatch(/answered 401: security_exception: missing authentication credentials/);
    expect(s.indexes.has('q')).toBe(false);
  });

  it('tries the hosts in order and names every host when none can be reached', async () => {
    const s = await es();
    const dead = await freePort();
    const rt = await runtime();
    await configure(rt, [system([`127.0.0.1:${dead}`, s.url]), ...pipes(people.slice(1), { default_index: 'p' })]);
    expect((await sync(rt)).status).toBe('completed');
    expect(Object.keys(s.docs('p'))).toHaveLength(2);

    const rt2 = await runtime();
    await configure(rt2, [system([`127.0.0.1:${dead}`]), ...pipes(people.slice(1), { default_index: 'p' }, { batch_retries: 0, fallback_to_single_entities_on_batch_fail: false })]);
    const out = await sync(rt2);
    expect(out.status).toBe('failed');
    expect(out.error).toMatch(new RegExp(`no Elasticsearch host of system "search" could be reached: http://127\\.0\\.0\\.1:${dead} \\(ECONNREFUSED\\)`));
  });

  it('sends a batch again after a 500, a garbled or short bulk answer, or rejected documents; nothing is lost or doubled', async () => {
    const s = await es();
    const rt = await runtime();
    await configure(rt, [system([s.hostPort]), ...pipes(people.slice(1), { default_index: 'p' }, { fallback_to_single_entities_on_batch_fail: false })]);
    s.faults.bulk = ['status500', 'notJson'];
    let rejected = 0;
    s.faults.itemStatus = (_op, id) => (id === 'alan' && rejected++ < 1 ? 429 : undefined);
    const out = await sync(rt);
    expect(out.status).toBe('completed');
    expect(s.docs('p')).toEqual({ grace: { name: 'Grace', born: 1906 }, alan: { name: 'Alan', born: 1912 } });
    expect(s.requests.filter((r) => r.path === '/_bulk')).toHaveLength(4);
    expect(rejected).toBe(2);

    // When the retries run out the run fails with the server's words and the checkpoint stays.
    const rt2 = await runtime();
    await configure(rt2, [system([s.hostPort]), ...pipes(people.slice(1), { default_index: 'q' }, { batch_retries: 1, fallback_to_single_entities_on_batch_fail: false })]);
    s.faults.bulk = ['short', 'notJson'];
    const failed = await sync(rt2);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/answered 200 with a body that is not JSON: <html>gateway says hello<\/html>/);
    expect((await rt2.store.getPipeState('index'))?.last_seen ?? null).toBeNull();
    expect((await rt2.runPipe('index')).status).toBe('completed');
    expect(Object.keys(s.docs('q')).sort()).toEqual(['alan', 'grace']);
  });

  it('fails entities without an index, and refuses bad configurations', async () => {
    const s = await es();
    const rt = await runtime();
    await configure(rt, [system([s.hostPort]), ...pipes([{ _id: 'a', $index: 'x' }, { _id: 'b' }], {}, { max_consecutive_write_errors: 5 })]);
    const out = await sync(rt);
    expect(out.failed).toBe(1);
    expect(Object.keys(s.docs('x'))).toEqual(['a']);

    await configure(rt, [system([s.hostPort]), ...pipes([], { index_check_document: '{not json' , default_index: 'x'})]);
    expect(rt.instantiationErrors.get('index')).toMatch(/"index_check_document" is a string but not the JSON text of a document/);
    await configure(rt, [system([s.hostPort]), ...pipes([], { first_run_delete_query: { a: 1 } })]);
    expect(rt.instantiationErrors.get('index')).toMatch(/"first_run_delete_query" needs "default_index"/);
    await configure(rt, [system([s.hostPort], { authentication: 'basic' }), ...pipes([], {})]);
    expect(rt.instantiationErrors.get('index')).toMatch(/basic authentication needs "username" and "password"/);
  });

  it('times out on a bulk request that never gets an answer', async () => {
    const s = await es();
    s.faults.bulk = ['hang'];
    const client = new ElasticClient({ id: 'slow', config: { hosts: [s.hostPort] } }, { requestMs: 300 });
    const err = await client.request('POST', '/_bulk', { ndjson: '{"index":{"_index":"a","_id":"1"}}\n{}\n', what: 'test' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ElasticError);
    expect((err as ElasticError).code).toBe('ES_TIMEOUT');
    expect((err as Error).message).toMatch(/did not answer within 0.3 s/);
  });
});
