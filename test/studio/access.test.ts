/**
 * Sluice Studio in real Chromium on runtimes that limit it: one that requires tokens (the sign-in
 * page, bearer tokens on every API call, nothing else served before sign-in), and one that runs a
 * plan from git (read-only config that says where it lives).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { publicAssets, studioDistDir } from '../../runtime/api/studio.js';
import { launchBrowser, type Browser } from './browser.js';
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
