/**
 * The browser pass: gradlab in a real Chromium (Debian's `chromium`, driven by playwright-core with
 * the system executable; no browser download), WebGL2 on SwiftShader where there is no GPU
 * (--use-angle=swiftshader --enable-unsafe-swiftshader).
 *
 *   - the op-test page (test/browser/op-page.ts) loads with no console error and exports the
 *     same names as the Node entry; g.data's Node-only functions throw one line saying what instead
 *   - every row of the op-test table: gpu (webgl2, WebGLKernel class checked) equals reference,
 *     forward and backward, with the tolerances of gpu-vs-reference.test.ts (./op-table/compare.ts)
 *   - textures are freed exactly once: the live count stays flat over a training loop in webgl2
 *   - `auto` on SwiftShader chooses webasm and says why; WebGL1 runs a row of each network op
 *   - the lab page: window.g and window.lab; lab.train runs SmallNet for a few steps in its Web
 *     Worker (webasm here, its SIMD kernels on 2 threads: the page is cross-origin isolated) and the
 *     loss falls, as on 1 thread; a screenshot is written (the path is printed)
 *
 * Chromium: GRADLAB_CHROMIUM, else `chromium` / `chromium-browser` / `google-chrome` on the PATH.
 * Without one no test here runs, and one line says why (as for the GL pass).
 * GRADLAB_SKIP_BROWSER=1 skips it too.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import * as g from '../src/index.js';
import { COMPOSITE_ROWS, OP_ROWS } from './op-table/index.js';
import { rowLabel } from './op-table/row.js';
import { bundleLab, bundlePage, ROOT } from '../src/node/lab/bundle.js';
import { serveStatic, type LabServer } from '../src/node/lab/server.js';
import { writeSyntheticCifar } from '../src/node/synthetic-files.js';
import { BROWSER_OUT as OUT, CHROMIUM_FLAGS, findChromium, openPage } from './chromium.js';

const ROWS = [...OP_ROWS, ...COMPOSITE_ROWS];
const found = findChromium();

interface Session {
  browser: Browser;
  server: LabServer;
  /** The lab at the root, with a data folder as ./data (as `npm run lab` serves it). */
  labServer: LabServer;
  opPage: Page;
  consoleErrors: string[];
}
let session: Session | null = null;
const timings: { row: string; gpuMs: number; referenceMs: number }[] = [];

function s(): Session {
  if (session === null) throw new Error('the browser session did not start (see the first failure)');
  return session;
}

/** Calls globalThis.gradlabTest[name](...args) in the op page. */
function callOpPage<T>(name: string, ...args: unknown[]): Promise<T> {
  return s().opPage.evaluate(([n, a]) => Reflect.get(Reflect.get(globalThis, 'gradlabTest'), n)(...a), [name, args] as const);
}

interface LabResult {
  losses: number[];
  b: number[][];
  imagesPerSecond: number;
  info: g.GpuInfo;
  liveTextures: number[];
}

/** lab.train in the page, failing after 4 minutes rather than hanging the test run. */
async function labTrain(page: Page, options: object): Promise<LabResult> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('lab.train did not finish within 4 minutes')), 240_000);
  });
  try {
    return await Promise.race([page.evaluate((o) => Reflect.get(Reflect.get(globalThis, 'lab'), 'train')(o), options), limit]);
  } finally {
    clearTimeout(timer);
  }
}

