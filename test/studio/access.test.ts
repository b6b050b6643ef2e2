/**
 * Sluice Studio in real Chromium on runtimes that limit it: one that requires tokens (the sign-in
 * page, bearer tokens on every API call, nothing else served before sign-in), and one that runs a
 * plan from git (read-only config that says where it lives).
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { publicAssets, studioDistDir } from '../../runtime/api/studio.js';
import { launchBrowser, type Browser } from './browser.js';
import { freePort } from '../../scripts/test-services/ports.js';
import { tempDir } from '../support/runtime.js';
import { startStudioRuntime, type StudioRuntime } from './fixture.js';
import { checkPage, open } from './pages.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
  browser.page.setDefaultTimeout(20_000);
});
afterAll(async () => browser?.close());

describe('with --jwt-secret', () => {
  const secret = 'a-studio-browser-test-secret-of-enough-length';
  let s: StudioRuntime;
  beforeAll(async () => {
    s = await startStudioRuntime({ auth: { jwtSecret: secret } });
  });
  afterAll(async () => s?.close());

  it('shows only the sign-in page without a token, then the app with the token as a bearer token', async () => {
    const page = browser.page;
    const requests: { path: string; authorization?: string }[] = [];
    const listener = (r: { url(): string; headers(): Record<string, string> }) => {
      const url = new URL(r.url());
      if (url.origin === s.base) requests.push({ path: url.pathname, authorization: r.headers().authorization });
    };
    page.on('request', listener);
    await open(page, s.base, '/pipes/person', 'Sluice Studio');
    const token = page.getByLabel('Token (JWT)');
    await token.waitFor();
    const publicFiles = publicAssets(studioDistDir()!);
    const assets = requests.filter((r) => r.path.startsWith('/assets/')).map((r) => r.path);
    expect(assets.length).toBeGreaterThan(0);
    for (const a of assets) expect(publicFiles.has(a), a).toBe(true);
    await checkPage(page, 'sign-in');

    await token.fill('not.a.token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The runtime refused this token.').waitFor();

    const jwt = await new SignJWT({ sub: 'studio-tester' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(new TextEncoder().encode(secret));
    requests.length = 0;
    await token.fill(jwt);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The deep link the user came for.
    await page.getByRole('heading', { level: 1, name: /person/ }).waitFor();
    const apiCalls = requests.filter((r) => r.path.startsWith('/api/'));
    expect(apiCalls.length).toBeGreaterThan(1);
    for (const c of apiCalls) expect(c.authorization, c.path).toBe(`Bearer ${jwt}`);

    // A reload keeps the session; signing out forgets the token.
    await open(page, s.base, '/datasets', 'Datasets');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token (JWT)').waitFor();
    await open(page, s.base, '/graph');
    await page.getByLabel('Token (JWT)').waitFor();
    page.off('request', listener);
  });
});

describe('a runtime that runs a plan from git', () => {
  let s: StudioRuntime;
  const origin = { revision: '4f1c2d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e', repository: 'https://git.example.org/acme/integrations.git', ref: 'main', path: 'sluice' };
  beforeAll(async () => {
    s = await startStudioRuntime({ fromGit: origin });
  });
  afterAll(async () => s?.close());

  it('shows the config read-only with the repository and commit it came from', async () => {
    const page = browser.page;
    await open(page, s.base, '/config', 'Config');
    const notice = page.getByTestId('config-origin');
    await notice.waitFor();
    const text = await notice.textContent();
    for (const part of [origin.repository, origin.revision, origin.ref, origin.path]) expect(text).toContain(part);
    expect(await page.getByRole('button', { name: 'Save' }).count()).toBe(0);
    await checkPage(page, 'config-from-git');

    await open(page, s.base, '/pipes/person?tab=config', /person/);
    await page.getByText('the config is read-only here').waitFor();
    expect(await page.locator('.cm-content').getAttribute('contenteditable')).toBe('false');
    expect(await page.getByRole('button', { name: 'Save' }).count()).toBe(0);
  });
});

describe('the quickstart', () => {
  it('`sluice run examples/quickstart` (what npm start runs) shows the Overview with its data at /', async () => {
    const port = await freePort();
    const data = tempDir('sluice-quickstart-');
    const child = spawn(process.execPath, ['bin/sluice.js', 'run', 'examples/quickstart', '--port', String(port), '--host', '127.0.0.1', '--data-dir', data, '--log-level', 'warn'], { stdio: 'ignore' });
    try {
      const page = browser.page;
      for (let i = 0; ; i++) {
        try {
          await open(page, `http://127.0.0.1:${port}`, '/', 'Overview');
          break;
        } catch (err) {
          if (i >= 100) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      const card = (label: string) => page.locator('.card', { has: page.locator('.label', { hasText: new RegExp(`^${label}`) }) }).locator('.value');
      expect(await card('pipes').textContent()).toBe('2');
      // The pumps run at start; the Overview refreshes itself until both pipes wrote their 3 entities.
      await page.getByText('entities in 2 datasets').waitFor({ timeout: 60_000 });
      await page.waitForFunction(`document.querySelector('.card:nth-child(5) .value')?.textContent === '6'`, undefined, { timeout: 60_000 });
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(data, { recursive: true, force: true });
    }
  });
});
