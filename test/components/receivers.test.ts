/**
 * The http_endpoint source and its receiver (POST /api/receivers/{pipe}/entities, JSON push), over
 * real HTTP against the Sluice API.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../api/support.js';
import { protocolStep } from '../../runtime/service/receiving.js';

let api: TestApi;
afterEach(async () => api?.close());

const receiver = { _id: 'myendpoint', type: 'pipe', source: { type: 'http_endpoint' }, sink: { type: 'dataset', dataset: 'mydataset' } };

async function setup(config: unknown[] = [receiver], opts: { bodyLimit?: number } = {}): Promise<TestApi> {
  api = await startTestApi(opts);
  const r = await api.call('PUT', '/api/config', { body: config });
  expect(r.status, r.text).toBe(200);
  return api;
}

/** POSTs a JSON body (text or value) to the receiver of `pipe`. */
function push(pipe: string, body: unknown, query = '', headers: Record<string, string> = {}) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  return api.call('POST', `/api/receivers/${encodeURIComponent(pipe)}/entities${query ? `?${query}` : ''}`, { raw, headers: { 'content-type': 'application/json', ...headers } });
}

/** The latest version of every entity in a dataset, by id (name and deleted flag). */
async function latest(dataset: string): Promise<Record<string, { name?: unknown; deleted: boolean }>> {
  const r = await api.call('GET', `/api/datasets/${dataset}/entities?history=false`);
  if (r.status === 404) return {};
  const out: Record<string, { name?: unknown; deleted: boolean }> = {};
  for (const e of r.json as { _id: string; name?: unknown; _deleted?: boolean }[]) out[e._id] = { name: e.name, deleted: e._deleted === true };
  return out;
}

/** A promise the test resolves when it chooses. */
function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

async function versions(dataset: string): Promise<number> {
  const r = await api.call('GET', `/api/datasets/${dataset}/entities`);
  return r.status === 404 ? 0 : (r.json as unknown[]).length;
}

