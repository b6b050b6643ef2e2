#!/usr/bin/env -S node --max-semi-space-size=8
// Launcher: runs the compiled build under dist/. In a checkout (the TypeScript sources are here) it
// first makes sure that build matches the sources, building it when they changed; an installed
// package or image carries its build (dist/server.json names it) and starts it directly.
//
// The build is one CommonJS bundle, started from V8's code cache when there is one: compiling the
// bundle's code took most of a start. The first start of each command (and Node version) writes a
// cache of what that command compiled beside the bundle, once it has done its first work; a
// directory it cannot write to just means starts without the cache.
//
// --max-semi-space-size=8 (here, in `npm start` and in the image) halves V8's young generation:
// a long pipe run then keeps a flat, smaller heap at the same speed.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

/** After this long a long-running command (sluice run) has compiled what its start needs. */
const CACHE_AFTER_MS = 3000;

function runBundle(file) {
  const named = process.argv.slice(2).find((a) => !a.startsWith('-')) ?? 'help';
  const command = /^[a-z-]{1,20}$/.test(named) ? named : 'other';
  // V8 refuses a cache made under other flags: one cache per set of flags, rather than rewriting one.
  const flags = createHash('sha256').update(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`).digest('hex').slice(0, 8);
  const cacheFile = `${file}.${command}.${process.version}-${process.arch}-${flags}.v8cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // The build is ASCII and holds the module's wrapper function already (scripts/build-server.mjs):
  // read as Latin-1 it needs no decoding, and its text stays outside the JavaScript heap.
  const script = new vm.Script(readFileSync(file, 'latin1'), { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    const write = () => {
      try {
        const tmp = `${cacheFile}.${process.pid}`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        // Read-only install: start without a cache.
      }
    };
    process.once('beforeExit', write);
    setTimeout(() => {
      process.off('beforeExit', write);
      write();
    }, CACHE_AFTER_MS).unref();
  }
  const module = new Module(file);
  module.filename = file;
  module.paths = Module._nodeModulePaths(dirname(file));
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
}

let bundle;
if (existsSync(new URL('./sluice.ts', import.meta.url))) {
  const { ensureServerBuilt } = await import('../scripts/build-server.mjs');
  bundle = await ensureServerBuilt({ log: process.stderr.isTTY ? (m) => process.stderr.write(m + '\n') : undefined });
} else {
  const current = JSON.parse(readFileSync(new URL('../dist/server.json', import.meta.url), 'utf8'));
  bundle = fileURLToPath(new URL(`../dist/${current.dir}/sluice.cjs`, import.meta.url));
}
runBundle(bundle);
