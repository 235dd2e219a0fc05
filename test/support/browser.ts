/**
 * Headless Chromium for end-to-end tests: Debian's `chromium` (`/usr/bin/chromium`, or
 * `CHROMIUM_PATH`) driven by playwright-core, never a downloaded browser. Each context gets a
 * fresh profile directory; the flags keep Chromium off the network (this machine has none).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Flags for a closed network: no background connections, no sandbox (root in CI). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A browser context on a fresh profile; `close()` also removes the profile. */
export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Starts Chromium with a fresh `--user-data-dir`, optionally sending basic-auth credentials. */
export async function openBrowser(credentials?: { username: string; password: string }): Promise<TestBrowser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
    ...(credentials ? { httpCredentials: credentials } : {}),
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
