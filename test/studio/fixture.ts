/**
 * A real runtime with real data for the Studio's tests: a config folder with systems (a small
 * local HTTP service, and one that does not answer), pipes with DTL and hops, and datasets with
 * history and deletions, run once in dependency order; the API and the Studio on a free port.
 */
import { createServer, type Server } from 'node:http';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { compile } from '../../compiler/compile.js';
import { readConfigFolder } from '../../compiler/load/files.js';
import { startApi } from '../../runtime/api/app.js';
import type { AuthOptions } from '../../runtime/api/auth.js';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';
import { freePort } from '../../scripts/test-services/ports.js';
import { openRuntime, tempDir } from '../support/runtime.js';

export interface StudioRuntime {
  rt: SluiceRuntime;
  app: FastifyInstance;
  /** http://127.0.0.1:<port> */
  base: string;
  configDir: string;
  close(): Promise<void>;
}

const PEOPLE = [
  { _id: '1', first_name: 'Ada', last_name: 'Lovelace', email: 'Ada@Example.org', country: 'GB', born: '1815-12-10' },
  { _id: '2', first_name: 'Grace', last_name: 'Hopper', email: 'grace@EXAMPLE.org', country: 'US', born: '1906-12-09' },
  { _id: '3', first_name: 'Kristen', last_name: 'Nygaard', email: 'kristen@example.no', country: 'NO', born: '1926-08-27' },
];

function write(dir: string, path: string, value: unknown): void {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), JSON.stringify(value, null, 2) + '\n');
}

/** The config folder: 7 pipes, 2 systems. */
export function writeStudioConfig(dir: string, crmUrl: string, deadUrl: string): void {
  write(dir, 'node-metadata.conf.json', { _id: 'node', type: 'metadata' });
  write(dir, 'systems/crm-api.conf.json', { _id: 'crm-api', type: 'system:url', base_url: crmUrl });
  write(dir, 'systems/legacy-erp.conf.json', { _id: 'legacy-erp', type: 'system:url', base_url: deadUrl, connect_timeout: 1, read_timeout: 1 });
  write(dir, 'pipes/crm-person.conf.json', { _id: 'crm-person', type: 'pipe', source: { type: 'embedded', entities: PEOPLE } });
  write(dir, 'pipes/person.conf.json', {
    _id: 'person',
    type: 'pipe',
    source: { type: 'dataset', dataset: 'crm-person' },
    transform: {
      type: 'dtl',
      rules: {
        default: [
          ['copy', '_id'],
          ['add', 'name', ['concat', '_S.first_name', ' ', '_S.last_name']],
          ['add', 'email', ['lower', '_S.email']],
          ['add', 'region', ['case-eq', '_S.country', 'NO', 'Nordics', 'SE', 'Nordics', 'Rest of world']],
        ],
      },
    },
  });
  write(dir, 'pipes/orders.conf.json', {
    _id: 'orders',
    type: 'pipe',
    source: {
      type: 'embedded',
      entities: [
        { _id: 'o-1', customer: '1', total: 450 },
        { _id: 'o-2', customer: '2', total: 1200 },
        { _id: 'o-3', customer: '1', total: 80 },
      ],
    },
  });
  write(dir, 'pipes/person-orders.conf.json', {
    _id: 'person-orders',
    type: 'pipe',
    source: { type: 'dataset', dataset: 'person' },
    transform: {
      type: 'dtl',
      rules: {
        default: [
          ['copy', '*'],
          ['add', 'orders', ['hops', { datasets: ['orders o'], where: ['eq', '_S._id', 'o.customer'] }]],
        ],
      },
    },
  });
  write(dir, 'pipes/crm-contacts.conf.json', { _id: 'crm-contacts', type: 'pipe', source: { type: 'json', system: 'crm-api', url: '/contacts' } });
  write(dir, 'pipes/crm-export.conf.json', { _id: 'crm-export', type: 'pipe', source: { type: 'dataset', dataset: 'person' }, sink: { type: 'json', system: 'crm-api', url: '/people' } });
  write(dir, 'pipes/legacy-import.conf.json', { _id: 'legacy-import', type: 'pipe', source: { type: 'json', system: 'legacy-erp', url: '/customers' } });
}

function crmService(): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.startsWith('/contacts')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify([{ _id: 'c-1', name: 'Ada' }, { _id: 'c-2', name: 'Grace' }]));
      return;
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Runs every pipe once in dependency order; failures are part of the data (a failing pipe). */
export async function runAllOnce(rt: SluiceRuntime): Promise<void> {
  for (const id of rt.plan!.graph.order) await rt.runPipe(id).catch(() => undefined);
}

export interface StudioRuntimeOptions {
  auth?: AuthOptions;
  /** Run the config as a plan compiled elsewhere (as a runtime pod of the operator does), from this git origin. */
  fromGit?: { revision: string; repository: string; ref: string; path: string };
}

export async function startStudioRuntime(opts: StudioRuntimeOptions = {}): Promise<StudioRuntime> {
  const configDir = tempDir('sluice-studio-config-');
  const crm = await crmService();
  const deadPort = await freePort();
  writeStudioConfig(configDir, `http://127.0.0.1:${(crm.address() as AddressInfo).port}`, `http://127.0.0.1:${deadPort}`);
  const rt = await openRuntime({ schedule: false });
  if (opts.fromGit) {
    const { revision, ...source } = opts.fromGit;
    const { plan, diagnostics } = compile(readConfigFolder(configDir));
    if (!plan) throw new Error(rt.describeErrors(diagnostics));
    await rt.usePlan({ ...plan, revision, source });
  } else {
    const result = await rt.setConfigFiles(readConfigFolder(configDir));
    if (!result.ok) throw new Error(rt.describeErrors(result.diagnostics));
  }
  await runAllOnce(rt);
  // A dataset with history and a deletion, written through the store as any writer would.
  await rt.store.write('customers', [{ _id: 'c1', name: 'Ada Byron', city: 'London' }, { _id: 'c2', name: 'Alan Turing' }]);
  await rt.store.write('customers', [{ _id: 'c1', name: 'Ada Lovelace', city: 'London', titles: ['Countess'] }]);
  await rt.store.write('customers', [{ _id: 'c2', _deleted: true }]);
  const app = await startApi(rt, { port: 0, host: '127.0.0.1', logger: false, auth: opts.auth });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    rt,
    app,
    base,
    configDir,
    async close() {
      // Browsers and fetch keep connections alive; the test is over, so none of them matter.
      app.server.closeAllConnections();
      await app.close();
      await rt.close();
      crm.closeAllConnections();
      await new Promise((r) => crm.close(r));
      rmSync(configDir, { recursive: true, force: true });
    },
  };
}
