/**
 * Every row of the op-test table on both backends, float32: the gpu kernels (forward and every
 * input gradient) agree with the reference kernels within the row's stated tolerance
 * (./op-table/compare.ts). Runs in the gpu.js mode GRADLAB_GPU_MODE selects (webasm by default
 * here; headlessgl under xvfb-run); browser.test.ts runs the same rows in Chromium (webgl2).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import { COMPOSITE_ROWS, OP_ROWS } from './op-table/index.js';
import { rowLabel, type OpRow } from './op-table/row.js';
import { compareWithReference } from './op-table/compare.js';
import { NON_FINITE_ROWS } from './op-table/non-finite.js';

const mode = process.env.GRADLAB_GPU_MODE ?? 'webasm';
g.setGpuMode(mode as g.GpuMode);

// In webasm mode matmul and conv2d run the backend's hand-written SIMD kernels, and the memory-bound
// ops of a training step its plain loops (k.simd; src/tensor/backends/wasm); their rows run a second
// time with those turned off, so the ops' gpu.js kernels are checked in this mode too.
const SIMD_OPS = ['matmul', 'conv2d', 'batchNorm', 'batchStats', 'relu', 'frelu', 'add', 'sub', 'mul', 'expand', 'permute', 'reshape', 'dropout', 'maxPool2d', 'avgPool2d'];

for (const c of [...OP_ROWS, ...COMPOSITE_ROWS]) {
  compare(c, true);
  if (mode === 'webasm' && SIMD_OPS.includes(c.op.name)) compare(c, false);
}

// The same rows with NaN and ±Infinity in their inputs (./op-table/non-finite.ts): the backends
// must agree on every non-finite output too — no backend may hide a NaN the other shows.
for (const c of NON_FINITE_ROWS) {
  compare(c, true);
  if (mode === 'webasm' && SIMD_OPS.includes(c.op.name)) compare(c, false);
}

function compare(c: OpRow, simd: boolean): void {
  const kernels = mode === 'webasm' ? (simd ? ', SIMD kernels' : ', gpu.js kernels') : '';
  test(`${rowLabel(c)}: gpu (${mode}${kernels}) equals reference, forward and backward (float32)`, () => {
    g.setSimdKernels(simd);
    const { failure } = compareWithReference(c);
    assert.ok(failure === null, failure ?? '');
    assert.is(g.gpuInfo().mode, mode);
    assert.is(g.gpuInfo().simdKernels, mode === 'webasm' && simd);
  });
}

test.run();
