/**
 * Headless Chromium for the viewer's end-to-end tests and screenshots: Debian's /usr/bin/chromium
 * driven by playwright-core, WebGL through SwiftShader (no GPU), a fresh profile each launch.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.FACE3D_CHROMIUM ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-gl=angle',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** A browser with its own throwaway profile; `close` removes the profile too. */
export async function launchBrowser(viewport = { width: 1366, height: 768 }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'face3d-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: ARGS, viewport, acceptDownloads: true });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs the viewer in with `key` and waits for the app to show. */
export async function signIn(page: Page, key: string): Promise<void> {
  await page.fill('#api-key', key);
  await page.click('form.sign-in button[type=submit]');
  await page.locator('#server-info:not(:empty)').waitFor();
}
