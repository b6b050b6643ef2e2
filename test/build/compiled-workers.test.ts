/**
 * The compiled build runs pipes on worker threads too: the worker's own bundle and the pool library
 * are found beside and outside the bundle (scripts/build-server.mjs), not only from the sources.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/test-services/ports.js';
import { startChild, type Child } from '../faults/child.js';
import { repoRoot, sluice, sluiceBin } from '../support/cli.js';

let dir = '';
let child: Child | undefined;

afterEach(async () => {
  await child?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('sluice run from the compiled build with a pool of worker threads', () => {
  it('runs the quickstart pipes on the workers and serves their output', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-workers-'));
    cpSync(join(repoRoot, 'examples/quickstart'), join(dir, 'config'), { recursive: true });
    const port = await freePort();
    child = startChild([sluiceBin, 'run', join(dir, 'config'), '--port', String(port), '--data-dir', join(dir, 'data'), '--workers', '2', '--log-format', 'json']);
    await child.line(/Sluice is serving/);
    const api = `http://127.0.0.1:${port}/api`;
    let people: { _id: string; region: string }[] = [];
    for (let attempt = 0; attempt < 600 && people.length < 3; attempt++) {
      if (child.lines.some((l) => /worker thread/.test(l))) break;
      // 404 until the first run has made the dataset.
      const res = await fetch(`${api}/datasets/person/entities?history=false`);
      people = res.ok ? ((await res.json()) as typeof people) : (await res.body?.cancel(), []);
      if (people.length < 3) await new Promise((r) => setTimeout(r, 100));
    }
    expect(child.lines.filter((l) => /worker thread/.test(l))).toEqual([]);
    expect(people.map((p) => [p._id, p.region])).toEqual([
      ['1', 'Rest of world'],
      ['2', 'Rest of world'],
      ['3', 'Nordics'],
    ]);
  });
});

describe('a command of the compiled build that loads a package lazily', () => {
  it('works again when started from the code cache its first start wrote', () => {
    // The operator command loads the Kubernetes client only when it runs; a missing kubeconfig ends it early.
    const runs = [1, 2, 3].map(() => sluice(['operator', '--kubeconfig', '/nonexistent/kubeconfig'], { timeout: 60_000 }));
    for (const r of runs) {
      expect(r.stderr).toContain('ENOENT');
      expect(r.stderr).not.toMatch(/dynamic import|Cannot require\(\)|ExperimentalWarning/);
    }
  });
});
