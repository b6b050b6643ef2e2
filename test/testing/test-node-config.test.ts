/**
 * Config as a test node sees it. Sesam's CI practice keeps the secrets and variables that reach
 * the real systems off the test node, and real projects pick embedded test data with a conditional
 * source (`"condition": "$ENV(node-env)"`): the prod alternative names variables the test profile
 * does not set and systems whose secrets the node does not have. Such a project uploads and runs;
 * only what really uses a missing secret fails, and says which.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLocalTest } from '../../runtime/testing/local.js';
import { repoRoot } from '../support/cli.js';
import { configure, openRuntime, tempDir } from '../support/runtime.js';

const hrSystem = { _id: 'hr', type: 'system:postgresql', host: 'hr.example.org', database: 'hr', username: 'reader', password: '$SECRET(hr-password)' };

describe('a project whose prod alternatives reach systems the test node cannot', () => {
  it('runs its tests: unset variables of unchosen alternatives are no errors, missing secrets only warnings', { timeout: 60_000 }, async () => {
    const dir = join(tempDir('sluice-test-node-'), 'ci-people');
    cpSync(join(repoRoot, 'examples', 'ci-people'), dir, { recursive: true });
    writeFileSync(join(dir, 'test-env.json'), JSON.stringify({ 'node-env': 'test' }));
    mkdirSync(join(dir, 'systems'));
    writeFileSync(join(dir, 'systems', 'hr.conf.json'), JSON.stringify(hrSystem));
    const departmentFile = join(dir, 'pipes', 'department.conf.json');
    const department = JSON.parse(readFileSync(departmentFile, 'utf8')) as { source: Record<string, unknown> };
    department.source = {
      type: 'conditional',
      condition: '$ENV(node-env)',
      alternatives: { prod: { type: 'sql', system: 'hr', table: '$ENV(hr-department-table)' }, test: department.source },
    };
    writeFileSync(departmentFile, JSON.stringify(department));

    const progress: string[] = [];
    const errors: string[] = [];
    const result = await runLocalTest(dir, { progress: (l) => progress.push(l), report: { info: () => undefined, warn: () => undefined, error: (m) => errors.push(m) } });
    expect(errors).toEqual([]);
    expect(result).toMatchObject({ ok: true, stage: 'verify' });
    expect(progress).toContain('systems/hr.conf.json:1:111 warning CONFIG_SECRET_UNRESOLVED secret "hr-password" is not set: what uses it fails until it is set');
    expect(progress.join('\n')).not.toMatch(/hr-department-table/);
  });

  it('a variable the chosen alternative needs is still an error', { timeout: 60_000 }, async () => {
    const dir = join(tempDir('sluice-test-node-'), 'ci-people');
    cpSync(join(repoRoot, 'examples', 'ci-people'), dir, { recursive: true });
    writeFileSync(join(dir, 'test-env.json'), JSON.stringify({ 'node-env': 'prod' }));
    const departmentFile = join(dir, 'pipes', 'department.conf.json');
    const department = JSON.parse(readFileSync(departmentFile, 'utf8')) as { source: Record<string, unknown> };
    department.source = { type: 'conditional', condition: '$ENV(node-env)', alternatives: { prod: { ...department.source, entities: '$ENV(departments)' }, test: department.source } };
    writeFileSync(departmentFile, JSON.stringify(department));
    const errors: string[] = [];
    const result = await runLocalTest(dir, { report: { info: () => undefined, warn: () => undefined, error: (m) => errors.push(m) } });
    expect(result).toMatchObject({ ok: false, stage: 'upload' });
    expect(errors[0]).toMatch(/^pipes\/department\.conf\.json:\d+:\d+ error CONFIG_ENV_UNRESOLVED environment variable "departments" is not set$/);
  });
});

describe('a system whose secret is not set yet', () => {
  it('is accepted with the config, and a pipe that uses it cannot run, saying which secret to set', async () => {
    const rt = await openRuntime();
    await configure(rt, [hrSystem, { _id: 'hr-department', type: 'pipe', source: { type: 'sql', system: 'hr', table: 'department' } }]);
    expect(rt.diagnostics.map((d) => `${d.severity} ${d.code}`)).toEqual(['warning CONFIG_SECRET_UNRESOLVED']);
    // The pipe is built; its run fails at the first connection, naming the secret and how to set it.
    expect(await rt.runPipe('hr-department')).toMatchObject({ status: 'failed', read: 0, error: 'system "hr" needs the secret "hr-password", which is not set: set it with PUT /api/systems/hr/secrets (the system\'s own secrets) or PUT /api/secrets (global secrets)' });
    await rt.close();
  });
});
