/**
 * The lab's views 3 (Train SmallNet) and 4 (Export) in a real Chromium (as test/browser.test.ts:
 * Debian's `chromium` through playwright-core, WebGL2 on SwiftShader where there is no GPU; the
 * lab page picks webasm there). On the synthetic set, small batches:
 *
 *   - both views render with no console error
 *   - a live run of 20 steps moves the loss curve (the chart gets a point per step, the loss falls),
 *     FReLU's b (away from its init, −1) and the first conv layer's filter images (canvas pixels);
 *     the activation statistics are measured per layer
 *   - pause stops the step count, resume continues it
 *   - each test pass's confusion matrix sums to the test images, and trace / total = 1 − test error
 *   - export: the CSV has a row per step with the logged losses and test passes; the safetensors
 *     bytes hold SmallNet's state dict under its names and shapes (decoded here, in Node) and,
 *     loaded back, give the same test loss and predictions; the download buttons and the file
 *     picker do the same through the page (the weights file is left in the output folder)
 *   - the form: Start trains with its settings; Pause/Resume and Reset; bad input is one error line
 *   - compare: ReLU on the same seed beside the FReLU run; the same options give the same first loss
 *   - screenshots of both views at 1280×800 and 390×844 (paths printed); no horizontal overflow at 390 px
 *   - in webgl2 mode the live textures stay flat over the steps (the measured gradients are freed)
 *   - served without COOP/COEP (not cross-origin isolated, as from a plain static host), pause and resume still work
 *
 * The frame rate while training and the charts' cost per step are printed (not asserted: timings).
 * Without Chromium no test here runs, and one line says why.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import * as g from '../src/index.js';
import { bundleLab } from '../src/node/lab/bundle.js';
import { serveStatic, type LabServer } from '../src/node/lab/server.js';
import { BROWSER_OUT as OUT, CHROMIUM_FLAGS, findChromium, openPage } from './chromium.js';


/** The runs' options: small, synthetic, one fixed training set (so runs of different lengths see the same batches). */
const OPTIONS = { activation: 'frelu', bn: true, dataset: 'synthetic', steps: 20, batchSize: 16, seed: 1, lr: 0.01, momentum: 0.9, syntheticCount: 160, testCount: 40, testEvery: 10, threads: 2 };

interface TestReport {
  step: number;
  loss: number;
  error: number;
  predicted: number[];
  confusion: number[][];
}
interface RunResult {
  losses: number[];
  errors: number[];
  b: number[][];
  tests: TestReport[];
  imagesPerSecond: number;
  stopped: boolean;
  options: { activation: string; seed: number };
  info: g.GpuInfo;
}
interface Row {
  step: number;
  loss: number;
  testLoss?: number;
}
interface TrainStats {
  fps: number;
  frames: number;
  worstFrameMs: number;
  longFrames: number;
  longTasks: number;
  longTaskMs: number;
  draws: number;
  chartMsPerDraw: number;
  pictureMsPerDraw: number;
  chartMsPerStep: number;
  stepMs: number;
  lossChartSteps: number;
  stepsDrawn: number;
}
interface RunData {
  rows: Row[];
  stats: { mean: number[]; variance: number[]; gradNorm: number[] }[];
  tests: TestReport[];
  layers: string[];
}

const found = findChromium();
let session: { browser: Browser; server: LabServer; dir: string; page: Page; errors: string[] } | null = null;
/** The 20-step run, for the tests after the first. */
let first: RunResult | null = null;

function s(): NonNullable<typeof session> {
  if (session === null) throw new Error('the browser session did not start (see the first failure)');
  return session;
}
function firstRun(): RunResult {
  if (first === null) throw new Error('the 20-step run did not finish (see its failure)');
  return first;
}

/** window.lab[name](...args) in the page, failing after 4 minutes rather than hanging the run. */
async function lab<T>(name: string, ...args: unknown[]): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`lab.${name} did not finish within 4 minutes`)), 240_000);
  });
  try {
    return await Promise.race([s().page.evaluate(([n, a]) => Reflect.get(Reflect.get(globalThis, 'lab'), n)(...a), [name, args] as const), limit]);
  } finally {
    clearTimeout(timer);
  }
}

const progress = (): Promise<{ step: number; compareStep: number; paused: boolean; held: boolean; running: boolean }> => lab('progress');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ok: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

