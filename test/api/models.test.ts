import { afterEach, describe, expect, it } from 'vitest';
import { names, people, runViaApi, startTestApi, type TestApi } from './support.js';

let api: TestApi;
afterEach(async () => api?.close());

describe('entity types, schema definitions and models', () => {
  it('infers the source and sink entity types of pipes from their data, and follows new data', async () => {
    api = await startTestApi();
    await api.call('PUT', '/api/config', { body: [people, names] });
    await runViaApi(api, 'people');
    await runViaApi(api, 'names');

    const sink = await api.call('GET', '/api/pipes/names/entity-types/sink');
    expect(sink.status).toBe(200);
    expect(sink.json).toMatchObject({ $id: 'names:sink', type: 'object', properties: { _id: { type: 'string' }, upper: { type: 'string' } }, required: ['_id', 'upper'] });
    const source = await api.call('GET', '/api/pipes/names/entity-types/source');
    expect(Object.keys(source.json.properties)).toEqual(['_id', 'born', 'name']);
    // The embedded source is not a dataset: its entity type comes from a sample of the source.
    expect((await api.call('GET', '/api/pipes/people/entity-types/source')).json.properties.name).toEqual({ type: 'string' });

    // New data widens the inferred type.
    await api.call('PUT', '/api/pipes/people/config', { body: { ...people, source: { type: 'embedded', entities: [{ _id: 'd', name: 7, tags: ['x'] }] } } });
    await runViaApi(api, 'people');
    const widened = (await api.call('GET', '/api/pipes/people/entity-types/sink')).json;
    expect(widened.properties.name.type).toEqual(['integer', 'string']);
    expect(widened.properties.tags).toEqual({ type: 'array', items: { type: 'string' } });

    expect((await api.call('GET', '/api/pipes/nope/entity-types/sink')).status).toBe(404);
    await api.call('PUT', '/api/pipes/names/config', { body: { ...names, infer_pipe_entity_types: false } });
    expect((await api.call('GET', '/api/pipes/names/entity-types/sink')).status).toBe(404);
  });

  it('generates schema definitions of a pipe and a dataset, whole or as keys', async () => {
    api = await startTestApi();
    await api.call('PUT', '/api/config', { body: [people, names] });
    await runViaApi(api, 'people');
    expect((await api.call('GET', '/api/pipes/names/generate-schema-definition?keys_only=true')).json).toEqual(['_id', 'upper']);
    const ds = await api.call('GET', '/api/datasets/people/generate-schema-definition?sample_size=2');
    expect(ds.json['x-count']).toBe(2);
    expect(ds.json.properties.born).toEqual({ type: 'string' });
    expect((await api.call('GET', '/api/datasets/people/generate-schema-definition?sample_size=0')).status).toBe(400);
    expect((await api.call('GET', '/api/datasets/none/generate-schema-definition')).status).toBe(404);
    expect((await api.call('GET', '/api/pipes/none/generate-schema-definition')).status).toBe(404);
  });

  it('keeps explicit models, derives implicit ones from the pipes, and merges them with effective=true', async () => {
    api = await startTestApi();
    await api.call('PUT', '/api/config', { body: [people, { ...names, _id: 'people-names' }] });
    await runViaApi(api, 'people');
    await runViaApi(api, 'people-names');

    const implicit = (await api.call('GET', '/api/models')).json;
    expect(implicit.map((m: { _id: string }) => m._id)).toEqual(['Input', 'people']);
    expect(implicit.find((m: { _id: string }) => m._id === 'people').entity_types.map((t: { $id: string }) => t.$id)).toEqual(['people:sink', 'people-names:sink']);

    const model = { _id: 'people', name: 'People', entity_types: [{ $id: 'person', type: 'object', properties: { name: { type: 'string', description: 'Full name' } } }] };
    const posted = await api.call('POST', '/api/models', { body: [model] });
    expect(posted.status).toBe(200);
    expect(posted.json).toEqual([model]);
    expect((await api.call('GET', '/api/models/people/person')).json.properties.name.description).toBe('Full name');
    const merged = (await api.call('GET', '/api/models/people?effective=true')).json;
    expect(merged.entity_types.map((t: { $id: string }) => t.$id)).toEqual(['people:sink', 'people-names:sink', 'person']);
    const brief = (await api.call('GET', '/api/models?verbose=false&effective=true')).json;
    expect(brief.find((m: { _id: string }) => m._id === 'people').entity_types[2]).toEqual({ $id: 'person' });
    expect((await api.call('GET', '/api/models?with_property=upper')).json.map((m: { _id: string }) => m._id)).toEqual(['people']);

    expect((await api.call('POST', '/api/models', { body: [{ name: 'no id' }] })).status).toBe(400);
    expect((await api.call('POST', '/api/models', { body: [{ _id: 'x', entity_types: [{ type: 'object' }] }] })).status).toBe(400);
    expect((await api.call('DELETE', '/api/models/people')).json._id).toBe('people');
    expect((await api.call('DELETE', '/api/models/people')).status).toBe(404);
    expect((await api.call('GET', '/api/models/people/person')).status).toBe(404);
    expect((await api.call('GET', '/api/models/none')).status).toBe(404);
  });
});
