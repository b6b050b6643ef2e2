/**
 * Conditional sources, transforms and sinks chosen by an environment variable, run end to end: the
 * alternative in force reads, transforms and writes; a changed variable switches it.
 */
import { describe, expect, it } from 'vitest';
import { makeRecords } from '../../scripts/test-services/rest-fixture.js';
import { entitiesToFiles } from '../../runtime/service/config-files.js';
import { configure } from '../support/runtime.js';
import { fixture, latest, restSystem, runtime } from './support.js';

describe('conditional components', () => {
  it('run the alternative the condition selects, and switch when the variable changes', async () => {
    const api = await fixture();
    api.put(...makeRecords(3));
    const rt = await runtime();
    const setEnv = async (stage: string) => {
      const r = await rt.setEnv({ stage }, false);
      if (!r.ok) throw new Error(rt.describeErrors(r.diagnostics));
    };
    await setEnv('dev');
    await configure(rt, [
      restSystem('api', api.base, { operations: { list: { method: 'GET', url: 'records', payload_property: 'data' }, put: { method: 'PUT', url: 'records/{{ _id }}' } } }),
      {
        _id: 'people',
        type: 'pipe',
        source: {
          type: 'conditional',
          condition: '$ENV(stage)',
          alternatives: {
            dev: { type: 'embedded', entities: [{ _id: 'local-1', name: 'test person' }] },
            prod: { type: 'rest', system: 'api', operation: 'list', id_expression: '{{ id }}' },
          },
        },
        transform: {
          type: 'conditional',
          condition: '$ENV(stage)',
          alternatives: {
            dev: { type: 'dtl', rules: { default: [['copy', '*'], ['add', 'stage', 'dev']] } },
            prod: { type: 'dtl', rules: { default: [['copy', '*'], ['add', 'stage', 'prod']] } },
          },
        },
      },
      {
        _id: 'people-out',
        type: 'pipe',
        source: { type: 'dataset', dataset: 'people' },
        sink: {
          type: 'conditional',
          condition: '$ENV(stage)',
          alternatives: { dev: { type: 'null' }, prod: { type: 'rest', system: 'api', operation: 'put' } },
        },
      },
    ]);
    expect(await rt.runPipe('people')).toMatchObject({ status: 'completed', read: 1 });
    expect(await latest(rt, 'people')).toMatchObject([{ _id: 'local-1', stage: 'dev' }]);
    expect(await rt.runPipe('people-out')).toMatchObject({ status: 'completed', read: 1 });
    expect(api.seen).toHaveLength(0);

    await setEnv('prod');
    expect(rt.plan?.pipes.find((p) => p.id === 'people')?.source.type).toBe('rest');
    expect(await rt.runPipe('people')).toMatchObject({ status: 'completed', read: 3 });
    expect((await latest(rt, 'people')).map((e) => [e._id, e.stage]).sort()).toEqual([
      ['r1', 'prod'],
      ['r2', 'prod'],
      ['r3', 'prod'],
    ]);
    expect(await rt.runPipe('people-out')).toMatchObject({ status: 'completed' });
    // The dev entity was deleted by the full prod run: its deletion reaches the sink too.
    expect(api.writes.map((w) => w.id).sort()).toEqual(['local-1', 'r1', 'r2', 'r3']);
  });

  it('refuses a condition that matches no alternative, naming the choices', async () => {
    const rt = await runtime();
    await rt.setEnv({ stage: 'qa' }, false);
    const r = await rt.setConfigFiles(entitiesToFiles([{ _id: 'p', type: 'pipe', source: { type: 'conditional', condition: '$ENV(stage)', alternatives: { dev: { type: 'empty' }, prod: { type: 'empty' } } } }]));
    expect(r.ok).toBe(false);
    expect(rt.describeErrors(r.diagnostics)).toContain('conditional source: condition "qa" matches none of the alternatives ("dev", "prod")');
  });
});
