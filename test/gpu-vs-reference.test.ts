/**
 * Every row of the op-test table on both backends, float32: the gpu kernels (forward and every
 * input gradient) agree with the reference kernels within the row's stated tolerance. Runs in the
 * gpu.js mode GRADLAB_GPU_MODE selects (webasm by default here; headlessgl under xvfb-run).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import { COMPOSITE_ROWS, OP_ROWS } from './op-table/index.js';
import { rowInputs, rowLabel, type OpRow } from './op-table/row.js';
import { randomStream } from '../src/tensor/random.js';

function close(label: string, got: Float32Array | Float64Array, want: Float32Array | Float64Array, tol: { atol: number; rtol: number }): void {
  assert.is(got.length, want.length, `${label}: length`);
  for (let i = 0; i < want.length; i++) {
    const diff = Math.abs(got[i] - want[i]);
    if (!(diff <= tol.atol + tol.rtol * Math.abs(want[i])) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
      assert.unreachable(`${label}: element ${i}: gpu ${got[i]}, reference ${want[i]} (|diff| ${diff.toPrecision(3)} > ${tol.atol} + ${tol.rtol}·|ref|)`);
    }
  }
}

const mode = process.env.GRADLAB_GPU_MODE ?? 'webasm';
g.setGpuMode(mode as g.GpuMode);

// In webasm mode matmul and conv2d run the backend's hand-written SIMD kernels (k.simd); their rows
// run a second time with those turned off, so the ops' gpu.js kernels are checked in this mode too.
const SIMD_OPS = ['matmul', 'conv2d'];

for (const c of [...OP_ROWS, ...COMPOSITE_ROWS]) {
  compare(c, true);
  if (mode === 'webasm' && SIMD_OPS.includes(c.op.name)) compare(c, false);
}

function compare(c: OpRow, simd: boolean): void {
  const kernels = mode === 'webasm' ? (simd ? ', SIMD kernels' : ', gpu.js kernels') : '';
  test(`${rowLabel(c)}: gpu (${mode}${kernels}) equals reference, forward and backward (float32)`, () => {
    g.setSimdKernels(simd);
    const tol = c.gpuTol ?? { atol: 1e-5, rtol: 1e-4 };
    const results = (['reference', 'gpu'] as const).map((backend) => {
      const inputs = rowInputs(c, 'float32', backend);
      const y = c.op.apply(inputs, c.attrs);
      const rng = randomStream(`${rowLabel(c)} upstream`);
      const seed = g.tensor(Float32Array.from({ length: y.size }, () => rng.uniform() * 2 - 1), { shape: y.shape, backend });
      y.backward(seed);
      const grads: Record<string, Float32Array | Float64Array> = {};
      for (const [name, t] of Object.entries(inputs)) if (t.requiresGrad) grads[name] = t.grad ? t.grad.toArray() : new Float32Array(t.size);
      return { y: y.toArray(), grads };
    });
    const [ref, gpu] = results;
    close(`${rowLabel(c)} forward`, gpu.y, ref.y, tol);
    for (const name of Object.keys(ref.grads)) close(`${rowLabel(c)} d${name}`, gpu.grads[name], ref.grads[name], tol);
    assert.is(g.gpuInfo().mode, mode);
    assert.is(g.gpuInfo().simdKernels, mode === 'webasm' && simd);
  });
}

test.run();
