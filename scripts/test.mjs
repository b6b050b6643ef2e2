#!/usr/bin/env node
// `npm test`: every suite, one after another, then one summary line "N passed, M failed".
//   1. unit and end-to-end suites (vitest.config.ts; MongoDB contract and lease suites on FerretDB),
//   2. the runtime's end-to-end suites again on the MongoDB store (SLUICE_TEST_STORE=mongodb),
//   3. the operator suites against kube-apiserver + etcd (vitest.k8s.config.ts).
// `--phase unit|mongodb|k8s` runs one phase (npm run test:mongodb, npm run test:k8s). With other
// arguments (`npm test -- test/dtl`), only vitest runs, with them, on the default config.
// Reports go to $SLUICE_TEST_REPORTS (default .test-reports/), one vitest JSON report per phase.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const vitest = ['node_modules/vitest/vitest.mjs', 'run'];
const phaseArg = args[0] === '--phase' ? args[1] : undefined;
if (args.length && !phaseArg) process.exit(spawnSync(process.execPath, [...vitest, ...args], { stdio: 'inherit' }).status ?? 1);

// The store contract and the lease suite run on MongoDB in the unit phase already; the mongodb
// phase runs them and the runtime's end-to-end suites with the MongoDB store selected.
const mongodbSuites = ['test/store/mongodb.test.ts', 'test/runtime/leases.test.ts', 'test/runtime/executor.test.ts', 'test/runtime/pump.test.ts', 'test/runtime/dependency-tracking.test.ts', 'test/api', 'test/components/receivers.test.ts'];
const allPhases = [
  { id: 'unit', name: 'unit and end-to-end', args: [] },
  { id: 'mongodb', name: 'runtime end-to-end on MongoDB', args: mongodbSuites, env: { SLUICE_TEST_STORE: 'mongodb' } },
  { id: 'k8s', name: 'operator against kube-apiserver', args: ['--config', 'vitest.k8s.config.ts'] },
];
const phases = phaseArg ? allPhases.filter((p) => p.id === phaseArg) : allPhases;
if (!phases.length) {
  console.error(`unknown phase "${phaseArg}" (${allPhases.map((p) => p.id).join(', ')})`);
  process.exit(2);
}
const reports = process.env.SLUICE_TEST_REPORTS ?? '.test-reports';
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

/** Passed and failed tests of a vitest JSON report; a file that failed to load counts as a failure. */
function countReport(path) {
  if (!existsSync(path)) return { passed: 0, failed: 1 };
  const report = JSON.parse(readFileSync(path, 'utf8'));
  let failed = report.numFailedTests ?? 0;
  for (const suite of report.testResults ?? []) if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) failed += 1;
  return { passed: report.numPassedTests ?? 0, failed };
}

const totals = { passed: 0, failed: 0 };
const lines = [];
phases.forEach((phase, i) => {
  const out = join(reports, `${i + 1}-${phase.name.replace(/\W+/g, '-')}.json`);
  console.log(`\n==> ${phase.name}`);
  spawnSync(process.execPath, [...vitest, ...phase.args, '--reporter=default', '--reporter=json', `--outputFile=${out}`], { stdio: 'inherit', env: { ...process.env, ...phase.env } });
  const c = countReport(out);
  totals.passed += c.passed;
  totals.failed += c.failed;
  lines.push(`  ${phase.name}: ${c.passed} passed, ${c.failed} failed`);
});
console.log(`\n${lines.join('\n')}\n${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed ? 1 : 0);
