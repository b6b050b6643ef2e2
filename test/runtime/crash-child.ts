/**
 * Child process for the crash test: opens the store in a data directory and runs the pipes until
 * both have completed a run. The parent kills it with SIGKILL at random moments and restarts it.
 */
import pino from 'pino';
import { EmbeddedStore } from '../../runtime/store/embedded/store.js';
import { SluiceRuntime } from '../../runtime/service/runtime.js';
import { entitiesToFiles } from '../../runtime/service/config-files.js';
import { crashConfig } from './crash-config.js';

const dataDir = process.argv[2];
const rt = await SluiceRuntime.open({ store: new EmbeddedStore({ dataDir }), logger: pino({ level: 'silent' }), schedule: false });
const r = await rt.setConfigFiles(entitiesToFiles(crashConfig));
if (!r.ok) throw new Error(rt.describeErrors(r.diagnostics));
for (const pipe of ['enriched', 'summary']) {
  for (;;) {
    const outcome = await rt.runPipe(pipe);
    if (outcome.status !== 'completed') throw new Error(`${pipe}: ${outcome.error}`);
    // A run resumed after a crash completes the interrupted one; stop once a run read nothing new.
    if (outcome.read === 0 || outcome.syncType === 'full') break;
  }
  process.stdout.write(`${pipe} done\n`);
}
await rt.close();
process.stdout.write('all done\n');
