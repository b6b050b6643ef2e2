/**
 * Endpoint sinks and their publishers (http_endpoint: JSON pull; csv_endpoint; xml_endpoint), over
 * real HTTP against the Sluice API, and two Sluice instances talking JSON pull and JSON push.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readWithOnePause, startTestApi, type TestApi } from '../api/support.js';
import { CsvWriter, csvOptionsFrom, fieldText, streamEncoder } from '../../runtime/components/sinks/csv-format.js';
import { floatText as pythonFloatText } from '../../compiler/dtl/functions/text.js';
import { XmlWriter, xmlOptionsFrom } from '../../runtime/components/sinks/xml-format.js';

const apis: TestApi[] = [];
afterEach(async () => {
  while (apis.length) await apis.pop()!.close();
});

async function setup(config: unknown[]): Promise<TestApi> {
  const api = await startTestApi();
  apis.push(api);
  const r = await api.call('PUT', '/api/config', { body: config });
  expect(r.status, r.text).toBe(200);
  return api;
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');
const letters = { _id: 'letters', type: 'pipe', source: { type: 'embedded', entities: LETTERS.map((l) => ({ _id: l })) } };
const published = { _id: 'published-letters', type: 'pipe', source: { type: 'dataset', dataset: 'letters' }, sink: { type: 'http_endpoint' } };

describe('the http_endpoint sink (JSON pull)', () => {
  it('publishes the letters of the JSON pull docs with since, limit and the X-Dataset headers', async () => {
    const api = await setup([letters, published]);
    // Before the input pipe ran: an empty array, not populated.
    let r = await api.call('GET', '/api/publishers/published-letters/entities');
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual([]);
    expect(r.headers.get('x-dataset-populated')).toBe('false');
    await api.rt.runPipe('letters');

    r = await api.call('GET', '/api/publishers/published-letters/entities');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.headers.get('content-length')).toBeNull();
    expect(r.headers.get('x-dataset-populated')).toBe('true');
    expect(r.headers.get('x-dataset-max-updated')).toBe('25');
    expect(r.headers.get('x-dataset-filtered')).toBe('false');
    expect(r.headers.get('x-dataset-generation')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(r.headers.get('content-disposition')).toBeNull();
    const all = r.json as { _id: string; _updated: number; _hash: string }[];
    expect(all.map((e) => e._id)).toEqual(LETTERS);
    expect(all[25]._updated).toBe(25);
    expect(all[0]._hash).toMatch(/^[0-9a-f]{32}$/);

    r = await api.call('GET', '/api/publishers/published-letters/entities?since=21');
    expect(r.json.map((e: { _id: string }) => e._id)).toEqual(['W', 'X', 'Y', 'Z']);
    r = await api.call('GET', '/api/publishers/published-letters/entities?since=19&limit=3');
    expect(r.json.map((e: { _updated: number }) => e._updated)).toEqual([20, 21, 22]);
    r = await api.call('GET', '/api/publishers/published-letters/entities?since=22&limit=3');
    expect(r.json.map((e: { _id: string }) => e._id)).toEqual(['X', 'Y', 'Z']);
    r = await api.call('GET', '/api/publishers/published-letters/entities?limit=0');
    expect(r.json).toEqual([]);
    // Paging with the last _updated as the next since gives every entity once.
    const paged: string[] = [];
    let since = '';
    for (;;) {
      const page = (await api.call('GET', `/api/publishers/published-letters/entities?limit=5${since ? `&since=${since}` : ''}`)).json as { _id: string; _updated: number }[];
      if (!page.length) break;
      paged.push(...page.map((e) => e._id));
      since = String(page[page.length - 1]._updated);
    }
    expect(paged).toEqual(LETTERS);
    // A deleted entity is published as deleted (latest version only).
    await api.rt.store.write('letters', [{ _id: 'B', _deleted: true }]);
    r = await api.call('GET', '/api/publishers/published-letters/entities?since=25');
    expect(r.json).toHaveLength(1);
    expect(r.json[0]).toMatchObject({ _id: 'B', _deleted: true, _updated: 26 });
    expect((await api.call('GET', '/api/publishers/published-letters/entities')).json).toHaveLength(26);
  });

  it('runs the transforms with the URL parameters bound to _B, and names files', async () => {
    const api = await setup([
      letters,
      {
        _id: 'greetings',
        type: 'pipe',
        source: { type: 'dataset', dataset: 'letters' },
        transform: {
          type: 'dtl',
          rules: {
            default: [
              ['filter', ['or', ['is-null', '_B.only'], ['eq', '_S._id', '_B.only']]],
              ['copy', '_id'],
              ['add', 'greeting', ['concat', ['if', ['is-null', '_B.greeting'], 'Hello', '_B.greeting'], ' ', '_S._id']],
              ['add', 'limit', '_B.limit'],
            ],
          },
        },
        sink: { type: 'http_endpoint', filename: 'greetings.json', content_disposition: 'inline' },
      },
    ]);
    await api.rt.runPipe('letters');
    let r = await api.call('GET', '/api/publishers/greetings/entities?limit=2');
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get('x-dataset-filtered')).toBe('true');
    expect(r.headers.get('content-disposition')).toBe('inline; filename="greetings.json"');
    expect(r.json).toEqual([
      { _id: 'A', greeting: 'Hello A', limit: '2', _updated: 0 },
      { _id: 'B', greeting: 'Hello B', limit: '2', _updated: 1 },
    ]);
    r = await api.call('GET', '/api/publishers/greetings/entities?only=Q&greeting=Hei');
    expect(r.json).toEqual([{ _id: 'Q', greeting: 'Hei Q', limit: null, _updated: 16 }]);
    // Without parameters, _B is empty.
    r = await api.call('GET', '/api/publishers/greetings/entities');
    expect(r.json).toHaveLength(26);
    expect(r.json[25]).toEqual({ _id: 'Z', greeting: 'Hello Z', limit: null, _updated: 25 });
    // The filename variant of the URL.
    r = await api.call('GET', '/api/publishers/greetings/entities/other%20name.json?only=A');
    expect(r.headers.get('content-disposition')).toBe('inline; filename="other name.json"');
    expect(r.json).toHaveLength(1);
  });

  it('answers 404 for unknown pipes, other sinks and other formats, and 400 for bad parameters', async () => {
    const api = await setup([letters, published]);
    let r = await api.call('GET', '/api/publishers/nope/entities');
    expect(r.status).toBe(404);
    expect(r.json.error.message).toMatch(/no pipe "nope"/);
    r = await api.call('GET', '/api/publishers/letters/entities');
    expect(r.status).toBe(404);
    expect(r.json.error.message).toMatch(/its sink is "dataset", not "http_endpoint"/);
    r = await api.call('GET', '/api/publishers/published-letters/csv');
    expect(r.status).toBe(404);
    expect(r.json.error.message).toMatch(/no CSV publisher/);
    r = await api.call('GET', '/api/publishers/published-letters/entities?since=yesterday');
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/since must be an offset/);
    r = await api.call('GET', '/api/publishers/published-letters/entities?limit=-1');
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/limit/);
    r = await api.call('GET', '/api/publishers/published-letters/entities?subset=%5B%22eq%22%5D');
    expect(r.status).toBe(404);
  });

  it('reports a fatal transform error before the response starts', async () => {
    const api = await setup([letters, { ...published, transform: { type: 'dtl', rules: { default: [['fail!', 'no publishing today']] } } }]);
    await api.rt.runPipe('letters');
    const r = await api.call('GET', '/api/publishers/published-letters/entities');
    expect(r.status).toBe(422);
    expect(r.json.error.message).toMatch(/no publishing today/);
  });

  it('streams a large output only as fast as the client reads it', async () => {
    const api = await setup([{ ...published, source: { type: 'dataset', dataset: 'big' } }]);
    const n = 20_000;
    for (let s = 0; s < n; s += 5000) await api.rt.store.write('big', Array.from({ length: 5000 }, (_, i) => ({ _id: `e${s + i}`, pad: 'y'.repeat(500) })));
    let pulled = 0;
    const store = api.rt.store;
    const scanBatches = store.scanBatches.bind(store);
    store.scanBatches = async function* (dataset, options) {
      for await (const page of scanBatches(dataset, options)) {
        pulled += page.length;
        yield page;
      }
    };
    let pulledWhilePaused = -1;
    const text = await readWithOnePause(`${api.base}/api/publishers/published-letters/entities`, () => (pulledWhilePaused = pulled));
    expect(JSON.parse(text)).toHaveLength(n);
    expect(pulledWhilePaused).toBeGreaterThan(0);
    expect(pulledWhilePaused).toBeLessThan(n);
  });

  it('does nothing when the pump runs an endpoint pipe', async () => {
    const api = await setup([letters, published]);
    await api.rt.runPipe('letters');
    const outcome = await api.rt.runPipe('published-letters');
    expect(outcome.status).toBe('completed');
    expect(outcome.written).toBe(0);
    expect(await api.rt.store.datasetInfo('published-letters')).toBeNull();
    expect((await api.rt.store.getPipeState('published-letters'))?.last_seen).toBe(25);
  });
});

describe('the csv_endpoint sink', () => {
  it('serves the CSV of the sesam client example, then with options', async () => {
    const input = {
      _id: 'input-pipe1',
      type: 'pipe',
      source: {
        type: 'embedded',
        entities: [
          { _id: 'test1', name: 'test1' },
          { _id: 'test2', name: 'test2' },
        ],
      },
    };
    const api = await setup([
      input,
      { _id: 'output-pipe-csv', type: 'pipe', source: { type: 'dataset', dataset: 'input-pipe1' }, sink: { type: 'csv_endpoint', columns: ['_id', 'name'] } },
    ]);
    await api.rt.runPipe('input-pipe1');
    let r = await api.call('GET', '/api/publishers/output-pipe-csv/csv');
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.text).toBe('_id,name\r\ntest1,test1\r\ntest2,test2\r\n');
    expect(r.headers.get('content-disposition')).toBeNull();
    r = await api.call('GET', '/api/publishers/output-pipe-csv/csv/my%20data.csv?limit=1');
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="my data.csv"');
    expect(r.text).toBe('_id,name\r\ntest1,test1\r\n');
    r = await api.call('GET', '/api/publishers/output-pipe-csv/csv?since=0');
    expect(r.text).toBe('_id,name\r\ntest2,test2\r\n');
    expect((await api.call('OPTIONS', '/api/publishers/output-pipe-csv/csv/')).status).toBe(200);
    expect((await api.call('GET', '/api/publishers/output-pipe-csv/entities')).status).toBe(404);
  });

  it('applies quoting, delimiters, terminators, deleted entities, _B and encodings', async () => {
    const rows = {
      _id: 'rows',
      type: 'pipe',
      source: {
        type: 'embedded',
        entities: [
          { _id: 'a', text: 'plain', n: 1, f: 2.5, ok: true, none: null },
          { _id: 'b', text: 'with, comma', n: -3, f: 1e-7, ok: false },
          { _id: 'c', text: 'say "hi"\nbye', n: 12345678901234, f: 1.5e-10 },
          { _id: 'd', text: 'Ærø – ok', n: 0 },
        ],
      },
    };
    const csvPipe = (id: string, sink: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ _id: id, type: 'pipe', source: { type: 'dataset', dataset: 'rows' }, sink: { type: 'csv_endpoint', ...sink }, ...extra });
    const api = await setup([
      rows,
      csvPipe('minimal', { columns: ['_id', 'text', 'n', 'f', 'ok', 'none', 'missing'] }),
      csvPipe('all', { columns: ['_id', 'n', 'none'], quoting: 'all', delimiter: ';', lineterminator: '\n', include_header: false }),
      csvPipe('nonnumeric', { columns: ['_id', 'n', 'ok', 'none'], quoting: 'non-numeric' }),
      csvPipe('deleted', { columns: ['_id', '_deleted'], 'skip-deleted-entities': false }),
      csvPipe('escaped', { columns: ['_id', 'text'], quoting: 'none', escapechar: '\\' }),
      csvPipe('latin', { columns: ['text'], encoding: 'latin-1', include_header: false, byte_order_mark: false, filename: 'x.csv', content_disposition: 'inline' }),
      csvPipe('bom', { columns: ['_id'], byte_order_mark: true, include_header: false }),
      csvPipe('bound', { columns: ['_id', 'tag'] }, { transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['add', 'tag', '_B.tag']] } } }),
    ]);
    await api.rt.runPipe('rows');
    const get = (pipe: string, query = '') => api.call('GET', `/api/publishers/${pipe}/csv${query}`);

    expect((await get('minimal')).text).toBe(
      ['_id,text,n,f,ok,none,missing', 'a,plain,1,2.5,True,,', 'b,"with, comma",-3,1e-07,False,,', 'c,"say ""hi""\nbye",12345678901234,1.5e-10,,,', 'd,Ærø – ok,0,,,,', ''].join('\r\n'),
    );
    expect((await get('all')).text).toBe('"a";"1";""\n"b";"-3";""\n"c";"12345678901234";""\n"d";"0";""\n');
    expect((await get('nonnumeric', '?limit=2')).text).toBe('"_id","n","ok","none"\r\n"a",1,True,""\r\n"b",-3,False,""\r\n');
    await api.rt.store.write('rows', [{ _id: 'b', _deleted: true }]);
    // Entities read from a dataset say `"_deleted": false` unless deleted, as in the entity model.
    expect((await get('deleted')).text).toBe('_id,_deleted\r\na,False\r\nc,False\r\nd,False\r\nb,True\r\n');
    expect((await get('minimal')).text).not.toMatch(/\r\nb,/);
    expect((await get('escaped', '?limit=1')).text).toBe('_id,text\r\na,plain\r\n');
    expect((await get('escaped', '?since=1&limit=1')).text).toBe('_id,text\r\nc,say \\"hi\\"\\\nbye\r\n');

    const latin = await fetch(`${api.base}/api/publishers/latin/csv?since=2&limit=1`);
    expect(latin.headers.get('content-type')).toBe('text/csv; charset=iso-8859-1');
    expect(latin.headers.get('content-disposition')).toBe('inline; filename="x.csv"');
    expect([...new Uint8Array(await latin.arrayBuffer())]).toEqual([0xc6, 0x72, 0xf8, 0x20, ...Buffer.from('\\u2013 ok\r\n', 'latin1')]);
    const bom = new Uint8Array(await (await fetch(`${api.base}/api/publishers/bom/csv?limit=1`)).arrayBuffer());
    expect([...bom]).toEqual([0xef, 0xbb, 0xbf, ...Buffer.from('a\r\n')]);

    expect((await get('bound', '?tag=x%2Cy&limit=1')).text).toBe('_id,tag\r\na,"x,y"\r\n');
    expect((await get('bound', '?limit=1')).text).toBe('_id,tag\r\na,\r\n');
  });

  it('refuses a pipe whose CSV settings cannot work', async () => {
    const api = await setup([{ _id: 'bad', type: 'pipe', source: { type: 'embedded', entities: [] }, sink: { type: 'csv_endpoint', columns: ['a'], encoding: 'klingon' } }]);
    const r = await api.call('GET', '/api/publishers/bad/csv');
    expect(r.status).toBe(409);
    expect(r.json.error.message).toMatch(/encoding "klingon" is not supported/);
  });
});

describe('the xml_endpoint sink', () => {
  const entity = {
    _id: '1',
    name: 'Entity 1',
    id: 'entity-1',
    '<foo:tag>': [{ id: 'child', name: 'Child entity', '<section>': [{ '<from>': '0' }, { '<to>': '999' }] }],
  };

  it('renders the example of the docs, with and without a wrapper', async () => {
    const source = { type: 'embedded', entities: [entity, { _id: '2', '<foo:tag>': 'a & b < c', flag: true }] };
    const api = await setup([
      {
        _id: 'example',
        type: 'pipe',
        source,
        sink: {
          type: 'xml_endpoint',
          wrapper: 'baz',
          'root-attributes': { xmlns: 'http://www.example.org/ns1', 'xmlns:foo': 'http://www.example.org/foo', zoo: 'bar' },
          filename: 'example.xml',
        },
      },
      { _id: 'bare', type: 'pipe', source, sink: { type: 'xml_endpoint', 'include-xml-decl': true, 'root-attributes': { 'xmlns:foo': 'urn:foo' } } },
    ]);
    let r = await api.call('GET', '/api/publishers/example/xml');
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/xml; charset=utf-8');
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="example.xml"');
    expect(r.text).toBe(
      '<baz xmlns="http://www.example.org/ns1" xmlns:foo="http://www.example.org/foo" zoo="bar">' +
        '<foo:tag name="Entity 1" id="entity-1"><section id="child" name="Child entity"><from>0</from><to>999</to></section></foo:tag>' +
        '<foo:tag flag="True">a &amp; b &lt; c</foo:tag>' +
        '</baz>',
    );
    r = await api.call('GET', '/api/publishers/bare/xml/out.xml?limit=1');
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="out.xml"');
    expect(r.text).toBe(
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<foo:tag xmlns:foo="urn:foo" name="Entity 1" id="entity-1"><section id="child" name="Child entity"><from>0</from><to>999</to></section></foo:tag>',
    );
    r = await api.call('GET', '/api/publishers/example/xml?limit=0');
    expect(r.text).toBe('<baz xmlns="http://www.example.org/ns1" xmlns:foo="http://www.example.org/foo" zoo="bar"></baz>');
  });

  it('skips deleted entities, binds _B and refuses entities without exactly one tag', async () => {
    const api = await setup([
      {
        _id: 'things',
        type: 'pipe',
        source: { type: 'embedded', entities: [{ _id: 'a' }, { _id: 'b', _deleted: true }] },
        transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['copy', '_deleted'], ['add', '<thing>', ['if', ['is-null', '_B.label'], '_S._id', '_B.label']]] } },
        sink: { type: 'xml_endpoint', wrapper: 'things' },
      },
      { _id: 'untagged', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'a', x: 1 }] }, sink: { type: 'xml_endpoint' } },
    ]);
    expect((await api.call('GET', '/api/publishers/things/xml')).text).toBe('<things><thing>a</thing></things>');
    expect((await api.call('GET', '/api/publishers/things/xml?label=%22quoted%22')).text).toBe('<things><thing>"quoted"</thing></things>');
    const r = await api.call('GET', '/api/publishers/untagged/xml');
    expect(r.status).toBe(422);
    expect(r.json.error.message).toMatch(/entity "a" has no "<tag>" properties/);
  });
});

describe('two Sluice instances: a publisher pulled and a receiver fed over the JSON protocols', () => {
  it('copies A\'s published output into B with a full sync, then propagates a deletion', async () => {
    const a = await setup([letters, { ...published, transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['copy', '_deleted'], ['add', 'lower', ['lower', '_S._id']]] } } }]);
    const b = await setup([{ _id: 'copy', type: 'pipe', source: { type: 'http_endpoint' }, sink: { type: 'dataset', dataset: 'letters-copy' } }]);
    await a.rt.runPipe('letters');

    /** One full sync: pages of 7 pulled from A with since/limit, each pushed to B in order. */
    const sync = async (sequence: string) => {
      let since: number | null = null;
      let previous: string | null = null;
      let requestNo = 0;
      let pages: { _id: string; _updated: number }[][] = [];
      for (;;) {
        const res = await fetch(`${a.base}/api/publishers/published-letters/entities?limit=7${since === null ? '' : `&since=${since}`}`);
        expect(res.status).toBe(200);
        const page = (await res.json()) as { _id: string; _updated: number }[];
        pages.push(page);
        if (page.length < 7) break;
        since = page[page.length - 1]._updated;
      }
      pages = pages.filter((p, i) => p.length || i === 0);
      for (let i = 0; i < pages.length; i++) {
        const requestId = `${sequence}-${++requestNo}`;
        const q = new URLSearchParams({ sequence_id: sequence, is_full: 'true', request_id: requestId });
        if (previous) q.set('previous_request_id', previous);
        if (i === 0) q.set('is_first', 'true');
        if (i === pages.length - 1) q.set('is_last', 'true');
        const body = pages[i].map(({ _updated: _u, ...e }) => e);
        const res = await fetch(`${b.base}/api/receivers/copy/entities?${q}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        expect(res.status, await res.clone().text()).toBe(200);
        expect(await res.json()).toEqual({});
        previous = requestId;
      }
      return pages.length;
    };

    expect(await sync('first')).toBe(4);
    let copy = (await b.call('GET', '/api/datasets/letters-copy/entities?history=false')).json as { _id: string; lower: string; _deleted?: boolean }[];
    expect(copy.map((e) => e._id)).toEqual(LETTERS);
    expect(copy[0].lower).toBe('a');
    expect(copy.some((e) => e._deleted)).toBe(false);

    // Q leaves A's input; A publishes it as deleted, and B's next full sync (which the deleted
    // entity is left out of) deletes it.
    const input = { ...letters, source: { type: 'embedded', entities: LETTERS.filter((l) => l !== 'Q').map((l) => ({ _id: l })) } };
    expect((await a.call('PUT', '/api/config', { body: [input, { ...published, transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['copy', '_deleted'], ['add', 'lower', ['lower', '_S._id']]] } } }] })).status).toBe(200);
    await a.rt.runPipe('letters');
    const pulled = (await a.call('GET', '/api/publishers/published-letters/entities')).json as { _id: string; _deleted?: boolean }[];
    expect(pulled.find((e) => e._id === 'Q')).toMatchObject({ _deleted: true });
    // A client sends only live entities in a full sync; published deletions are left out here.
    const live = async (sequence: string) => {
      const all = (await (await fetch(`${a.base}/api/publishers/published-letters/entities`)).json()) as { _id: string; _deleted?: boolean; _updated: number }[];
      const body = all.filter((e) => !e._deleted).map(({ _updated: _u, ...e }) => e);
      const res = await fetch(`${b.base}/api/receivers/copy/entities?sequence_id=${sequence}&is_full=true&request_id=1&is_first=true&is_last=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
    };
    await live('second');
    copy = (await b.call('GET', '/api/datasets/letters-copy/entities?history=false')).json;
    expect(copy.filter((e) => e._deleted).map((e) => e._id)).toEqual(['Q']);
    expect(copy.filter((e) => !e._deleted)).toHaveLength(25);
  });
});

