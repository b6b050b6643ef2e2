#!/usr/bin/env node
/**
 * Builds the `sluice` command into compiled JavaScript under dist/ (`npm run build:server`), and
 * keeps that build fresh in a checkout: bin/sluice.js calls ensureServerBuilt() at every start.
 *
 * The build is one esbuild bundle of bin/sluice.ts, so a start reads one file (and V8's code cache
 * for it) instead of resolving and compiling hundreds of modules, plus the config schemas'
 * validators generated ahead of time (ajv's standalone code), so a start does not generate them.
 * Packages that load native code or files of their own stay external.
 *
 * Every build lands in its own directory, dist/server-<hash of the inputs>/, and dist/server.json
 * names the current one, so a process started from an older build keeps finding its chunks while a
 * newer build is written. The inputs are the source folders, the build script and the installed
 * packages (node_modules/.package-lock.json): a start compares their sizes and modification times
 * with those recorded at the build, and when any differs, their content hash; a stale build never
 * runs. Plain JavaScript, so the launcher needs no TypeScript loader to run it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** What a build is made from, relative to the checkout. */
const INPUT_DIRS = ['bin', 'cli', 'compiler', 'runtime', 'operator', 'schemas'];
const INPUT_FILES = ['scripts/build-server.mjs', 'node_modules/.package-lock.json', 'package.json'];
const INPUT_PATTERN = /\.(ts|json)$/;
/**
 * Packages left to Node's resolver: native code, worker files, files found beside the package
 * (swagger-ui's static assets), optional drivers, the operator's client.
 */
const EXTERNAL = new Set(['better-sqlite3', 'mongodb', '@kubernetes/client-node', 'pino', 'thread-stream', 'pino-pretty', '@fastify/swagger-ui', 'pg', 'pg-copy-streams', 'mysql2', 'fsevents', 'tinypool', 'esbuild', 'typescript', 'vitest', 'tsx']);
const POINTER = 'server.json';
/** Builds kept besides the current one (processes started from them may still load chunks). */
const KEEP_OLD_BUILDS = 3;

function listInputs(root) {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && INPUT_PATTERN.test(entry.name)) files.push(path);
    }
  };
  for (const dir of INPUT_DIRS) if (existsSync(join(root, dir))) walk(dir);
  for (const f of INPUT_FILES) if (existsSync(join(root, f))) files.push(f);
  return files.sort();
}

function statsOf(root, files) {
  const out = {};
  for (const f of files) {
    const s = statSync(`${root}/${f}`, { bigint: true });
    out[f] = [Number(s.size), String(s.mtimeNs)];
  }
  return out;
}

function contentHash(root, files) {
  const h = createHash('sha256');
  for (const f of files) h.update(f).update('\0').update(readFileSync(join(root, f))).update('\0');
  return h.digest('hex').slice(0, 20);
}

function readPointer(distDir) {
  try {
    return JSON.parse(readFileSync(join(distDir, POINTER), 'utf8'));
  } catch {
    return null;
  }
}

