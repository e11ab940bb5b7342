/**
 * The lab page: the library as `window.g` (for the console, as TF.js's playground exposes `tf`)
 * and the session as `window.lab`:
 *
 *   await lab.train({ model: 'smallnet', activation: 'frelu', bn: true, dataset: 'synthetic', steps: 10, batchSize: 16, seed: 1 })
 *     → { losses, b /* FReLU b per layer per step *\/, imagesPerSecond, info }
 *   lab.files      the CIFAR-10 files picked or dropped (or fetched from ./data when `npm run lab` serves it)
 *
 * lab.train runs in a Web Worker (./worker.ts), so the page never freezes; the page
 * shows the loss curve, the images per second and what the backend runs on (gpuInfo().summary).
 */
import * as g from '../index.js';
import type { FromWorker, ToWorker } from './worker.js';
import type { CifarParts, StepReport, TrainOptions, TrainResult } from './train.js';

const $ = <T extends Element>(id: string, kind: new () => T): T => {
  const el = document.getElementById(id);
  if (!(el instanceof kind)) throw new Error(`lab page: #${id} is missing`);
  return el;
};

const files: { source: string; bytes: Uint8Array }[] = [];
let running: Promise<TrainResult> | null = null;
/** The training worker, kept while the gpu.js mode asked for stays the same (./worker.ts). */
let current: { worker: Worker; mode: NonNullable<TrainOptions['mode']> } | null = null;

function log(line: string): void {
  const pre = $('log', HTMLPreElement);
  pre.textContent += line + '\n';
  pre.scrollTop = pre.scrollHeight;
}

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
  const svg = $('plot', SVGSVGElement);
  if (losses.length === 0) {
    svg.innerHTML = '';
    return;
  }
  const W = 640, H = 200, pad = 30;
  const max = Math.max(...losses), min = Math.min(...losses, 0);
  const x = (i: number): number => pad + ((W - 2 * pad) * i) / Math.max(1, losses.length - 1);
  const y = (v: number): number => H - pad - ((H - 2 * pad) * (v - min)) / Math.max(1e-9, max - min);
  const points = losses.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  svg.innerHTML =
    `<polyline fill="none" stroke="#36c" stroke-width="2" points="${points}"/>` +
    `<text x="${pad}" y="16" font-size="12">loss ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)} (step ${losses.length})</text>` +
    `<text x="4" y="${y(max) + 4}" font-size="10">${max.toFixed(2)}</text><text x="4" y="${y(min) + 4}" font-size="10">${min.toFixed(2)}</text>`;
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
        $('gpu', HTMLElement).textContent = `${res.info.summary ?? '?'} — ${res.info.reason ?? ''}`;
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
  $('train', HTMLButtonElement).addEventListener('click', () => {
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
  $('gpu', HTMLElement).textContent = `chosen when training starts (in the worker); page ${isolated}`;
}

const lab = { train, files, g };
Object.assign(window, { g, lab });
wire();
log(`gradlab ready: window.g (${Object.keys(g).length} names), window.lab`);
