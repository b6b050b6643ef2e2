/** The REST source against the REST fixture service over real sockets. */
import { describe, expect, it } from 'vitest';
import { makeRecords } from '../../scripts/test-services/rest-fixture.js';
import { collect, configure } from '../support/runtime.js';
import { fixture, latest, restSystem, runtime } from './support.js';

const list = (extra: Record<string, unknown> = {}) => ({ method: 'GET', url: 'records', params: { page_size: 10 }, next_page_link: '{{ body.next }}', ...extra });
const source = (extra: Record<string, unknown> = {}) => ({ type: 'rest', system: 'api', operation: 'list', payload_property: 'data', id_expression: '{{ id }}', ...extra });

describe('rest source: paging', () => {
  it('follows a next link in the body, with payload_property and id_expression', async () => {
    const f = await fixture();
    f.put(...makeRecords(25));
    const rt = await runtime();
    await configure(rt, [restSystem('api', f.base, { operations: { list: list() } }), { _id: 'pull', type: 'pipe', source: source() }]);
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 25 });
    const got = await latest(rt, 'pull');
    expect(got.map((e) => e._id).sort()).toEqual(makeRecords(25).map((r) => r.id).sort());
    expect(got.find((e) => e._id === 'r7')).toMatchObject({ name: 'record 7', updated: 7 });
    expect(f.seen.map((s) => s.query.get('cursor'))).toEqual([null, '10', '20']);
  });

  it('follows an RFC 5988 Link header (relative links resolve against the request)', async () => {
    const f = await fixture();
    f.put(...makeRecords(12));
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations: { list: { method: 'GET', url: 'records', params: { style: 'link', page_size: 5 }, next_page_link: '{{ headers.Link.next }}' } } }),
      { _id: 'pull', type: 'pipe', source: { type: 'rest', system: 'api', operation: 'list', id_expression: '{{ id }}' } },
    ]);
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 12 });
    expect(f.seen.map((s) => s.query.get('cursor'))).toEqual([null, '5', '10']);
  });

  it('stops on empty-result, not-full-page and same-next-page-link', async () => {
    const f = await fixture();
    f.put(...makeRecords(20));
    const rt = await runtime();
    // Offsets computed in the template: the service never says when the data ends.
    const offsetLink = '{{ url.split("?")[0] }}?style=offset&page_size=10&offset={{ (page + 1) * 10 }}';
    await configure(rt, [
      restSystem('api', f.base, {
        operations: {
          empty: { method: 'GET', url: 'records', params: { style: 'offset', page_size: 10, offset: '{{ previous_params.offset | default(-10) | int + 10 if not is_first_page else 0 }}' }, next_page_link: offsetLink, next_page_termination_strategy: 'empty-result' },
          notfull: { method: 'GET', url: 'records', params: { style: 'offset', page_size: '{{ page_size }}' }, page_size: 10, next_page_link: offsetLink, next_page_termination_strategy: ['not-full-page'] },
          samelink: { method: 'GET', url: 'records', params: { style: 'offset', page_size: 10 }, next_page_link: '{{ url }}', next_page_termination_strategy: 'same-next-page-link' },
        },
      }),
      { _id: 'p-empty', type: 'pipe', source: source({ operation: 'empty' }) },
      { _id: 'p-notfull', type: 'pipe', source: source({ operation: 'notfull' }) },
      { _id: 'p-same', type: 'pipe', source: source({ operation: 'samelink' }) },
    ]);
    expect(await rt.runPipe('p-empty')).toMatchObject({ status: 'completed', read: 20 });
    expect(f.seen.map((s) => s.query.get('offset'))).toEqual(['0', '10', '20']);
    f.seen.length = 0;
    f.put(...makeRecords(5, 21));
    expect(await rt.runPipe('p-notfull')).toMatchObject({ status: 'completed', read: 25 });
    expect(f.seen.map((s) => s.query.get('offset'))).toEqual([null, '10', '20']);
    f.seen.length = 0;
    // The second link equals the first: two requests, and the same 10 entities twice.
    expect(await rt.runPipe('p-same')).toMatchObject({ status: 'completed', read: 20 });
    expect(f.seen).toHaveLength(2);
  });

  it('ends a paging loop that never ends by itself (same request, same response)', async () => {
    const f = await fixture();
    f.put(...makeRecords(3));
    let served = 0;
    f.overrides.push((req, res) => {
      if (req.path !== '/forever') return false;
      served++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: [{ id: 'x', n: req.query.get('n') }], next: `/forever?n=${Math.min(served, 3)}` }));
      return true;
    });
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations: { list: list({ url: 'forever', params: {} }) } }),
      { _id: 'pull', type: 'pipe', source: source() },
    ]);
    // n=1, n=2, n=3, n=3 (same request: stop): 4 requests.
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed' });
    expect(served).toBe(4);
  });

  it('passes page, is_first_page and previous_* to templates', async () => {
    const f = await fixture();
    f.put(...makeRecords(6));
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, {
        operations: {
          list: list({
            params: { page_size: 2 },
            headers: { 'X-Page': '{{ page }}', 'X-First': '{{ is_first_page }}', 'X-Previous-Count': '{% if previous_body is defined %}{{ previous_body.data | length }}{% else %}none{% endif %}' },
          }),
        },
      }),
      { _id: 'pull', type: 'pipe', source: source() },
    ]);
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 6 });
    expect(f.seen.map((s) => [s.headers['x-page'], s.headers['x-first'], s.headers['x-previous-count']])).toEqual([
      ['0', 'True', 'none'],
      ['1', 'False', '2'],
      ['2', 'False', '2'],
    ]);
  });
});

