/**
 * `sluice test` on the example projects (examples/<name> with an expected/ folder): they pass;
 * an edited expected file fails with a diff and exit code 1; `--update` writes the files back as
 * they were; missing specs, config errors and bad test data fail clearly.
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLocalTest } from '../../runtime/testing/local.js';
import type { Reporter } from '../../runtime/testing/verify.js';
import { repoRoot, sluice } from '../support/cli.js';
import { tempDir } from '../support/runtime.js';

const examples = readdirSync(join(repoRoot, 'examples')).filter((n) => existsSync(join(repoRoot, 'examples', n, 'expected')));

function copyExample(name: string): string {
  const dir = join(tempDir('sluice-example-'), name);
  cpSync(join(repoRoot, 'examples', name), dir, { recursive: true });
  return dir;
}

function collecting(): Reporter & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(`warning: ${m}`), error: (m) => lines.push(`error: ${m}`) };
}

describe('sluice test on the examples', () => {
  it('has examples to test', () => {
    expect(examples).toEqual(expect.arrayContaining(['ci-orders', 'ci-people']));
  });

  for (const name of examples) {
    it(`passes on examples/${name}`, { timeout: 120_000 }, () => {
      const r = sluice(['test', `examples/${name}`], { timeout: 120_000 });
      expect(r.stderr).toMatch(/Run 1: \d+ pipes ran/);
      expect(r.stderr).toMatch(/test passed/);
      expect(r.stdout).toMatch(/all tests passed: \d+ test specs for \d+ pipes/);
      expect(r.status).toBe(0);
    });
  }

  it('fails on an edited expected file with a readable diff and exit code 1; --update writes it back', { timeout: 120_000 }, () => {
    const dir = copyExample('ci-orders');
    const file = join(dir, 'expected', 'customer-api.json');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('"Grace Hopper"', '"Grace B. Hopper"'));
    const failed = sluice(['test', dir], { timeout: 120_000 });
    expect(failed.status).toBe(1);
    expect(failed.stdout).toContain("error: pipe verify failed: content mismatch for test spec 'expected/customer-api.json'");
    expect(failed.stdout).toContain(['--- expected/customer-api.json', '+++ current-output.json', '@@ -18,7 +18,7 @@', '   {', '     "_id": "c2",', '     "email": "grace@example.org",', '-    "name": "Grace B. Hopper",', '+    "name": "Grace Hopper",'].join('\n'));
    expect(failed.stdout).toContain('error: failed 1 of 4 test specs (for 3 pipes):');
    expect(failed.stdout).toContain('error:   customer-api (expected/customer-api.test.json)');
    expect(failed.stderr).toContain('test FAILED');

    // Client-style flags work too (-runs, -profile).
    const updated = sluice(['test', dir, '--update', '-runs', '2', '-profile', 'test'], { timeout: 120_000 });
    expect(updated.status).toBe(0);
    expect(updated.stdout).toContain('4 tests updated');
    expect(readFileSync(file, 'utf8')).toBe(original);
    for (const f of readdirSync(join(repoRoot, 'examples', 'ci-orders', 'expected'))) {
      expect(readFileSync(join(dir, 'expected', f), 'utf8'), f).toBe(readFileSync(join(repoRoot, 'examples', 'ci-orders', 'expected', f), 'utf8'));
    }
  });
});

describe('runLocalTest', () => {
  it('a pipe without a spec fails verify; update creates the spec and its expected file', { timeout: 60_000 }, async () => {
    const dir = copyExample('ci-orders');
    rmSync(join(dir, 'expected', 'order-xml.test.json'));
    rmSync(join(dir, 'expected', 'order-xml.xml'));
    const report = collecting();
    const r = await runLocalTest(dir, { report });
    expect(r).toMatchObject({ ok: false, stage: 'verify' });
    expect(r.verify?.missing).toEqual(['order-xml']);
    expect(report.lines).toContain("error: no test spec names pipe 'order-xml'");

    const again = collecting();
    const u = await runLocalTest(dir, { update: true, report: again });
    expect(u.ok).toBe(true);
    expect(again.lines).toContain("warning: pipe 'order-xml' has no test spec: creating 'expected/order-xml.test.json'");
    expect(readFileSync(join(dir, 'expected', 'order-xml.test.json'), 'utf8')).toBe('{\n}');
    const written = JSON.parse(readFileSync(join(dir, 'expected', 'order-xml.json'), 'utf8'));
    expect(written[0]).toMatchObject({ _id: 'o-1', id: 'o-1' });
    expect((await runLocalTest(dir, {})).ok).toBe(true);
  });

  it('a spec for a pipe that is not an output or endpoint pipe fails; update removes it', { timeout: 60_000 }, async () => {
    const dir = copyExample('ci-people');
    writeFileSync(join(dir, 'expected', 'person.test.json'), '{}');
    const report = collecting();
    expect((await runLocalTest(dir, { report })).ok).toBe(false);
    expect(report.lines.join('\n')).toMatch(/test spec 'expected\/person.test.json' names pipe 'person', which is not an output or endpoint pipe/);
    expect((await runLocalTest(dir, { update: true })).ok).toBe(true);
    expect(existsSync(join(dir, 'expected', 'person.test.json'))).toBe(false);
  });

  it('refuses a config with errors, showing the diagnostics', async () => {
    const dir = copyExample('ci-people');
    writeFileSync(join(dir, 'pipes', 'person.conf.json'), readFileSync(join(dir, 'pipes', 'person.conf.json'), 'utf8').replace('"concat"', '"concta"'));
    const report = collecting();
    const r = await runLocalTest(dir, { report });
    expect(r).toMatchObject({ ok: false, stage: 'upload' });
    expect(report.lines.join('\n')).toMatch(/pipes\/person.conf.json:\d+:\d+ error DTL_UNKNOWN_FUNCTION unknown function "concta"/);
  });

  it('fails on test data for a pipe that is not a receiver, and without the env file', async () => {
    const dir = copyExample('ci-people');
    writeFileSync(join(dir, 'testdata', 'person.json'), '[{"_id": "x"}]');
    const report = collecting();
    expect(await runLocalTest(dir, { report })).toMatchObject({ ok: false, stage: 'testdata' });
    expect(report.lines.join('\n')).toMatch(/testdata\/person.json \(person\): 404 NOT_A_RECEIVER/);
    rmSync(join(dir, 'test-env.json'));
    await expect(runLocalTest(dir, {})).rejects.toThrow(/cannot find the profile file 'test-env.json'/);
  });

  it('fails when a pipe fails at run time, naming the pipe', async () => {
    const dir = copyExample('ci-people');
    // Without ["copy", "_id"] the entities have no _id: every write fails.
    writeFileSync(join(dir, 'pipes', 'person.conf.json'), readFileSync(join(dir, 'pipes', 'person.conf.json'), 'utf8').replace('["copy", "_id"],', ''));
    const progress: string[] = [];
    const report = collecting();
    const r = await runLocalTest(dir, { progress: (l) => progress.push(l), report });
    expect(r).toMatchObject({ ok: false, stage: 'run' });
    expect(progress.join('\n')).toMatch(/Pipe 'person' failed: .*_id/);
    expect(report.lines.join('\n')).toMatch(/the pipes did not run to completion: .*failed: person/);
  });
});
