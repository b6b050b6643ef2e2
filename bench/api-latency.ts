/**
 * bench api-latency: while a pipe runs 200,000 entities (dataset → DTL → dataset, the `pipe`
 * bench's transform), a client in a worker thread asks for `/api/health` and for one small entity
 * (`/api/datasets/{id}/entity?entity_id=`) over loopback, one request after the other, and reports
 * the 99th percentile latency of each. The client has its own event loop, so it measures how long
 * the server takes to answer, not how long the client's own thread was busy.
 */
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { startApi } from '../runtime/api/app.js';
import { entitiesToFiles } from '../runtime/service/config-files.js';
import { SluiceRuntime } from '../runtime/service/runtime.js';
import { EmbeddedStore } from '../runtime/store/embedded/store.js';
import { generateEntities, RULES } from './dtl.js';
import { openBenchStore } from './pipe.js';
import { log, option, optionString, round } from './util.js';

/** The client: alternates health checks and entity reads until told to stop, then posts the latencies. */
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const { base, entityPath, pauseMs } = workerData;
let stop = false;
parentPort.on('message', () => { stop = true; });
(async () => {
  const health = [], read = [];
  let errors = 0;
  const timed = async (path, into) => {
    const t0 = performance.now();
    try {
      const r = await fetch(base + path);
      await r.arrayBuffer();
      if (r.status !== 200) errors++;
    } catch { errors++; }
    into.push(performance.now() - t0);
  };
  while (!stop) {
    await timed('/api/health', health);
    await timed(entityPath, read);
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  parentPort.postMessage({ health, read, errors });
})();
`;

function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const n = option(args, 'entities', 200_000);
  const storeKind = optionString(args, 'store', 'embedded');
  const { store, cleanup } = await openBenchStore(storeKind, 'api-latency');
  try {
    log(`filling the source dataset with ${n} entities (${storeKind} store)`);
    for (let from = 0; from < n; from += 10_000) {
      await store.write('customers', generateEntities(Math.min(10_000, n - from)).map((e, i) => ({ ...e, _id: `c${from + i}` })));
    }
    if (store instanceof EmbeddedStore) store.checkpointWal();
    const rt = await SluiceRuntime.open({ store, logger: pino({ level: 'warn' }), schedule: false });
    const r = await rt.setConfigFiles(entitiesToFiles([{ _id: 'customer-view', type: 'pipe', source: { type: 'dataset', dataset: 'customers' }, transform: { type: 'dtl', rules: { default: [['copy', '_id'], ...RULES.default] } } }]));
    if (!r.ok) throw new Error(rt.describeErrors(r.diagnostics));
    const app = await startApi(rt, { port: 0, host: '127.0.0.1', logger: false });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

    const client = new Worker(CLIENT, { eval: true, workerData: { base, entityPath: '/api/datasets/customers/entity?entity_id=c123', pauseMs: 5 } });
    const results = new Promise<{ health: number[]; read: number[]; errors: number }>((resolve, reject) => {
      client.once('message', resolve);
      client.once('error', reject);
    });
    const t0 = process.hrtime.bigint();
    const outcome = await rt.runPipe('customer-view');
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    client.postMessage('stop');
    const { health, read, errors } = await results;
    await client.terminate();
    if (outcome.status !== 'completed' || outcome.written !== n) throw new Error(`unexpected outcome ${JSON.stringify(outcome)}`);
    const p99Health = round(percentile(health, 99), 1);
    const p99Read = round(percentile(read, 99), 1);
    log(`pipe run: ${n} entities in ${round(seconds, 2)} s (${round(n / seconds)} entities/s)`);
    log(`during the run: ${health.length} health checks, p50 ${round(percentile(health, 50), 1)} ms, p99 ${p99Health} ms, max ${round(Math.max(...health), 1)} ms`);
    log(`during the run: ${read.length} entity reads, p50 ${round(percentile(read, 50), 1)} ms, p99 ${p99Read} ms, max ${round(Math.max(...read), 1)} ms; ${errors} errors`);
    await app.close();
    await rt.close();
    if (errors) throw new Error(`${errors} requests failed during the run`);
    return { bench: 'api-latency', p99_health_ms: p99Health, p99_read_ms: p99Read };
  } finally {
    await cleanup();
  }
}
