/**
 * View 3, "Train SmallNet": SmallNet trained live in a Web Worker (../worker.ts: all the training is
 * there, so the page never freezes; this module only draws). Controls: activation, BN, lr,
 * momentum, batch size, seed, steps, data; start, pause/resume, reset; "compare", a second run with
 * another activation on the same seed whose curves are drawn dashed over the first's.
 *
 * Drawn live: training loss and batch error, test loss and error at each test pass; FReLU's b per
 * layer; per activation layer the mean and variance of its output and ‖∂loss/∂output‖₂ (view 2's
 * initialization analysis, measured in the real network); the first conv layer's filters; test
 * images with predicted and true classes; the confusion matrix; images/s and the backend badge.
 * Messages only mark the view dirty: it redraws at most once per animation frame.
 *
 *   await lab.train({ activation: 'frelu', bn: true, dataset: 'synthetic', steps: 20, batchSize: 16, seed: 1 })
 *     → { losses, errors, b /* b[step][layer] *\/, tests, imagesPerSecond, info, options, … }
 *   await lab.compare('relu')     the same options with another activation, drawn dashed
 *   lab.pause(), lab.resume(), lab.reset(), lab.progress(), lab.trainStats() (frame rate, chart cost)
 *   lab.files      the CIFAR-10 files picked or dropped (or fetched from ./data when `npm run lab` serves it)
 */
import * as g from '../../index.js';
import type { FromWorker, ToWorker } from '../worker.js';
import type { CifarParts, RunSetup, StepReport, TestReport, TrainOptions, TrainResult } from '../train.js';
import type { MetricsRow } from '../train-metrics.js';
import type { Shell } from '../page.js';
import { lineChart, PALETTE, type LineChart } from '../chart.js';
import { drawConfusion, drawFilters, drawImageGrid, labelGrid } from './train-draw.js';

const $ = <T extends Element>(id: string, kind: new () => T): T => {
  const el = document.getElementById(id);
  if (!(el instanceof kind)) throw new Error(`lab page: #${id} is missing`);
  return el;
};

/** What the page keeps of one run: everything it draws, and the metrics CSV's rows. */
export interface Run {
  id: number;
  options: TrainOptions;
  setup: RunSetup | null;
  rows: MetricsRow[];
  /** Per step: per activation layer mean, variance, gradient norm. */
  stats: { mean: number[]; variance: number[]; gradNorm: number[] }[];
  tests: TestReport[];
  filters: StepReport['filters'] | null;
  stepMs: number[];
  /** The step at which the worker's loop stopped for a pause (null while it trains). */
  heldAt: number | null;
  /** Set when the worker says the run is done (a run of loaded weights has no steps and is done at once). */
  finished: boolean;
  /** The worker's summary, when the run trained to its end or was stopped. */
  result: TrainResult | null;
}

const newRun = (id: number, options: TrainOptions, finished = false): Run => ({ id, options, setup: null, rows: [], stats: [], tests: [], filters: null, stepMs: [], heldAt: null, finished, result: null });

const files: { source: string; bytes: Uint8Array }[] = [];
/** The training worker, kept while the gpu.js mode asked for stays the same (../worker.ts). */
let current: { worker: Worker; mode: NonNullable<TrainOptions['mode']> } | null = null;
let main: Run | null = null;
let compared: Run | null = null;
let paused = false;
let nextId = 1;
const finish = new Map<number, { resolve: (r: TrainResult) => void; reject: (e: Error) => void }>();
const replies = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

/** Set by mount. */
let shell: Shell;
/** The charts, and how many series each draws (the compare run's dashed beside the main run's). */
const SERIES = { loss: 4, error: 4, b: 8, mean: 4, variance: 4, gradNorm: 4 } as const;
let charts: Record<keyof typeof SERIES, LineChart>;
const log = (line: string): void => shell.log(line);

// ── drawing, at most once per frame ──