describe('receiving entities (JSON push)', () => {
  it('accepts a single entity and a list, answering {}', async () => {
    await setup();
    let r = await push('myendpoint', { _id: 'a', name: 'A' });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({});
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    r = await push('myendpoint', [
      { _id: 'b', name: 'B' },
      { _id: 'c', name: 'C' },
    ]);
    expect(r.status).toBe(200);
    expect(await latest('mydataset')).toEqual({ a: { name: 'A', deleted: false }, b: { name: 'B', deleted: false }, c: { name: 'C', deleted: false } });
    // Unchanged entities are not written again; an entity posted as deleted is deleted.
    await push('myendpoint', [{ _id: 'a', name: 'A' }, { _id: 'c', _deleted: true }]);
    expect(await versions('mydataset')).toBe(4);
    expect((await latest('mydataset')).c.deleted).toBe(true);
    // The sink is populated and the pipe accepts percent-encoded ids.
    const ds = await api.call('GET', '/api/datasets/mydataset');
    expect(ds.status).toBe(200);
  });

  it('runs the posted entities through the pipe transforms, with the default sink of the pipe', async () => {
    await setup([
      {
        _id: 'people:in',
        type: 'pipe',
        source: { type: 'http_endpoint' },
        transform: { type: 'dtl', rules: { default: [['copy', '*'], ['add', 'upper', ['upper', '_S.name']], ['filter', ['neq', '_S.skip', true]]] } },
      },
    ]);
    const r = await push('people:in', [{ _id: 'x', name: 'ada' }, { _id: 'y', name: 'bob', skip: true }]);
    expect(r.status, r.text).toBe(200);
    const e = await api.call('GET', '/api/datasets/people:in/entities');
    expect(e.json).toHaveLength(1);
    expect(e.json[0]).toMatchObject({ _id: 'x', name: 'ada', upper: 'ADA' });
  });

  it('follows the full sync examples of the JSON push docs, deleting what a sequence did not post', async () => {
    await setup();
    // Example 0: incremental.
    expect((await push('myendpoint', [{ _id: 'a', name: 'A' }, { _id: 'b', name: 'B' }])).status).toBe(200);
    // Example 1: a full sync in three requests.
    expect((await push('myendpoint', [{ _id: 'b', name: 'B' }], 'is_full=true&sequence_id=1&request_id=1&is_first=true')).status).toBe(200);
    expect((await push('myendpoint', [{ _id: 'a', name: 'A (updated)' }, { _id: 'c', name: 'C' }], 'is_full=true&sequence_id=1&request_id=2&previous_request_id=1')).status).toBe(200);
    expect((await push('myendpoint', [{ _id: 'd', name: 'D' }], 'is_full=true&sequence_id=1&request_id=3&previous_request_id=2&is_last=true')).status).toBe(200);
    expect(await latest('mydataset')).toEqual({
      a: { name: 'A (updated)', deleted: false },
      b: { name: 'B', deleted: false },
      c: { name: 'C', deleted: false },
      d: { name: 'D', deleted: false },
    });
    expect(await versions('mydataset')).toBe(5);
    // Example 2: a full sync in two requests; c and (here) b were not posted.
    expect((await push('myendpoint', [{ _id: 'a', name: 'A' }, { _id: 'b', name: 'B' }], 'is_full=true&sequence_id=2&request_id=1&is_first=true')).status).toBe(200);
    // Nothing is deleted before the last request.
    expect(Object.values(await latest('mydataset')).every((e) => !e.deleted)).toBe(true);
    expect((await push('myendpoint', [{ _id: 'd', name: 'D' }], 'is_full=true&sequence_id=2&request_id=2&previous_request_id=1&is_last=true')).status).toBe(200);
    expect(await latest('mydataset')).toEqual({
      a: { name: 'A', deleted: false },
      b: { name: 'B', deleted: false },
      c: { name: 'C', deleted: true },
      d: { name: 'D', deleted: false },
    });
    // The deletion is a new version whose _previous is C's.
    const all = (await api.call('GET', '/api/datasets/mydataset/entities')).json as { _id: string; _deleted: boolean; _updated: number; _previous: number | null }[];
    const deleted = all.find((e) => e._id === 'c' && e._deleted)!;
    expect(deleted._previous).toBe(all.find((e) => e._id === 'c' && !e._deleted)!._updated);
    // A full sync that posts nothing but the last request deletes everything.
    expect((await push('myendpoint', [], 'is_full=true&sequence_id=3&request_id=1&is_first=true&is_last=true')).status).toBe(200);
    expect(Object.values(await latest('mydataset')).every((e) => e.deleted)).toBe(true);
  });

  it('answers 409 to protocol violations and writes nothing then', async () => {
    await setup();
    expect((await push('myendpoint', [{ _id: 'a' }], 'is_full=true&sequence_id=s1&request_id=1&is_first=true')).status).toBe(200);
    const before = await versions('mydataset');
    const conflicts: [string, RegExp][] = [
      ['is_full=true&sequence_id=s1&request_id=2&previous_request_id=7', /previous_request_id is "7".*"1"/],
      ['is_full=true&sequence_id=s1&request_id=2', /previous_request_id is missing/],
      ['is_full=true&sequence_id=s1&request_id=2&previous_request_id=1&is_first=true', /is_first=true.*already/],
      ['is_full=false&sequence_id=s1&request_id=2&previous_request_id=1', /full sync.*is_full=false/],
      ['is_full=true&sequence_id=s2&request_id=5&previous_request_id=4', /not the active sequence/],
    ];
    for (const [query, message] of conflicts) {
      const r = await push('myendpoint', [{ _id: 'zz', name: 'must not be written' }], query);
      expect(r.status, query).toBe(409);
      expect(r.json.error.code).toBe('CONFLICT');
      expect(r.json.error.message).toMatch(message);
    }
    expect(await versions('mydataset')).toBe(before);
    // The sequence goes on after the refused requests.
    expect((await push('myendpoint', [{ _id: 'b' }], 'is_full=true&sequence_id=s1&request_id=2&previous_request_id=1&is_last=true')).status).toBe(200);
    expect(Object.keys(await latest('mydataset')).sort()).toEqual(['a', 'b']);
    // An incremental sequence cannot turn into a full one.
    expect((await push('myendpoint', [{ _id: 'c' }], 'sequence_id=inc&request_id=1')).status).toBe(200);
    const r = await push('myendpoint', [{ _id: 'd' }], 'is_full=true&sequence_id=inc&request_id=2&previous_request_id=1');
    expect(r.status).toBe(409);
    expect(r.json.error.message).toMatch(/incremental/);
    // Incremental requests ignore the protocol parameters otherwise.
    expect((await push('myendpoint', [{ _id: 'e' }], 'sequence_id=x&request_id=9&previous_request_id=nothing&is_first=true')).status).toBe(200);
  });

  it('starts a new full sequence when another sequence_id arrives, leaving the old one', async () => {
    await setup();
    await push('myendpoint', [{ _id: 'a' }, { _id: 'b' }]);
    expect((await push('myendpoint', [{ _id: 'a' }], 'is_full=true&sequence_id=old&request_id=1&is_first=true')).status).toBe(200);
    expect((await push('myendpoint', [{ _id: 'c' }], 'is_full=true&sequence_id=new&request_id=1&is_first=true')).status).toBe(200);
    expect((await push('myendpoint', [], 'is_full=true&sequence_id=new&request_id=2&previous_request_id=1&is_last=true')).status).toBe(200);
    // Only c was posted in the new sequence.
    expect(await latest('mydataset')).toEqual({ a: { name: undefined, deleted: true }, b: { name: undefined, deleted: true }, c: { name: undefined, deleted: false } });
    // The old sequence is gone.
    const r = await push('myendpoint', [], 'is_full=true&sequence_id=old&request_id=2&previous_request_id=1');
    expect(r.status).toBe(409);
  });

  it('keeps the sequence state across a restart of the API', async () => {
    await setup();
    await push('myendpoint', [{ _id: 'a' }, { _id: 'b' }]);
    expect((await push('myendpoint', [{ _id: 'a' }], 'is_full=true&sequence_id=s&request_id=1&is_first=true')).status).toBe(200);
    const rt = api.rt;
    await api.app.close();
    api = await startTestApi({ rt });
    const close = api.close;
    api.close = async () => {
      await close();
      await rt.close();
    };
    expect((await push('myendpoint', [], 'is_full=true&sequence_id=s&request_id=2&previous_request_id=1&is_last=true')).status).toBe(200);
    expect((await latest('mydataset')).b.deleted).toBe(true);
  });

  it('refuses bad input with a clear 400 and writes nothing', async () => {
    await setup();
    await push('myendpoint', [{ _id: 'keep' }]);
    const cases: [string, string, RegExp][] = [
      ['[{"_id": "a"},', 'INVALID_JSON', /not valid JSON/],
      ['', 'EMPTY_BODY', /no body/],
      ['42', 'INVALID_ENTITY', /JSON object.*or an array.*not a number/],
      ['"text"', 'INVALID_ENTITY', /not a string/],
      ['[{"_id": "a"}, {"name": "no id"}]', 'INVALID_ENTITY', /entity at index 1 has no "_id"/],
      ['[{"_id": "a"}, {"_id": 7}]', 'INVALID_ENTITY', /entity at index 1 has an "_id" that is a number, not a string/],
      ['[{"_id": ""}]', 'INVALID_ENTITY', /index 0 has an empty "_id"/],
      ['[{"_id": "a"}, [1, 2]]', 'INVALID_ENTITY', /index 1 is a list, not a JSON object/],
      ['[{"_id": "a"}, null]', 'INVALID_ENTITY', /index 1 is null/],
      ['{"_id": "a", "_deleted": "yes"}', 'INVALID_ENTITY', /"_deleted" that is a string, not true or false/],
    ];
    for (const [body, code, message] of cases) {
      const r = await push('myendpoint', body);
      expect(r.status, body).toBe(400);
      expect(r.json.error.code, body).toBe(code);
      expect(r.json.error.message, body).toMatch(message);
    }
    let r = await push('myendpoint', [{ _id: 'a' }], 'is_full=maybe');
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/is_full/);
    r = await push('myendpoint', [{ _id: 'a' }], '', { 'x-dataset-completeness': 'yesterday' });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/X-Dataset-Completeness/);
    r = await push('myendpoint', [{ _id: 'a' }], 'is_full=true&request_id=1');
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/needs a sequence_id/);
    r = await api.call('POST', '/api/receivers/myendpoint/entities', { raw: 'a,b', headers: { 'content-type': 'text/csv' } });
    expect(r.status).toBe(415);
    expect(r.json.error.message).toMatch(/application\/json/);
    expect(await latest('mydataset')).toEqual({ keep: { name: undefined, deleted: false } });
  });

  it('answers 413 to bodies over the limit, writing nothing', async () => {
    await setup([receiver], { bodyLimit: 2000 });
    const big = Array.from({ length: 100 }, (_, i) => ({ _id: `e${i}`, pad: 'x'.repeat(50) }));
    const r = await push('myendpoint', big);
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(r.json.error.message).toMatch(/2000 bytes/);
    expect(await versions('mydataset')).toBe(0);
    expect((await push('myendpoint', big.slice(0, 10))).status).toBe(200);
  });

  it('answers 404 for unknown pipes and pipes without an http_endpoint source', async () => {
    await setup([receiver, { _id: 'other', type: 'pipe', source: { type: 'embedded', entities: [] } }]);
    let r = await push('nope', [{ _id: 'a' }]);
    expect(r.status).toBe(404);
    expect(r.json.error.message).toMatch(/no pipe "nope"/);
    r = await push('other', [{ _id: 'a' }]);
    expect(r.status).toBe(404);
    expect(r.json.error.message).toMatch(/source is "embedded", not "http_endpoint"/);
    expect(await versions('other')).toBe(0);
  });

  it('refuses the whole request when a transform fails on one entity', async () => {
    // The target of "bad" gets no _id, which the DTL transform refuses.
    await setup([{ ...receiver, transform: { type: 'dtl', rules: { default: [['if', ['neq', '_S._id', 'bad'], [['copy', '_id']]], ['add', 'name', '_S.name']] } } }]);
    const r = await push('myendpoint', [{ _id: 'ok', name: 'fine' }, { _id: 'bad', name: 'refused' }]);
    expect(r.status, r.text).toBe(422);
    expect(r.json.error.code).toBe('TRANSFORM_FAILED');
    expect(r.json.error.message).toMatch(/entity "bad"/);
    expect(await versions('mydataset')).toBe(0);
  });

  it('keeps posted entities when the pump runs the pipe (its source reads nothing)', async () => {
    await setup();
    await push('myendpoint', [{ _id: 'a' }, { _id: 'b' }]);
    const outcome = await api.rt.runPipe('myendpoint');
    expect(outcome.status).toBe('completed');
    expect(outcome.read).toBe(0);
    const again = await api.rt.runPipe('myendpoint', { full: true });
    expect(again.status).toBe('completed');
    expect(await latest('mydataset')).toEqual({ a: { name: undefined, deleted: false }, b: { name: undefined, deleted: false } });
    expect((await api.rt.store.datasetInfo('mydataset'))?.populated).toBe(true);
  });

  it('never interleaves a receive with a pump run of the same pipe', async () => {
    await setup();
    const pump = api.rt.pump('myendpoint')!;
    const events: string[] = [];
    // A pump run held at its start until the test lets it go.
    const source = pump.inst.source;
    const read = source.read.bind(source);
    const runHeld = gate();
    const runReading = gate();
    source.read = async function* (options) {
      runReading.open();
      await runHeld.promise;
      yield* read(options);
      events.push('run ended');
    };
    const claim = pump.claim.bind(pump);
    const receiveWaiting = gate();
    pump.claim = () => {
      receiveWaiting.open();
      return claim();
    };
    const sink = pump.inst.sink;
    const writeAll = sink.writeAll!.bind(sink);
    sink.writeAll = async (...args) => {
      events.push('receive written');
      return writeAll(...args);
    };
    const run = api.rt.runPipe('myendpoint');
    await runReading.promise;
    const received = push('myendpoint', [{ _id: 'during-run' }]);
    await receiveWaiting.promise;
    runHeld.open();
    await run;
    expect((await received).status).toBe(200);
    expect(events).toEqual(['run ended', 'receive written']);

    // While a receive holds the pipe, a run waits for it.
    events.length = 0;
    const writeHeld = gate();
    const writing = gate();
    sink.writeAll = async (...args) => {
      writing.open();
      await writeHeld.promise;
      events.push('receive written');
      return writeAll(...args);
    };
    source.read = async function* (options) {
      events.push('run started');
      yield* read(options);
    };
    const slowReceive = push('myendpoint', [{ _id: 'slow' }]);
    await writing.promise;
    expect(pump.running).toBe(true);
    const start = await api.call('POST', '/api/pipes/myendpoint/pump', { raw: 'operation=start', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(start.status).toBe(409);
    const second = api.rt.runPipe('myendpoint');
    writeHeld.open();
    expect((await slowReceive).status).toBe(200);
    await second;
    expect(events).toEqual(['receive written', 'run started']);
    // Concurrent receives of one pipe are queued, one after the other.
    sink.writeAll = writeAll;
    const all = await Promise.all(Array.from({ length: 8 }, (_, i) => push('myendpoint', [{ _id: `p${i}` }])));
    expect(all.map((x) => x.status)).toEqual(Array(8).fill(200));
    expect(Object.keys(await latest('mydataset'))).toHaveLength(10);
  });

  it('keeps integral floats as floats with do_float_as_int false, and traces requests when asked', async () => {
    await setup([
      { _id: 'floats', type: 'pipe', source: { type: 'http_endpoint', do_float_as_int: false, trace: { log_secret_redacted_bytes: 5 } } },
      { _id: 'ints', type: 'pipe', source: { type: 'http_endpoint' } },
    ]);
    expect((await push('floats', '[{"_id": "a", "x": 2.0, "y": 1.5}]', '', { authorization: 'Bearer secret-token' })).status).toBe(200);
    expect((await push('ints', '[{"_id": "a", "x": 2.0, "y": 1.5}]')).status).toBe(200);
    expect((await api.call('GET', '/api/datasets/floats/entities')).text).toMatch(/"x":2\.0,"y":1\.5/);
    expect((await api.call('GET', '/api/datasets/ints/entities')).text).toMatch(/"x":2,"y":1\.5/);
    const log = (await api.call('GET', '/api/pipes/floats/log')).json as Record<string, any>[];
    const completed = log.find((e) => e.event_type === 'pump-completed')!;
    expect(completed.request_headers.authorization).toBe('Bearer secret-*****');
    expect(completed.request_body).toBe('[{"_id": "a", "x": 2.0, "y": 1.5}]');
    expect(log.some((e) => e.event_type === 'pump-started')).toBe(true);
    // Without trace nothing is logged for a request.
    expect(((await api.call('GET', '/api/pipes/ints/log')).json as unknown[]).filter((e: any) => e.reason === 'receiver')).toEqual([]);
  });

  it('refuses a validation_expression it cannot evaluate instead of accepting every request', async () => {
    await setup([{ _id: 'guarded', type: 'pipe', source: { type: 'http_endpoint', validation_expression: "{{ '' }}" } }]);
    const r = await push('guarded', [{ _id: 'a' }]);
    expect(r.status).toBe(409);
    expect(r.json.error.message).toMatch(/validation_expression/);
  });
});

describe('the push protocol state machine', () => {
  it('goes through a sequence and ends it at is_last', () => {
    const p = { isFull: true, isFirst: false, isLast: false };
    let s = protocolStep('p', {}, { ...p, sequenceId: 'a', requestId: '1', isFirst: true });
    expect(s.full).toBe(true);
    expect(s.next.sequence?.requests).toBe(1);
    const run = s.runId;
    s = protocolStep('p', s.next, { ...p, sequenceId: 'a', requestId: '2', previousRequestId: '1' });
    expect(s.runId).toBe(run);
    s = protocolStep('p', s.next, { ...p, sequenceId: 'a', requestId: '3', previousRequestId: '2', isLast: true });
    expect(s.endsSequence).toBe(true);
    expect(s.next.sequence).toBeNull();
    // A single request that is first and last needs no sequence id.
    expect(protocolStep('p', {}, { ...p, isFirst: true, isLast: true }).endsSequence).toBe(true);
  });
});
