/**
 * View 3, "Train SmallNet": the form, lab.train (SmallNet in a Web Worker, ../worker.ts, so the page
 * never freezes), the loss curve, images per second and the backend.
 *
 *   await lab.train({ model: 'smallnet', activation: 'frelu', bn: true, dataset: 'synthetic', steps: 10, batchSize: 16, seed: 1 })
 *     → { losses, b /* FReLU b per layer per step *\/, imagesPerSecond, info }
 *   lab.files      the CIFAR-10 files picked or dropped (or fetched from ./data when `npm run lab` serves it)
 */
import * as g from '../../index.js';
import type { FromWorker, ToWorker } from '../worker.js';
import type { CifarParts, StepReport, TrainOptions, TrainResult } from '../train.js';
import type { Shell } from '../page.js';
import { lineChart, type LineChart } from '../chart.js';

const $ = <T extends Element>(id: string, kind: new () => T): T => {
  const el = document.getElementById(id);
  if (!(el instanceof kind)) throw new Error(`lab page: #${id} is missing`);
  return el;
};

const files: { source: string; bytes: Uint8Array }[] = [];
let running: Promise<TrainResult> | null = null;
/** The training worker, kept while the gpu.js mode asked for stays the same (./worker.ts). */
let current: { worker: Worker; mode: NonNullable<TrainOptions['mode']> } | null = null;

/** Set by mount. */
let shell: Shell;
let lossChart: LineChart;
const log = (line: string): void => shell.log(line);

/** The official training files the page has: picked or dropped, else ./data when the server has it. */
async function cifarParts(): Promise<CifarParts> {
  if (files.length > 0) return { parts: files.map((f) => ({ source: f.source, bytes: f.bytes.slice() })) };
  const parts: CifarParts['parts'] = [];
  for (let i = 1; i <= 5; i++) {
    const name = `data_batch_${i}.bin`;
    const response = await fetch(`./data/cifar-10-batches-bin/${name}`).catch(() => null);
    if (response === null || !response.ok) break;
    parts.push({ source: name, bytes: new Uint8Array(await response.arrayBuffer()) });
  }
  return { parts };
}

function plot(losses: readonly number[]): void {
  lossChart.set(losses.map((_, i) => i + 1), [losses]);
}

/** One training run in a fresh worker. */
async function train(options: TrainOptions = {}): Promise<TrainResult> {
  if (running !== null) throw new Error('lab.train: a run is in progress; await it first');
  const cifar = options.dataset === 'cifar10' ? await cifarParts() : null;
  const mode = options.mode ?? 'auto';
  if (current === null || current.mode !== mode) {
    current?.worker.terminate();
    current = { worker: new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }), mode };
  }
  const worker = current.worker;
  const losses: number[] = [];
  $('status', HTMLElement).textContent = 'training…';
  $('rate', HTMLElement).textContent = '';
  plot(losses);
  const done = new Promise<TrainResult>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const m = event.data;
      if (m.kind === 'step') {
        const r: StepReport = m.report;
        losses.push(r.loss);
        plot(losses);
        log(`step ${r.step}: loss ${r.loss.toFixed(4)}  b ${r.b.map((v) => v.toFixed(3)).join(' ')}  ${r.ms.toFixed(0)} ms  textures ${r.liveTextures}`);
        $('status', HTMLElement).textContent = `step ${r.step}`;
      } else if (m.kind === 'done') {
        const res = m.result;
        $('status', HTMLElement).textContent = `done: ${res.losses.length} steps`;
        $('rate', HTMLElement).textContent = `${res.imagesPerSecond.toFixed(1)} images/s on ${res.info.summary ?? '?'}`;
        shell.showBackend(res.info);
        log(`done: ${res.imagesPerSecond.toFixed(1)} images/s (batch ${res.options.batchSize}, steps after the first); ${res.info.summary}`);
        resolve(res);
      } else {
        $('status', HTMLElement).textContent = 'failed';
        log(`error: ${m.message}`);
        reject(new Error(m.message));
      }
    };
    worker.onerror = (e) => reject(new Error(`lab.train: the worker failed: ${e.message}`));
  });
  const message: ToWorker = { options, cifar };
  worker.postMessage(message, cifar === null ? [] : cifar.parts.map((p) => p.bytes.buffer));
  running = done;
  try {
    return await done;
  } finally {
    running = null;
  }
}

function readForm(): TrainOptions {
  const num = (id: string): number => Number($(id, HTMLInputElement).value);
  const activation = $('activation', HTMLSelectElement).value;
  const act = g.models.ACTIVATIONS.find((a) => a === activation) ?? 'frelu';
  const modeValue = $('mode', HTMLSelectElement).value;
  const mode = (['auto', 'webgl2', 'webgl', 'webasm', 'cpu'] as const).find((m) => m === modeValue) ?? 'auto';
  return {
    model: 'smallnet',
    activation: act,
    bn: $('bn', HTMLInputElement).checked,
    dataset: $('dataset', HTMLSelectElement).value === 'cifar10' ? 'cifar10' : 'synthetic',
    steps: num('steps'),
    batchSize: num('batchSize'),
    seed: num('seed'),
    mode,
  };
}

async function addFiles(list: FileList | null): Promise<void> {
  for (const file of Array.from(list ?? [])) files.push({ source: file.name, bytes: new Uint8Array(await file.arrayBuffer()) });
  $('filesInfo', HTMLElement).textContent = files.length === 0 ? '' : `${files.length} file(s): ${files.map((f) => f.source).join(', ')}`;
  if (files.length > 0) $('dataset', HTMLSelectElement).value = 'cifar10';
}

function wire(): void {
  $('trainButton', HTMLButtonElement).addEventListener('click', () => {
    train(readForm()).catch((e: unknown) => log(`error: ${e instanceof Error ? e.message : String(e)}`));
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

const FORM = `
<h2>Train SmallNet</h2>
<fieldset>
  <legend>SmallNet training</legend>
  <label>activation <select id="activation"><option>frelu</option><option>relu</option><option>leakyRelu</option><option>prelu</option><option>elu</option></select></label>
  <label><input type="checkbox" id="bn" checked> batch norm</label>
  <label>data <select id="dataset"><option value="synthetic">synthetic (generated here)</option><option value="cifar10">CIFAR-10 (files)</option></select></label>
  <label>mode <select id="mode"><option>auto</option><option>webgl2</option><option>webgl</option><option>webasm</option><option>cpu</option></select></label>
  <br>
  <label>steps <input type="number" id="steps" value="10" min="1"></label>
  <label>batch <input type="number" id="batchSize" value="16" min="1"></label>
  <label>seed <input type="number" id="seed" value="1" min="0"></label>
  <button id="trainButton">Train</button>
  <div id="drop">CIFAR-10 binary files (<code>data_batch_1.bin</code> …): drop them here or <input type="file" id="files" multiple accept=".bin">
    <span id="filesInfo" class="muted"></span></div>
</fieldset>
<p><span id="status">idle</span> · <span id="rate"></span></p>
<div id="lossChart"></div>`;

/** Builds the view in `root`; adds lab.train and lab.files to window.lab. */
export function mount(root: HTMLElement, pageShell: Shell): Record<string, unknown> {
  shell = pageShell;
  root.innerHTML = FORM;
  lossChart = lineChart($('lossChart', HTMLDivElement), { title: 'training loss', x: 'step', series: [{ label: 'loss' }] });
  wire();
  return { train, files };
}