if (found.path === null) {
  // One line, as the GL pass does; no test is registered, so the pass counts 0 tests.
  console.log(`browser tests skipped: ${found.why}`);
} else {
  const executablePath = found.path;

  test.before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradlab-browser-'));
    await bundlePage(join(ROOT, 'test/browser/op-page.ts'), join(dir, 'op-page.js'), { minify: false });
    writeFileSync(join(dir, 'op.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>op table</title><script type="module" src="./op-page.js"></script>\n');
    await bundleLab(join(dir, 'lab'));
    const server = await serveStatic(dir);
    writeSyntheticCifar({ dataset: 'cifar10', dir: join(dir, 'data'), train: 100, test: 20, seed: 1 });
    const labServer = await serveStatic(join(dir, 'lab'), { dataDir: join(dir, 'data') });
    const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_FLAGS });
    const consoleErrors: string[] = [];
    const opPage = await openPage(browser, `${server.url}op.html`, consoleErrors);
    await opPage.waitForFunction(() => Reflect.has(globalThis, 'gradlabTest'), undefined, { timeout: 60_000 });
    session = { browser, server, labServer, opPage, consoleErrors };
  });

  test.after(async () => {
    if (timings.length > 0) {
      mkdirSync(OUT, { recursive: true });
      writeFileSync(join(OUT, 'op-timings.json'), JSON.stringify(timings, null, 1) + '\n');
      const total = timings.reduce((t, r) => t + r.gpuMs, 0);
      console.log(`\nbrowser op table (webgl2, SwiftShader here): ${timings.length} rows, gpu ${(total / 1000).toFixed(1)} s in all; per row in ${join(OUT, 'op-timings.json')}`);
    }
    await session?.browser.close();
    await session?.server.close();
    await session?.labServer.close();
  });

  test('browser: the op page loads with no console error, and the browser entry exports the names of the Node entry', async () => {
    const names = await callOpPage<{ top: string[]; data: string[] }>('names');
    assert.equal(names.top, Object.keys(g).sort());
    assert.equal(names.data, Object.keys(g.data).sort());
    assert.equal(s().consoleErrors, []);
  });

  test("browser: g.data's Node-only functions throw one line naming what to use instead", async () => {
    const message = await callOpPage<string>('nodeOnlyMessage');
    assert.ok(message.includes('loadCifar') && message.includes('g.data.cifarFromBytes') && !message.includes('\n'), message);
  });

  test("browser: setGpuMode('webgl2') runs WebGL2 and gpuInfo names the renderer", async () => {
    const info = await callOpPage<g.GpuInfo>('start', 'webgl2');
    assert.is(info.mode, 'webgl2');
    assert.is(info.reason, "setGpuMode('webgl2')");
  });

  ROWS.forEach((c, i) => {
    test(`${rowLabel(c)}: gpu (webgl2, Chromium) equals reference, forward and backward (float32)`, async () => {
      const r = await callOpPage<{ label: string; failure: string | null; gpuMs: number; referenceMs: number; mode: string; kernelClass: string }>('runRow', i);
      assert.is(r.label, rowLabel(c), 'the page runs the same row');
      assert.ok(r.failure === null, r.failure ?? '');
      assert.is(r.mode, 'webgl2');
      assert.is(r.kernelClass, 'WebGL2Kernel');
      timings.push({ row: r.label, gpuMs: Math.round(r.gpuMs * 10) / 10, referenceMs: Math.round(r.referenceMs * 10) / 10 });
    });
  });

  test('browser: after the first kernel gpuInfo reports the WebGL2 renderer (SwiftShader here: software)', async () => {
    const info = await callOpPage<g.GpuInfo>('info');
    assert.ok(info.renderer !== null && info.summary !== null && info.summary.startsWith('WebGL2 on '), JSON.stringify(info));
    if (/swiftshader/i.test(info.renderer)) assert.ok(info.softwareRenderer && info.summary.endsWith('(software)'), info.summary);
  });

  test('browser: textures are freed exactly once — live textures stay flat over a webgl2 training loop', async () => {
    const r = await callOpPage<{ before: number; perStep: number[]; afterDispose: number; losses: number[] }>('textureCounts', 6);
    assert.ok(r.perStep.every((n) => n === r.perStep[0]), `live textures per step: ${r.perStep.join(', ')}`);
    assert.ok(r.afterDispose < r.perStep[0], `after disposing the model: ${r.afterDispose} (during training ${r.perStep[0]})`);
    assert.ok(r.losses[5] < r.losses[0], `losses ${r.losses.join(', ')}`);
  });

  test("browser: 'auto' on a software renderer chooses webasm and says why", async () => {
    const page = await openPage(s().browser, `${s().server.url}op.html`, s().consoleErrors);
    await page.waitForFunction(() => Reflect.has(globalThis, 'gradlabTest'));
    const info = await page.evaluate(() => Reflect.get(Reflect.get(globalThis, 'gradlabTest'), 'start')('auto'));
    const renderer = String(
      await page.evaluate(
        "(() => { const c = document.createElement('canvas').getContext('webgl2'); const i = c && c.getExtension('WEBGL_debug_renderer_info'); return c ? String(c.getParameter(i ? i.UNMASKED_RENDERER_WEBGL : c.RENDERER)) : ''; })()",
      ),
    );
    if (/swiftshader|llvmpipe/i.test(renderer)) {
      assert.is(info.mode, 'webasm');
      assert.ok(info.reason.includes('renders in software') && info.reason.includes('so webasm'), info.reason);
    } else {
      assert.is(info.mode, 'webgl2', `a hardware renderer (${renderer}): ${info.reason}`);
    }
    await page.close();
  });

  test("browser: WebGL1 (setGpuMode('webgl')) runs too: one row of each network op and matmul equals reference", async () => {
    const page = await openPage(s().browser, `${s().server.url}op.html`, s().consoleErrors);
    await page.waitForFunction(() => Reflect.has(globalThis, 'gradlabTest'));
    const call = (name: string, ...args: unknown[]): Promise<unknown> => page.evaluate(([n, a]) => Reflect.get(Reflect.get(globalThis, 'gradlabTest'), n)(...a), [name, args] as const);
    await call('start', 'webgl');
    const picked = ['matmul', 'conv2d', 'maxPool2d', 'batchNorm', 'frelu', 'crossEntropy'].map((op) => ROWS.findIndex((c) => c.op.name === op)).filter((i) => i >= 0);
    for (const i of picked) {
      const r = await call('runRow', i);
      const failure: unknown = Reflect.get(Object(r), 'failure');
      assert.ok(failure === null, String(failure));
      assert.is(Reflect.get(Object(r), 'kernelClass'), 'WebGLKernel', rowLabel(ROWS[i]));
    }
    await page.close();
  });

  test('browser: the lab page exposes window.g and window.lab; lab.train runs SmallNet in a worker and its loss falls; screenshot', async () => {
    const errors: string[] = [];
    const page = await openPage(s().browser, `${s().server.url}lab/`, errors);
    await page.waitForFunction(() => Reflect.has(globalThis, 'lab') && Reflect.has(globalThis, 'g'));
    const options = { model: 'smallnet', activation: 'frelu', bn: true, dataset: 'synthetic', steps: 8, batchSize: 16, seed: 1, lr: 0.01, syntheticCount: 64, threads: 2 };
    const r = await labTrain(page, options);
    assert.is(r.losses.length, 8);
    assert.is(r.b.length, 8);
    assert.is(r.b[0].length, 4, 'SmallNet has 4 FReLU layers');
    const head = (r.losses[0] + r.losses[1]) / 2;
    const tail = (r.losses[6] + r.losses[7]) / 2;
    assert.ok(tail < head, `loss falls: ${r.losses.map((l) => l.toFixed(3)).join(', ')}`);
    assert.ok(r.imagesPerSecond > 0);
    mkdirSync(OUT, { recursive: true });
    const shot = join(OUT, 'lab.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`\nlab page: SmallNet ${r.imagesPerSecond.toFixed(1)} images/s on ${r.info.summary}; screenshot ${shot}`);
    writeFileSync(join(OUT, 'lab-train.json'), JSON.stringify({ ...r, options }, null, 1) + '\n');
    // The same run on one thread: the SIMD workers (2 threads above, cross-origin isolated) only split the work.
    assert.ok(r.info.summary?.includes('SIMD GEMM on 2 threads'), r.info.summary ?? '');
    const one = await labTrain(page, { ...options, steps: 2, threads: 1 });
    assert.ok(one.info.summary?.includes('SIMD GEMM on 1 thread'), one.info.summary ?? '');
    for (let i = 0; i < 2; i++) assert.ok(Math.abs(one.losses[i] - r.losses[i]) <= 1e-4 * Math.abs(r.losses[i]), `step ${i + 1}: 1 thread ${one.losses[i]}, 2 threads ${r.losses[i]}`);
    assert.equal(errors, []);
    await page.close();
  });

  test("browser: lab.train({ dataset: 'cifar10' }) reads the official binary files the server has as ./data", async () => {
    const errors: string[] = [];
    const page = await openPage(s().browser, s().labServer.url, errors);
    await page.waitForFunction(() => Reflect.has(globalThis, 'lab'));
    const r = await labTrain(page, { dataset: 'cifar10', steps: 2, batchSize: 8, seed: 1, lr: 0.01, threads: 1 });
    assert.is(Reflect.get(Reflect.get(Object(r), 'options'), 'images'), 100, 'the 5 training files, 20 images each');
    assert.ok(r.losses.length === 2 && r.losses.every(Number.isFinite), `losses ${r.losses.join(', ')}`);
    assert.equal(errors, []);
    await page.close();
  });

  test('browser: no console error on any page', () => {
    assert.equal(s().consoleErrors, []);
  });
}

test.run();
