/**
 * Namespaced identifiers through real pipes: the source's add_namespaces with the pipe's
 * namespaces, path strings and hops over namespaced properties on the store's indexes, dependency
 * tracking through such a join, and remove_namespaces on the way out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { collect, configure, openRuntime } from '../support/runtime.js';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';
import { encode } from '../../compiler/values/transit.js';
import { previewEntities } from '../../runtime/service/preview.js';

let rt: SluiceRuntime;
afterEach(async () => rt?.close());

const metadata = { _id: 'node', type: 'metadata', namespaced_identifiers: true };
const people = { _id: 'crm-person', type: 'pipe', source: { type: 'embedded', entities: [{ _id: '1', first_name: 'Ada', last_name: 'Lovelace', zip: '0150' }, { _id: '2', first_name: 'Grace', last_name: 'Hopper', zip: '5003' }] } };
const places = { _id: 'places', type: 'pipe', namespaces: { identity: 'postal', property: 'post' }, source: { type: 'embedded', entities: [{ _id: '0150', city: 'Oslo' }, { _id: '5003', city: 'Bergen' }] } };
const person = {
  _id: 'person',
  type: 'pipe',
  source: { type: 'dataset', dataset: 'crm-person' },
  transform: {
    type: 'dtl',
    rules: {
      default: [
        ['copy', '_id'],
        ['add', 'name', ['concat', '_S.first_name', ' ', '_S.last_name']],
        ['add', 'city', ['hops', { datasets: ['places p'], where: [['eq', '_S.zip', 'p.post:code']], return: 'p.post:city' }]],
        ['add', 'city2', ['first', ['hops', { datasets: ['places p'], where: [['eq', '_S.zip', 'p.code']], return: 'p.city' }]]],
      ],
    },
  },
};
const endpoint = { _id: 'person-endpoint', type: 'pipe', source: { type: 'dataset', dataset: 'person' }, sink: { type: 'http_endpoint' } };

async function latest(dataset: string): Promise<Record<string, unknown>[]> {
  return (await collect(rt.store.scan(dataset))).map((e) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(encode(e) as Record<string, unknown>)) if (!k.startsWith('_') || k === '_id') out[k] = v;
    return out;
  });
}

describe('namespaced identifiers in pipes', () => {
  it('an inbound pipe adds its namespaces; path strings and hops downstream find the properties by their names', async () => {
    rt = await openRuntime();
    // places has a "code" property only after its DTL: the hop below joins on that namespaced property.
    const placesWithCode = { ...places, transform: { type: 'dtl', rules: { default: [['copy', '*'], ['add', 'code', ['ni-id', '_S._id']]] } } };
    await configure(rt, [metadata, people, placesWithCode, person, endpoint]);
    for (const p of ['crm-person', 'places', 'person']) expect((await rt.runPipe(p)).status).toBe('completed');
    expect(await latest('crm-person')).toEqual([
      { _id: 'crm-person:1', 'crm-person:first_name': 'Ada', 'crm-person:last_name': 'Lovelace', 'crm-person:zip': '0150' },
      { _id: 'crm-person:2', 'crm-person:first_name': 'Grace', 'crm-person:last_name': 'Hopper', 'crm-person:zip': '5003' },
    ]);
    expect(await latest('places')).toEqual([
      { _id: 'postal:0150', 'post:city': 'Oslo', 'post:code': '0150' },
      { _id: 'postal:5003', 'post:city': 'Bergen', 'post:code': '5003' },
    ]);
    expect(await latest('person')).toEqual([
      { _id: 'crm-person:1', 'person:name': 'Ada Lovelace', 'person:city': ['Oslo'], 'person:city2': 'Oslo' },
      { _id: 'crm-person:2', 'person:name': 'Grace Hopper', 'person:city': ['Bergen'], 'person:city2': 'Bergen' },
    ]);
  });

  it('dependency tracking follows a join on namespaced properties', async () => {
    rt = await openRuntime();
    const placesWithCode = { ...places, transform: { type: 'dtl', rules: { default: [['copy', '*'], ['add', 'code', ['ni-id', '_S._id']]] } } };
    await configure(rt, [metadata, people, placesWithCode, person]);
    for (const p of ['crm-person', 'places', 'person']) await rt.runPipe(p);
    const renamed = { ...placesWithCode, source: { type: 'embedded', entities: [{ _id: '0150', city: 'Christiania' }, { _id: '5003', city: 'Bergen' }] } };
    await configure(rt, [metadata, people, renamed, person]);
    await rt.runPipe('places');
    const r = await rt.runPipe('person');
    expect(r).toMatchObject({ status: 'completed', tracked: 1, written: 1 });
    expect((await latest('person')).map((e) => [e._id, e['person:city2']]).sort()).toEqual([
      ['crm-person:1', 'Christiania'],
      ['crm-person:2', 'Bergen'],
    ]);
  });

  it('an endpoint pipe removes the namespaces on the way out', async () => {
    rt = await openRuntime();
    const placesWithCode = { ...places, transform: { type: 'dtl', rules: { default: [['copy', '*'], ['add', 'code', ['ni-id', '_S._id']]] } } };
    await configure(rt, [metadata, people, placesWithCode, person, endpoint]);
    for (const p of ['crm-person', 'places', 'person']) await rt.runPipe(p);
    expect(rt.plan!.pipes.find((p) => p.id === 'person-endpoint')).toMatchObject({ add_namespaces: false, remove_namespaces: true });
    expect((await rt.runPipe('person-endpoint')).status).toBe('completed');
    const out = (await previewEntities(rt, 'person-endpoint', 'sink')).map((e) => encode(e) as Record<string, unknown>);
    expect(out.map(({ _id, name, city, city2 }) => ({ _id, name, city, city2 }))).toEqual([
      { _id: '1', name: 'Ada Lovelace', city: ['Oslo'], city2: 'Oslo' },
      { _id: '2', name: 'Grace Hopper', city: ['Bergen'], city2: 'Bergen' },
    ]);
  });
});