/** The frame rate and the charts' cost while training (lab.trainStats). */
const stats = { frames: 0, frameSeconds: 0, worstFrameMs: 0, longFrames: 0, longTasks: 0, longTaskMs: 0, draws: 0, chartMs: 0, pictureMs: 0, stepsDrawn: 0, lossChartSteps: 0 };

/**
 * The main thread's own long tasks (over 50 ms, Chromium's Long Tasks API) while a run trains: a long
 * frame without one was the machine's doing (other processes on the cores), not the page's.
 */
function watchLongTasks(): void {
  if (!PerformanceObserver.supportedEntryTypes.includes('longtask')) return;
  new PerformanceObserver((list) => {
    if (!progress().running) return;
    for (const entry of list.getEntries()) {
      stats.longTasks++;
      stats.longTaskMs += entry.duration;
    }
  }).observe({ type: 'longtask', buffered: false });
}
let scheduled = false;
let gridShownFor: number | null = null;

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    if (main === null) return;
    const t0 = performance.now();
    drawCharts(main);
    const t1 = performance.now();
    drawPictures(main);
    const t2 = performance.now();
    // uPlot redraws in a microtask queued by set(); this one runs after those, so it times the drawing too.
    queueMicrotask(() => {
      stats.draws++;
      stats.chartMs += t1 - t0 + (performance.now() - t2);
      stats.pictureMs += t2 - t1;
    });
  });
}

/** Whether the frame counter runs (one, however many runs train). */
let counting = false;

