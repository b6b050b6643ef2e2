/**
 * bench studio: Sluice Studio in headless Chromium against a runtime with 1,000 pipes and a
 * 1,000,000-entity dataset. Measured in the browser (performance.now() from the navigation's
 * start): until the pipes list shows its rows, until the flow graph has laid out and drawn its
 * nodes, and until the dataset browser shows its first page; the median of a few loads each.
 */
import { rmSync } from 'node:fs';
import pino from 'pino';
import { startApi } from '../runtime/api/app.js';
import { SluiceRuntime } from '../runtime/service/runtime.js';
import { EmbeddedStore } from '../runtime/store/embedded/store.js';
import { buildStudio } from '../studio/build.mjs';
import { launchBrowser } from '../test/studio/browser.js';
import { tempDir } from '../test/support/runtime.js';
import { generateConfig } from './compile.js';
import { generateEntities } from './dtl.js';
import { log, option, round } from './util.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const pipes = option(args, 'pipes', 1000);
  const entities = option(args, 'entities', 1_000_000);
  const loads = option(args, 'loads', 3);
  buildStudio({ quiet: true });
  const dir = tempDir('sluice-bench-studio-');
  const store = new EmbeddedStore({ dataDir: dir });
  const rt = await SluiceRuntime.open({ store, logger: pino({ level: 'warn' }), schedule: false });
  const browser = await launchBrowser();
  const app = await startApi(rt, { port: 0, host: '127.0.0.1', logger: false });
  try {
    log(`filling a dataset with ${entities.toLocaleString('en')} entities through the store`);
    for (let from = 0; from < entities; from += 20_000) {
      await store.write('customers', generateEntities(Math.min(20_000, entities - from)).map((e, i) => ({ ...e, _id: `c${from + i}` })));
    }
    store.checkpointWal();
    const config = await rt.setConfigFiles(generateConfig(pipes));
    if (!config.ok) throw new Error(rt.describeErrors(config.diagnostics));
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const page = browser.page;
    page.setDefaultTimeout(60_000);
    const sinceNavigation = () => page.evaluate(() => performance.now());

    const measure = async (name: string, path: string, ready: () => Promise<void>): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < loads; i++) {
        await page.goto('about:blank');
        await page.goto(base + path, { waitUntil: 'commit' });
        await ready();
        times.push(await sinceNavigation());
      }
      log(`${name}: ${times.map((t) => round(t)).join(', ')} ms`);
      return round(median(times));
    };

    const pipesPage = await measure('pipes list', '/pipes', async () => {
      await page.getByTestId('pipe-count').getByText(`${pipes.toLocaleString('en')} of ${pipes.toLocaleString('en')} pipes`).waitFor();
      await page.locator('[data-pipe]').first().waitFor();
    });
    const graph = await measure('flow graph', '/graph', async () => {
      await page.locator('.react-flow__node').first().waitFor();
      await page.getByRole('heading', { name: new RegExp(`^${pipes} pipes`) }).waitFor();
    });
    const datasetPage = await measure('dataset browser', '/datasets/customers', async () => {
      await page.getByRole('table', { name: 'Entities' }).getByRole('button', { name: 'c0', exact: true }).waitFor();
    });
    return { bench: 'studio', pipes, pipes_page_ms: pipesPage, graph_ms: graph, dataset_page_ms: datasetPage };
  } finally {
    app.server.closeAllConnections();
    await app.close();
    await browser.close();
    await rt.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
