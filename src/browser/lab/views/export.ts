/**
 * View 4, "Export": the main run's metrics as CSV (one row per step), its weights as safetensors
 * (the layout `gradlab train` writes as model.safetensors, under PyTorch's names, so
 * `model.load_state_dict(load_file(...))` takes it), and weights loaded back: the worker builds the
 * network the file describes, loads them, and a test pass shows its test loss beside the one the
 * run had when it was exported.
 *
 *   lab.exportCsv()            → the CSV text
 *   await lab.exportWeights()  → the safetensors bytes
 *   await lab.loadWeights(bytes) → the test pass of the loaded network { loss, error, confusion, … }
 */
import * as g from '../../index.js';
import type { Shell } from '../page.js';
import type { TestReport } from '../train.js';
import { metricsCsv } from '../train-metrics.js';
import { exportWeights, loadWeights, mainRun } from './train.js';

const $ = <T extends Element>(id: string, kind: new () => T): T => {
  const el = document.getElementById(id);
  if (!(el instanceof kind)) throw new Error(`lab page: #${id} is missing`);
  return el;
};

let shell: Shell;
/** The main run's last test loss when its weights were exported (shown beside a loaded file's). */
let exportedTestLoss: number | null = null;

/** The main run's metrics as CSV (train-metrics.ts: metricsCsv). */
function exportCsv(): string {
  const run = mainRun();
  if (run === null || run.setup === null) throw new Error('lab.exportCsv: train a run first');
  return metricsCsv(run.rows, run.setup.freluLayers);
}

/** The main run's weights; remembers its last test loss, and lists the tensors on the page. */
async function weights(): Promise<Uint8Array> {
  const bytes = await exportWeights();
  const tests = mainRun()?.tests ?? [];
  exportedTestLoss = tests.length > 0 ? tests[tests.length - 1].loss : null;
  const { tensors, metadata } = g.io.decodeSafetensors(bytes, 'the exported weights');
  const rows = Object.entries(tensors).map(([name, t]) => `<tr><td>${name}</td><td>${t.dtype}</td><td>[${t.shape.join(', ')}]</td></tr>`);
  $('tensors', HTMLDivElement).innerHTML =
    `<table><caption>${Object.keys(tensors).length} tensors, ${(bytes.length / 1024).toFixed(0)} KiB; metadata ${Object.entries(metadata).map(([k, v]) => `${k}=${v}`).join(', ')}</caption>` +
    `<thead><tr><th scope="col">name (PyTorch's)</th><th scope="col">dtype</th><th scope="col">shape</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  return bytes;
}

async function load(bytes: Uint8Array): Promise<TestReport> {
  const report = await loadWeights(bytes);
  const before = exportedTestLoss === null ? '' : ` (at export: ${exportedTestLoss.toFixed(6)})`;
  $('loaded', HTMLElement).textContent = `loaded: test loss ${report.loss.toFixed(6)}${before}, error ${(100 * report.error).toFixed(1)} % on the run's test images; the train view shows its predictions`;
  return report;
}

/** Hands `bytes` to the browser as a download named `name`. */
function download(contents: string | Uint8Array, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([typeof contents === 'string' ? contents : contents.slice()], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const VIEW = `
<h2>Export</h2>
<p class="muted">The run of the training view: its metrics, one row a step, and its weights in the safetensors format,
under the names PyTorch gives the same network, so that <code>model.load_state_dict(safetensors.torch.load_file('smallnet.safetensors'))</code> takes them.</p>
<div class="buttons">
  <button id="csvButton">Download metrics (CSV)</button>
  <button id="weightsButton">Download weights (safetensors)</button>
  <label>load weights <input type="file" id="weightsFile" accept=".safetensors"></label>
</div>
<p id="loaded" aria-live="polite"></p>
<div id="tensors" class="scroll"></div>`;

export function mount(root: HTMLElement, pageShell: Shell): Record<string, unknown> {
  shell = pageShell;
  root.innerHTML = VIEW;
  const failed = (e: unknown): void => shell.log(`error: ${e instanceof Error ? e.message : String(e)}`);
  $('csvButton', HTMLButtonElement).addEventListener('click', () => {
    try {
      download(exportCsv(), 'smallnet-metrics.csv', 'text/csv');
    } catch (e) {
      failed(e);
    }
  });
  $('weightsButton', HTMLButtonElement).addEventListener('click', () => {
    weights().then((bytes) => download(bytes, 'smallnet.safetensors', 'application/octet-stream'), failed);
  });
  $('weightsFile', HTMLInputElement).addEventListener('change', (e) => {
    const file = e.target instanceof HTMLInputElement ? e.target.files?.[0] : undefined;
    if (file !== undefined) file.arrayBuffer().then((buffer) => load(new Uint8Array(buffer)), failed).catch(failed);
  });
  return { exportCsv, exportWeights: weights, loadWeights: load };
}
