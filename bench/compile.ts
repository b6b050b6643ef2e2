/** bench compile: compiling a generated config of 1,000 pipes (chained datasets, DTL with hops). */
import { compile } from '../compiler/compile.js';
import type { SourceFile } from '../compiler/load/files.js';
import { log, option, round } from './util.js';

export function generateConfig(pipes: number): SourceFile[] {
  const files: SourceFile[] = [
    { path: 'node-metadata.conf.json', role: 'node-metadata', format: 'json', text: JSON.stringify({ _id: 'node', type: 'metadata' }, null, 2) },
    { path: 'systems/crm.conf.json', role: 'system', format: 'json', text: JSON.stringify({ _id: 'crm', type: 'system:url', base_url: 'http://crm.example.org/' }, null, 2) },
  ];
  for (let i = 0; i < pipes; i++) {
    const id = `pipe-${i}`;
    const upstream = i % 10 === 0 ? null : `pipe-${i - 1}`;
    const pipe: Record<string, unknown> = {
      _id: id,
      type: 'pipe',
      source: upstream ? { type: 'dataset', dataset: upstream } : { type: 'embedded', entities: [{ _id: 'a', name: 'A', orders: [{ amount: 1 }] }] },
      transform: {
        type: 'dtl',
        rules: {
          default: [
            ['copy', '*', 'tmp_*'],
            ['add', 'name', ['concat', '_S.first', ' ', '_S.last']],
            ['add', 'total', ['sum', '_S.orders.amount']],
            ['add', 'email', ['lower', '_S.email']],
            ['if', ['gt', '_T.total', 100], ['add', 'big', true], ['add', 'big', false]],
            ['add', 'lines', ['apply', 'line', '_S.orders']],
            ...(upstream && i % 3 === 0 ? [['add', 'peer', ['hops', { datasets: [`pipe-${i - 1} p`], where: ['eq', '_S._id', 'p._id'] }]]] : []),
          ],
          line: [['copy', 'amount'], ['add', 'double', ['*', '_S.amount', 2]]],
        },
      },
      pump: { schedule_interval: 60 },
    };
    files.push({ path: `pipes/${id}.conf.json`, role: 'pipe', format: 'json', text: JSON.stringify(pipe, null, 2) });
  }
  return files;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const pipes = option(args, 'pipes', 1000);
  const files = generateConfig(pipes);
  log(`compiling ${pipes} pipes (${round(files.reduce((n, f) => n + f.text.length, 0) / 1e6, 2)} MB of config)`);
  // Cold: the time includes loading and compiling the JSON Schemas, as a fresh `sluice compile` would.
  const t0 = process.hrtime.bigint();
  const result = compile(files);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`the generated config has errors: ${errors.slice(0, 3).map((d) => d.message).join('; ')}`);
  log(`compiled in ${round(seconds, 3)} s`);
  return { bench: 'compile', pipes, seconds: round(seconds, 3) };
}
