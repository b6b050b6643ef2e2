/** The JSON Schema validation transform and the XML transform in pipes. */
import { describe, expect, it } from 'vitest';
import { configure } from '../support/runtime.js';
import { fixture, latest, runtime } from './support.js';

const personSchema = { type: 'object', properties: { name: { type: 'string' }, born: { type: 'string' }, kind: { enum: ['a', 'b'] } }, required: ['name', 'born'] };

describe('json_schema transform', () => {
  it('marks entities valid or invalid with the error messages, honouring trigger_on and the key names', async () => {
    const rt = await runtime();
    await configure(rt, [
      {
        _id: 'checked',
        type: 'pipe',
        source: { type: 'embedded', entities: [{ _id: '3', name: 'Jim', check: 'yes' }, { _id: '5', name: 'Bob', born: '1972-03-12', check: 'yes' }, { _id: '7', name: 42, born: 'x', kind: 'c', check: 'yes' }, { _id: '9', check: 'no' }] },
        transform: { type: 'json_schema', schema: personSchema, trigger_on: { key: 'check', value: 'y*' } },
      },
      {
        _id: 'keys',
        type: 'pipe',
        source: { type: 'embedded', entities: [{ _id: '1', name: 'Ann' }] },
        transform: { type: 'json_schema', schema: personSchema, key_valid: 'ok', key_errors: 'why' },
      },
    ]);
    expect(await rt.runPipe('checked')).toMatchObject({ status: 'completed', written: 4 });
    const byId = Object.fromEntries((await latest(rt, 'checked')).map((e) => [e._id, e]));
    expect(byId['3']).toMatchObject({ valid: false, errors: ["'born' is a required property"] });
    expect(byId['5'].valid).toBe(true);
    expect(byId['5'].errors).toBeUndefined();
    expect(byId['7']).toMatchObject({ valid: false, errors: ["42 is not of type 'string'", "'c' is not one of ['a', 'b']"] });
    expect(byId['9'].valid).toBeUndefined();
    expect(await rt.runPipe('keys')).toMatchObject({ status: 'completed' });
    expect((await latest(rt, 'keys'))[0]).toMatchObject({ ok: false, why: ["'born' is a required property"] });
  });

  it('fetches the schema from schema_url through a URL system, and fails clearly when it is not there', async () => {
    const f = await fixture();
    f.overrides.push((req, res) => {
      if (req.path !== '/schemas/person.json') return false;
      res.writeHead(200, { 'content-type': 'application/schema+json' });
      res.end(JSON.stringify(personSchema));
      return true;
    });
    const rt = await runtime();
    await configure(rt, [
      { _id: 'schemas', type: 'system:url', url_pattern: `${f.base}/schemas/%s` },
      { _id: 'remote', type: 'pipe', source: { type: 'embedded', entities: [{ _id: '1', name: 'Ann', born: '1990' }] }, transform: { type: 'json_schema', system: 'schemas', schema_url: 'person.json' } },
      { _id: 'missing', type: 'pipe', source: { type: 'embedded', entities: [{ _id: '1' }] }, transform: { type: 'json_schema', system: 'schemas', schema_url: 'nope.json' } },
    ]);
    expect(await rt.runPipe('remote')).toMatchObject({ status: 'completed' });
    expect((await latest(rt, 'remote'))[0].valid).toBe(true);
    const r = await rt.runPipe('missing');
    expect(r.status).toBe('failed');
    expect(r.error).toContain(`GET ${f.base}/schemas/nope.json answered 404 Not Found`);
  });

  it('is refused by the compiler without schema or schema_url', async () => {
    const rt = await runtime();
    await expect(configure(rt, [{ _id: 'p', type: 'pipe', source: { type: 'embedded', entities: [] }, transform: { type: 'json_schema' } }])).rejects.toThrow('must be a schema given in "schema" or a "schema_url" with the "system" to fetch it through');
  });
});

describe('xml transform', () => {
  it('renders each entity to XML in xml-property, with root attributes and the declaration', async () => {
    const rt = await runtime();
    await configure(rt, [
      {
        _id: 'xml',
        type: 'pipe',
        source: {
          type: 'embedded',
          entities: [
            { _id: '1', name: 'Entity 1', id: 'entity-1', '<foo:tag>': [{ id: 'child', name: 'Child & co', '<section>': [{ '<from>': '0' }, { '<to>': '999' }] }] },
          ],
        },
        transform: { type: 'xml', 'xml-property': 'xml', 'root-attributes': { xmlns: 'http://www.example.org/ns1', 'xmlns:foo': 'http://www.example.org/ns2' }, 'include-xml-decl': true },
      },
      { _id: 'bad', type: 'pipe', source: { type: 'embedded', entities: [{ _id: '2', '<a>': 'x', '<b>': 'y' }] }, transform: { type: 'xml', 'xml-property': 'xml' } },
    ]);
    expect(await rt.runPipe('xml')).toMatchObject({ status: 'completed', written: 1 });
    const e1 = (await latest(rt, 'xml')).find((e) => e._id === '1')!;
    expect(e1.xml).toBe(
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
        '<foo:tag xmlns="http://www.example.org/ns1" xmlns:foo="http://www.example.org/ns2" name="Entity 1" id="entity-1"><section id="child" name="Child &amp; co"><from>0</from><to>999</to></section></foo:tag>',
    );
    const bad = await rt.runPipe('bad');
    expect(bad.status).toBe('failed');
    expect(bad.error).toContain('pipe "bad": the xml transform: entity "2" has 2 "<tag>" properties; XML rendering needs exactly one to name the element');
  });
});
