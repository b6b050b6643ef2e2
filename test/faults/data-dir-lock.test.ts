/**
 * Defect 7: one runtime per data directory. A second runtime on a data directory in use refuses to
 * start and names the holder; the lock of a killed runtime is taken over.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sluiceBin } from '../support/cli.js';
import { tempDir } from '../support/runtime.js';
import { EmbeddedStore } from '../../runtime/store/embedded/store.js';
import { startChild, type Child } from './child.js';

const children: Child[] = [];
afterAll(async () => {
  for (const c of children) await c.kill();
});

function run(config: string, dataDir: string): Child {
  const c = startChild([sluiceBin, 'run', config, '--port', '0', '--data-dir', dataDir, '--no-watch']);
  children.push(c);
  return c;
}

describe('a data directory', () => {
  it('serves one runtime: a second refuses to start naming the holder; a killed holder is taken over', async () => {
    const config = tempDir('sluice-lock-');
    mkdirSync(join(config, 'pipes'));
    writeFileSync(join(config, 'pipes', 'p.conf.json'), JSON.stringify({ _id: 'p', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'a' }] } }));
    const data = join(config, '.data');
    const first = run(config, data);
    const port = Number(/:(\d+)\/api/.exec(await first.line(/serving .* at http/))![1]);

    const second = run(config, data);
    const exit = await second.exited;
    expect(exit.code).not.toBe(0);
    const message = second.stderr() + second.lines.join('\n');
    expect(message).toMatch(/is in use by another Sluice runtime/);
    expect(message).toContain(`pid ${first.proc.pid}`);
    expect(message).toContain(`port ${port}`);

    await first.kill();
    const third = run(config, data);
    await third.line(/serving .* at http/);
    await third.kill();
  }, 120_000);

  it('is held by one store at a time in a process too, until it is closed', async () => {
    const dir = tempDir('sluice-lock-store-');
    const a = new EmbeddedStore({ dataDir: dir });
    expect(() => new EmbeddedStore({ dataDir: dir })).toThrow(/is in use by another Sluice runtime \(pid \d+/);
    await a.close();
    const b = new EmbeddedStore({ dataDir: dir });
    await b.close();
  });
});
