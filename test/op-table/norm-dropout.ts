/**
 * Rows for batch normalisation, batch statistics and dropout (src/nn/ops/batch-norm.ts,
 * batch-stats.ts, dropout.ts). The running statistics and the dropout masks are fixed inputs: the
 * checker does not perturb them.
 */
import { row, type InputGen, type OpRow } from './row.js';
import * as P from '../../src/nn/ops/index.js';
import type { Shape } from '../../src/tensor/shape.js';

/** Running statistics: a mean near 0 and a variance in [0.5, 2]. */
const running: Readonly<Record<'runningMean' | 'runningVar', InputGen>> = {
  runningMean: { fixed: (shape, rng) => Array.from({ length: shape[0] }, () => 0.5 * rng.normal()) },
  runningVar: { fixed: (shape, rng) => Array.from({ length: shape[0] }, () => 0.5 + 1.5 * rng.uniform()) },
};

/** The shapes of a batchNorm row: x and four per-channel inputs. */
function bnShapes(x: Shape): Record<'x' | 'gamma' | 'beta' | 'runningMean' | 'runningVar', Shape> {
  const C = [x[1]];
  return { x, gamma: C, beta: C, runningMean: C, runningVar: C };
}

/** A 0/1 mask keeping each element with probability 1 − p (the functional wrapper's own draw). */
const mask = (p: number): InputGen => ({ fixed: (shape, rng) => P.dropoutMask(shape, p, rng) });

// Batch statistics sum over every element of a channel, so float32 gpu sums differ from the
// reference's in the last digits; 1e-4 covers it.
const bnGpuTol = { atol: 1e-4, rtol: 1e-4 };

// In webasm mode the shapes choose the SIMD kernels' walk (src/tensor/backends/wasm/loops.ts): by
// planes for [4, 3, 2, 2] (H·W = 4), by columns for [6, 4], [5, 8] and [3, 4, 3, 3] (C·H·W a
// multiple of 4), plain loops for [1, 2, 3, 3] (neither).
export const NORM_DROPOUT_ROWS: OpRow[] = [
  row(P.batchNorm, { name: 'training [4, 3, 2, 2]', shapes: bnShapes([4, 3, 2, 2]), attrs: { training: true, eps: 1e-5 }, gen: running, gpuTol: bnGpuTol }),
  row(P.batchNorm, { name: 'training 2-D [6, 4]', shapes: bnShapes([6, 4]), attrs: { training: true, eps: 1e-5 }, gen: running, gpuTol: bnGpuTol }),
  row(P.batchNorm, { name: 'training [3, 4, 3, 3]', shapes: bnShapes([3, 4, 3, 3]), attrs: { training: true, eps: 1e-5 }, gen: running, gpuTol: bnGpuTol }),
  row(P.batchNorm, { name: 'training batch of 1, 3x3 image', shapes: bnShapes([1, 2, 3, 3]), attrs: { training: true, eps: 1e-5 }, gen: running, gpuTol: bnGpuTol }),
  row(P.batchNorm, { name: 'evaluation [2, 3, 2, 2]', shapes: bnShapes([2, 3, 2, 2]), attrs: { training: false, eps: 1e-5 }, gen: running, gpuTol: bnGpuTol }),
  row(P.batchNorm, { name: 'evaluation 2-D [5, 4]', shapes: bnShapes([5, 4]), attrs: { training: false, eps: 1e-5 }, gen: running, gpuTol: bnGpuTol }),
  row(P.batchNorm, { name: 'evaluation 2-D [5, 8]', shapes: bnShapes([5, 8]), attrs: { training: false, eps: 1e-5 }, gen: running, gpuTol: bnGpuTol }),
  row(P.batchStats, { name: '[4, 3, 2, 2]', shapes: { x: [4, 3, 2, 2] }, gpuTol: bnGpuTol }),
  row(P.batchStats, { name: '2-D [6, 4]', shapes: { x: [6, 4] }, gpuTol: bnGpuTol }),
  row(P.batchStats, { name: '[3, 4, 3, 3]', shapes: { x: [3, 4, 3, 3] }, gpuTol: bnGpuTol }),
  row(P.batchStats, { name: 'batch of 1, 3x3 image', shapes: { x: [1, 2, 3, 3] }, gpuTol: bnGpuTol }),
  // Values 1000 + N(0, 1): the two-pass σ² stays accurate in float32 on the gpu. Its error is the
  // rounding of (x − μ)², ~1e-7·σ², plus the square of μ's error (≤ ~1e-4, from summing 128 values
  // near 1000), so atol 1e-4 holds σ² ≈ 1 to four digits; rtol 1e-4 gives μ ≈ 1000 the same relative
  // accuracy (±0.1). Measured: μ off by one float32 step (6e-5), σ² exact. E[x²] − μ² in float32 gives
  // σ² = 1.44 and 0.69 here for 0.98 and 0.95 (x² ≈ 10⁶ is stored to the nearest 1/16) and would fail.
  // μ is linear and σ² quadratic in x, so central differences are exact for any eps; eps 1e-3 shrinks
  // the float64 rounding of the ~1000-sized μ (gradcheck error 7e-11, against 7e-8 at eps 1e-6).
  row(P.batchStats, { name: 'mean 1000, variance 1 [8, 2, 4, 4]', shapes: { x: [8, 2, 4, 4] }, gen: { x: { normalAround: 1000 } }, check: { eps: 1e-3 }, gpuTol: { atol: 1e-4, rtol: 1e-4 } }),
  row(P.dropout, { name: 'p=0.3 [3, 5]', shapes: { x: [3, 5], mask: [3, 5] }, attrs: { p: 0.3 }, gen: { mask: mask(0.3) } }),
  row(P.dropout, { name: 'p=0.5 [2, 3, 4, 4]', shapes: { x: [2, 3, 4, 4], mask: [2, 3, 4, 4] }, attrs: { p: 0.5 }, gen: { mask: mask(0.5) } }),
  row(P.dropout, { name: 'p=0.9 [4, 10]', shapes: { x: [4, 10], mask: [4, 10] }, attrs: { p: 0.9 }, gen: { mask: mask(0.9) } }),
];
