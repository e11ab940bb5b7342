/**
 * One row of the op-test table on both backends, float32: the gpu kernels (forward and every input
 * gradient) against the reference kernels, within the row's stated tolerance. Shared by
 * gpu-vs-reference.test.ts (Node: webasm, headlessgl) and the browser pass (test/browser/: webgl2
 * in Chromium), so both run the same rows the same way. Returns the first mismatch in words, or null.
 */
import * as g from '../../src/index.js';
import { rowInputs, rowLabel, type OpRow } from './row.js';
import { randomStream } from '../../src/tensor/random.js';

function mismatch(label: string, got: Float32Array | Float64Array, want: Float32Array | Float64Array, tol: { atol: number; rtol: number }): string | null {
  if (got.length !== want.length) return `${label}: length ${got.length}, reference ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const diff = Math.abs(got[i] - want[i]);
    // Equal values pass (the same infinity included: ∞ − ∞ is NaN), and so does NaN on both sides.
    if (got[i] !== want[i] && !(diff <= tol.atol + tol.rtol * Math.abs(want[i])) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
      return `${label}: element ${i}: gpu ${got[i]}, reference ${want[i]} (|diff| ${diff.toPrecision(3)} > ${tol.atol} + ${tol.rtol}·|ref|)`;
    }
  }
  return null;
}

export interface RowComparison {
  /** The first mismatch, or null when gpu and reference agree everywhere. */
  failure: string | null;
  /** Time of the gpu forward + backward + readback, ms (kernel compiles included on a first run). */
  gpuMs: number;
  referenceMs: number;
}

/** Runs row `c` forward and backward (with a seeded upstream gradient) on both backends and compares. */
export function compareWithReference(c: OpRow): RowComparison {
  const tol = c.gpuTol ?? { atol: 1e-5, rtol: 1e-4 };
  const ms: number[] = [];
  const results = (['reference', 'gpu'] as const).map((backend) => {
    const t0 = performance.now();
    const inputs = rowInputs(c, 'float32', backend);
    const y = c.op.apply(inputs, c.attrs);
    const rng = randomStream(`${rowLabel(c)} upstream`);
    const seed = g.tensor(Float32Array.from({ length: y.size }, () => rng.uniform() * 2 - 1), { shape: y.shape, backend });
    if (y.requiresGrad) y.backward(seed); // argmax records no graph: forward only
    const grads: Record<string, Float32Array | Float64Array> = {};
    for (const [name, t] of Object.entries(inputs)) if (t.requiresGrad) grads[name] = t.grad ? t.grad.toArray() : new Float32Array(t.size);
    const out = { y: y.toArray(), grads };
    ms.push(performance.now() - t0);
    return out;
  });
  const [ref, gpu] = results;
  let failure = mismatch(`${rowLabel(c)} forward`, gpu.y, ref.y, tol);
  for (const name of Object.keys(ref.grads)) failure ??= mismatch(`${rowLabel(c)} d${name}`, gpu.grads[name], ref.grads[name], tol);
  return { failure, referenceMs: ms[0], gpuMs: ms[1] };
}
