// Prints "N passed, M failed" from vitest's JSON report (a failed type check counts as one failure).
import { existsSync, readFileSync } from 'node:fs';

const [reportPath, typecheckStatus = '0'] = process.argv.slice(2);
let passed = 0;
let failed = 0;
if (existsSync(reportPath)) {
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  for (const suite of report.testResults ?? []) {
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) failed += 1;
  }
} else {
  failed = 1;
}
if (typecheckStatus !== '0') failed += 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
