/**
 * The runtime image's /app without an image builder: what the Dockerfile puts there (the build
 * `npm run build:server` makes under dist/, bin/sluice.js, schemas/, package.json), with
 * node_modules linked from the checkout. The operator suite's fake node runs runtime pods from it, so that they start the way
 * they do in a cluster (compiled JavaScript, not TypeScript through tsx).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
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
  const build = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build-server.mjs')], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`building the runtime image's dist/ failed:\n${build.stdout}${build.stderr}`);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-app-'));
  const current = JSON.parse(readFileSync(join(repoRoot, 'dist', 'server.json'), 'utf8')) as { dir: string };
  mkdirSync(join(dir, 'dist'));
  cpSync(join(repoRoot, 'dist', 'server.json'), join(dir, 'dist', 'server.json'));
  cpSync(join(repoRoot, 'dist', current.dir), join(dir, 'dist', current.dir), { recursive: true, filter: (src) => !src.endsWith('.v8cache') });
  mkdirSync(join(dir, 'bin'));
  cpSync(join(repoRoot, 'bin', 'sluice.js'), join(dir, 'bin', 'sluice.js'));
  cpSync(join(repoRoot, 'schemas'), join(dir, 'schemas'), { recursive: true });
  cpSync(join(repoRoot, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
