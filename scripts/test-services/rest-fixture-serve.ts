/**
 * The REST fixture service in a child process (benchmarks: the service gets its own core).
 * Started with fork(); `argv[2]` records are served; it answers IPC messages:
 * `{ask: "base"}` → `{base}`, `{ask: "writes"}` → `{writes}` (the number of writes received),
 * `{ask: "cpu"}` → `{cpu}` (µs of CPU the service used so far).
 */
import { makeRecords, startRestFixture } from './rest-fixture.js';

const n = Number(process.argv[2] ?? 0);
// Writes are only counted: keeping 100,000 bodies would measure the fixture's memory instead.
const fixture = await startRestFixture({ record: false, countWrites: true });
fixture.putAll(makeRecords(n, 1, (i) => ({ email: `person${i}@example.org`, tags: ['a', 'b'], score: i % 100 })));
process.on('message', (m: { ask?: string }) => {
  if (m.ask === 'base') process.send?.({ base: fixture.base });
  if (m.ask === 'writes') process.send?.({ writes: fixture.writeCount });
  if (m.ask === 'cpu') {
    const used = process.cpuUsage();
    process.send?.({ cpu: used.user + used.system });
  }
});
process.on('disconnect', () => {
  void fixture.close().then(() => process.exit(0));
});
process.send?.({ ready: true });
