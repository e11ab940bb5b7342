/**
 * batchStats: the per-channel mean and biased variance of a batch, for x [N, C] or [N, C, H, W] —
 * the statistics batchNorm normalises with, as a tensor of their own (nn.functional.batchNorm
 * updates the running averages from them). The statistics of channel c are taken over its
 * m = N·H·W values (m = N for [N, C]); the output is [2, C], row 0 the means, row 1 the variances:
 *   μ[c]  = (1/m) Σ x                y[0, c] = μ[c]
 *   σ²[c] = (1/m) Σ (x − μ[c])²      y[1, c] = σ²[c]      (biased: divided by m, not m − 1)
 *
 * Two passes, μ first and then the squared deviations, never E[x²] − μ²: when |μ| ≫ σ the two
 * terms of that difference are large and nearly equal, and their rounding errors survive it. In
 * float32 with μ ≈ 1000 and σ ≈ 1, x² ≈ 10⁶ is stored to the nearest 1/16, so E[x²] − μ² would
 * not get even the first digit of σ² ≈ 1 right; (x − μ)² is of the size of σ² itself.
 *
 * Backward. x[n, c, s] reaches μ[c] directly and σ²[c] directly and through μ[c]:
 *   ∂μ[c]/∂x  = 1/m
 *   ∂σ²[c]/∂x = (2/m)(x − μ[c]) − (2/m)·Σⱼ (xⱼ − μ[c]) · ∂μ[c]/∂x = (2/m)(x − μ[c])
 * because the deviations from the mean sum to zero, Σⱼ (xⱼ − μ[c]) = 0: the path through μ vanishes.
 * With dy [2, C] (dμ = dy[0, ·], dσ² = dy[1, ·]):
 *   dx[n, c, s] = dμ[c]/m + dσ²[c] · 2(x[n, c, s] − μ[c])/m
 * Backward saves y and reads μ from its row 0 instead of recomputing it.
 * The op needs m > 1, like batchNorm in training: one value per channel has no spread to measure,
 * and the unbiased variance σ²·m/(m − 1) that the running statistics use would divide by zero.
 *
 * Layout: NCHW, x viewed as [N, C, S] with S = H·W (S = 1 for [N, C]); the flat element i belongs
 * to channel c = ⌊i / S⌋ mod C (channels.ts, whose batch statistics batchNorm normalises with too).
 */
import { defineOp } from '../../autograd/op.js';
import { expectRank, shapeToString } from '../../tensor/shape.js';
import type { Flat, Thread } from '../../tensor/op-def.js';
import { loopKernels } from '../../tensor/backends/wasm/loops.js';
import { batchMeanVariance, batchMeanVarianceGpu, channelLayout } from './channels.js';

export const batchStats = defineOp({
  name: 'batchStats',
  inputs: ['x'],
  saves: ['x', 'y'], // dx needs x − μ; μ is row 0 of y
  outputShape({ x }) {
    expectRank('batchStats', 'x', x, [2, 4], '(N, C) or (N, C, H, W)');
    const { N, C, S } = channelLayout(x);
    if (N * S < 2) {
      throw new Error(`batchStats: expected more than 1 value per channel; got x ${shapeToString(x)} (N·H·W = ${N * S}), whose variance is undefined`);
    }
    return [2, C];
  },

  reference: {
    forward({ x }, y, { shapes }) {
      const { mean, variance } = batchMeanVariance(x, channelLayout(shapes.x));
      y.set(mean, 0);
      y.set(variance, mean.length);
    },
    backward({ x, y }, dy, { dx }, { shapes }) {
      const { N, C, S } = channelLayout(shapes.x);
      const m = N * S;
      for (let i = 0; i < dx.length; i++) {
        const c = Math.floor(i / S) % C;
        dx[i] = dy[c] / m + (dy[C + c] * 2 * (x[i] - y[c])) / m;
      }
    },
  },

  gpu: {
    forward(k, { x }, { shapes }) {
      const d = channelLayout(shapes.x);
      const loops = k.simd(loopKernels); // webasm mode: wasm SIMD streaming kernels (src/tensor/backends/wasm/loops.ts)
      if (loops) return loops.batchStats(x, d.N, d.C, d.S);
      const { mean, variance } = batchMeanVarianceGpu(k, x, d);
      const y = k.run(
        function (this: Thread, mean: Flat, variance: Flat) {
          const i = this.thread.x; // y[0, c] = μ[c], y[1, c] = σ²[c]: flat i = c or C + c
          if (i < this.constants.C) return mean[i];
          return variance[i - this.constants.C];
        },
        2 * d.C,
        [mean, variance],
        { C: d.C },
      );
      k.release(mean);
      k.release(variance);
      return y;
    },
    // One thread per element of x: every dx gathers its channel's μ, dμ and dσ², no reduction.
    backward(k, { x, y }, dy, { shapes }) {
      const d = channelLayout(shapes.x);
      const dx = k.run(
        function (this: Thread, x: Flat, y: Flat, dy: Flat) {
          const i = this.thread.x;
          const c = Math.floor(i / this.constants.S) % this.constants.C;
          return (dy[c] + dy[this.constants.C + c] * 2 * (x[i] - y[c])) / this.constants.M;
        },
        d.N * d.C * d.S,
        [x, y, dy],
        { C: d.C, S: d.S, M: d.N * d.S },
      );
      return { dx };
    },
  },
});
