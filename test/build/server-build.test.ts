/**
 * The compiled build a checkout starts (scripts/build-server.mjs): built when missing, rebuilt when
 * a source changed, reused when nothing did, and never an old build after an edit. Runs on a small
 * checkout of its own so that it does not depend on (or disturb) the real dist/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureServerBuilt } from '../../scripts/build-server.mjs';

let root = '';

function write(path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

function checkout(): void {
  root = mkdtempSync(join(tmpdir(), 'sluice-build-'));
  write('bin/sluice.ts', "import { greeting } from '../cli/greeting.js';\nconsole.log(greeting);\n");
  write('cli/greeting.ts', "export const greeting = 'one';\n");
  write('runtime/executor/pool-worker.ts', 'export default function handle(): string {\n  return "worker";\n}\n');
  write('compiler/validate/precompile.ts', "import { mkdirSync } from 'node:fs';\nexport function writePrecompiledValidators(dir: string): number {\n  mkdirSync(dir, { recursive: true });\n  return 0;\n}\n");
}

const run = (bundle: string) => execFileSync(process.execPath, [bundle], { encoding: 'utf8' }).trim();
const builds = () => readdirSync(join(root, 'dist')).filter((d) => d.startsWith('server-'));

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('the compiled build of a checkout', () => {
  it('is built on first use and rebuilt when a source changes, even to text of the same length', async () => {
    checkout();
    const first = await ensureServerBuilt({ root });
    expect(run(first)).toBe('one');
    write('cli/greeting.ts', "export const greeting = 'two';\n");
    const second = await ensureServerBuilt({ root });
    expect(second).not.toBe(first);
    expect(run(second)).toBe('two');
  });

  it('is reused when files were only touched, and rebuilt when a file is added', async () => {
    checkout();
    const first = await ensureServerBuilt({ root });
    const later = new Date(Date.now() + 5000);
    utimesSync(join(root, 'cli/greeting.ts'), later, later);
    expect(await ensureServerBuilt({ root })).toBe(first);
    expect(builds()).toHaveLength(1);
    write('cli/other.ts', "export const other = 'three';\n");
    write('bin/sluice.ts', "import { other } from '../cli/other.js';\nconsole.log(other);\n");
    const next = await ensureServerBuilt({ root });
    expect(run(next)).toBe('three');
  });

  it('gives concurrent starts after a change one complete build', async () => {
    checkout();
    await ensureServerBuilt({ root });
    write('cli/greeting.ts', "export const greeting = 'many';\n");
    const all = await Promise.all([ensureServerBuilt({ root }), ensureServerBuilt({ root }), ensureServerBuilt({ root })]);
    expect(new Set(all).size).toBe(1);
    expect(run(all[0])).toBe('many');
    expect(existsSync(join(dirname(all[0]), 'validators'))).toBe(true);
    // The pipe pool's worker is a bundle of its own beside the main one.
    expect(existsSync(join(dirname(all[0]), 'pool-worker.cjs'))).toBe(true);
  });
});
