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
    /**
     * Loads `path` and answers the time from the navigation's start until `ready` (evaluated in
     * the page on every animation frame) first holds: the moment a user sees the page usable.
     */
    const measure = async (name: string, path: string, ready: string): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < loads; i++) {
        await page.goto('about:blank');
        await page.goto(base + path, { waitUntil: 'commit' });
        const at = await page.waitForFunction(`(${ready}) ? performance.now() : false`, undefined, { polling: 'raf' });
        times.push((await at.jsonValue()) as number);
      }
      log(`${name}: ${times.map((t) => round(t)).join(', ')} ms`);
      return round(median(times));
    };

    const n = pipes.toLocaleString('en');
    const pipesPage = await measure('pipes list', '/pipes', `document.querySelector('[data-testid=pipe-count]')?.textContent === '${n} of ${n} pipes' && document.querySelector('[data-pipe] a') !== null`);
    const graph = await measure('flow graph', '/graph', `[...document.querySelectorAll('.react-flow__node')].some((e) => e.checkVisibility())`);
    const datasetPage = await measure('dataset browser', '/datasets/customers', `[...document.querySelectorAll('[aria-label=Entities] button')].some((b) => b.textContent === 'c0')`);
    return { bench: 'studio', pipes, pipes_page_ms: pipesPage, graph_ms: graph, dataset_page_ms: datasetPage };
  } finally {
    app.server.closeAllConnections();
    await app.close();
    await browser.close();
    await rt.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
