/** bench api: streaming GET /api/datasets/{id}/entities of 200,000 entities over loopback. */
import pino from 'pino';
import { SluiceRuntime } from '../runtime/service/runtime.js';
import { startApi } from '../runtime/api/app.js';
import { EmbeddedStore } from '../runtime/store/embedded/store.js';
import { generateEntities } from './dtl.js';
import { openBenchStore } from './pipe.js';
import { log, option, optionString, round } from './util.js';

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const n = option(args, 'entities', 200_000);
  const storeKind = optionString(args, 'store', 'embedded');
  const { store, cleanup } = await openBenchStore(storeKind, 'api');
  try {
    log(`filling a dataset with ${n} entities`);
    for (let from = 0; from < n; from += 10_000) {
      await store.write('customers', generateEntities(Math.min(10_000, n - from)).map((e, i) => ({ ...e, _id: `c${from + i}` })));
    }
    if (store instanceof EmbeddedStore) store.checkpointWal();
    const rt = await SluiceRuntime.open({ store, logger: pino({ level: 'warn' }), schedule: false });
    const app = await startApi(rt, { port: 0, host: '127.0.0.1', logger: false });
    const port = (app.server.address() as { port: number }).port;
    const t0 = process.hrtime.bigint();
    const res = await fetch(`http://127.0.0.1:${port}/api/datasets/customers/entities`);
    let bytes = 0;
    const chunks: Buffer[] = [];
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      chunks.push(Buffer.from(chunk));
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const count = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown[]).length;
    if (count !== n) throw new Error(`streamed ${count} entities, expected ${n}`);
    log(`streamed ${count} entities (${round(bytes / 1e6, 1)} MB) in ${round(seconds, 2)} s`);
    await app.close();
    await rt.close();
    return { bench: 'api', store: storeKind, entities: n, entities_per_s: round(n / seconds), mb_per_s: round(bytes / 1e6 / seconds, 1) };
  } finally {
    await cleanup();
  }
}
