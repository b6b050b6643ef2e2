import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sluice } from '../support/cli.js';

describe('sluice validate and compile', () => {
  it('prints diagnostics like a compiler and exits 1 on errors', () => {
    const r = sluice(['validate', 'test/fixtures/ten-mistakes']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('pipes/orders.conf.json:15:27 error DTL_ARITY "upper" takes 1 argument but got 0');
    expect(r.stderr).toMatch(/\d+ errors, \d+ warnings/);
  });

  it('prints a JSON array with --format json', () => {
    const r = sluice(['validate', 'test/fixtures/ten-mistakes', '--format', 'json']);
    expect(r.status).toBe(1);
    const list = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(list.length).toBeGreaterThanOrEqual(10);
    expect(Object.keys(list[0]).sort()).toEqual(['code', 'column', 'file', 'line', 'message', 'severity']);
  });

  it('validates a good config with exit 0 and compiles it to a plan file', () => {
    expect(sluice(['validate', 'examples/quickstart']).status).toBe(0);
    const out = join(mkdtempSync(join(tmpdir(), 'sluice-plan-')), 'plan.json');
    const r = sluice(['compile', 'examples/quickstart', '-o', out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/wrote .*plan\.json: \d+ pipes/);
    const plan = JSON.parse(readFileSync(out, 'utf8'));
    expect(plan.format).toBe('sluice-plan/v1');
    expect(plan.pipes.length).toBeGreaterThan(0);
  });

  it('explains a missing path', () => {
    const r = sluice(['validate', 'no/such/dir']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no such file or directory');
  });
});