/** Counts animation frames while a run trains (not while paused): the page's frame rate, which a frozen page would show. */
function countFrames(): void {
  if (counting) return;
  counting = true;
  let last = performance.now();
  const frame = (now: number): void => {
    if (!progress().running) {
      counting = false;
      return;
    }
    if (!paused) {
      stats.frames++;
      stats.frameSeconds += (now - last) / 1000;
      stats.worstFrameMs = Math.max(stats.worstFrameMs, now - last);
      if (now - last > LONG_FRAME_MS) stats.longFrames++;
    }
    last = now;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

const steps = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
/** One value per step 1…n (null where the run has none). */
const perStep = (run: Run | null, n: number, value: (row: MetricsRow) => number | undefined): (number | null)[] =>
  steps(n).map((s) => {
    const row = run?.rows[s - 1];
    return row === undefined ? null : value(row) ?? null;
  });

/** The curves: one set() per chart (uPlot redraws them in a microtask). */
function drawCharts(main: Run): void {
  const n = Math.max(main.rows.length, compared?.rows.length ?? 0);
  const xs = steps(n);
  charts.loss.set(xs, [perStep(main, n, (r) => r.loss), perStep(main, n, (r) => r.testLoss), perStep(compared, n, (r) => r.loss), perStep(compared, n, (r) => r.testLoss)]);
  charts.error.set(xs, [perStep(main, n, (r) => r.error), perStep(main, n, (r) => r.testError), perStep(compared, n, (r) => r.error), perStep(compared, n, (r) => r.testError)]);
  const layers = [0, 1, 2, 3];
  charts.b.set(xs, [...layers.map((l) => perStep(main, n, (r) => r.b[l])), ...layers.map((l) => perStep(compared, n, (r) => r.b[l]))]);
  const m = main.rows.length;
  const stat = (pick: (s: Run['stats'][number]) => number[]): (number | null)[][] => layers.map((l) => main.stats.map((s) => pick(s)[l] ?? null));
  charts.mean.set(steps(m), stat((s) => s.mean));
  charts.variance.set(steps(m), stat((s) => s.variance));
  charts.gradNorm.set(steps(m), stat((s) => s.gradNorm));
  stats.stepsDrawn = m + (compared?.rows.length ?? 0);
  stats.lossChartSteps = xs.length;
}

/** The filters, the test images' labels, the confusion matrix and the status line. */
function drawPictures(main: Run): void {
  if (main.filters !== null) drawFilters($('filters', HTMLCanvasElement), main.filters.shape, main.filters.values);
  const setup = main.setup;
  if (setup !== null) {
    const grid = $('grid', HTMLDivElement);
    if (gridShownFor !== main.id) {
      drawImageGrid(grid, setup.gridImages, setup.gridLabels, setup.classNames);
      gridShownFor = main.id;
    }
    $('layers', HTMLElement).textContent = `layers 1–4: ${setup.layers.join(', ')}`;
    const test = main.tests[main.tests.length - 1];
    if (test !== undefined) {
      labelGrid(grid, test.predicted, setup.gridLabels, setup.classNames);
      drawConfusion($('confusion', HTMLDivElement), test.confusion, setup.classNames, `confusion matrix after step ${test.step}: ${setup.testCount} test images, error ${(100 * test.error).toFixed(1)} %`);
    }
  }
  const last = main.rows[main.rows.length - 1];
  const status = paused ? 'paused' : !main.finished ? 'training' : main.result === null ? 'loaded' : main.result.stopped ? 'stopped' : 'done';
  $('status', HTMLElement).textContent = `${status} · step ${main.rows.length}${compared === null ? '' : ` · compare (${compared.options.activation}) step ${compared.rows.length}`}`;
  if (last !== undefined) $('rate', HTMLElement).textContent = `${last.imagesPerSecond.toFixed(1)} images/s · ${trainStats().fps.toFixed(0)} frames/s`;
}

// ── runs, in the worker ──

function worker(mode: NonNullable<TrainOptions['mode']>): Worker {
  if (current === null || current.mode !== mode) {
    current?.worker.terminate();
    const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    w.onmessage = (event: MessageEvent<FromWorker>) => received(event.data);
    w.onerror = (e) => {
      const error = new Error(`lab: the training worker failed: ${e.message}`);
      for (const f of finish.values()) f.reject(error);
      finish.clear();
      for (const run of [main, compared]) if (run !== null) run.finished = true;
      log(error.message);
    };
    current = { worker: w, mode };
  }
  return current.worker;
}

function post(message: ToWorker, transfer: Transferable[] = []): void {
  if (current === null) throw new Error('lab: no training worker yet: train first');
  current.worker.postMessage(message, transfer);
}

const runOf = (id: number | undefined): Run | null => [main, compared].find((r) => r !== null && r.id === id) ?? null;

function received(m: FromWorker): void {
  if (m.kind === 'reply' || (m.kind === 'error' && m.request !== undefined)) {
    const waiting = replies.get(m.request ?? -1);
    replies.delete(m.request ?? -1);
    if (m.kind === 'reply') waiting?.resolve(m.value);
    else waiting?.reject(new Error(m.message));
    return;
  }
  const run = runOf(m.run);
  if (m.kind === 'setup') {
    if (run !== null) run.setup = m.setup;
  } else if (m.kind === 'backend') {
    if (run === main) shell.showBackend(m.info);
  } else if (m.kind === 'held') {
    if (run !== null && paused) run.heldAt = m.step;
  } else if (m.kind === 'step') {
    const r = m.report;
    if (run === null) return;
    run.stepMs.push(r.ms);
    run.rows.push({ step: r.step, loss: r.loss, error: r.error, b: r.b, imagesPerSecond: r.imagesPerSecond });
    run.stats.push({ mean: r.activationMean, variance: r.activationVar, gradNorm: r.gradNorm });
    run.filters = r.filters;
    if (run === main) log(`step ${r.step}: loss ${r.loss.toFixed(4)}  error ${r.error.toFixed(2)}  b ${r.b.map((v) => v.toFixed(3)).join(' ')}  ${r.ms.toFixed(0)} ms (+${r.measureMs.toFixed(0)} ms measuring)  textures ${r.liveTextures}`);
  } else if (m.kind === 'test') {
    if (run === null) return;
    run.tests.push(m.report);
    const row = run.rows[m.report.step - 1];
    if (row !== undefined) Object.assign(row, { testLoss: m.report.loss, testError: m.report.error });
    log(`${run === main ? '' : 'compare: '}test pass after step ${m.report.step}: loss ${m.report.loss.toFixed(4)}, error ${(100 * m.report.error).toFixed(1)} % (${m.report.ms.toFixed(0)} ms)`);
  } else if (m.kind === 'done') {
    if (run !== null) Object.assign(run, { finished: true, result: m.result });
    if (run === main) {
      shell.showBackend(m.result.info);
      log(`done: ${m.result.imagesPerSecond.toFixed(1)} images/s (batch ${m.result.options.batchSize}, steps after the first); ${m.result.info.summary}`);
    }
    finish.get(m.run)?.resolve(m.result);
    finish.delete(m.run);
  } else {
    if (run !== null) {
      run.finished = true;
      log(`error: ${m.message}`);
    }
    finish.get(m.run ?? -1)?.reject(new Error(m.message));
    finish.delete(m.run ?? -1);
  }
  schedule();
}

/** The official files the page has: picked or dropped, else ./data when the server has it (test_batch.bin too). */
async function cifarParts(): Promise<CifarParts> {
  if (files.length > 0) return { parts: files.map((f) => ({ source: f.source, bytes: f.bytes.slice() })) };
  const parts: CifarParts['parts'] = [];
  for (const name of ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin']) {
    const response = await fetch(`./data/cifar-10-batches-bin/${name}`).catch(() => null);
    if (response !== null && response.ok) parts.push({ source: name, bytes: new Uint8Array(await response.arrayBuffer()) });
  }
  return { parts };
}

/** Starts a run in the worker; `done` resolves with its result. */
async function startRun(options: TrainOptions): Promise<{ run: Run; done: Promise<TrainResult> }> {
  const cifar = options.dataset === 'cifar10' ? await cifarParts() : null;
  const w = worker(options.mode ?? 'auto');
  const run = newRun(nextId++, options);
  const done = new Promise<TrainResult>((resolve, reject) => finish.set(run.id, { resolve, reject }));
  const message: ToWorker = { kind: 'start', run: run.id, options, cifar };
  w.postMessage(message, cifar === null ? [] : cifar.parts.map((p) => p.bytes.buffer));
  return { run, done };
}

/** lab.train: a new main run (the compare run, if any, is dropped); resolves when it is done. */
async function train(options: TrainOptions = {}): Promise<TrainResult> {
  if (main !== null && !main.finished) throw new Error('lab.train: a run is in progress; await it, or lab.reset() first');
  reset();
  const { run, done } = await startRun(options);
  main = run;
  countFrames();
  schedule();
  return done;
}

/** lab.compare: the main run's options with another activation, on the same seed, drawn dashed. */
async function compare(activation?: g.models.Activation): Promise<TrainResult> {
  if (main === null) throw new Error('lab.compare: train a first run, then compare another activation with it');
  if (compared !== null && !compared.finished) throw new Error('lab.compare: a compare run is in progress; await it first');
  if (compared !== null) post({ kind: 'stop', run: compared.id });
  const chosen = activation ?? g.models.ACTIVATIONS.find((a) => a === $('compareActivation', HTMLSelectElement).value) ?? 'relu';
  const { run, done } = await startRun({ ...main.options, activation: chosen });
  compared = run;
  countFrames();
  schedule();
  return done;
}

function setPaused(value: boolean): void {
  paused = value;
  for (const run of [main, compared]) {
    if (run === null || run.finished) continue;
    run.heldAt = null;
    post({ kind: value ? 'pause' : 'resume', run: run.id });
  }
  $('pauseButton', HTMLButtonElement).textContent = value ? 'Resume' : 'Pause';
  $('pauseButton', HTMLButtonElement).setAttribute('aria-pressed', String(value));
  schedule();
}

/** Stops both runs, frees their networks and clears the view. */
function reset(): void {
  for (const run of [main, compared]) if (run !== null && current !== null) post({ kind: 'stop', run: run.id });
  main = null;
  compared = null;
  gridShownFor = null;
  if (paused) setPaused(false);
  Object.assign(stats, { frames: 0, frameSeconds: 0, worstFrameMs: 0, longFrames: 0, longTasks: 0, longTaskMs: 0, draws: 0, chartMs: 0, pictureMs: 0, stepsDrawn: 0, lossChartSteps: 0 });
  for (const name of Object.keys(charts) as (keyof typeof charts)[]) charts[name].set([], Array.from({ length: SERIES[name] }, () => []));
  $('status', HTMLElement).textContent = 'idle';
  $('rate', HTMLElement).textContent = '';
  $('confusion', HTMLDivElement).replaceChildren();
  $('grid', HTMLDivElement).replaceChildren();
}

/** A frame longer than this is one a user sees as a stutter (three frames at 60 Hz). */
const LONG_FRAME_MS = 50;

/**
 * The frame rate while training, and what drawing costs: the charts (set + uPlot's redraw) and the
 * pictures (filters, grid, confusion matrix, status), per draw and per training step drawn, beside
 * the mean step time in the worker. For the report and the tests.
 */
function trainStats(): {
  fps: number; frames: number; worstFrameMs: number; longFrames: number; longTasks: number; longTaskMs: number; draws: number;
  chartMsPerDraw: number; pictureMsPerDraw: number; chartMsPerStep: number; stepMs: number; lossChartSteps: number; stepsDrawn: number;
} {
  const stepMs = main === null || main.stepMs.length < 2 ? 0 : main.stepMs.slice(1).reduce((s, t) => s + t, 0) / (main.stepMs.length - 1);
  const per = (ms: number, n: number): number => (n > 0 ? ms / n : 0);
  return {
    fps: per(stats.frames, stats.frameSeconds),
    frames: stats.frames,
    worstFrameMs: stats.worstFrameMs,
    longFrames: stats.longFrames,
    longTasks: stats.longTasks,
    longTaskMs: stats.longTaskMs,
    draws: stats.draws,
    chartMsPerDraw: per(stats.chartMs, stats.draws),
    pictureMsPerDraw: per(stats.pictureMs, stats.draws),
    chartMsPerStep: per(stats.chartMs, stats.stepsDrawn),
    stepMs,
    lossChartSteps: stats.lossChartSteps,
    stepsDrawn: stats.stepsDrawn,
  };
}

/** lab.runData: what the page holds of the main and compare runs (no pictures). */
function runData(): Record<'main' | 'compare', Pick<Run, 'options' | 'rows' | 'stats' | 'tests' | 'finished'> & { layers: string[] } | null> {
  const of = (run: Run | null) => (run === null ? null : { options: run.options, rows: run.rows, stats: run.stats, tests: run.tests, finished: run.finished, layers: run.setup?.layers ?? [] });
  return { main: of(main), compare: of(compared) };
}

/** lab.progress: where the runs are; `held`: paused, and every running run's loop has stopped (its step in flight done). */
function progress(): { step: number; compareStep: number; paused: boolean; held: boolean; running: boolean } {
  const running = [main, compared].filter((r): r is Run => r !== null && !r.finished);
  return {
    step: main?.rows.length ?? 0,
    compareStep: compared?.rows.length ?? 0,
    paused,
    held: paused && running.every((r) => r.heldAt !== null),
    running: running.length > 0,
  };
}

// ── for the export view ──

/** The main run (its metrics and setup), or null before the first. */
export function mainRun(): Run | null {
  return main;
}

/** Asks the worker for something and waits for its reply. */
function request<T>(message: ToWorker & { request: number }, transfer: Transferable[] = []): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    replies.set(message.request, { resolve: (v) => resolve(v as T), reject });
    post(message, transfer);
  });
}

