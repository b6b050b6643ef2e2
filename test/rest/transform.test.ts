/** The REST transform, and custom_auth of REST systems, against the REST fixture service. */
import { describe, expect, it } from 'vitest';
import { makeRecords } from '../../scripts/test-services/rest-fixture.js';
import { configure } from '../support/runtime.js';
import { fixture, latest, restSystem, runtime } from './support.js';

const operations = {
  lookup: { method: 'GET', url: 'records/{{ properties.key }}' },
  list: { method: 'GET', url: 'records', params: { page_size: 2 }, next_page_link: '{{ body.next }}', payload_property: 'data' },
  csv: { method: 'GET', url: 'csv' },
};

describe('rest transform', () => {
  it('adds the response, pages included, and passes untriggered entities through', async () => {
    const f = await fixture();
    f.put(...makeRecords(5));
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations }),
      {
        _id: 'enrich',
        type: 'pipe',
        source: {
          type: 'embedded',
          entities: [
            { _id: 'x1', properties: { key: 'r1' }, go: 'yes' },
            { _id: 'x2', operation: 'list', go: 'yes-please' },
            { _id: 'x3', go: 'no' },
          ],
        },
        transform: { type: 'rest', system: 'api', operation: 'lookup', trigger_on: { key: 'go', value: 'yes*' }, response_status_property: 'status', response_headers_property: 'h' },
      },
    ]);
    expect(await rt.runPipe('enrich')).toMatchObject({ status: 'completed', written: 3 });
    const byId = Object.fromEntries((await latest(rt, 'enrich')).map((e) => [e._id, e]));
    expect(byId.x1).toMatchObject({ response: { id: 'r1', name: 'record 1', updated: 1 }, status: 200, h: { 'content-type': 'application/json' } });
    expect((byId.x2.response as { id: string }[]).map((r) => r.id)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(byId.x3.response).toBeUndefined();
    expect(f.seen).toHaveLength(4);
  });

  it('replaces entities with the response (replace_entity) and keeps non-JSON text', async () => {
    const f = await fixture();
    f.put(...makeRecords(3));
    f.overrides.push((req, res) => {
      if (req.path !== '/csv') return false;
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.end('a;b');
      return true;
    });
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations }),
      {
        _id: 'replace',
        type: 'pipe',
        source: { type: 'embedded', entities: [{ _id: 'q', operation: 'list' }, { _id: 'c', operation: 'csv' }] },
        transform: [
          { type: 'rest', system: 'api', replace_entity: true, response_include_content_type: true },
          { type: 'dtl', rules: { default: [['copy', '*'], ['add', '_id', ['if', ['is-not-null', '_S.id'], '_S.id', '_S._id']]] } },
        ],
      },
    ]);
    expect(await rt.runPipe('replace')).toMatchObject({ status: 'completed', written: 4 });
    const got = Object.fromEntries((await latest(rt, 'replace')).map((e) => [e._id, e]));
    expect(Object.keys(got).sort()).toEqual(['c', 'r1', 'r2', 'r3']);
    expect(got.c).toMatchObject({ response: 'a;b', 'content-type': 'text/csv' });
  });

  it('passes allowed status codes through, drops ignored ones, and fails the entity on others', async () => {
    const f = await fixture();
    f.put(...makeRecords(1));
    f.fail('/records/boom', 503, 100, { 'content-type': 'text/plain' }, 'maintenance');
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations }),
      {
        _id: 'codes',
        type: 'pipe',
        source: { type: 'embedded', entities: [{ _id: 'ok', properties: { key: 'r1' } }, { _id: 'missing', properties: { key: 'nope' } }] },
        transform: { type: 'rest', system: 'api', operation: 'lookup', allowed_status_codes: '200-299,404', response_status_property: 'status' },
      },
      {
        _id: 'ignored',
        type: 'pipe',
        source: { type: 'embedded', entities: [{ _id: 'ok', properties: { key: 'r1' } }, { _id: 'missing', properties: { key: 'nope' } }] },
        transform: { type: 'rest', system: 'api', operation: 'lookup', ignored_status_codes: '400-499' },
      },
      {
        _id: 'failing',
        type: 'pipe',
        source: { type: 'embedded', entities: [{ _id: 'boom', properties: { key: 'boom' } }] },
        transform: { type: 'rest', system: 'api', operation: 'lookup' },
      },
      {
        _id: 'empty',
        type: 'pipe',
        source: { type: 'embedded', entities: [{ _id: 'missing', properties: { key: 'nope' } }] },
        transform: { type: 'rest', system: 'api', operation: 'lookup', ignored_status_codes: '404', replace_entity: true, if_transform_empty: 'fail' },
      },
    ]);
    expect(await rt.runPipe('codes')).toMatchObject({ status: 'completed', written: 2 });
    expect(Object.fromEntries((await latest(rt, 'codes')).map((e) => [e._id, e.status]))).toEqual({ ok: 200, missing: 404 });
    expect(await rt.runPipe('ignored')).toMatchObject({ status: 'completed', written: 2 });
    expect((await latest(rt, 'ignored')).find((e) => e._id === 'missing')?.response).toBeUndefined();
    const failing = await rt.runPipe('failing');
    expect(failing.status).toBe('failed');
    expect(failing.error).toContain(`pipe "failing": the rest transform: entity "boom": GET ${f.base}/records/boom answered 503 Service Unavailable: maintenance`);
    const empty = await rt.runPipe('empty');
    expect(empty.error).toContain('pipe "empty": the rest transform: produced no entities from 1 and if_transform_empty is "fail"');
  });

  it('fails clearly on invalid JSON and on a response that stalls, writing nothing of the batch', async () => {
    const f = await fixture();
    f.overrides.push((req, res) => {
      if (req.path === '/records/broken') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id": ');
        return true;
      }
      if (req.path === '/records/stall') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"id": "stall", ');
        return true;
      }
      return false;
    });
    f.put(...makeRecords(1));
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { read_timeout: 1, operations }),
      {
        _id: 'bad',
        type: 'pipe',
        source: { type: 'embedded', entities: [{ _id: 'ok', properties: { key: 'r1' } }, { _id: 'b', properties: { key: 'broken' } }] },
        transform: { type: 'rest', system: 'api', operation: 'lookup' },
      },
      {
        _id: 'slow',
        type: 'pipe',
        source: { type: 'embedded', entities: [{ _id: 'ok', properties: { key: 'r1' } }, { _id: 's', properties: { key: 'stall' } }] },
        transform: { type: 'rest', system: 'api', operation: 'lookup' },
      },
    ]);
    const r = await rt.runPipe('bad');
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(new RegExp(`pipe "bad": the rest transform: entity "b": the response of GET ${f.base}/records/broken says it is JSON but is not valid JSON`));
    expect(await latest(rt, 'bad')).toEqual([]);
    const slow = await rt.runPipe('slow');
    expect(slow.error).toContain(`pipe "slow": the rest transform: entity "s": GET ${f.base}/records/stall timed out: the response body stalled for 1 s (the system's read_timeout)`);
    expect(await latest(rt, 'slow')).toEqual([]);
  });

  it('refuses overlapping allowed and ignored status codes', async () => {
    const f = await fixture();
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations }),
      { _id: 'overlap', type: 'pipe', source: { type: 'embedded', entities: [] }, transform: { type: 'rest', system: 'api', operation: 'lookup', allowed_status_codes: '200-404', ignored_status_codes: '404' } },
    ]);
    await expect(rt.runPipe('overlap')).rejects.toThrow('the status code 404 is both allowed and ignored');
  });
});