function writePointer(distDir, pointer) {
  const tmp = join(distDir, `.${POINTER}.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(pointer));
  renameSync(tmp, join(distDir, POINTER));
}

function sameStats(a, b) {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!b[k] || a[k][0] !== b[k][0] || a[k][1] !== b[k][1]) return false;
  return true;
}

/**
 * Returns the entry module of a build made from the checkout's current inputs, building it first
 * when the sources changed since the last build.
 */
export async function ensureServerBuilt({ root = ROOT, distDir = join(root, 'dist'), log = () => {} } = {}) {
  const files = listInputs(root);
  const stats = statsOf(root, files);
  const pointer = readPointer(distDir);
  if (pointer && sameStats(pointer.stats, stats) && existsSync(join(distDir, pointer.dir, 'sluice.cjs'))) return join(distDir, pointer.dir, 'sluice.cjs');
  const hash = contentHash(root, files);
  const dir = `server-${hash}`;
  if (!existsSync(join(distDir, dir, 'sluice.cjs'))) {
    const t0 = Date.now();
    log(`sluice: building ${relative(process.cwd(), join(distDir, dir)) || '.'} from the sources`);
    await buildInto(root, distDir, dir);
    log(`sluice: built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  // Touched but unchanged files only refresh the recorded times.
  writePointer(distDir, { dir, hash, stats });
  pruneOldBuilds(distDir, dir);
  return join(distDir, dir, 'sluice.cjs');
}

/** Builds into a private directory and moves it into place, so concurrent starts never see half a build. */
async function buildInto(root, distDir, dir) {
  mkdirSync(distDir, { recursive: true });
  // Private to this call: builds started together in one process share its pid and clock.
  const tmp = join(distDir, `.${dir}.${process.pid}.${randomUUID()}`);
  try {
    await bundle(root, tmp);
    escapeNonAscii(tmp);
    wrapAsModuleFunction(join(tmp, 'sluice.cjs'));
    await precompileValidators(tmp);
    try {
      renameSync(tmp, join(distDir, dir));
    } catch (err) {
      // Another process finished the same build first; theirs is identical.
      if (!existsSync(join(distDir, dir, 'sluice.cjs'))) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function bundle(root, outdir) {
  const { build } = await import('esbuild');
  const external = {
    name: 'sluice-external-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        if (args.path.startsWith('node:')) return { external: true };
        const parts = args.path.split('/');
        const pkg = args.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
        return EXTERNAL.has(pkg) ? { external: true } : undefined;
      });
    },
  };
  await build({
    absWorkingDir: root,
    entryPoints: { sluice: 'bin/sluice.ts', precompile: 'compiler/validate/precompile.ts', 'pool-worker': 'runtime/executor/pool-worker.ts' },
    outdir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    // CommonJS, because only scripts (not ES modules) can start from V8's code cache on Node 20:
    // bin/sluice.js loads the bundle with the cache its first start wrote.
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    plugins: [external],
    // Lazily loaded packages are require()d (Node 20 requires ES modules too): a script started from
    // V8's code cache has no dynamic import() callback, so an import() left in the bundle would fail.
    supported: { 'dynamic-import': false },
    logLevel: 'error',
    legalComments: 'none',
    // Smaller source to keep resident and to compile; names stay, so stack traces stay readable.
    minifyWhitespace: true,
    minifySyntax: true,
    // Lets code tell the compiled build from the sources (see compiler/parse/json.ts), and gives
    // modules that locate files beside themselves their URL.
    define: { 'process.env.SLUICE_COMPILED_BUILD': '"true"', 'import.meta.url': '__sluiceModuleUrl' },
    banner: { js: "const __sluiceModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
}

/**
 * V8 keeps a script's source for as long as the script lives, in one byte per character only when
 * every character is Latin-1: a single other character (esbuild leaves them in regular expression
 * literals) doubles the bundle's resident size. Every non-ASCII character becomes a \u escape,
 * which means the same in strings, template literals, regular expressions and identifiers.
 */
function escapeNonAscii(outdir) {
  for (const name of readdirSync(outdir)) {
    if (!name.endsWith('.cjs')) continue;
    const file = join(outdir, name);
    const text = readFileSync(file, 'utf8');
    if (!/[^\x00-\x7f]/.test(text)) continue;
    writeFileSync(file, text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  }
}

/**
 * bin/sluice.js compiles sluice.cjs itself (to give V8 its code cache) as the function Node wraps
 * every CommonJS module in, and the file holds that function already: read as Latin-1, its text
 * stays outside V8's heap (Node keeps long one-byte strings external), where wrapping it at each
 * start made two copies of the bundle's 4 MB inside the heap, one for the life of the process.
 * Compiled as a script (no `module` in scope), the file's value is that function; loaded as a
 * module (`node dist/.../sluice.cjs`), it calls the function and runs as before.
 */
function wrapAsModuleFunction(file) {
  const head = '(function (main) { return typeof module === "undefined" ? main : main(exports, require, module, __filename, __dirname); })(function (exports, require, module, __filename, __dirname) {';
  writeFileSync(file, `${head}${readFileSync(file, 'latin1')}\n});`, 'latin1');
}

async function precompileValidators(outdir) {
  const { writePrecompiledValidators } = createRequire(import.meta.url)(join(outdir, 'precompile.cjs'));
  writePrecompiledValidators(join(outdir, 'validators'));
}

function pruneOldBuilds(distDir, current) {
  const builds = readdirSync(distDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name.startsWith('server-') && e.name !== current)
    .map((e) => ({ name: e.name, mtime: statSync(join(distDir, e.name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const old of builds.slice(KEEP_OLD_BUILDS)) rmSync(join(distDir, old.name), { recursive: true, force: true });
}

// `node scripts/build-server.mjs [--out <dist dir>]`: build now (npm run build:server, the image build).
// Without the sources (an image's first `npm ci`, before they are copied) there is nothing to build yet.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const distDir = at > 0 ? resolve(process.argv[at + 1]) : join(ROOT, 'dist');
  if (!existsSync(join(ROOT, 'bin', 'sluice.ts'))) console.error('sluice: no sources to build yet');
  else {
    const entry = await ensureServerBuilt({ distDir, log: (m) => console.error(m) });
    console.error(`sluice: ${relative(process.cwd(), entry)} is current`);
  }
}
