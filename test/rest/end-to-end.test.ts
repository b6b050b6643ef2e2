/**
 * End to end over real sockets: a REST source pages through 10,000 records with `since`, a DTL
 * transform shapes them and the HTTP transform enriches them through a small service standing in
 * for a microservice (reached through a system:url), a REST sink writes them out. After 1% of the
 * records change, a rerun reads, enriches and writes only those.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { makeRecords } from '../../scripts/test-services/rest-fixture.js';
import { configure } from '../support/runtime.js';
import { fixture, latest, onCleanup, restSystem, runtime } from './support.js';

/** The "microservice": takes a JSON array of entities and answers them with a region added. */
async function enrichService(): Promise<{ base: string; received: number }> {
  const state = { base: '', received: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entities = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { _id: string; n: number }[];
      state.received += entities.length;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(entities.map((e) => ({ ...e, region: e.n % 2 === 0 ? 'even' : 'odd' }))));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return state;
}

describe('rest end to end', () => {
  it('pages 10,000 entities in, enriches them through a service, writes them out, and reruns only the 1% that changed', { timeout: 240_000 }, async () => {
    const api = await fixture({ record: false });
    const target = await fixture({ record: false });
    const enrich = await enrichService();
    api.put(...makeRecords(10_000));
    const rt = await runtime();
    await configure(rt, [
      restSystem('crm', api.base, { operations: { changes: { method: 'GET', url: 'records', params: { page_size: 1000 }, next_page_link: '{{ body.next }}', payload_property: 'data' } } }),
      restSystem('erp', target.base, { operations: { upsert: { method: 'PUT', url: 'records/{{ _id }}', 'payload-type': 'json' } } }),
      { _id: 'enricher', type: 'system:url', url_pattern: `${enrich.base}/%s` },
      {
        _id: 'crm-person',
        type: 'pipe',
        batch_size: 1000,
        source: { type: 'rest', system: 'crm', operation: 'changes', supports_since: true, is_chronological: true, id_expression: '{{ id }}', updated_expression: '{{ updated }}' },
        transform: [
          { type: 'dtl', rules: { default: [['add', '_id', '_S._id'], ['add', 'n', '_S.updated'], ['add', 'name', ['upper', '_S.name']]] } },
          { type: 'http', system: 'enricher', url: 'enrich', batch_size: 500 },
        ],
      },
      {
        _id: 'erp-person',
        type: 'pipe',
        batch_size: 100,
        source: { type: 'dataset', dataset: 'crm-person' },
        transform: { type: 'dtl', rules: { default: [['add', '_id', '_S._id'], ['add', 'payload', ['dict', 'name', '_S.name', 'region', '_S.region']]] } },
        sink: { type: 'rest', system: 'erp', operation: 'upsert' },
      },
    ]);

    expect(await rt.runPipe('crm-person')).toMatchObject({ status: 'completed', read: 10_000, written: 10_000 });
    expect(enrich.received).toBe(10_000);
    expect(await rt.runPipe('erp-person')).toMatchObject({ status: 'completed', read: 10_000, written: 10_000 });
    expect(target.writes).toHaveLength(10_000);
    const r42 = target.writes.find((w) => w.id === 'r42')!;
    expect(JSON.parse(r42.body)).toEqual({ name: 'RECORD 42', region: 'even' });

    // 1% changes at the source (they move to the end of the change order).
    for (let i = 1; i <= 100; i++) api.put({ id: `r${i * 97}`, updated: 10_000 + i, name: `renamed ${i * 97}` });
    target.writes.length = 0;
    enrich.received = 0;
    expect(await rt.runPipe('crm-person')).toMatchObject({ status: 'completed', read: 100, written: 100 });
    expect(enrich.received).toBe(100);
    expect(await rt.runPipe('erp-person')).toMatchObject({ status: 'completed', read: 100, written: 100 });
    expect(target.writes.map((w) => w.id).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `r${(i + 1) * 97}`).sort());
    expect(JSON.parse(target.writes.find((w) => w.id === 'r194')!.body)).toEqual({ name: 'RENAMED 194', region: 'even' });
    expect((await latest(rt, 'crm-person')).length).toBe(10_000);
  });
});
