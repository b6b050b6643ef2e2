#!/usr/bin/env node
// Builds Sluice Studio into studio/dist when the build is missing or older than its sources
// (`npm start` and the Studio's tests call this; `npm run build:studio` always builds).
// Checking is a walk over a few dozen files' modification times, so it costs next to nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const studio = dirname(fileURLToPath(import.meta.url));
const root = dirname(studio);
const stamp = join(studio, 'dist', '.vite', 'manifest.json');

function newest(path) {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let m = 0;
  for (const name of readdirSync(path)) m = Math.max(m, newest(join(path, name)));
  return m;
}

export function studioIsStale() {
  if (!existsSync(stamp)) return true;
  const sources = Math.max(...['src', 'public', 'index.html', 'vite.config.ts'].map((p) => newest(join(studio, p))), newest(join(root, 'package-lock.json')));
  return sources > statSync(stamp).mtimeMs;
}

// NODE_ENV is set here: Vite takes it from the environment, and test runners set it to `test`,
// which would bundle React's development build.
export function buildStudio({ force = false, quiet = false } = {}) {
  if (!force && !studioIsStale()) return;
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', studio, '--logLevel', quiet ? 'warn' : 'info'], { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
  if (r.status !== 0) throw new Error(`building Sluice Studio failed (exit ${r.status})`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    buildStudio({ force: process.argv.includes('--force') });
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}
