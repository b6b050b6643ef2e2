/**
 * Child process for the crash test: opens the store in a data directory and runs the pipes until
 * both have completed a run. It prints `committing <n>` just before, and `committed <n>` just after,
 * each store write of a pipe's sink (synchronously), so that the parent kills it at points of the
 * run's own progress: in the middle of a commit, or right after one. With a pool of workers (the
 * second argument) the pipes commit in worker threads: this thread watches the sink datasets' last
 * offsets and prints `committed <n>` when they moved (several commits may count as one).
 */
import { writeSync } from 'node:fs';
import pino from 'pino';
import { EmbeddedStore } from '../../runtime/store/embedded/store.js';
import { SluiceRuntime } from '../../runtime/service/runtime.js';
import { entitiesToFiles } from '../../runtime/service/config-files.js';
import { crashConfig } from './crash-config.js';

const dataDir = process.argv[2];
const store = new EmbeddedStore({ dataDir });
const write = store.write.bind(store);
let commits = 0;
store.write = async (dataset, entities, options) => {
  if (dataset !== 'enriched' && dataset !== 'summary') return write(dataset, entities, options);
  const n = ++commits;
  writeSync(1, `committing ${n}\n`);
  const r = await write(dataset, entities, options);
  writeSync(1, `committed ${n}\n`);
  return r;
};
const workers = Number(process.argv[3] ?? 1);
const rt = await SluiceRuntime.open({ store, logger: pino({ level: 'silent' }), schedule: false, workers });
let watching: NodeJS.Timeout | undefined;
if (workers > 1) {
  let seen = '';
  watching = setInterval(() => {
    void Promise.all(['enriched', 'summary'].map(async (ds) => (await store.datasetInfo(ds))?.lastOffset ?? -1)).then((offsets) => {
      const now = offsets.join(',');
      if (now === seen) return;
      seen = now;
      writeSync(1, `committed ${++commits}\n`);
    });
  }, 2).unref();
}
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
clearInterval(watching);
await rt.close();
process.stdout.write('all done\n');