/** The main run's weights as safetensors bytes (PyTorch's names; see TrainSession.exportWeights). */
export function exportWeights(): Promise<Uint8Array> {
  if (main === null) return Promise.reject(new Error('lab.exportWeights: train a run first'));
  return request({ kind: 'export', request: nextId++, run: main.id });
}

/**
 * Weights from a safetensors file into a new main run's network (the file names its activation,
 * data and seed; the rest from the last run or the form), then a test pass; resolves with its report.
 */
export async function loadWeights(bytes: Uint8Array): Promise<TestReport> {
  const options = main?.options ?? readForm();
  if (main !== null && !main.finished) throw new Error('lab.loadWeights: a run is in progress; reset it first');
  const cifar = options.dataset === 'cifar10' ? await cifarParts() : null;
  reset();
  worker(options.mode ?? 'auto');
  const id = nextId++;
  const copy = bytes.slice();
  main = newRun(id, options, true);
  const report = await request<TestReport>({ kind: 'load', request: nextId++, run: id, bytes: copy, options, cifar }, [copy.buffer]);
  schedule();
  return report;
}

// ── the form ──

function readForm(): TrainOptions {
  const num = (id: string): number => Number($(id, HTMLInputElement).value);
  const activation = $('activation', HTMLSelectElement).value;
  const modeValue = $('mode', HTMLSelectElement).value;
  return {
    model: 'smallnet',
    activation: g.models.ACTIVATIONS.find((a) => a === activation) ?? 'frelu',
    bn: $('bn', HTMLInputElement).checked,
    dataset: $('dataset', HTMLSelectElement).value === 'cifar10' ? 'cifar10' : 'synthetic',
    steps: num('steps'),
    batchSize: num('batchSize'),
    seed: num('seed'),
    lr: num('lr'),
    momentum: num('momentum'),
    testEvery: num('testEvery'),
    mode: (['auto', 'webgl2', 'webgl', 'webasm', 'cpu'] as const).find((m) => m === modeValue) ?? 'auto',
  };
}

