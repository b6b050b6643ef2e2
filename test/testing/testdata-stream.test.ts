/**
 * Test data files posted a batch at a time (runtime/testing/testdata.ts): the same entities and
 * values the whole body gives, and for files that cannot be streamed the whole body's answer.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testdataBody } from '../../runtime/testing/project.js';
import { postTestdata } from '../../runtime/testing/testdata.js';
import { parseEntities } from '../../runtime/service/receiving.js';
import { tempDir } from '../support/runtime.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function project(text: string): { path: string; pipe: string } {
  dir = tempDir('sluice-testdata-');
  mkdirSync(join(dir, 'testdata'));
  writeFileSync(join(dir, 'testdata', 'people.json'), text);
  return { path: 'testdata/people.json', pipe: 'people' };
}

/** Collects what postTestdata posts, parsed as a receiver parses it. */
async function posts(file: { path: string; pipe: string }): Promise<{ bodies: unknown[][]; result: number | null }> {
  const bodies: unknown[][] = [];
  const result = await postTestdata(dir, file, async (body) => {
    const entities = parseEntities(body, { floatAsInt: false });
    bodies.push(entities);
    return entities.length;
  });
  return { bodies, result };
}

describe('test data posted as a stream', () => {
  it('posts a large array in batches with the values the whole body has', async () => {
    const people = Array.from({ length: 2500 }, (_, i) => ({ _id: `p${i}`, score: i % 3 === 0 ? 1.5 : i, tags: ['a', { deep: 2.0 }], name: `Näme ${i}` }));
    const file = project(`\ufeff[\n${people.map((p) => JSON.stringify(p)).join(',\n')}\n]\n`);
    const { bodies, result } = await posts(file);
    expect(result).toBe(2500);
    expect(bodies.map((b) => b.length)).toEqual([1000, 1000, 500]);
    expect(bodies.flat()).toEqual(parseEntities(testdataBody(dir, file)!, { floatAsInt: false }));
  });

  it('posts an empty array once, and nothing for a file holding null', async () => {
    expect(await posts(project('[ ]'))).toEqual({ bodies: [[]], result: 0 });
    expect(await posts(project('null'))).toEqual({ bodies: [], result: null });
  });

  it('posts a single object, or a refused entity, the way the whole body is posted', async () => {
    expect(await posts(project('{"_id": "only", "n": 1.0}'))).toEqual({ bodies: [[{ _id: 'only', n: expect.anything() }]], result: 1 });
    const refused = project(`[${Array.from({ length: 1200 }, (_, i) => JSON.stringify(i === 1100 ? { name: 'no id' } : { _id: `p${i}` })).join(',')}]`);
    await expect(posts(refused)).rejects.toThrow('the entity at index 1100 has no "_id"');
  });

  it('reports invalid JSON as the whole body does', async () => {
    const file = project('[{"_id": "a"}, {"_id": ]');
    const whole = (() => {
      try {
        testdataBody(dir, file);
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(whole).toMatch(/not valid JSON/);
    await expect(posts(file)).rejects.toThrow(whole);
  });
});