/** The filter canvas's pixels. */
const filterPixels = (): Promise<number[]> =>
  s().page.evaluate("(() => { const c = document.getElementById('filters'); return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); })()");

/** The sum of a confusion matrix and of its diagonal. */
function totals(confusion: number[][]): { total: number; trace: number } {
  return { total: confusion.flat().reduce((a, b) => a + b, 0), trace: confusion.reduce((t, row, i) => t + row[i], 0) };
}

/** Screenshots of one view at 1280×800 and 390×844 (full page), and a 1280×800 clip for the README; checks for horizontal overflow. */
async function screenshots(view: string): Promise<void> {
  const { page } = s();
  mkdirSync(OUT, { recursive: true });
  const shots: string[] = [];
  await page.click(`#tab-${view}`);
  for (const [w, h] of [[390, 844], [1280, 800]]) {
    await page.setViewportSize({ width: w, height: h });
    // The charts follow the new width (a ResizeObserver, a frame or more later); then nothing is wider than the screen.
    const overflow = (): Promise<number> => page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    await until(`view ${view} fits ${w} px`, async () => (await overflow()) <= 0, 15_000).catch(() => undefined);
    const extra = await overflow();
    assert.ok(extra <= 0, `view ${view} at ${w} px is ${extra} px too wide`);
    await sleep(300); // the charts' redraw at the new size
    const path = join(OUT, `lab-${view}-${w}x${h}.png`);
    await page.screenshot({ path, fullPage: true });
    shots.push(path);
  }
  // The README's picture: the 1280×800 viewport from the status line down (view 3's curves), or from the tabs (view 4).
  const from = view === 'train' ? '#status' : 'nav[role=tablist]';
  const top = await page.evaluate<number>(`document.querySelector('${from}').getBoundingClientRect().top + scrollY - 8`);
  const path = join(OUT, `lab-${view}-readme.png`);
  await page.screenshot({ path, clip: { x: 0, y: top, width: 1280, height: 800 }, fullPage: true });
  shots.push(path);
  console.log(`\nlab view ${view} screenshots: ${shots.join(', ')}`);
}