describe('csv and xml rendering', () => {
  it('writes floats like Python', () => {
    expect([0.1, 1.5, 100, 1e15, 1e16, 1.5e-5, 0.0001, -2.5e22, 123456.789].map(pythonFloatText)).toEqual(['0.1', '1.5', '100.0', '1000000000000000.0', '1e+16', '1.5e-05', '0.0001', '-2.5e+22', '123456.789']);
    expect(fieldText(null).text).toBe('');
    expect(fieldText(['a', 1]).text).toBe('["a",1]');
  });

  it('follows the quoting rules of the dialect', () => {
    const w = (config: Record<string, unknown>) => new CsvWriter(csvOptionsFrom({ columns: ['x'], ...config }));
    expect(w({}).row(['a"b'])).toBe('"a""b"\r\n');
    expect(w({}).row([''])).toBe('""\r\n');
    expect(w({}).row(['a\\b'])).toBe('a\\\\b\r\n');
    expect(w({ doublequote: false }).row(['a"b'])).toBe('a\\"b\r\n');
    expect(w({ doublequote: false, escapechar: '!' }).row(['a"b'])).toBe('a!"b\r\n');
    expect(w({ quotechar: "'" }).row(["it's", 'a,b'])).toBe("'it''s','a,b'\r\n");
    expect(w({ delimiter: '\t' }).row(['a\tb', 'c'])).toBe('"a\tb"\tc\r\n');
    expect(w({ quoting: 'none', escapechar: '\\' }).row(['a,b'])).toBe('a\\,b\r\n');
    expect(() => csvOptionsFrom({ columns: ['x'], delimiter: ';;' })).toThrow(/single character/);
    expect(() => csvOptionsFrom({ columns: 'x' })).toThrow(/columns/);
  });

  it('encodes with the error strategies', () => {
    const enc = (encoding: string, strategy: 'ignore' | 'replace' | 'xmlcharrefreplace' | 'backslashreplace') => streamEncoder(encoding, strategy, false)('é€😀').toString('latin1');
    expect(enc('ascii', 'ignore')).toBe('');
    expect(enc('ascii', 'replace')).toBe('???');
    expect(enc('ascii', 'xmlcharrefreplace')).toBe('&#233;&#8364;&#128512;');
    expect(enc('ascii', 'backslashreplace')).toBe('\\xe9\\u20ac\\U0001f600');
    expect(enc('cp1252', 'replace')).toBe('\u00e9\u0080?');
    const utf16 = streamEncoder('utf-16', 'replace', false);
    expect([...utf16('a')]).toEqual([0xff, 0xfe, 0x61, 0x00]);
    expect([...utf16('b')]).toEqual([0x62, 0x00]);
  });

  it('checks XML names', () => {
    expect(() => new XmlWriter(xmlOptionsFrom({})).entity({ _id: 'x', '<1bad>': 'v' })).toThrow(/not a valid XML name/);
    expect(() => xmlOptionsFrom({ wrapper: 'a b' })).toThrow(/wrapper/);
    expect(new XmlWriter(xmlOptionsFrom({})).entity({ _id: 'x', '<t>': null, a: 'x"y\n' })).toBe('<t a="x&quot;y&#10;"/>');
  });
});