describe('rest source: continuation', () => {
  it('sends since as a query parameter and reads only what changed', async () => {
    const f = await fixture();
    f.put(...makeRecords(15));
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations: { list: list() } }),
      { _id: 'pull', type: 'pipe', source: source({ supports_since: true, is_chronological: true, updated_expression: '{{ updated }}' }) },
    ]);
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 15 });
    expect(f.seen[0].query.has('since')).toBe(false);
    f.seen.length = 0;
    f.put({ id: 'r3', updated: 16, name: 'changed' }, { id: 'r99', updated: 17, name: 'new' });
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 2 });
    expect(f.seen[0].query.get('since')).toBe('15');
    expect((await latest(rt, 'pull')).find((e) => e._id === 'r3')).toMatchObject({ name: 'changed' });
  });

  it('puts since in a header, in the url template, or leaves it to the templates (manual), and starts at initial_since_value', async () => {
    const f = await fixture();
    f.put(...makeRecords(10));
    const rt = await runtime();
    const cont = { supports_since: true, updated_expression: '{{ updated }}' };
    await configure(rt, [
      restSystem('api', f.base, {
        operations: {
          header: list({ since_property_name: 'X-Since', since_property_location: 'header' }),
          inurl: list({ url: 'records?since={{ since }}&x=1' }),
          manual: list({ since_property_location: 'manual', params: { page_size: 10, since: '{{ since | default(7) }}' } }),
        },
      }),
      { _id: 'p-header', type: 'pipe', source: source({ operation: 'header', ...cont, initial_since_value: 4 }) },
      { _id: 'p-url', type: 'pipe', source: source({ operation: 'inurl', ...cont, initial_since_value: 8 }) },
      { _id: 'p-manual', type: 'pipe', source: source({ operation: 'manual', ...cont }) },
    ]);
    expect(await rt.runPipe('p-header')).toMatchObject({ status: 'completed', read: 6 });
    expect(f.seen[0].headers['x-since']).toBe('4');
    expect(f.seen[0].query.has('since')).toBe(false);
    f.seen.length = 0;
    expect(await rt.runPipe('p-url')).toMatchObject({ status: 'completed', read: 2 });
    expect(f.seen[0].query.getAll('since')).toEqual(['8']);
    f.seen.length = 0;
    expect(await rt.runPipe('p-manual')).toMatchObject({ status: 'completed', read: 3 });
    expect(f.seen[0].query.getAll('since')).toEqual(['7']);
  });

  it('sends a templated payload (the source\'s wins over the operation\'s) with since in it', async () => {
    const f = await fixture();
    f.put(...makeRecords(4));
    f.overrides.push((req, res) => {
      if (req.path !== '/search') return false;
      const query = JSON.parse(req.body) as { after: number | null; size: number };
      const data = makeRecords(4).filter((r) => query.after === null || r.updated > query.after);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data }));
      return true;
    });
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations: { search: { method: 'POST', url: 'search', since_property_location: 'manual', payload: { ignored: true } } } }),
      {
        _id: 'pull',
        type: 'pipe',
        source: source({ operation: 'search', supports_since: true, updated_expression: '{{ updated }}', payload: { after: '{% if since is defined %}{{ since }}{% else %}null{% endif %}sesam:markjson', size: '{{ properties.size }}sesam:markjson' }, properties: { size: 50 } }),
      },
    ]);
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 4 });
    expect(JSON.parse(f.seen[0].body)).toEqual({ after: null, size: 50 });
    expect(f.seen[0].headers['content-type']).toBe('application/json');
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 0 });
    expect(JSON.parse(f.seen[1].body)).toEqual({ after: 4, size: 50 });
  });

  it('keeps the since value of an out-of-order source until the run completes', async () => {
    const f = await fixture();
    f.put(...makeRecords(30));
    f.fail('/records', 200, 0);
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations: { list: list() } }),
      { _id: 'pull', type: 'pipe', batch_size: 10, source: source({ supports_since: true, updated_expression: '{{ updated }}' }) },
    ]);
    // The third page fails: the first two pages are stored, but the since value does not move.
    let requests = 0;
    f.overrides.push((_req, res) => {
      if (++requests !== 3) return false;
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('database is down');
      return true;
    });
    const failed = await rt.runPipe('pull');
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe(`pipe "pull": the rest source: GET ${f.base}/records?page_size=10&cursor=20 answered 500 Internal Server Error: database is down`);
    f.seen.length = 0;
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 30 });
    expect(f.seen[0].query.has('since')).toBe(false);
    expect(await latest(rt, 'pull')).toHaveLength(30);
  });
});

