/**
 * The template transform's DTL extension points and inline template bodies: the compiler compiles
 * the rule sets like any DTL (diagnostics at their file:line:col), and the share template runs them
 * where the documentation says: payload rules build the insert and update payloads, lookup rules
 * rewrite the lookup response (for the optimistic locking check and for client-side patching), and
 * mutation rules rewrite the responses it records.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/compile.js';
import { entitiesToFiles } from '../../runtime/service/config-files.js';
import { configure } from '../support/runtime.js';
import { fixture, latest, restSystem, runtime } from './support.js';

const operations = {
  lookup: { method: 'GET', url: 'records/{{ entity.id }}' },
  insert: { method: 'POST', url: 'records' },
  update: { method: 'PUT', url: 'records/{{ entity.id }}' },
  delete: { method: 'DELETE', url: 'records/{{ entity.id }}' },
};

const sharePipe = (entities: Record<string, unknown>[], properties: Record<string, unknown>) => ({
  _id: 'share',
  type: 'pipe',
  source: { type: 'embedded', entities },
  transform: { type: 'template', template: 'transform-share-rest', properties: { rest_system: 'api', primary_key: 'id', ...properties } },
});

async function shared(rt: Awaited<ReturnType<typeof runtime>>) {
  return Object.fromEntries((await latest(rt, 'share')).map((e) => [e._id, e]));
}

describe('template transform: DTL extension points of transform-share-rest', () => {
  it('rewrite_rules_payload builds the insert and update payloads, and rewrites the patched payload', async () => {
    const f = await fixture();
    f.put({ id: 'r1', updated: 1, name: 'one', city: 'Oslo' });
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations }),
      sharePipe([{ _id: 'n1', name: 'Ada' }, { _id: 'p1', id: 'r1', name: 'One!' }], {
        client_side_patching: true,
        rewrite_rules_payload: {
          rewrite_insert_payload: [['add', '$payload', ['apply', 'person', '_S.']]],
          rewrite_update_payload: [['add', '$payload', ['dict', 'name', '_S.name']]],
          rewrite_update_payload_after_patch: [['add', '$payload', ['dict', 'items', ['list', '_S._payload'], 'for', '_R._S.$source._id']]],
          person: [
            ['add', 'fullName', ['upper', '_S.name']],
            ['add', 'from', '_S.$source._id'],
          ],
        },
      }),
    ]);
    expect(await rt.runPipe('share')).toMatchObject({ status: 'completed', failed: 0 });
    expect(f.writes.map((w) => [w.method, w.id, JSON.parse(w.body)])).toEqual([
      ['POST', 'new-1', { fullName: 'ADA', from: 'n1' }],
      ['PUT', 'r1', { items: [{ id: 'r1', updated: 1, name: 'One!', city: 'Oslo' }], for: 'p1' }],
    ]);
    expect(await shared(rt)).toMatchObject({ n1: { $status: 'inserted' }, p1: { $status: 'updated' } });
  });

  it('a payload rule that builds no $payload fails the entity with what it must return', async () => {
    const f = await fixture();
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations }),
      { ...sharePipe([{ _id: 'n1', name: 'Ada' }], { rewrite_rules_payload: { rewrite_insert_payload: [['add', 'payload', '_S.name']] } }), pump: { max_consecutive_write_errors: 1 } },
    ]);
    const out = await rt.runPipe('share');
    expect(out.status).toBe('failed');
    expect(out.error).toContain('the rule "rewrite_insert_payload" of rewrite_rules_payload built no "$payload"; it must return a dict with the payload in "$payload"');
    expect(f.writes).toEqual([]);
  });

  it('rewrite_rules_lookup and rules rewrite the lookup response for the locking check and for patching', async () => {
    const f = await fixture();
    f.put({ id: 'r2', updated: 5, name: 'two', meta: { etag: 'x' } }, { id: 'r3', updated: 6, name: 'changed', meta: { etag: 'y' } });
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations }),
      sharePipe(
        [
          { _id: 'p2', id: 'r2', name: 'Two!', $based_on: { id: 'r2', name: 'two' } },
          { _id: 'p3', id: 'r3', name: 'Three!', $based_on: { id: 'r3', name: 'three' } },
        ],
        {
          client_side_patching: true,
          rewrite_rules_lookup: { rewrite_lookup: [['copy', '*'], ['remove', 'meta']] },
          rules: {
            lookup_rewrite_based_on: [['copy', 'id'], ['copy', 'name']],
            lookup_rewrite_update: [['copy', '*'], ['remove', 'updated']],
          },
        },
      ),
    ]);
    expect(await rt.runPipe('share')).toMatchObject({ status: 'completed' });
    const got = await shared(rt);
    expect(got.p2).toMatchObject({ $operation: 'update', $status: 'updated' });
    expect(got.p3).toMatchObject({ $operation: 'none', $status: 'modified-in-system', $response: { id: 'r3', updated: 6, name: 'changed' } });
    expect(f.writes.map((w) => [w.method, w.id, JSON.parse(w.body)])).toEqual([['PUT', 'r2', { id: 'r2', name: 'Two!' }]]);
  });

  it('lookup_rewrite stands in for both uses of the lookup response', async () => {
    const f = await fixture();
    f.put({ id: 'r4', updated: 9, name: 'four' });
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations }),
      sharePipe([{ _id: 'p4', id: 'r4', name: 'Four!', $based_on: { id: 'r4', name: 'four' } }], { client_side_patching: true, rules: { lookup_rewrite: [['copy', 'id'], ['copy', 'name']] } }),
    ]);
    expect(await rt.runPipe('share')).toMatchObject({ status: 'completed' });
    expect((await shared(rt)).p4).toMatchObject({ $status: 'updated' });
    expect(f.writes.map((w) => JSON.parse(w.body))).toEqual([{ id: 'r4', name: 'Four!' }]);
  });

  it('rewrite_rules_mutation rewrites the responses it records; an insert takes its key from the rewritten response', async () => {
    const f = await fixture();
    f.put({ id: 'r1', updated: 1, name: 'one' });
    f.overrides.push((req, res) => {
      if (req.method !== 'POST') return false;
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: { key: 42 } }));
      return true;
    });
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations }),
      sharePipe(
        [
          { _id: 'n1', name: 'new' },
          { _id: 'p1', id: 'r1', name: 'One!' },
          { _id: 'p9', id: 'r9', _deleted: true },
        ],
        {
          rewrite_rules_mutation: {
            rewrite_insert: [['add', 'id', ['string', '_S.data.key']]],
            rewrite_update: [['add', 'status', ['concat', 'updated ', '_S.id']]],
            rewrite_delete: [['add', 'gone', '_S.id']],
          },
        },
      ),
    ]);
    expect(await rt.runPipe('share')).toMatchObject({ status: 'completed' });
    const got = Object.fromEntries((await collectAll(rt)).map((e) => [e._id, e]));
    expect(got.n1).toMatchObject({ $status: 'inserted', $generated_id: '42', $response: { id: '42' } });
    expect(got.p1).toMatchObject({ $status: 'updated', $response: { status: 'updated r1' } });
    expect(got.p9).toMatchObject({ $status: 'deleted', $response: { gone: 'r9' } });
  });

  it('runs a pipe whose REST system is not defined while no entity needs it, and warns at compile time', async () => {
    const rt = await runtime();
    const result = await rt.setConfigFiles(
      entitiesToFiles([
        { _id: 'empty', type: 'pipe', source: { type: 'embedded', entities: [] }, transform: { type: 'template', template: 'transform-share-rest', properties: { rest_system: '<my-system>', primary_key: 'id', rewrite_rules_payload: { rewrite_update_payload_after_patch: [['add', '$payload', ['list', '_S._payload']]] } } } },
        { _id: 'one', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'x', id: 'r1' }] }, transform: { type: 'template', template: 'transform-share-rest', properties: { rest_system: '<my-system>', primary_key: 'id' } }, pump: { max_consecutive_write_errors: 1 } },
      ]),
    );
    expect(result.ok).toBe(true);
    expect(result.diagnostics.filter((d) => d.code === 'PIPE_UNKNOWN_SYSTEM').map((d) => d.severity)).toEqual(['warning', 'warning']);
    expect(result.diagnostics.filter((d) => d.code === 'TEMPLATE_RULES_UNUSED').map((d) => d.message)).toEqual(['the rule "rewrite_update_payload_after_patch" runs only with "client_side_patching": true']);
    expect(await rt.runPipe('empty')).toMatchObject({ status: 'completed', read: 0 });
    const one = await rt.runPipe('one');
    expect(one.status).toBe('failed');
    expect(one.error).toContain('refers to system "<my-system>", which is not defined');
  });
});

describe('template transform: compiling extension points and inline bodies', () => {
  const file = (text: string) => [{ path: 'pipes/p.conf.json', text, format: 'json' as const, role: 'pipe' as const }];
  const diagnostics = (text: string) => compile(file(text)).diagnostics.map((d) => `${d.line}:${d.column} ${d.severity} ${d.code} ${d.message}`);

  it('reports DTL problems of the rules at their file:line:col, and rules the template never calls', () => {
    const text = `{
  "_id": "p", "type": "pipe",
  "source": {"type": "embedded", "entities": []},
  "transform": [
    {"type": "template", "template": "transform-share-rest", "properties": {
      "rest_system": "api", "primary_key": "id",
      "rewrite_rules_payload": {"rewrite_update_payload": [["ad", "$payload", "_S.x"]]},
      "rewrite_rules_lookup": {"tidy": [["copy", "*"]]}
    }},
    {"type": "template", "template": "transform-collect-rest", "properties": {
      "primary_key": "id", "share_dataset": "p",
      "rewrite_rules_mutation": {"rewrite_insert": [["copy", "*"]]}
    }}
  ]
}`;
    const ds = diagnostics(text);
    expect(ds).toContainEqual(expect.stringMatching(/^7:61 error DTL_UNKNOWN_FUNCTION unknown transform function "ad"/));
    expect(ds).toContainEqual('8:7 warning TEMPLATE_RULES_UNUSED "rewrite_rules_lookup" defines none of the rules transform-share-rest calls there (rewrite_lookup): its rules are never run');
    expect(ds).toContainEqual('12:7 warning TEMPLATE_RULES_UNUSED transform-collect-rest has no DTL extension point "rewrite_rules_mutation" (it has none): its rules are never run');
  });

  it('expands an inline template body with the template properties, and runs it', async () => {
    const rt = await runtime();
    await configure(rt, [
      {
        _id: 'greet',
        type: 'pipe',
        source: { type: 'embedded', entities: [{ _id: 'a', name: 'Ada' }] },
        transform: {
          type: 'template',
          properties: { punctuation: '!', times: 3 },
          template: {
            type: 'chained',
            transforms: [
              { type: 'dtl', rules: { default: [['copy', '*'], ['add', 'greeting', ['concat', 'Hello ', '_S.name', '{{@ punctuation @}}']]] } },
              { type: 'dtl', rules: { default: [['copy', '*'], ['add', 'times', '{{@ times @}}'], ['add', 'note', 'said {{@ times @}} times{{@ punctuation @}}']] } },
            ],
          },
        },
      },
    ]);
    expect(await rt.runPipe('greet')).toMatchObject({ status: 'completed', written: 1 });
    expect(await latest(rt, 'greet')).toMatchObject([{ _id: 'a', greeting: 'Hello Ada!', times: 3, note: 'said 3 times!' }]);
  });

  it('reports what an inline body gets wrong where it is written', () => {
    const text = `{
  "_id": "p", "type": "pipe",
  "source": {"type": "embedded", "entities": []},
  "transform": {"type": "template", "properties": {"field": "name"}, "template":
    {"type": "dtl", "rules": {"default": [["add", "{{@ feild @}}", ["uper", "_S.name"]]]}}
  }
}`;
    const ds = diagnostics(text);
    expect(ds).toContainEqual('5:51 error TEMPLATE_UNKNOWN_PROPERTY the inline template refers to the property "feild", which its "properties" do not give (given: field)');
    expect(ds).toContainEqual(expect.stringMatching(/^5:69 error DTL_UNKNOWN_FUNCTION unknown function "uper"/));
  });
});

async function collectAll(rt: Awaited<ReturnType<typeof runtime>>) {
  const { collect } = await import('../support/runtime.js');
  return collect(rt.store.scan('share', { history: false }));
}