async function addFiles(list: FileList | null): Promise<void> {
  for (const file of Array.from(list ?? [])) files.push({ source: file.name, bytes: new Uint8Array(await file.arrayBuffer()) });
  $('filesInfo', HTMLElement).textContent = files.length === 0 ? '' : `${files.length} file(s): ${files.map((f) => f.source).join(', ')}`;
  if (files.length > 0) $('dataset', HTMLSelectElement).value = 'cifar10';
}

function wire(): void {
  const failed = (e: unknown): void => log(`error: ${e instanceof Error ? e.message : String(e)}`);
  $('startButton', HTMLButtonElement).addEventListener('click', () => {
    if (main !== null && !main.finished) reset();
    train(readForm()).catch(failed);
  });
  $('pauseButton', HTMLButtonElement).addEventListener('click', () => setPaused(!paused));
  $('resetButton', HTMLButtonElement).addEventListener('click', () => reset());
  $('compareButton', HTMLButtonElement).addEventListener('click', () => {
    compare().catch(failed);
  });
  $('files', HTMLInputElement).addEventListener('change', (e) => {
    const input = e.target;
    if (input instanceof HTMLInputElement) void addFiles(input.files);
  });
  const drop = $('drop', HTMLDivElement);
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    void addFiles(e.dataTransfer?.files ?? null);
  });
  const isolated = crossOriginIsolated ? 'cross-origin isolated: the SIMD kernels can run' : 'not cross-origin isolated: no SIMD GEMM kernels (gpu.js webasm only)';
  shell.log(`lab page ${isolated}`);
}