describe('custom_auth', () => {
  it('fetches a token with an operation, uses it in templated headers, and fetches a new one after a 401', async () => {
    const f = await fixture();
    f.put(...makeRecords(2));
    let issued = 0;
    f.overrides.push((req, res) => {
      if (req.path !== '/token') return false;
      issued++;
      const body = JSON.parse(req.body) as { key: string; refresh?: string };
      res.writeHead(body.key === 'k3y' ? 200 : 403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ value: { token: `t${issued}`, ttl: 3600 } }));
      return true;
    });
    f.authorization = 'Bearer t1';
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, {
        headers: { Authorization: 'Bearer {{ token.token }}' },
        custom_auth: { get_token_operation: 'token', expires_in_expression: '{{ token.ttl }}', initial_refresh_token: { refresh: 'r0' } },
        operations: {
          token: { method: 'POST', url: 'token', payload: { key: 'k3y', refresh: '{{ token.refresh }}' }, payload_property: 'value' },
          list: { method: 'GET', url: 'records', payload_property: 'data' },
        },
      }),
      { _id: 'pull', type: 'pipe', source: { type: 'rest', system: 'api', operation: 'list', id_expression: '{{ id }}' } },
    ]);
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 2 });
    expect(JSON.parse(f.seen[0].body)).toEqual({ key: 'k3y', refresh: 'r0' });
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 2 });
    expect(issued).toBe(1);
    // The service revokes the token: a 401 makes the system fetch a new one and send the request again.
    f.authorization = 'Bearer t2';
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 2 });
    expect(issued).toBe(2);
  });
});
