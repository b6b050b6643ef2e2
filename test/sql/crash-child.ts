/**
 * Child process for the SQL sink crash test: opens the embedded store in a data directory and runs
 * the pipe that copies a dataset into a PostgreSQL table until a run completes. The parent kills
 * it with SIGKILL while a batch is held up in the database, and starts it again.
 */
import pino from 'pino';
import { EmbeddedStore } from '../../runtime/store/embedded/store.js';
import { SluiceRuntime } from '../../runtime/service/runtime.js';
import { entitiesToFiles, type ConfigEntity } from '../../runtime/service/config-files.js';

const [dataDir, configJson, password] = process.argv.slice(2);
const rt = await SluiceRuntime.open({ store: new EmbeddedStore({ dataDir }), logger: pino({ level: 'silent' }), schedule: false });
await rt.setSecrets({ 'db-password': password }, false);
const r = await rt.setConfigFiles(entitiesToFiles(JSON.parse(configJson) as ConfigEntity[]));
if (!r.ok) throw new Error(rt.describeErrors(r.diagnostics));
const outcome = await rt.runPipe('export');
if (outcome.status !== 'completed') throw new Error(`export: ${outcome.error}`);
await rt.close();
process.stdout.write('all done\n');