describe('rest source: responses', () => {
  it('keeps non-JSON responses as text, and parses json_content_types', async () => {
    const f = await fixture();
    f.overrides.push((req, res) => {
      if (req.path === '/csv') {
        res.writeHead(200, { 'content-type': 'text/csv' });
        res.end('a,b\n1,2\n');
        return true;
      }
      if (req.path === '/vnd') {
        res.writeHead(200, { 'content-type': 'application/vnd.api+json; charset=utf-8' });
        res.end(JSON.stringify({ result: { items: [{ id: 'v1' }] } }));
        return true;
      }
      return false;
    });
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { json_content_types: ['application/vnd.api+json'], operations: { csv: { method: 'GET', url: 'csv' }, vnd: { method: 'GET', url: 'vnd' } } }),
      { _id: 'p-csv', type: 'pipe', source: { type: 'rest', system: 'api', operation: 'csv', response_property: 'raw', response_include_content_type: true, id_expression: 'report' } },
      { _id: 'p-vnd', type: 'pipe', source: { type: 'rest', system: 'api', operation: 'vnd', payload_property: 'result.items', id_expression: '{{ id }}', response_headers_property: 'h' } },
    ]);
    expect(await rt.runPipe('p-csv')).toMatchObject({ status: 'completed', read: 1 });
    expect(await latest(rt, 'p-csv')).toMatchObject([{ _id: 'report', raw: 'a,b\n1,2\n', 'content-type': 'text/csv' }]);
    expect(await rt.runPipe('p-vnd')).toMatchObject({ status: 'completed', read: 1 });
    expect((await latest(rt, 'p-vnd'))[0]).toMatchObject({ _id: 'v1', h: { 'content-type': 'application/vnd.api+json; charset=utf-8' } });
  });

  it('fails clearly on invalid JSON, entities without _id, error_expression and timeouts', async () => {
    const f = await fixture();
    f.overrides.push(async (req, res) => {
      if (req.path === '/broken') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"data": [{"id": 1}');
        return true;
      }
      if (req.path === '/error') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'error', message: 'quota exceeded', data: [] }));
        return true;
      }
      if (req.path === '/stall') {
        // Headers and half a body, then nothing: a page that never ends.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"data": [{"id": "1"},');
        return true;
      }
      return false;
    });
    f.put(...makeRecords(2));
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, {
        read_timeout: 1,
        operations: { broken: { method: 'GET', url: 'broken' }, noid: { method: 'GET', url: 'records' }, error: { method: 'GET', url: 'error' }, stall: { method: 'GET', url: 'stall' } },
      }),
      { _id: 'p-broken', type: 'pipe', source: { type: 'rest', system: 'api', operation: 'broken' } },
      { _id: 'p-noid', type: 'pipe', source: { type: 'rest', system: 'api', operation: 'noid', payload_property: 'data' } },
      { _id: 'p-error', type: 'pipe', source: { type: 'rest', system: 'api', operation: 'error', payload_property: 'data', error_expression: "{% if body.status == 'error' %}{{ body.message }}{% endif %}" } },
      { _id: 'p-stall', type: 'pipe', source: { type: 'rest', system: 'api', operation: 'stall', payload_property: 'data' } },
    ]);
    const broken = await rt.runPipe('p-broken');
    expect(broken.status).toBe('failed');
    expect(broken.error).toMatch(new RegExp(`^pipe "p-broken": the rest source: the response of GET ${f.base}/broken says it is JSON but is not valid JSON \\(.+\\): \\{"data": \\[\\{"id": 1\\}$`));
    const noid = await rt.runPipe('p-noid');
    expect(noid.error).toBe(`pipe "p-noid": the rest source: item 1 of the response of GET ${f.base}/records has no "_id" (set id_expression, e.g. "{{ id }}")`);
    const error = await rt.runPipe('p-error');
    expect(error.error).toBe(`pipe "p-error": the rest source: GET ${f.base}/error reported an error (error_expression): quota exceeded`);
    const stall = await rt.runPipe('p-stall');
    expect(stall.status).toBe('failed');
    expect(stall.error).toBe(`pipe "p-stall": the rest source: GET ${f.base}/stall timed out: the response body stalled for 1 s (the system's read_timeout)`);
    for (const p of ['p-broken', 'p-noid', 'p-error', 'p-stall']) expect(await latest(rt, p)).toEqual([]);
  });

  it('retries 429 answers after Retry-After, and fails clearly when the retries run out', async () => {
    const f = await fixture();
    f.put(...makeRecords(3));
    f.fail('/records', 429, 1, { 'retry-after': '1', 'content-type': 'text/plain' }, 'slow down');
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { rate_limiting_retries: 2, rate_limiting_delay: 0, operations: { list: list() } }),
      restSystem('strict', f.base, { operations: { list: list() } }),
      { _id: 'pull', type: 'pipe', source: source() },
      { _id: 'p-strict', type: 'pipe', source: source({ system: 'strict' }) },
      { _id: 'p-short', type: 'pipe', source: source({ rate_limiting_retries: 1 }) },
    ]);
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 3 });
    expect(f.seen).toHaveLength(2);
    // Retry-After: 1 is honoured although rate_limiting_delay is 0.
    expect(f.seen[1].at - f.seen[0].at).toBeGreaterThanOrEqual(900);
    f.fail('/records', 429, 1, { 'content-type': 'text/plain' }, 'slow down');
    const strict = await rt.runPipe('p-strict');
    expect(strict.error).toBe(`pipe "p-strict": the rest source: GET ${f.base}/records?page_size=10 answered 429 Too Many Requests: slow down`);
    f.fail('/records', 429, 2, { 'retry-after': '0' }, 'still busy');
    const short = await rt.runPipe('p-short');
    expect(short.error).toBe(`pipe "p-short": the rest source: GET ${f.base}/records?page_size=10 answered 429 Too Many Requests 1 time in a row (rate_limiting_retries): still busy`);
  });

  it('fails a full run that read nothing when if_source_empty is "fail", and keeps the dataset', async () => {
    const f = await fixture();
    f.put(...makeRecords(2));
    const rt = await runtime();
    await configure(rt, [restSystem('api', f.base, { operations: { list: list() } }), { _id: 'pull', type: 'pipe', source: source({ if_source_empty: 'fail' }) }]);
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 2 });
    f.records.clear();
    const r = await rt.runPipe('pull');
    expect(r.error).toBe('pipe "pull": the rest source: the operation "list" returned no entities and if_source_empty is "fail"');
    expect(await latest(rt, 'pull')).toHaveLength(2);
  });
});

