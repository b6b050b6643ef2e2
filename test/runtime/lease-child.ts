/**
 * A runtime process for the lease test: shares a MongoDB database with others, runs the pipes on
 * their schedules, and reports each completed run on stdout as `ran <pipe> <written>`. The lease
 * time-to-live (ms) is the optional fourth argument.
 */
import pino from 'pino';
import { MongoStore } from '../../runtime/store/mongodb/store.js';
import { SluiceRuntime } from '../../runtime/service/runtime.js';
import { entitiesToFiles } from '../../runtime/service/config-files.js';
import { leaseConfig } from './lease-config.js';

const [uri, database, name, ttl] = process.argv.slice(2);
const store = await MongoStore.open({ uri, database });
const rt = await SluiceRuntime.open({ store, logger: pino({ level: process.env.LEASE_LOG ?? 'silent' }, pino.destination(2)), nodeId: name, leaseTtlMs: Number(ttl ?? 2000) });
rt.on('run-finished', (pipe: string, outcome: { status: string; written: number }) => {
  if (outcome.status === 'completed') process.stdout.write(`ran ${pipe} ${outcome.written}\n`);
});
const r = await rt.setConfigFiles(entitiesToFiles(leaseConfig));
if (!r.ok) throw new Error(rt.describeErrors(r.diagnostics));
process.stdout.write('ready\n');
process.on('SIGTERM', () => void rt.close().then(() => process.exit(0)));
