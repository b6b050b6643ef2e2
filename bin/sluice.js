#!/usr/bin/env node
// Launcher: runs the TypeScript sources through tsx in a checkout, the compiled dist/ in a package or image.
import { existsSync } from 'node:fs';

const source = new URL('./sluice.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../dist/bin/sluice.js', import.meta.url).href);
}
