/**
 * bench test: wall time of `sluice test` (the real command, in a child process) on a generated
 * project in the client's layout with 50 pipes and 20,000 test entities posted to 4 receivers:
 * cleaning pipes with hops to a lookup, a merge, chains of DTL pipes, CSV and JSON endpoints and
 * an output pipe, verified against 8 specs. The expected files are written beforehand (not timed)
 * with `sluice test --update`'s library function.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLocalTest } from '../runtime/testing/local.js';
import { followPeak } from './runtime-process.js';
import { log, option, round } from './util.js';

const RECEIVERS = 4;
const CHAIN = 8;

function write(dir: string, path: string, value: unknown): void {
  const full = join(dir, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, typeof value === 'string' ? value : JSON.stringify(value, null, 2) + '\n');
}

const pipe = (id: string, source: Record<string, unknown>, rules: unknown[] | null, sink?: Record<string, unknown>) => ({
  _id: id,
  type: 'pipe',
  source,
  ...(rules ? { transform: { type: 'dtl', rules: { default: rules } } } : {}),
  ...(sink ? { sink } : {}),
});

/** Writes the project; returns the number of pipes. */
export function generateProject(dir: string, entities: number): number {
  const pipes: Record<string, unknown>[] = [];
  const regions = Array.from({ length: 10 }, (_, i) => ({ _id: `r${i}`, name: `Region ${i}`, manager: `manager-${i}@example.org` }));
  pipes.push(pipe('lookup-region', { type: 'embedded', entities: regions }, null));
  const perReceiver = Math.ceil(entities / RECEIVERS);
  for (let k = 0; k < RECEIVERS; k++) {
    pipes.push(pipe(`src-${k}`, { type: 'http_endpoint' }, null));
    const rows = Array.from({ length: Math.min(perReceiver, entities - k * perReceiver) }, (_, i) => ({
      _id: `${k}-${i}`,
      name: `Person ${i}`,
      email: `Person.${i}@Example.org`,
      region: `r${i % 10}`,
      amount: (i % 97) * 1.5,
      tags: ['a', 'b', String(i % 3)],
    }));
    write(dir, `testdata/src-${k}.json`, JSON.stringify(rows));
    pipes.push(
      pipe(`clean-${k}`, { type: 'dataset', dataset: `src-${k}` }, [
        ['copy', '_id'],
        ['add', 'name', ['upper', '_S.name']],
        ['add', 'email', ['lower', '_S.email']],
        ['add', 'amount', '_S.amount'],
        ['add', 'region', ['first', ['hops', { datasets: ['lookup-region r'], where: [['eq', '_S.region', 'r._id']], return: 'r.name' }]]],
        ['add', 'tag_count', ['count', '_S.tags']],
      ]),
    );
    let previous = `clean-${k}`;
    for (let j = 0; j < CHAIN; j++) {
      const id = `stage-${k}-${j}`;
      pipes.push(pipe(id, { type: 'dataset', dataset: previous }, [['copy', '*'], ['add', `step_${j}`, ['+', ['integer', ['if', ['is-null', '_S.tag_count'], 0, '_S.tag_count']], j]]]));
      previous = id;
    }
    pipes.push(pipe(`out-csv-${k}`, { type: 'dataset', dataset: previous }, [['copy', '*']], { type: 'csv_endpoint', columns: ['_id', 'name', 'email', 'region', 'amount', `step_${CHAIN - 1}`] }));
    if (k < 2) pipes.push(pipe(`out-json-${k}`, { type: 'dataset', dataset: previous }, [['copy', '_id'], ['add', 'email', '_S.email'], ['add', 'region', '_S.region']], { type: 'http_endpoint' }));
  }
  pipes.push(pipe('merged', { type: 'merge', version: 2, datasets: ['clean-0 a', 'clean-1 b'], equality: [['eq', 'a.email', 'b.email']], identity: 'first', strategy: 'compact' }, null));
  pipes.push(pipe('merged-api', { type: 'dataset', dataset: 'merged' }, [['copy', '_id'], ['add', 'email', ['first', ['coalesce', '_S.email']]]], { type: 'http_endpoint' }));
  pipes.push(pipe('region-stats', { type: 'dataset', dataset: 'lookup-region' }, [['copy', '*'], ['add', 'people', ['count', ['hops', { datasets: ['clean-0 c'], where: [['eq', 'c.region', '_S.name']] }]]]], { type: 'null' }));
  for (const p of pipes) write(dir, `pipes/${p._id as string}.conf.json`, p);
  write(dir, 'node-metadata.conf.json', { _id: 'node', type: 'metadata' });
  write(dir, 'test-env.json', {});
  for (const p of pipes) {
    const id = p._id as string;
    if (id.startsWith('out-csv-')) write(dir, `expected/${id}.test.json`, { endpoint: 'csv', file: `${id}.csv` });
    else if (id.startsWith('out-json-') || id === 'merged-api' || id === 'region-stats') write(dir, `expected/${id}.test.json`, {});
  }
  return pipes.length;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const entities = option(args, 'entities', 20_000);
  const dir = join(tmpdir(), `sluice-bench-test-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  try {
    const pipes = generateProject(dir, entities);
    log(`generated ${pipes} pipes and ${entities} test entities in ${dir}`);
    const prepared = await runLocalTest(dir, { update: true });
    if (!prepared.ok) throw new Error(`writing the expected files failed: ${prepared.message}`);
    log(`expected files written (${prepared.updated?.length} specs) in ${round(prepared.seconds, 2)} s`);
    const bin = fileURLToPath(new URL('../bin/sluice.js', import.meta.url));
    const t0 = process.hrtime.bigint();
    // As the `sluice` command runs (its #! line passes this flag).
    const child = spawn(process.execPath, ['--max-semi-space-size=8', bin, 'test', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const peak = followPeak(child);
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    const status = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const peakMb = peak();
    if (status !== 0) throw new Error(`sluice test failed (exit ${status}):\n${stdout.slice(0, 4000)}`);
    log(`sluice test: ${round(seconds, 2)} s wall time, peak RSS ${round(peakMb ?? NaN)} MB (${stdout.trim().split('\n').pop()})`);
    return { bench: 'test', pipes, entities, seconds: round(seconds, 3), peak_rss_mb: peakMb === null ? null : round(peakMb) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
