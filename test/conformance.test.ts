/**
 * Ratchet: the public DTL conformance pass count may never fall below the recorded one. Raise the
 * record in test/conformance-record.json whenever more vectors pass. The project's own vectors
 * (test/conformance/dtl) all pass, and none of them may disappear.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runAll } from '../scripts/conformance/runner.js';
import { DEFAULT_CONFORMANCE_DIR, OWN_CONFORMANCE_DIR } from '../scripts/conformance/default-dir.js';

const record = JSON.parse(readFileSync(new URL('./conformance-record.json', import.meta.url), 'utf8')) as { public_passed: number; own_passed: number };
const available = existsSync(DEFAULT_CONFORMANCE_DIR);

describe('DTL conformance ratchet', () => {
  it.skipIf(!available)(`passes at least ${record.public_passed} public vectors`, () => {
    const results = runAll([DEFAULT_CONFORMANCE_DIR]);
    const passed = results.filter((r) => r.passed).length;
    expect(passed, `public DTL vectors passing: ${passed} of ${results.length}`).toBeGreaterThanOrEqual(record.public_passed);
  });

  it(`passes all of the project's own vectors, at least ${record.own_passed}`, () => {
    const results = runAll([OWN_CONFORMANCE_DIR]);
    expect(results.filter((r) => !r.passed).map((r) => `${r.id}: ${r.detail}`)).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(record.own_passed);
  });
});
