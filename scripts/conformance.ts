/**
 * `npm run conformance -- [dir ...] [--json out.json] [--verbose]`: runs DTL conformance vectors
 * (by default the public ones and the project's own, each set counted on its own line), prints
 * failures grouped by function and ends with `N passed, M failed`. Exit 0 when it ran, 2 when it
 * could not.
 */
import { writeFileSync, existsSync } from 'node:fs';
import { relative } from 'node:path';
import { runAll, type CaseResult } from './conformance/runner.js';
import { DEFAULT_CONFORMANCE_DIR, OWN_CONFORMANCE_DIR } from './conformance/default-dir.js';

function main(argv: string[]): number {
  const dirs: string[] = [];
  let jsonOut: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') jsonOut = argv[++i];
    else if (argv[i] === '--help' || argv[i] === '-h') {
      console.log('usage: npm run conformance -- [dir|file ...] [--json out.json]');
      return 0;
    } else dirs.push(argv[i]);
  }
  if (dirs.length === 0) dirs.push(DEFAULT_CONFORMANCE_DIR, OWN_CONFORMANCE_DIR);
  for (const d of dirs) {
    if (!existsSync(d)) {
      console.error(`conformance: no such file or directory: ${d}`);
      if (d === DEFAULT_CONFORMANCE_DIR) {
        console.error('The DTL conformance vectors are not part of this repository: they live in the shared folder beside the checkout');
        console.error(`(${d}). Put the vectors there, or name their folder: npm run conformance -- path/to/vectors`);
      }
      return 2;
    }
  }
  const sets: { dir: string; results: CaseResult[] }[] = [];
  try {
    for (const dir of dirs) sets.push({ dir, results: runAll([dir]) });
  } catch (err) {
    console.error(`conformance: could not run: ${err instanceof Error ? err.stack : String(err)}`);
    return 2;
  }
  const results = sets.flatMap((s) => s.results);
  const failed = results.filter((r) => !r.passed);
  const byFunction = new Map<string, CaseResult[]>();
  for (const r of failed) byFunction.set(r.function, [...(byFunction.get(r.function) ?? []), r]);
  for (const [fn, rs] of [...byFunction].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`${fn} (${rs.length} failed)`);
    for (const r of rs) console.log(`  ${r.id}: ${r.detail}`);
  }
  const passed = results.length - failed.length;
  if (sets.length > 1) {
    for (const s of sets) console.log(`${relative(process.cwd(), s.dir) || s.dir}: ${s.results.filter((r) => r.passed).length} passed, ${s.results.filter((r) => !r.passed).length} failed`);
  }
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ passed, failed: failed.length, results }, null, 2) + '\n');
  console.log(`${passed} passed, ${failed.length} failed`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
