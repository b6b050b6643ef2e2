/**
 * The runtime image's /app without an image builder: what the Dockerfile puts there (dist/ compiled
 * with tsconfig.build.json, bin/sluice.js, schemas/, package.json), with node_modules linked from the
 * checkout. The operator suite's fake node runs runtime pods from it, so that they start the way
 * they do in a cluster (compiled JavaScript, not TypeScript through tsx).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface AppImage {
  /** Plays /app: <dir>/bin/sluice.js runs <dir>/dist. */
  dir: string;
  remove(): void;
}

export function buildAppImage(): AppImage {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-app-'));
  const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], { encoding: 'utf8' });
  if (tsc.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`compiling the runtime image's dist/ failed:\n${tsc.stdout}${tsc.stderr}`);
  }
  mkdirSync(join(dir, 'bin'));
  cpSync(join(repoRoot, 'bin', 'sluice.js'), join(dir, 'bin', 'sluice.js'));
  cpSync(join(repoRoot, 'schemas'), join(dir, 'schemas'), { recursive: true });
  cpSync(join(repoRoot, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
