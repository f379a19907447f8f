// Headless Chromium for the browser tests: Debian's Chromium driven by
// playwright-core, a page of the repository served from 127.0.0.1 by
// examples/serve.mjs (with the cross-origin isolation headers). Chromium:
// $CHROMIUM or /usr/bin/chromium.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../../examples/serve.mjs';

/** Where Chromium is looked for. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null when Chromium is there. */
export function missingChromium() {
  return existsSync(CHROMIUM)
    ? null
    : `no Chromium at ${CHROMIUM} (install it: apt-get install chromium, or set CHROMIUM=/path)`;
}

// No background networking: this machine's closed network refuses it.
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * Opens `path` in a fresh Chromium profile, waits until the page sets
 * `document.documentElement.dataset.done = '1'`, and returns
 * `window[resultsGlobal]`, `crossOriginIsolated`, the console and page errors,
 * and Chromium's version.
 */
export async function runPage(path, resultsGlobal, timeout) {
  const { chromium } = await import('playwright-core');
  const { server, url } = await serve();
  const userDataDir = mkdtempSync(join(tmpdir(), 'nogrow-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const logs = [];
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    await page.goto(`${url}${path}`);
    await page.waitForFunction(() => document.documentElement.dataset.done === '1', null, { timeout });
    const results = await page.evaluate((name) => window[name], resultsGlobal);
    const isolated = await page.evaluate(() => globalThis.crossOriginIsolated);
    const version = context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent));
    return { results, isolated, logs, version };
  } finally {
    await context.close();
    server.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}
