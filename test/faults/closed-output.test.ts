/** A command whose reader goes away (`sluice validate ... | head -1`) stops quietly, without a stack trace. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot, sluiceBin } from '../support/cli.js';

describe('sluice with its output closed early', () => {
  it('validate ends without an unhandled EPIPE error', async () => {
    const child = spawn(process.execPath, [sluiceBin, 'validate', 'test/fixtures/ten-mistakes'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader leaves before the first line is written, so every write meets a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|Unhandled|at .*\(/);
    expect(code).not.toBeNull();
    expect(code).toBeLessThan(2);
  });
});