const options = (names: readonly string[], selected: string): string => names.map((n) => `<option${n === selected ? ' selected' : ''}>${n}</option>`).join('');

const FORM = `
<h2>Train SmallNet</h2>
<p class="muted">SmallNet (the paper's Table 3) learns here, in a Web Worker; every curve is measured in the running network.
Synthetic data: 10 classes, each a blurred colour pattern plus noise; a few dozen steps learn it.</p>
<fieldset>
  <legend>run</legend>
  <label>activation <select id="activation">${options(g.models.ACTIVATIONS, 'frelu')}</select></label>
  <label><input type="checkbox" id="bn" checked> batch norm</label>
  <label>lr <input type="number" id="lr" value="0.01" min="0" step="0.005"></label>
  <label>momentum <input type="number" id="momentum" value="0.9" min="0" max="0.999" step="0.05"></label>
  <label>batch <input type="number" id="batchSize" value="16" min="1"></label>
  <label>seed <input type="number" id="seed" value="1" min="0"></label>
  <label>steps <input type="number" id="steps" value="60" min="1"></label>
  <label>test every <input type="number" id="testEvery" value="10" min="1"></label>
  <label>data <select id="dataset"><option value="synthetic">synthetic (generated here)</option><option value="cifar10">CIFAR-10 (files)</option></select></label>
  <label>mode <select id="mode">${options(['auto', 'webgl2', 'webgl', 'webasm', 'cpu'], 'auto')}</select></label>
  <div id="drop">CIFAR-10 binary files (<code>data_batch_1.bin</code> …, <code>test_batch.bin</code>): drop them here or <input type="file" id="files" multiple accept=".bin">
    <span id="filesInfo" class="muted"></span></div>
  <div class="buttons">
    <button id="startButton">Start</button>
    <button id="pauseButton" aria-pressed="false">Pause</button>
    <button id="resetButton">Reset</button>
    <label>compare with <select id="compareActivation">${options(g.models.ACTIVATIONS, 'relu')}</select></label>
    <button id="compareButton">Compare</button>
  </div>
</fieldset>
<p aria-live="polite"><span id="status">idle</span> · <span id="rate"></span></p>
<div class="row"><div id="lossChart"></div><div id="errorChart"></div></div>
<div class="row"><div id="bChart"></div><div id="meanChart"></div></div>
<div class="row"><div id="varChart"></div><div id="gradChart"></div></div>
<p id="layers" class="muted"></p>
<div class="row pictures">
  <div><h3>first conv layer's filters</h3><canvas id="filters" width="1" height="1" aria-label="the first conv layer's 32 filters, each scaled to its own range"></canvas></div>
  <div><h3>test images: predicted (true)</h3><div id="grid"></div></div>
</div>
<div id="confusion"></div>`;

