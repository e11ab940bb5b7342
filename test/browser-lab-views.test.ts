/**
 * The lab page's views 1 and 2 in a real Chromium (as test/browser.test.ts drives it):
 *
 *   - autograd: each expression renders with no console error; stepping backward one node at a
 *     time reaches every leaf, and the leaf gradients equal backward()'s (in the page, and as Node
 *     computes them); gradcheck passes element by element; the step button works from the keyboard
 *   - frelu: the curves are eqs. (2)–(3); the Monte Carlo for b = −1 sits on the derived recursion
 *     and away from eq. (6) (the agreement rule of `gradlab verify`, see the test)
 *   - screenshots of both views at 1280×800 and 390×844 in .tmp/browser/lab-<view>-<w>x<h>.png
 *     (paths printed), and no horizontal overflow at 390 px. GRADLAB_WRITE_DOCS=1 also writes the
 *     README's docs/lab/<view>.png (the view at 1280×800, clipped to its section).
 *
 * Chromium: GRADLAB_CHROMIUM, else `chromium` / `chromium-browser` / `google-chrome` on the PATH.
 * Without one no test here runs, and one line says why. GRADLAB_SKIP_BROWSER=1 skips it too.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { bundleLab, ROOT } from '../src/node/lab/bundle.js';
import { serveStatic, type LabServer } from '../src/node/lab/server.js';
import { BROWSER_OUT as OUT, CHROMIUM_FLAGS, findChromium, openPage } from './chromium.js';
import { PRESETS, backwardGrads } from '../src/browser/lab/stepper.js';


interface Session {
  browser: Browser;
  server: LabServer;
  page: Page;
  errors: string[];
}
let session: Session | null = null;
const s = (): Session => {
  if (session === null) throw new Error('the browser session did not start (see the first failure)');
  return session;
};

/** Calls window.lab[view][fn](...args) in the page. */
function lab<T>(view: string, fn: string, ...args: unknown[]): Promise<T> {
  return s().page.evaluate(([v, f, a]) => Reflect.get(Reflect.get(Reflect.get(globalThis, 'lab'), v), f)(...a), [view, fn, args] as const);
}

interface AutogradState {
  preset: string;
  position: number;
  steps: number;
  done: boolean;
  leavesReached: string[];
  leafGrads: Record<string, number[]>;
  backwardGrads: Record<string, number[]>;
}

interface McSummary {
  config: { widths: number[]; b: number };
  networks: number;
  batch: number;
  tCrit: number;
  measured: number[];
  measuredSE: number[];
  derived: number[];
  eq6: number[];
  zDerived: (number | null)[];
  zEq6: (number | null)[];
  gradMeasured: number[];
  eq4: number[];
  zEq4: (number | null)[];
}

/** Largest |a − b| / max(1, |b|) over the leaves of two gradient records with the same keys. */
function maxRelDiff(a: Record<string, number[]>, b: Record<string, number[]>): number {
  assert.equal(Object.keys(a).sort(), Object.keys(b).sort());
  return Math.max(...Object.keys(b).flatMap((k) => b[k].map((v, i) => Math.abs(a[k][i] - v) / Math.max(1, Math.abs(v)))));
}

