/**
 * bench rest: a REST source reading 100,000 entities in pages of 1,000 (next links in the body, since
 * on `updated`) into a dataset, and a REST sink writing 100,000 entities (one PUT each, batches of
 * 1,000) to the REST fixture service, which runs in a child process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { SluiceRuntime } from '../runtime/service/runtime.js';
import { entitiesToFiles } from '../runtime/service/config-files.js';
import { openBenchStore } from './pipe.js';
import { log, option, round } from './util.js';

function ask<T>(child: ChildProcess, question: string, key: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (key in m) {
        child.off('message', on);
        resolve(m[key] as T);
      }
    };
    child.on('message', on);
    child.send({ ask: question });
  });
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const n = option(args, 'entities', 100_000);
  const pageSize = option(args, 'page-size', 1000);
  const child = fork(fileURLToPath(new URL('../scripts/test-services/rest-fixture-serve.ts', import.meta.url)), [String(n)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { store, cleanup } = await openBenchStore('embedded', 'rest');
  try {
    await new Promise((resolve) => child.once('message', resolve));
    const base = await ask<string>(child, 'base', 'base');
    const rt = await SluiceRuntime.open({ store, logger: pino({ level: 'warn' }), schedule: false });
    const config = [
      {
        _id: 'api',
        type: 'system:rest',
        url_pattern: `${base}/%s`,
        operations: {
          list: { method: 'GET', url: 'records', params: { page_size: pageSize }, next_page_link: '{{ body.next }}', payload_property: 'data' },
          put: { method: 'PUT', url: 'records/{{ _id }}', 'payload-type': 'json' },
        },
      },
      { _id: 'read', type: 'pipe', batch_size: pageSize, source: { type: 'rest', system: 'api', operation: 'list', supports_since: true, is_chronological: true, id_expression: '{{ id }}', updated_expression: '{{ updated }}' } },
      { _id: 'write', type: 'pipe', batch_size: pageSize, source: { type: 'dataset', dataset: 'read' }, transform: { type: 'dtl', rules: { default: [['add', '_id', '_S._id'], ['add', 'payload', ['dict', 'name', '_S.name', 'email', '_S.email']]] } }, sink: { type: 'rest', system: 'api', operation: 'put' } },
    ];
    const loaded = await rt.setConfigFiles(entitiesToFiles(config));
    if (!loaded.ok) throw new Error(rt.describeErrors(loaded.diagnostics));

    let t0 = process.hrtime.bigint();
    const read = await rt.runPipe('read');
    const sourceSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (read.status !== 'completed' || read.read !== n) throw new Error(`the source run ended ${read.status} after ${read.read} entities: ${read.error ?? ''}`);
    log(`rest source: ${n} entities in pages of ${pageSize} in ${round(sourceSeconds, 2)} s`);

    t0 = process.hrtime.bigint();
    const write = await rt.runPipe('write');
    const sinkSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const received = await ask<number>(child, 'writes', 'writes');
    if (write.status !== 'completed' || received !== n) throw new Error(`the sink run ended ${write.status}; the service received ${received} of ${n} writes: ${write.error ?? ''}`);
    log(`rest sink: ${n} entities (one PUT each, batches of ${pageSize}) in ${round(sinkSeconds, 2)} s`);
    await rt.close();
    return { bench: 'rest', entities: n, source_per_s: round(n / sourceSeconds), sink_per_s: round(n / sinkSeconds) };
  } finally {
    child.disconnect();
    await cleanup();
  }
}
