/**
 * What the browser test files (browser*.test.ts) share: finding Debian's Chromium (or the one
 * GRADLAB_CHROMIUM names), the flags that give it WebGL2 without a GPU, where screenshots go, and a
 * page whose console errors and uncaught exceptions are collected.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROOT } from '../src/node/lab/bundle.js';

export const CHROMIUM_FLAGS = [
  '--no-sandbox', // CI runs as root
  '--use-angle=swiftshader', // WebGL2 without a GPU: ANGLE on SwiftShader (a real GPU is used where there is one and these are dropped)
  '--enable-unsafe-swiftshader',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where screenshots and timings go (printed by the tests). */
export const BROWSER_OUT = resolve(process.env.GRADLAB_BROWSER_OUT ?? join(ROOT, '.tmp', 'browser'));

/** The Chromium to drive, or null and why not (the test file then prints that line and registers no test). */
export function findChromium(): { path: string | null; why: string } {
  if (process.env.GRADLAB_SKIP_BROWSER === '1') return { path: null, why: 'GRADLAB_SKIP_BROWSER=1' };
  const given = process.env.GRADLAB_CHROMIUM;
  if (given) return { path: given, why: '' };
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() !== '') return { path: r.stdout.trim(), why: '' };
  }
  return { path: null, why: 'no chromium on the PATH (apt-get install chromium, or set GRADLAB_CHROMIUM)' };
}

/** A page at `url` whose console errors and uncaught exceptions are pushed onto `errors`. */
export async function openPage(browser: Browser, url: string, errors: string[], viewport?: { width: number; height: number }): Promise<Page> {
  const page = await browser.newPage(viewport === undefined ? {} : { viewport });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${url}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`${url}: uncaught ${e.message}`));
  await page.goto(url);
  return page;
}
