/**
 * Child process for the atomic-receiver test: a runtime with one receiver pipe and the API on a
 * free port. It prints `listening <port>`, and `commit <n>` just before each store write to the
 * receiver's dataset (synchronously, so the parent can kill it while that write is under way).
 */
import { writeSync } from 'node:fs';
import pino from 'pino';
import { buildApi } from '../../runtime/api/app.js';
import { entitiesToFiles } from '../../runtime/service/config-files.js';
import { SluiceRuntime } from '../../runtime/service/runtime.js';
import { EmbeddedStore } from '../../runtime/store/embedded/store.js';
import { inboxConfig } from './receiver-config.js';

const dataDir = process.argv[2];
const store = new EmbeddedStore({ dataDir });
const write = store.write.bind(store);
store.write = (dataset, entities, options) => {
  if (dataset === 'received') writeSync(1, `commit ${entities.length}\n`);
  return write(dataset, entities, options);
};
const rt = await SluiceRuntime.open({ store, logger: pino({ level: 'silent' }), schedule: false });
const r = await rt.setConfigFiles(entitiesToFiles(inboxConfig));
if (!r.ok) throw new Error(rt.describeErrors(r.diagnostics));
const app = await buildApi(rt, { logger: false });
await app.listen({ port: 0, host: '127.0.0.1' });
writeSync(1, `listening ${(app.server.address() as { port: number }).port}\n`);
