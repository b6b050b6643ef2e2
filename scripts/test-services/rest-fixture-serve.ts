/**
 * The REST fixture service in a child process (benchmarks: the service gets its own core).
 * Started with fork(); `argv[2]` records are served; it answers IPC messages:
 * `{ask: "base"}` → `{base}`, `{ask: "writes"}` → `{writes}` (the number of writes received).
 */
import { makeRecords, startRestFixture } from './rest-fixture.js';

const n = Number(process.argv[2] ?? 0);
const fixture = await startRestFixture({ record: false });
fixture.putAll(makeRecords(n, 1, (i) => ({ email: `person${i}@example.org`, tags: ['a', 'b'], score: i % 100 })));
// Writes are only counted: keeping 100,000 bodies would measure the fixture's memory instead.
let writes = 0;
fixture.overrides.push((req, res) => {
  if (req.method === 'GET') return false;
  writes++;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' });
  res.end('{"ok":true}');
  return true;
});
process.on('message', (m: { ask?: string }) => {
  if (m.ask === 'base') process.send?.({ base: fixture.base });
  if (m.ask === 'writes') process.send?.({ writes });
});
process.on('disconnect', () => {
  void fixture.close().then(() => process.exit(0));
});
process.send?.({ ready: true });
