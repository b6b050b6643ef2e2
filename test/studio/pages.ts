/** Page helpers for the Studio's Chromium suites: open a path, check accessibility, keep a screenshot. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { seriousViolations } from './browser.js';

/** Where screenshots go: SLUICE_SCREENSHOTS=docs refreshes the ones in the README. */
export const SCREENSHOTS = process.env.SLUICE_SCREENSHOTS ?? join('.test-reports', 'studio');

export async function open(page: Page, base: string, path: string, heading?: string | RegExp): Promise<void> {
  await page.goto(base + path);
  if (heading !== undefined) await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

/** No serious or critical axe-core violations, and a screenshot named `name`. */
export async function checkPage(page: Page, name: string): Promise<void> {
  expect(await seriousViolations(page), `accessibility of ${name}`).toEqual([]);
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `studio-${name}.png`) });
}
