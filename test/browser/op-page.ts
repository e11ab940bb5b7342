/**
 * The browser pass's page script (bundled by browser.test.ts with src/node/lab/bundle.ts, which
 * maps the Node entry to the browser entry): the op-test table, and a small training loop for the
 * texture counts, as functions on globalThis.gradlabTest for page.evaluate to call. Nothing here
 * knows about the DOM, so it typechecks with the rest of the tests.
 */
import * as g from '../../src/index.js';
import { COMPOSITE_ROWS, OP_ROWS } from '../op-table/index.js';
import { rowLabel } from '../op-table/row.js';
import { compareWithReference } from '../op-table/compare.js';

const ROWS = [...OP_ROWS, ...COMPOSITE_ROWS];

/** Starts the gpu backend in `mode` (once per page). */
function start(mode: g.GpuMode | 'auto'): g.GpuInfo {
  g.setGpuMode(mode);
  return g.gpuInfo({ start: true });
}

/** Row i on both backends; the gpu in the mode the page started. */
function runRow(i: number): { label: string; failure: string | null; gpuMs: number; referenceMs: number; mode: string | null; kernelClass: string | null } {
  const c = ROWS[i];
  const r = compareWithReference(c);
  const info = g.gpuInfo();
  return { label: rowLabel(c), ...r, mode: info.mode, kernelClass: info.kernelClass };
}

/**
 * A small classifier trained for `steps` steps on the gpu backend, each step in tidy(): the live
 * textures after every step (flat after the first: each tensor's texture freed exactly once), and
 * after disposing the model (back to where it started, but for gpu.js's one output texture per kernel).
 */
function textureCounts(steps: number): { before: number; perStep: number[]; afterDispose: number; losses: number[] } {
  g.setBackend('gpu');
  const before = g.gpuInfo().liveTextures;
  const model = new g.nn.Sequential(new g.nn.Linear(12, 16, { seed: 1 }), new g.nn.ReLU(), new g.nn.Linear(16, 4, { seed: 2 }));
  const optimizer = new g.optim.SGD(model.namedParameters(), { lr: 0.1, momentum: 0.9 });
  const x = g.randn([8, 12], { seed: 3 });
  const labels = [0, 1, 2, 3, 0, 1, 2, 3];
  const perStep: number[] = [];
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    losses.push(
      g.tidy(() => {
        optimizer.zeroGrad();
        const loss = g.nn.functional.crossEntropy(model.forward(x), labels);
        loss.backward();
        optimizer.step();
        return loss.item();
      }),
    );
    perStep.push(g.gpuInfo().liveTextures);
  }
  optimizer.zeroGrad();
  for (const p of model.parameters()) p.dispose();
  x.dispose();
  return { before, perStep, afterDispose: g.gpuInfo().liveTextures, losses };
}

/** The library's public names, and g.data's, for the check that both entries export the same. */
function names(): { top: string[]; data: string[] } {
  return { top: Object.keys(g).sort(), data: Object.keys(g.data).sort() };
}

/** A Node-only function's message in the browser. */
function nodeOnlyMessage(): string {
  try {
    g.data.loadCifar({ dataset: 'cifar10', split: 'train' });
    return 'no error';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

Object.assign(globalThis, {
  gradlabTest: { rows: ROWS.map(rowLabel), start, runRow, textureCounts, names, nodeOnlyMessage, info: () => g.gpuInfo() },
});