const found = findChromium();
if (found.path === null) {
  console.log(`browser lab-view tests skipped: ${found.why}`);
} else {
  const executablePath = found.path;

  test.before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradlab-lab-views-'));
    await bundleLab(dir);
    const server = await serveStatic(dir);
    const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_FLAGS });
    const errors: string[] = [];
    const page = await openPage(browser, server.url, errors, { width: 1280, height: 800 });
    await page.waitForFunction(() => Reflect.has(Reflect.get(globalThis, 'lab') ?? {}, 'autograd') && Reflect.has(Reflect.get(globalThis, 'lab') ?? {}, 'frelu'), undefined, { timeout: 60_000 });
    session = { browser, server, page, errors };
    await lab('frelu', 'ready'); // the first small Monte Carlo the view runs on its own
  });

  test.after(async () => {
    await session?.browser.close();
    await session?.server.close();
  });

  test('lab autograd: every expression steps back to every leaf, and its gradients equal backward()', async () => {
    for (const preset of PRESETS) {
      let st = await lab<AutogradState>('autograd', 'select', preset.id);
      assert.is(st.position, 0);
      assert.equal(st.leavesReached, []);
      // One step at a time, each step one node, until the end.
      let steps = 0;
      while (!(await lab<AutogradState>('autograd', 'state')).done) {
        const e = await lab<{ node: number; kind: string } | null>('autograd', 'step');
        assert.ok(e !== null, `${preset.id}: step ${steps + 1} did nothing before the end`);
        steps++;
        assert.ok(steps <= 50, `${preset.id}: no end after 50 steps`);
      }
      st = await lab<AutogradState>('autograd', 'state');
      assert.is(steps, st.steps, `${preset.id}: one step per node backward visits`);
      const needGrad = preset.leaves.filter((l) => l.requiresGrad).map((l) => l.name);
      assert.equal([...st.leavesReached].sort(), [...needGrad].sort(), `${preset.id}: every leaf that takes a gradient is reached`);
      // The page's step-through against the page's backward() (same order of sums: equal bits) …
      assert.is(maxRelDiff(st.leafGrads, st.backwardGrads), 0, `${preset.id}: stepper ${JSON.stringify(st.leafGrads)} vs backward ${JSON.stringify(st.backwardGrads)}`);
      // … and against backward() run in Node on the same values.
      const node = backwardGrads(preset, preset.leaves.map((l) => l.values));
      assert.ok(maxRelDiff(st.leafGrads, node) <= 1e-12, `${preset.id}: page ${JSON.stringify(st.leafGrads)} vs Node ${JSON.stringify(node)}`);
    }
    // The scalar expression by hand: L = relu(a·b + c)·f + a at a=2, b=−3, c=10, f=−2 (a·b + c = 4 > 0).
    const st = await lab<AutogradState>('autograd', 'select', 'scalar');
    await lab('autograd', 'runToEnd');
    const done = await lab<AutogradState>('autograd', 'state');
    assert.equal(done.leafGrads, { a: [-3 * -2 + 1], b: [2 * -2], c: [-2], f: [4] });
    assert.is(st.preset, 'scalar');
    assert.equal(s().errors, []);
  });

  test('lab autograd: new input values are used, and a wrong count is refused with a clear message', async () => {
    await lab('autograd', 'select', 'scalar');
    await lab('autograd', 'setValues', 'c', [1]); // a·b + c = −5 < 0: relu is off, only the direct path of a is left
    const st = await lab<AutogradState>('autograd', 'runToEnd');
    assert.equal(st.leafGrads, { a: [1], b: [0], c: [0], f: [0] });
    await s().page.fill('#autograd input[aria-label="values of a"]', '1, 2');
    await s().page.press('#autograd input[aria-label="values of a"]', 'Enter');
    const message = await s().page.textContent('#ag-error');
    assert.ok(message !== null && message.includes('a has shape [], so it needs 1 value; got 2'), String(message));
    await lab('autograd', 'select', 'scalar');
    assert.is(await s().page.isHidden('#ag-error'), true);
  });

  test('lab autograd: the step button is reached with Tab and pressed with Enter and Space', async () => {
    const { page } = s();
    await lab('autograd', 'select', 'scalar');
    await page.focus('#ag-preset');
    let tabs = 0;
    while ((await page.evaluate('document.activeElement && document.activeElement.id')) !== 'ag-step') {
      await page.keyboard.press('Tab');
      assert.ok(++tabs <= 20, 'the step button was not reached within 20 Tab presses');
    }
    await page.keyboard.press('Enter');
    assert.is((await lab<AutogradState>('autograd', 'state')).position, 1);
    await page.keyboard.press('Space');
    assert.is((await lab<AutogradState>('autograd', 'state')).position, 2);
    const status = await page.textContent('#ag-status');
    assert.ok(status !== null && status.startsWith('Step 2 of 9'), String(status));
    // Three more: a·b's mul sends f·b = 6 to a, which already had 1 from the last add.
    for (let i = 0; i < 3; i++) await page.keyboard.press('Enter');
    const accumulated = await page.textContent('#ag-status');
    assert.ok(accumulated !== null && accumulated.includes('sent ∂L/∂a = 6 to a (a has now received 2 parts: total 7)'), String(accumulated));
    const leafTexts = await page.$$eval('#ag-graph g.ag-leaf', (gs) => gs.map((g) => g.textContent ?? ''));
    const a = leafTexts.find((t) => t.startsWith('a2')); // the box of a: its name, its value 2, its gradient
    assert.ok(a !== undefined && a.endsWith('∂L 7 (2 parts)'), JSON.stringify(leafTexts));
  });

  test('lab autograd: gradcheck (float64 central differences) agrees element by element', async () => {
    for (const preset of PRESETS) {
      await lab('autograd', 'select', preset.id);
      const r = await lab<{ ok: boolean; r: number; rows: { input: string; numerical: number; analytical: number; verdict: string }[] }>('autograd', 'gradcheck');
      const elements = preset.leaves.filter((l) => l.requiresGrad).reduce((n, l) => n + l.values.length, 0);
      assert.ok(r.ok, preset.id);
      assert.is(r.rows.length, elements, `${preset.id}: one row per element of every leaf that takes a gradient`);
      for (const row of r.rows) assert.ok(Math.abs(row.numerical - row.analytical) <= 1e-5 + 1e-4 * Math.abs(row.numerical), `${preset.id} ${row.input}: ${row.numerical} vs ${row.analytical}`);
      // gradcheck differentiates r·L: its analytical entries are r times backward()'s gradients.
      const grads = backwardGrads(preset, preset.leaves.map((l) => l.values));
      const flat = Object.values(grads).flat();
      r.rows.forEach((row, i) => assert.ok(Math.abs(row.analytical - r.r * flat[i]) <= 1e-12 * Math.max(1, Math.abs(row.analytical)), `${preset.id} row ${i}`));
      const table = await s().page.$$eval('#ag-gradcheck tbody tr', (trs) => trs.length);
      assert.is(table, elements);
    }
    assert.equal(s().errors, []);
  });

  test('lab frelu: the curves are eqs. (2)-(3): relu(x) + b, ∂/∂x = [x > 0], ∂/∂b = 1', async () => {
    const c = await lab<{ y: number[]; dydx: number[]; dydb: number[] }>('frelu', 'curves', -1);
    const xs = Array.from({ length: 241 }, (_, i) => -3 + i * 0.025);
    xs.forEach((x, i) => {
      assert.ok(Math.abs(c.y[i] - (Math.max(x, 0) - 1)) <= 1e-12, `y at ${x}`);
      assert.is(c.dydx[i], x > 1e-9 ? 1 : 0, `dy/dx at ${x}`);
      assert.is(c.dydb[i], 1, `dy/db at ${x}`);
    });
  });

  test('lab frelu: the Monte Carlo for b = −1 sits on the derived recursion and away from eq. (6)', async () => {
    // The view's defaults: 6 layers of width 128, 12 networks × 32 inputs, seed 1.
    const m = await lab<McSummary>('frelu', 'run', { b: -1 });
    const L = m.measured.length;
    assert.is(L, 6);
    // The tolerance is the agreement rule of `gradlab verify`: |measured − predicted| ≤ tCrit·SE, SE
    // from the spread over the 12 independent networks, tCrit Student's t (11 degrees of freedom) at
    // α = 0.001 over the 6 layers (Bonferroni): a true prediction fails anywhere with probability ≤ 0.001.
    assert.ok(m.tCrit > 4 && m.tCrit < 7, `tCrit ${m.tCrit}`);
    for (let l = 0; l < L; l++) {
      const z = m.zDerived[l]!;
      assert.ok(Math.abs(z) <= m.tCrit, `layer ${l + 1}: measured ${m.measured[l]} ± ${m.measuredSE[l]}, derived ${m.derived[l]}: z ${z}`);
    }
    // Eq. (6) adds 2b² = 2 per layer; the derived recursion settles near πb²/2 ≈ 1.57. At the last
    // layer eq. (6) is more than twice the measurement and many standard errors away.
    const last = L - 1;
    assert.ok(m.eq6[last] > 2 * m.measured[last], `eq. (6) ${m.eq6[last]} vs measured ${m.measured[last]}`);
    assert.ok(Math.abs(m.zEq6[last]!) > 10 * m.tCrit, `eq. (6) z ${m.zEq6[last]}`);
    assert.ok(Math.abs(m.derived[last] - Math.PI / 2) < 0.1, `derived ${m.derived[last]} near πb²/2`);
    // Backward: eq. (4) holds (b does not enter).
    for (let l = 0; l < L - 1; l++) assert.ok(Math.abs(m.zEq4[l]!) <= m.tCrit, `eq. (4) at layer ${l + 1}: z ${m.zEq4[l]}`);
    const text = await s().page.textContent('#fr-finding');
    assert.ok(text !== null && text.includes('drops the cross term') && text.includes('πb²/2 = 1.571'), String(text));
    assert.equal(s().errors, []);
  });

  test('lab views 1 and 2: screenshots at 1280×800 and 390×844, and no horizontal overflow at 390 px', async () => {
    const { page } = s();
    mkdirSync(OUT, { recursive: true });
    await lab('autograd', 'select', 'mlp');
    for (let i = 0; i < 5; i++) await lab('autograd', 'step');
    for (const [w, h] of [[1280, 800], [390, 844]]) {
      await page.setViewportSize({ width: w, height: h });
      for (const view of ['autograd', 'frelu']) {
        await page.evaluate((v) => Reflect.get(Reflect.get(globalThis, 'lab'), 'show')(v), view);
        await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))'); // charts follow the new width
        const scrollWidth = Number(await page.evaluate('document.documentElement.scrollWidth'));
        if (w === 390) assert.ok(scrollWidth <= 390 + 1, `${view} at 390 px: the page is ${scrollWidth} px wide`);
        const file = join(OUT, `lab-${view}-${w}x${h}.png`);
        await page.screenshot({ path: file, fullPage: true });
        console.log(`screenshot ${file}`);
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    if (process.env.GRADLAB_WRITE_DOCS === '1') {
      // The README's pictures: the scalar expression halfway (a has received both of its parts) with
      // its gradcheck table, and the Monte Carlo for b = −1 (from its heading); each clipped to its section.
      await lab('autograd', 'select', 'scalar');
      for (let i = 0; i < 5; i++) await lab('autograd', 'step');
      await lab('autograd', 'gradcheck');
      mkdirSync(join(ROOT, 'docs', 'lab'), { recursive: true });
      for (const view of ['autograd', 'frelu']) {
        await page.evaluate((v) => Reflect.get(Reflect.get(globalThis, 'lab'), 'show')(v), view);
        await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
        const doc = join(ROOT, 'docs', 'lab', `${view}.png`);
        const box = (await page.locator(`section#${view}`).boundingBox())!;
        const from = view === 'frelu' ? (await page.locator('section#frelu h2').nth(1).boundingBox())!.y : box.y;
        const top = Number(await page.evaluate('scrollY'));
        await page.screenshot({ path: doc, fullPage: true, clip: { x: box.x, y: from + top, width: box.width, height: Math.min(box.y + box.height - from, 800) } });
        console.log(`docs screenshot ${doc} (${(statSync(doc).size / 1024).toFixed(0)} KiB)`);
      }
    }
    assert.equal(s().errors, []);
  });
}

test.run();