/** Builds the view in `root`; adds lab.train, lab.compare, lab.pause, … to window.lab. */
export function mount(root: HTMLElement, pageShell: Shell): Record<string, unknown> {
  shell = pageShell;
  root.innerHTML = FORM;
  const both = (what: string): { label: string; color?: string; dash?: boolean; points?: boolean }[] => [
    { label: `${what} train`, color: PALETTE[0] },
    { label: `${what} test`, color: PALETTE[1], points: true },
    { label: 'compare train', color: PALETTE[0], dash: true },
    { label: 'compare test', color: PALETTE[4], points: true },
  ];
  const layers = (prefix: string, dash = false): { label: string; color: string; dash: boolean }[] => [0, 1, 2, 3].map((l) => ({ label: `${prefix}${l + 1}`, color: PALETTE[l + 2], dash }));
  charts = {
    loss: lineChart($('lossChart', HTMLDivElement), { title: 'loss (dashed: compare run)', x: 'step', integerX: true, series: both('loss') }),
    error: lineChart($('errorChart', HTMLDivElement), { title: 'error (fraction labelled wrong)', x: 'step', integerX: true, series: both('error') }),
    b: lineChart($('bChart', HTMLDivElement), { title: "FReLU's b per layer", x: 'step', integerX: true, series: [...layers('b'), ...layers('compare b', true)], height: 180 }),
    mean: lineChart($('meanChart', HTMLDivElement), { title: 'activation mean per layer', x: 'step', integerX: true, series: layers('layer '), height: 180 }),
    variance: lineChart($('varChart', HTMLDivElement), { title: 'activation variance per layer', x: 'step', integerX: true, series: layers('layer '), logY: true, height: 180 }),
    gradNorm: lineChart($('gradChart', HTMLDivElement), { title: '‖∂loss/∂activation‖ per layer', x: 'step', integerX: true, series: layers('layer '), logY: true, height: 180 }),
  };
  wire();
  watchLongTasks();
  return { train, compare, pause: () => setPaused(true), resume: () => setPaused(false), reset, progress, trainStats, runData, files };
}
