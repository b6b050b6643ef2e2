/** `sluice test` on a project whose files start with byte order marks, as Windows editors and Sesam's client write them. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/runtime.js';
import { runLocalTest } from '../../runtime/testing/local.js';

const BOM = '\ufeff';

function project(files: Record<string, unknown>): string {
  const dir = tempDir('sluice-bom-');
  for (const [path, value] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), BOM + (typeof value === 'string' ? value : JSON.stringify(value, null, 2)));
  }
  return dir;
}

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('sluice test with byte order marks', () => {
  it('reads env, config, test data, test specs and expected files that start with one', async () => {
    const dir = project({
      'test-env.json': { greeting: 'Hello' },
      'node-metadata.conf.json': { _id: 'node', type: 'metadata' },
      'pipes/people.conf.json': { _id: 'people', type: 'pipe', source: { type: 'http_endpoint' } },
      'pipes/greetings.conf.json': {
        _id: 'greetings',
        type: 'pipe',
        source: { type: 'dataset', dataset: 'people' },
        transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['add', 'text', ['concat', '$ENV(greeting)', ', ', '_S.name']]] } },
        sink: { type: 'http_endpoint' },
      },
      'testdata/people.json': [{ _id: 'a', name: 'Ada' }],
      'expected/greetings.test.json': { endpoint: 'json' },
      'expected/greetings.json': [{ _id: 'a', text: 'Hello, Ada' }],
    });
    const errors: string[] = [];
    const result = await runLocalTest(dir, { report: { ...quiet, error: (m) => errors.push(m) } });
    expect(errors).toEqual([]);
    expect(result).toMatchObject({ ok: true, stage: 'verify' });
  });

  it('names the file and the position when test data is not JSON', async () => {
    const dir = project({
      'test-env.json': {},
      'pipes/people.conf.json': { _id: 'people', type: 'pipe', source: { type: 'http_endpoint' } },
      'testdata/people.json': '[{"_id": "a",}]',
      'expected/.keep': '',
    });
    const errors: string[] = [];
    const result = await runLocalTest(dir, { report: { ...quiet, error: (m) => errors.push(m) } });
    expect(result.ok).toBe(false);
    expect(errors.join('\n')).toMatch(/testdata\/people\.json: not valid JSON: .* \(line 1 column 14\)/);
  });
});