describe('rest system as a URL system', () => {
  it('serves the json source like a URL system', async () => {
    const f = await fixture();
    f.overrides.push((req, res) => {
      if (req.path !== '/people') return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify([{ _id: 'p1' }, { _id: 'p2' }]));
      return true;
    });
    const rt = await runtime();
    await configure(rt, [restSystem('api', f.base, { operations: { list: list() } }), { _id: 'pull', type: 'pipe', source: { type: 'json', system: 'api', url: 'people' } }]);
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 2 });
  });
});

describe('rest source: trace', () => {
  it('puts the requests and responses in the pump-completed event, with secrets redacted', async () => {
    const f = await fixture();
    f.put(...makeRecords(2));
    const rt = await runtime();
    expect((await rt.setSecrets({ token: 'sup3rs3cretvalue' }, false)).ok).toBe(true);
    await configure(rt, [
      restSystem('api', f.base, { headers: { 'X-Api-Key': '$SECRET(token)' }, operations: { list: list() } }),
      { _id: 'pull', type: 'pipe', source: source({ trace: { log_response_body_maxsize: 20, log_secret_redacted_bytes: -1 } }) },
    ]);
    expect(await rt.runPipe('pull')).toMatchObject({ status: 'completed', read: 2 });
    const events = await collect(rt.store.scan('system:pump_execution:pull', { history: true }));
    const done = events.find((e) => e.event_type === 'pump-completed')!;
    const trace = done.trace as { request: { method: string; url: string; headers: Record<string, string> }; response: { status: number; body: string } }[];
    expect(trace).toHaveLength(1);
    expect(trace[0].request).toMatchObject({ method: 'GET', url: `${f.base}/records?page_size=10` });
    expect(trace[0].response).toMatchObject({ status: 200, body: '{"data":[{"id":"r1",' });
    expect(f.seen[0].headers['x-api-key']).toBe('sup3rs3cretvalue');
    expect(trace[0].request.headers['x-api-key']).toBe('********');
  });
});

