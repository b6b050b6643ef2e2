/**
 * bench rest: a REST source reading 100,000 entities in pages of 1,000 (next links in the body, since
 * on `updated`) into a dataset, and a REST sink writing 100,000 entities (one PUT each, batches of
 * 1,000, pipelined on a few connections) to the REST fixture service, which runs in a child process. Besides the rates it logs
 * the CPU time per entity of this process (the runtime) and of the service: on a machine shared
 * with other work the rates move with the load, the CPU times much less.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
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
  // The system's connection pool: 4 connections with 16 pipelined requests each (`--pipelining 1
  // --connections 0` measures the defaults: a connection per request, 16 at a time).
  const pipelining = option(args, 'pipelining', 16);
  const connections = option(args, 'connections', 4);
  const child = fork(fileURLToPath(new URL('../scripts/test-services/rest-fixture-serve.ts', import.meta.url)), [String(n)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { store, cleanup } = await openBenchStore('embedded', 'rest');
  try {
    await new Promise((resolve) => child.once('message', resolve));
    const base = await ask<string>(child, 'base', 'base');
    const rt = await SluiceRuntime.open({ store, logger: pino({ level: 'warn' }), schedule: false });
    const transform = { type: 'dtl', rules: { default: [['add', '_id', '_S._id'], ['add', 'payload', ['dict', 'name', '_S.name', 'email', '_S.email']]] } };
    const config = [
      {
        _id: 'api',
        type: 'system:rest',
        url_pattern: `${base}/%s`,
        pipelining,
        ...(connections > 0 ? { max_connections: connections } : {}),
        operations: {
          list: { method: 'GET', url: 'records', params: { page_size: pageSize }, next_page_link: '{{ body.next }}', payload_property: 'data' },
          put: { method: 'PUT', url: 'records/{{ _id }}', 'payload-type': 'json' },
        },
      },
      { _id: 'read', type: 'pipe', batch_size: pageSize, source: { type: 'rest', system: 'api', operation: 'list', supports_since: true, is_chronological: true, id_expression: '{{ id }}', updated_expression: '{{ updated }}' } },
      { _id: 'write', type: 'pipe', batch_size: pageSize, source: { type: 'dataset', dataset: 'read' }, transform, sink: { type: 'rest', system: 'api', operation: 'put' } },
      // The same pipe into a null sink: what the sink's rate owes to the rest of the pipe.
      { _id: 'write-nowhere', type: 'pipe', batch_size: pageSize, source: { type: 'dataset', dataset: 'read' }, transform, sink: { type: 'null' } },
    ];
    const loaded = await rt.setConfigFiles(entitiesToFiles(config));
    if (!loaded.ok) throw new Error(rt.describeErrors(loaded.diagnostics));

    /** Runs a pipe; its seconds, and the CPU µs per entity of this process and of the service. */
    const measure = async (pipe: string) => {
      const cpu0 = process.cpuUsage();
      const service0 = await ask<number>(child, 'cpu', 'cpu');
      const t0 = process.hrtime.bigint();
      const result = await rt.runPipe(pipe);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = process.cpuUsage(cpu0);
      const service = (await ask<number>(child, 'cpu', 'cpu')) - service0;
      const usage = `CPU per entity: runtime ${round((cpu.user + cpu.system) / n, 1)} µs (${round(cpu.system / n, 1)} µs in the kernel), service ${round(service / n, 1)} µs; load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`;
      return { result, seconds, usage };
    };

    const source = await measure('read');
    const read = source.result;
    if (read.status !== 'completed' || read.read !== n) throw new Error(`the source run ended ${read.status} after ${read.read} entities: ${read.error ?? ''}`);
    log(`rest source: ${n} entities in pages of ${pageSize} in ${round(source.seconds, 2)} s; ${source.usage}`);

    const sink = await measure('write');
    const write = sink.result;
    const received = await ask<number>(child, 'writes', 'writes');
    if (write.status !== 'completed' || received !== n) throw new Error(`the sink run ended ${write.status}; the service received ${received} of ${n} writes: ${write.error ?? ''}`);
    log(`rest sink: ${n} entities (one PUT each, batches of ${pageSize}, ${connections > 0 ? `${connections} connections` : 'a connection per request'}, pipelining ${pipelining}) in ${round(sink.seconds, 2)} s; ${sink.usage}`);
    const nowhere = await measure('write-nowhere');
    if (nowhere.result.status !== 'completed' || nowhere.result.read !== n) throw new Error(`the null-sink run ended ${nowhere.result.status} after ${nowhere.result.read} entities`);
    log(`the same pipe into a null sink: ${n} entities in ${round(nowhere.seconds, 2)} s; ${nowhere.usage}`);
    const sourceSeconds = source.seconds;
    const sinkSeconds = sink.seconds;
    await rt.close();
    return { bench: 'rest', entities: n, source_per_s: round(n / sourceSeconds), sink_per_s: round(n / sinkSeconds) };
  } finally {
    child.disconnect();
    await cleanup();
  }
}
