/**
 * Sluice Studio in real Chromium against a real runtime with real data: every page, the editor's
 * inline diagnostics, a preview, pump operations, history diffs, the impact preview, deep links,
 * and an accessibility check (axe-core) of each page. Screenshots go to SCREENSHOTS.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { compile } from '../../compiler/compile.js';
import { readConfigFolder } from '../../compiler/load/files.js';
import { launchBrowser, type Browser } from './browser.js';
import { startStudioRuntime, type StudioRuntime } from './fixture.js';
import { checkPage, open } from './pages.js';

let s: StudioRuntime;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  s = await startStudioRuntime();
  browser = await launchBrowser();
  page = browser.page;
  page.setDefaultTimeout(20_000);
  page.on('dialog', (d) => void d.accept());
});
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

async function api<T = unknown>(path: string): Promise<T> {
  const res = await fetch(s.base + path);
  return (await res.json()) as T;
}

/** Waits until `check` holds for the runtime's state (read through the API). */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened: ${what}`);
}

/** Selects `find` with the editor's search panel (Ctrl+F), as a user would, and types `replacement` over it. */
async function replaceInEditor(find: string, replacement: string): Promise<void> {
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+f');
  const search = page.locator('.cm-search input[name=search]');
  await search.pressSequentially(find);
  await search.press('Enter');
  await search.press('Escape');
  await page.keyboard.type(replacement);
}

const pipeRows = () => page.locator('[data-pipe]');

describe('Overview', () => {
  it('shows systems with inbound and outbound pipes, pipes by state and entities', async () => {
    await open(page, s.base, '/', 'Overview');
    const card = (label: string) => page.locator('.card', { has: page.locator('.label', { hasText: new RegExp(`^${label}`) }) }).locator('.value');
    expect(await card('pipes').textContent()).toBe('7');
    expect(await card('failed').textContent()).toBe('1');
    expect(await card('running').textContent()).toBe('0');
    expect(await card('config errors pending').textContent()).toBe('0');
    const entities = (await api<{ runtime: { 'count-index-exists': number } }[]>('/api/datasets?include-internal-datasets=false')).reduce((n, d) => n + d.runtime['count-index-exists'], 0);
    expect(await card('entities').textContent()).toBe(entities.toLocaleString('en'));
    const crm = page.getByRole('row', { name: /crm-api/ });
    expect(await crm.locator('td').allTextContents()).toEqual(['crm-api', 'system:url', '1', '1']);
    expect(await page.locator('.panel', { hasText: 'Failing pipes' }).getByRole('link', { name: 'legacy-import' }).count()).toBe(1);
    const largest = page.getByRole('table', { name: 'Largest datasets' }).getByRole('row');
    expect(await largest.nth(1).locator('td').first().textContent()).toBe('crm-person');
    await checkPage(page, 'overview');
  });
});

describe('Pipes', () => {
  it('lists every pipe with state and last run, filters and searches, and keeps back/forward', async () => {
    await open(page, s.base, '/pipes', 'Pipes');
    await pipeRows().first().waitFor();
    expect(await pipeRows().count()).toBe(7);
    const person = page.locator('[data-pipe="person"]');
    expect(await person.getByRole('cell').nth(1).textContent()).toBe('ok');
    expect(await person.getByRole('cell').nth(4).textContent()).toBe('3 / 3');
    expect(await page.locator('[data-pipe="legacy-import"]').getByRole('cell').nth(1).textContent()).toBe('failed');
    await checkPage(page, 'pipes');

    await page.getByLabel('State').selectOption('failed');
    await page.waitForURL(/state=failed/);
    await until(async () => (await pipeRows().count()) === 1, 'the failed filter');
    expect(await pipeRows().first().getAttribute('data-pipe')).toBe('legacy-import');
    await page.getByLabel('State').selectOption('');
    await page.getByLabel('Search').fill('person');
    await until(async () => (await pipeRows().count()) === 3, 'the search');
    expect(await page.getByTestId('pipe-count').textContent()).toBe('3 of 7 pipes');

    await page.getByRole('link', { name: 'person-orders' }).click();
    await page.getByRole('heading', { level: 1, name: /person-orders/ }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/pipes/person-orders');
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: 'Pipes' }).waitFor();
    expect(new URL(page.url()).search).toBe('?q=person');
    await until(async () => (await pipeRows().count()) === 3, 'the search after going back');
    await page.goForward();
    await page.getByRole('heading', { level: 1, name: /person-orders/ }).waitFor();
  });
});

describe('Pipe', () => {
  it('shows the compiler diagnostics inline as you type, at the positions sluice validate reports', async () => {
    await open(page, s.base, '/pipes/person?tab=config', /person/);
    await page.getByTestId('validation-summary').getByText('No errors').waitFor();
    await replaceInEditor('lower', 'lowr');
    await page.locator('.cm-lintRange-error').first().waitFor();
    await page.getByTestId('validation-summary').getByText('1 error(s), 0 warning(s)').waitFor();

    const files = readConfigFolder(s.configDir).map((f) => (f.path === 'pipes/person.conf.json' ? { ...f, text: f.text.replace('"lower"', '"lowr"') } : f));
    const [d] = compile(files).diagnostics;
    expect(d.code).toBe('DTL_UNKNOWN_FUNCTION');
    const listed = page.locator('.diag-list li');
    expect(await listed.count()).toBe(1);
    expect(await listed.first().textContent()).toBe(`error ${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`);
    expect(await page.getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
    await checkPage(page, 'pipe-config');
  });

  it('previews the DTL on a source entity and on a pasted one, naming the rule', async () => {
    await open(page, s.base, '/pipes/person?tab=config', /person/);
    const input = page.getByLabel('Source entity (JSON; edit or paste one)');
    await until(async () => (await input.inputValue()).includes('"Ada"'), 'a source entity in the preview');
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    const result = page.getByTestId('preview-result');
    await result.getByText('"Ada Lovelace"').waitFor();
    expect(await result.textContent()).toContain('rule "default"');
    await input.fill(JSON.stringify({ _id: 'p-9', first_name: 'Ole', last_name: 'Dahl', email: 'OLE@EXAMPLE.NO', country: 'NO' }));
    await input.press('Control+Enter');
    await result.getByText('"Nordics"').waitFor();
    expect(await result.textContent()).toContain('"ole@example.no"');
    await checkPage(page, 'pipe-preview');
  });

  it('saves an edit after showing its impact', async () => {
    await open(page, s.base, '/pipes/person?tab=config', /person/);
    await page.getByTestId('validation-summary').getByText('No errors').waitFor();
    await replaceInEditor('Nordics', 'Norden');
    await page.getByTestId('impact').getByText(/person.*changes \(transform\)/).waitFor();
    await page.getByRole('button', { name: 'Save' }).click();
    expect(await page.getByRole('status').textContent()).toBe('Saved. The runtime runs the new config.');
    const config = await api<{ transform: { rules: { default: unknown[] } } }>('/api/pipes/person/config');
    expect(JSON.stringify(config.transform.rules.default)).toContain('Norden');
  });

  it('runs pump operations: reset, start, reset to an offset, disable and enable; the execution log shows them', async () => {
    await open(page, s.base, '/pipes/person', /person/);
    const pump = () => api<{ runtime: { 'last-seen': string; 'is-disabled': boolean; 'last-run': string | null } }>('/api/pipes/person/pump');
    await page.getByRole('button', { name: 'Reset…' }).click();
    await page.getByText('reset: done').waitFor();
    expect((await pump()).runtime['last-seen']).toBe('');
    const before = (await pump()).runtime['last-run'];
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await until(async () => (await pump()).runtime['last-run'] !== before, 'the run started from the Studio');
    await page.getByLabel('Reset to offset (last seen)').fill('2');
    await page.getByRole('button', { name: 'Update last seen' }).click();
    await page.getByText('update-last-seen: done').waitFor();
    expect((await pump()).runtime['last-seen']).toBe('2');
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('heading', { level: 1 }).getByText('disabled').waitFor();
    expect((await pump()).runtime['is-disabled']).toBe(true);
    await checkPage(page, 'pipe-dashboard');
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('heading', { level: 1 }).getByText('ok').waitFor();

    await page.getByRole('tab', { name: 'Execution log' }).click();
    const log = page.getByRole('table', { name: 'Execution log' });
    await log.getByText('pump-completed').first().waitFor();
    const text = await log.textContent();
    for (const event of ['pump-offset-set', 'pump-started', 'pump-disabled', 'pump-enabled']) expect(text).toContain(event);
    expect(text).toContain('last seen set to 2');
    await checkPage(page, 'pipe-log');

    await page.getByRole('tab', { name: 'Input and output' }).click();
    await page.getByRole('heading', { name: 'Downstream pipes' }).waitFor();
    expect(await page.getByRole('link', { name: 'person-orders' }).count()).toBe(1);
    expect(await page.getByRole('link', { name: 'crm-person' }).count()).toBeGreaterThan(0);
    await checkPage(page, 'pipe-io');
  });
});

describe('Datasets', () => {
  it('lists datasets, pages entities, finds one by _id and diffs its versions; deleted entities can be hidden', async () => {
    await open(page, s.base, '/datasets', 'Datasets');
    await page.getByRole('link', { name: 'customers' }).waitFor();
    await checkPage(page, 'datasets');
    await page.getByRole('link', { name: 'customers' }).click();
    await page.getByRole('heading', { level: 1, name: 'customers' }).waitFor();
    const table = page.getByRole('table', { name: 'Entities' });
    await table.getByRole('button', { name: 'c2' }).waitFor();
    expect(await table.getByRole('row', { name: /c2/ }).textContent()).toContain('deleted');
    await page.getByLabel('Show deleted entities').uncheck();
    await until(async () => (await table.getByRole('button', { name: 'c2' }).count()) === 0, 'deleted entities hidden');
    expect(await table.getByRole('button', { name: 'c1' }).count()).toBe(1);

    await page.getByLabel('Find by _id').fill('c1');
    await page.getByRole('button', { name: 'Open' }).click();
    const detail = page.getByTestId('entity-detail');
    await detail.getByText('History (2 versions)').waitFor();
    const diff = await page.getByTestId('version-diff').textContent();
    expect(diff).toContain('-   "name": "Ada Byron"');
    expect(diff).toContain('+   "name": "Ada Lovelace"');
    expect(diff).toContain('+   "titles": [');
    expect(new URL(page.url()).search).toContain('entity=c1');
    await checkPage(page, 'dataset');
    await page.getByLabel('Find by _id').fill('nobody');
    await page.getByRole('button', { name: 'Open' }).click();
    await page.getByText('No entity "nobody" in this dataset.').waitFor();
  });
});

describe('Dataset browser', () => {
  it('shows every entity, the one whose version is at offset 0 too', async () => {
    const all = await api<{ _id: string; _updated: number }[]>('/api/datasets/crm-person/entities?history=false');
    expect(all.some((e) => e._updated === 0)).toBe(true);
    await open(page, s.base, '/datasets/crm-person', 'crm-person');
    const table = page.getByRole('table', { name: 'Entities' });
    await table.getByRole('button', { name: all[all.length - 1]._id, exact: true }).waitFor();
    expect(await table.getByRole('button').allTextContents()).toEqual(all.map((e) => e._id));
  });
});

describe('Flow graph', () => {
  it('draws systems, pipes and datasets with hops edges and failing pipes, emphasises lineage and clicks through', async () => {
    await open(page, s.base, '/graph', 'Flow graph');
    const graph = (await api<{ nodes: unknown[] }>('/api/studio/graph')).nodes.length;
    await until(async () => (await page.locator('.react-flow__node').count()) === graph, 'every node drawn');
    expect(await page.locator('.react-flow__edge.edge-hops').count()).toBe(1);
    expect(await page.locator('.react-flow .flow-node.failed').textContent()).toContain('legacy-import');
    await checkPage(page, 'graph');

    await page.locator('[data-node="pipe:person"]').click();
    await page.getByTestId('graph-selection').getByRole('heading', { name: 'pipe person' }).waitFor();
    expect(await page.locator('[data-node="pipe:orders"]').getAttribute('class')).toContain('dim');
    expect(await page.locator('[data-node="pipe:crm-person"]').getAttribute('class')).not.toContain('dim');
    expect(await page.locator('[data-node="system:crm-api"]').getAttribute('class')).not.toContain('dim');
    await page.getByRole('link', { name: 'Open pipe person' }).click();
    await page.getByRole('heading', { level: 1, name: /person/ }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/pipes/person');
    await page.goBack();
    await page.locator('[data-node="dataset:orders"]').dblclick();
    await page.getByRole('heading', { level: 1, name: 'orders' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/datasets/orders');
  });
});

describe('Systems', () => {
  it('lists systems with the pipes that use them', async () => {
    await open(page, s.base, '/systems', 'Systems');
    const row = page.getByRole('row', { name: /crm-api/ });
    expect(await row.textContent()).toContain('crm-contacts');
    expect(await row.textContent()).toContain('crm-export');
    await checkPage(page, 'systems');
  });
});

describe('Config', () => {
  it('previews the impact of removing a file and saves a new pipe', async () => {
    await open(page, s.base, '/config', 'Config');
    await page.getByRole('button', { name: 'pipes/orders.conf.json' }).click();
    await page.getByRole('button', { name: 'Remove file' }).click();
    const impact = page.getByTestId('impact');
    await impact.getByText(/Dataset orders is no longer produced/).waitFor();
    expect(await impact.textContent()).toContain('person-orders still reads orders');
    await checkPage(page, 'config');
    await page.getByRole('button', { name: 'Discard changes' }).click();
    await page.getByLabel('New pipe').fill('extra');
    await page.getByRole('button', { name: 'Add' }).click();
    await impact.getByText('New pipe extra').waitFor();
    await page.getByRole('button', { name: 'Save' }).click();
    expect(await page.getByRole('status').textContent()).toBe('Saved. The runtime runs the new config.');
    expect((await fetch(`${s.base}/api/pipes/extra`)).status).toBe(200);
    const files = readFileSync(join(s.configDir, 'pipes/orders.conf.json'), 'utf8');
    expect(files).toContain('o-1');
  });
});

describe('deep links', () => {
  it('opens every page from its address and shows a not-found page for unknown ones', async () => {
    for (const [path, heading] of [
      ['/', 'Overview'],
      ['/pipes', 'Pipes'],
      ['/pipes/crm-person', /crm-person/],
      ['/datasets', 'Datasets'],
      ['/datasets/person', 'person'],
      ['/graph', 'Flow graph'],
      ['/systems', 'Systems'],
      ['/config', 'Config'],
      ['/systems/crm-api', 'Systems'],
    ] as const) {
      await open(page, s.base, path, heading);
      expect(await page.locator('nav a[aria-current="page"]').count(), path).toBe(1);
    }
    await open(page, s.base, '/pipes/no-such-pipe');
    await page.getByText('Could not load pipe no-such-pipe').waitFor();
  });
});