if (found.path === null) {
  console.log(`browser lab tests skipped: ${found.why}`);
} else {
  const executablePath = found.path;

  test.before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradlab-lab-train-'));
    await bundleLab(dir);
    const server = await serveStatic(dir);
    const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_FLAGS });
    const errors: string[] = [];
    const page = await openPage(browser, `${server.url}#train`, errors, { width: 1280, height: 800 });
    await page.waitForFunction(() => Reflect.has(globalThis, 'lab'), undefined, { timeout: 60_000 });
    session = { browser, server, dir, page, errors };
  });

  test.after(async () => {
    await session?.browser.close();
    await session?.server.close();
  });

  test('lab views 3 and 4 render: the form, six charts, the filter canvas; the export buttons; no console error', async () => {
    const { page } = s();
    assert.ok(await page.isVisible('#train'), 'the #train hash shows view 3');
    assert.is(await page.locator('#train .chart').count(), 6);
    for (const id of ['activation', 'bn', 'lr', 'momentum', 'batchSize', 'seed', 'startButton', 'pauseButton', 'resetButton', 'compareButton', 'filters']) {
      assert.is(await page.locator(`#${id}`).count(), 1, `#${id}`);
    }
    const activations = await page.locator('#activation option').allTextContents();
    assert.equal(activations, [...g.models.ACTIVATIONS]);
    await page.click('#tab-export');
    assert.ok(await page.isVisible('#csvButton'));
    assert.ok(await page.isVisible('#weightsButton'));
    await page.click('#tab-train');
    assert.equal(s().errors, []);
  });

  test('lab train: 20 live steps move the loss curve, the b curves and the filter images; pause holds the step count, resume continues', async () => {
    const { page } = s();
    await page.evaluate((o) => Reflect.set(globalThis, 'firstRun', Reflect.get(Reflect.get(globalThis, 'lab'), 'train')(o)), OPTIONS);
    await until('step 1 is drawn', async () => (await progress()).step >= 1 && (await lab<{ lossChartSteps: number }>('trainStats')).lossChartSteps >= 1);
    const filtersBefore = await filterPixels();
    const chartBefore = (await lab<{ lossChartSteps: number }>('trainStats')).lossChartSteps;

    await until('step 3', async () => (await progress()).step >= 3);
    await lab('pause');
    await until('the pause takes hold (the step in flight is done)', async () => (await progress()).held);
    const held = (await progress()).step;
    await sleep(3000);
    const later = await progress();
    const badge = await page.textContent('#backend');
    assert.ok(later.paused && later.running, JSON.stringify(later));
    assert.is(later.step, held, 'no step while paused');
    assert.ok(held < 20, `paused at step ${held}`);
    await lab('resume');
    await until('a step after the resume', async () => (await progress()).step > held);

    const r = await page.evaluate(() => Reflect.get(globalThis, 'firstRun') as Promise<RunResult>);
    first = r;
    assert.is(badge, `backend: ${r.info.summary}`, 'the badge names the backend while the run trains');
    assert.is(r.losses.length, 20);
    assert.not.ok(r.stopped);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(mean(r.losses.slice(15)) < mean(r.losses.slice(0, 5)), `loss falls on average: ${r.losses.map((l) => l.toFixed(3)).join(' ')}`);
    assert.is(r.b.length, 20);
    assert.is(r.b[0].length, 4, 'SmallNet has 4 FReLU layers');
    assert.ok(r.b[19].some((b) => Math.abs(b + 1) > 1e-3), `b moved from −1: ${r.b[19].join(', ')}`);
    assert.ok(r.b[19].some((b, l) => b !== r.b[0][l]), 'b changed over the steps');

    await until('the last step is drawn', async () => (await lab<TrainStats>('trainStats')).lossChartSteps === 20, 30_000).catch(() => undefined);
    const stats = await lab<TrainStats>('trainStats');
    assert.ok(chartBefore >= 1 && chartBefore < 20, `the loss chart had ${chartBefore} step(s) early on`);
    assert.is(stats.lossChartSteps, 20, 'the loss chart ends with a point per step');
    const filtersAfter = await filterPixels();
    assert.is(filtersAfter.length, filtersBefore.length);
    assert.ok(filtersAfter.some((v, i) => v !== filtersBefore[i]), 'the filter images changed');

    const data = await lab<{ main: RunData }>('runData');
    assert.equal(data.main.layers, ['features.2', 'features.7', 'features.12', 'classifier.2'], 'the activation layers (after each BN)');
    assert.is(data.main.stats.length, 20);
    for (const st of data.main.stats) {
      assert.ok(st.mean.length === 4 && st.mean.every(Number.isFinite), `means ${st.mean}`);
      assert.ok(st.variance.every((v) => v > 0) && st.gradNorm.every((v) => v > 0), `variances ${st.variance}, gradient norms ${st.gradNorm}`);
    }
    // At the first step every FReLU output is max(x, 0) + b with b = −1, so each layer's mean is ≥ −1 (= −1 only if no x were positive).
    assert.ok(data.main.stats[0].mean.every((m) => m > -1), `first-step means ${data.main.stats[0].mean}`);
    console.log(
      `\nlab train (SwiftShader here → ${r.info.summary}): ${r.imagesPerSecond.toFixed(1)} images/s; page ${stats.fps.toFixed(1)} frames/s while training ` +
        `(${stats.frames} frames, ${stats.longFrames} over 50 ms, worst ${stats.worstFrameMs.toFixed(0)} ms; main-thread long tasks: ${stats.longTasks}, ${stats.longTaskMs.toFixed(0)} ms); per draw (${stats.draws}): charts ${stats.chartMsPerDraw.toFixed(2)} ms, ` +
        `pictures ${stats.pictureMsPerDraw.toFixed(2)} ms; charts per step ${stats.chartMsPerStep.toFixed(2)} ms vs a step of ${stats.stepMs.toFixed(0)} ms in the worker`,
    );
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'lab-train-stats.json'), JSON.stringify({ stats, imagesPerSecond: r.imagesPerSecond, info: r.info.summary }, null, 1) + '\n');
    assert.equal(s().errors, []);
  });

  test('lab train: each test pass has a confusion matrix that sums to the test images, its trace / total = 1 − test error; the page shows it', async () => {
    const r = firstRun();
    assert.equal(r.tests.map((t) => t.step), [10, 20]);
    for (const t of r.tests) {
      const { total, trace } = totals(t.confusion);
      assert.is(total, OPTIONS.testCount);
      assert.ok(Math.abs(trace / total - (1 - t.error)) < 1e-12, `trace ${trace} / ${total} vs error ${t.error}`);
      assert.is(t.predicted.length, OPTIONS.testCount);
    }
    const cells = (): Promise<number[]> => s().page.$$eval('#confusion tbody td', (tds) => tds.map((td) => Number(td.textContent)));
    const last = r.tests[1].confusion.flat();
    await until('the last test pass is drawn', async () => JSON.stringify(await cells()) === JSON.stringify(last), 30_000).catch(() => undefined);
    assert.equal(await cells(), last);
    const captions = await s().page.$$eval('#grid figcaption', (fs) => fs.map((f) => f.className));
    assert.is(captions.length, 16);
    assert.ok(captions.every((c) => c === 'right' || c === 'wrong'), captions.join(' '));
  });

  test('lab compare: ReLU on the same seed, 20 steps drawn dashed beside the FReLU run', async () => {
    const other = await lab<RunResult>('compare', 'relu');
    assert.is(other.options.activation, 'relu');
    assert.is(other.options.seed, OPTIONS.seed);
    assert.is(other.losses.length, 20);
    assert.is(other.b[0].length, 0, 'ReLU has no b');
    assert.is((await progress()).compareStep, 20);
    const data = await lab<{ main: RunData; compare: RunData }>('runData');
    assert.equal(data.compare.layers, ['features.2', 'features.7', 'features.12', 'classifier.2']);
    assert.is(data.main.rows.length, 20, 'the first run stays');
    await until('the compare run is drawn', async () => (await lab<TrainStats>('trainStats')).stepsDrawn === 40, 30_000).catch(() => undefined);
    assert.is((await lab<TrainStats>('trainStats')).stepsDrawn, 40, 'both runs drawn, 20 steps each');
  });

  test('lab view 3: screenshots at 1280×800 and 390×844 (and the 1280×800 viewport for the README); no horizontal overflow at 390 px', async () => {
    await screenshots('train');
  });

  test('lab export: the CSV has a row per step with the logged losses, b and test passes', async () => {
    const r = firstRun();
    const csv = await lab<string>('exportCsv');
    const lines = csv.trimEnd().split('\n');
    assert.is(lines[0], 'step,loss,error,b_features.2,b_features.7,b_features.12,b_classifier.2,images_per_second,test_loss,test_error');
    assert.is(lines.length, 21, 'a header and 20 steps');
    lines.slice(1).forEach((line, i) => {
      const cells = line.split(',');
      assert.is(Number(cells[0]), i + 1);
      assert.is(Number(cells[1]), r.losses[i], `step ${i + 1}'s loss`);
      assert.is(Number(cells[2]), r.errors[i]);
      assert.equal(cells.slice(3, 7).map(Number), r.b[i]);
      const test = r.tests.find((t) => t.step === i + 1);
      assert.equal(cells.slice(8), test === undefined ? ['', ''] : [String(test.loss), String(test.error)]);
    });
    // The button hands the same text to the browser as a download.
    await s().page.click('#tab-export');
    const [download] = await Promise.all([s().page.waitForEvent('download'), s().page.click('#csvButton')]);
    assert.is(download.suggestedFilename(), 'smallnet-metrics.csv');
    assert.is(readFileSync(await download.path(), 'utf8'), csv);
  });

  test("lab export: the safetensors bytes hold SmallNet's state dict (names, shapes, dtypes); loaded back they give the same test loss", async () => {
    const r = firstRun();
    const base64 = await s().page.evaluate(async () => {
      const bytes: Uint8Array = await Reflect.get(Reflect.get(globalThis, 'lab'), 'exportWeights')();
      Reflect.set(globalThis, 'exported', bytes);
      let text = '';
      for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(text);
    });
    const { tensors, metadata } = g.io.decodeSafetensors(new Uint8Array(Buffer.from(base64, 'base64')), 'the exported weights');
    const net = g.models.smallNet({ activation: 'frelu', batchNorm: true, classes: 10, seed: 1 });
    const state = g.tidy(() => Object.fromEntries(Object.entries(net.stateDict()).map(([k, t]) => [k, [...t.shape]])));
    assert.equal(Object.keys(tensors).sort(), Object.keys(state).sort());
    for (const [name, t] of Object.entries(tensors)) {
      assert.equal(t.shape, state[name], name);
      assert.is(t.dtype, name.endsWith('num_batches_tracked') ? 'I64' : 'F32', name);
    }
    assert.is(tensors['features.1.num_batches_tracked'].data[0], 20, 'BN counted the 20 steps');
    assert.equal({ format: metadata.format, producer: metadata.producer, model: metadata.model, activation: metadata.activation, step: metadata.step }, { format: 'pt', producer: 'gradlab', model: 'smallnet', activation: 'frelu', step: '20' });
    net.dispose();

    const loaded = await s().page.evaluate(() => Reflect.get(Reflect.get(globalThis, 'lab'), 'loadWeights')(Reflect.get(globalThis, 'exported')) as Promise<TestReport>);
    const before = r.tests[r.tests.length - 1];
    assert.ok(Math.abs(loaded.loss - before.loss) <= 1e-5 * Math.abs(before.loss), `test loss ${loaded.loss} after loading, ${before.loss} at export`);
    assert.equal(loaded.predicted, before.predicted);
    assert.match(await s().page.textContent('#loaded') ?? '', /^loaded: test loss/);

    // The same through the page: the download button, then the file picker.
    const [download] = await Promise.all([s().page.waitForEvent('download'), s().page.click('#weightsButton')]);
    assert.is(download.suggestedFilename(), 'smallnet.safetensors');
    const file = join(OUT, 'lab-smallnet.safetensors');
    await download.saveAs(file);
    assert.ok(readFileSync(file).equals(Buffer.from(base64, 'base64')), 'the downloaded file holds the exported bytes');
    await s().page.evaluate("document.getElementById('loaded').textContent = ''");
    await s().page.setInputFiles('#weightsFile', file);
    await until('the picked file is loaded', async () => ((await s().page.textContent('#loaded')) ?? '') !== '');
    const shown = (await s().page.textContent('#loaded')) ?? '';
    assert.ok(shown.startsWith(`loaded: test loss ${before.loss.toFixed(6)} (at export: ${before.loss.toFixed(6)})`), shown);
  });

  test('lab view 4: screenshots at 1280×800 and 390×844; no horizontal overflow at 390 px; no console error', async () => {
    await screenshots('export'); // its tensor table is the 20-step run's, exported above
    assert.equal(s().errors, []);
  });

  test('lab train: the same seed and options give the same first-step loss (the same weights and batches); a file that is no safetensors, and a batch larger than the data, are refused in one line', async () => {
    const again = await lab<RunResult>('train', { ...OPTIONS, steps: 3 });
    assert.ok(Math.abs(again.losses[0] - firstRun().losses[0]) <= 1e-6 * firstRun().losses[0], `first loss ${again.losses[0]}, earlier ${firstRun().losses[0]}`);
    const refused = await s().page.evaluate(() =>
      (Reflect.get(Reflect.get(globalThis, 'lab'), 'loadWeights')(new Uint8Array([1, 2, 3])) as Promise<unknown>).then(
        () => 'loaded',
        (e: Error) => e.message,
      ),
    );
    assert.is(refused, 'safetensors: the weights file is not a valid safetensors file: it has 3 bytes, fewer than the 8 of the header length');
    const tooBig = await s().page.evaluate(() =>
      (Reflect.get(Reflect.get(globalThis, 'lab'), 'train')({ steps: 2, batchSize: 16, syntheticCount: 8 }) as Promise<unknown>).then(
        () => 'trained',
        (e: Error) => e.message,
      ),
    );
    assert.is(tooBig, 'lab.train: batchSize 16 is more than the 8 training images; lower it or use more images');
    assert.equal(s().errors, [], 'no console error in the whole session');
  });

  test("lab train from the form: Start trains with the form's settings, Pause toggles to Resume, Reset clears the view", async () => {
    const { page } = s();
    await page.click('#tab-train');
    await page.selectOption('#activation', 'elu');
    await page.uncheck('#bn');
    for (const [id, value] of [['steps', '2'], ['batchSize', '8'], ['testEvery', '1'], ['lr', '0.02']]) await page.fill(`#${id}`, value);
    await page.click('#startButton');
    await until('the form run is done', async () => {
      const p = await progress();
      return p.step === 2 && !p.running;
    });
    const data = await lab<{ main: RunData & { options: Record<string, unknown> } }>('runData');
    assert.equal(
      { activation: data.main.options.activation, bn: data.main.options.bn, steps: data.main.options.steps, batchSize: data.main.options.batchSize, lr: data.main.options.lr },
      { activation: 'elu', bn: false, steps: 2, batchSize: 8, lr: 0.02 },
    );
    assert.equal(data.main.tests.map((t) => t.step), [1, 2], 'a test pass after every step');
    assert.equal(data.main.layers, ['features.1', 'features.5', 'features.9', 'classifier.1'], 'no BN: each activation follows its conv or linear layer');
    await page.click('#pauseButton');
    assert.is(await page.textContent('#pauseButton'), 'Resume');
    await page.click('#pauseButton');
    assert.is(await page.textContent('#pauseButton'), 'Pause');
    await page.click('#resetButton');
    assert.is(await page.textContent('#status'), 'idle');
    assert.is(await page.locator('#confusion table').count(), 0);
    assert.equal(await progress(), { step: 0, compareStep: 0, paused: false, held: false, running: false });
    assert.equal(s().errors, []);
  });

  test('lab train in webgl2 (SwiftShader here): live textures stay flat over the steps, measuring included', async () => {
    const r = await lab<RunResult & { liveTextures: number[] }>('train', { steps: 3, batchSize: 4, seed: 1, syntheticCount: 12, testCount: 4, mode: 'webgl2' });
    assert.ok(r.info.summary?.startsWith('WebGL2 on '), r.info.summary ?? '');
    assert.ok(r.liveTextures.every((n) => n === r.liveTextures[0]), `live textures per step: ${r.liveTextures.join(', ')}`);
    assert.ok(r.losses.every(Number.isFinite), `losses ${r.losses.join(', ')}`);
    assert.equal(s().errors, []);
  });

  test('lab train on a page that is not cross-origin isolated (a plain static host): it trains, and pause holds the step count', async () => {
    // The lab's files without COOP/COEP headers: no SharedArrayBuffer, so no SIMD threads; pause is a message between steps.
    const plain: Server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      try {
        const body = readFileSync(join(s().dir, path === '/' ? 'index.html' : path.slice(1)));
        res.writeHead(200, { 'Content-Type': path.endsWith('.js') ? 'text/javascript' : path.endsWith('.css') ? 'text/css' : 'text/html' }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((done) => plain.listen(0, '127.0.0.1', done));
    const address = plain.address();
    const page = await s().browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(`uncaught ${e.message}`));
    try {
      await page.goto(`http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/#train`);
      await page.waitForFunction(() => Reflect.has(globalThis, 'lab'), undefined, { timeout: 60_000 });
      assert.is(await page.evaluate('crossOriginIsolated'), false);
      const call = (name: string, ...args: unknown[]): Promise<unknown> => page.evaluate(([n, a]) => Reflect.get(Reflect.get(globalThis, 'lab'), n)(...a), [name, args] as const);
      const step = async (): Promise<number> => Reflect.get(Object(await call('progress')), 'step');
      await page.evaluate((o) => Reflect.set(globalThis, 'plainRun', Reflect.get(Reflect.get(globalThis, 'lab'), 'train')(o)), { ...OPTIONS, steps: 4, batchSize: 8, syntheticCount: 32, testCount: 10 });
      await until('step 1 on the plain page', async () => (await step()) >= 1);
      await call('pause');
      await until('the pause takes hold on the plain page', async () => Reflect.get(Object(await call('progress')), 'held') === true);
      const held = await step();
      await sleep(3000);
      assert.is(await step(), held, 'no step while paused');
      await call('resume');
      const r = await page.evaluate(() => Reflect.get(globalThis, 'plainRun') as Promise<RunResult>);
      assert.is(r.losses.length, 4);
      assert.ok(r.losses.every(Number.isFinite), `losses ${r.losses.join(', ')}`);
      assert.not.ok(r.info.summary?.includes('SIMD'), r.info.summary ?? '');
      assert.equal(errors, []);
    } finally {
      await page.close();
      await new Promise<void>((done) => plain.close(() => done()));
    }
  });
}

test.run();
