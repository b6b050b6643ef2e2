// Prints "N passed, M failed" from the vitest JSON reports in a directory (one per test phase of
// scripts/test.mjs). A failed type check, a phase without a report, or a test file that failed to
// load count as one failure each.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [reportDir, typecheckStatus = '0', expectedPhases = '3'] = process.argv.slice(2);
let passed = 0;
let failed = 0;
const reports = existsSync(reportDir) ? readdirSync(reportDir).filter((f) => f.endsWith('.json')) : [];
for (const name of reports) {
  const report = JSON.parse(readFileSync(join(reportDir, name), 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  for (const suite of report.testResults ?? []) {
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) failed += 1;
  }
}
failed += Math.max(0, Number(expectedPhases) - reports.length);
if (typecheckStatus !== '0') failed += 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
