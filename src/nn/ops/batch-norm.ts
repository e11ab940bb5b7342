/**
 * batchNorm: batch normalisation (Ioffe & Szegedy 2015, Alg. 1), per channel, for x [N, C] or
 * [N, C, H, W]. The statistics of channel c are taken over its m = N·H·W values (m = N for [N, C]).
 *
 * Training (attrs.training = true) normalises with the batch's own statistics:
 *   μ  = (1/m) Σ x              σ² = (1/m) Σ (x − μ)²       (biased: divided by m, not m − 1)
 *   x̂  = (x − μ) / √(σ² + eps)  y  = γ·x̂ + β
 * μ and σ² depend on every x of the channel, so the gradient reaches x along three paths (directly,
 * through μ, through σ²). Summed, per channel:
 *   dβ = Σ dy                   dγ = Σ dy·x̂
 *   dx = γ/√(σ² + eps) · (dy − dβ/m − x̂·dγ/m)
 * Dropping the last two terms (treating μ and σ² as constants) would be a different, wrong gradient.
 * Training needs m > 1: one value per channel has no variance (PyTorch refuses it too).
 * The running statistics are not read in training mode, forward or backward; updating them is the
 * caller's job (nn.functional.batchNorm does it under noGrad), so the op stays pure.
 *
 * Evaluation (training = false) uses the running statistics: a fixed per-channel affine map
 *   x̂  = (x − runningMean) / √(runningVar + eps)      y = γ·x̂ + β
 *   dx = dy·γ/√(runningVar + eps)    dγ = Σ dy·x̂    dβ = Σ dy
 * runningMean and runningVar are statistics, not parameters: they get no gradient.
 *
 * Layout: NCHW. x is viewed as [N, C, S] with S = H·W (S = 1 for [N, C]), so the flat element i
 * belongs to channel c = ⌊i / S⌋ mod C — the same decoding in the reference loops and gpu kernels.
 * The per-channel sums and the batch statistics are channels.ts's, shared with batchStats.
 */
import { defineOp } from '../../autograd/op.js';
import { expectRank, sameShape, shapeToString, sizeOf } from '../../tensor/shape.js';
import type { TypedArray } from '../../tensor/dtype.js';
import type { DeviceArray, Flat, GpuKit, Thread } from '../../tensor/op-def.js';
import { loopKernels } from '../../tensor/backends/wasm/loops.js';
import { batchMeanVariance, batchMeanVarianceGpu, channelLayout, channelSums, channelSumsGpu, type ChannelLayout } from './channels.js';
import { shown } from '../../util/format.js';

export interface BatchNormAttrs {
  /** true: normalise with the batch statistics; false: with runningMean and runningVar. */
  training: boolean;
  /** Added to the variance under the square root (1e-5 in the paper's setup). */
  eps: number;
}

export const batchNorm = defineOp({
  name: 'batchNorm',
  inputs: ['x', 'gamma', 'beta', 'runningMean', 'runningVar'],
  nonDifferentiable: ['runningMean', 'runningVar'],
  saves: ['x', 'gamma', 'runningMean', 'runningVar'], // training recomputes μ and σ² from x
  outputShape({ x, gamma, beta, runningMean, runningVar }, attrs: BatchNormAttrs) {
    expectRank('batchNorm', 'x', x, [2, 4], '(N, C) or (N, C, H, W)');
    for (const [arg, shape] of [['gamma', gamma], ['beta', beta], ['runningMean', runningMean], ['runningVar', runningVar]] as const) {
      if (!sameShape(shape, [x[1]])) {
        throw new Error(`batchNorm: ${arg} must have shape [${x[1]}] (one value per channel of x ${shapeToString(x)}); got ${shapeToString(shape)}`);
      }
    }
    if (typeof attrs.training !== 'boolean') throw new Error(`batchNorm: attrs.training must be true or false; got ${shown(attrs.training)}`);
    if (typeof attrs.eps !== 'number' || !(attrs.eps > 0) || !Number.isFinite(attrs.eps)) {
      throw new Error(`batchNorm: attrs.eps must be a positive number (e.g. 1e-5); got ${shown(attrs.eps)}`);
    }
    const m = x[0] * sizeOf(x.slice(2));
    if (attrs.training && m < 2) {
      throw new Error(`batchNorm: expected more than 1 value per channel when training; got x ${shapeToString(x)} (N·H·W = ${m}), whose variance is undefined`);
    }
    return x;
  },

  reference: {
    forward({ x, gamma, beta, runningMean, runningVar }, y, { shapes, attrs }) {
      const d = channelLayout(shapes.x);
      const { mean, invStd } = statistics(x, runningMean, runningVar, d, attrs);
      for (let i = 0; i < y.length; i++) {
        const c = Math.floor(i / d.S) % d.C;
        y[i] = gamma[c] * (x[i] - mean[c]) * invStd[c] + beta[c];
      }
    },
    backward({ x, gamma, runningMean, runningVar }, dy, { dx, dgamma, dbeta }, { shapes, attrs, needsGrad }) {
      const d = channelLayout(shapes.x);
      const m = d.N * d.S;
      const { mean, invStd } = statistics(x, runningMean, runningVar, d, attrs);
      const xhat = (i: number, c: number): number => (x[i] - mean[c]) * invStd[c];
      const sumDy = new Float64Array(d.C); // dβ
      const sumDyXhat = new Float64Array(d.C); // dγ
      channelSums(d, sumDy, (i) => dy[i]);
      channelSums(d, sumDyXhat, (i, c) => dy[i] * xhat(i, c));
      if (needsGrad.beta) dbeta.set(sumDy);
      if (needsGrad.gamma) dgamma.set(sumDyXhat);
      if (!needsGrad.x) return;
      for (let i = 0; i < dx.length; i++) {
        const c = Math.floor(i / d.S) % d.C;
        dx[i] = attrs.training
          ? gamma[c] * invStd[c] * (dy[i] - sumDy[c] / m - xhat(i, c) * (sumDyXhat[c] / m))
          : dy[i] * gamma[c] * invStd[c];
      }
    },
  },

  // gpu: per-channel sums in two gather stages (channelSumsGpu); everything else elementwise, one
  // thread per element with its channel decoded from the flat index. No full-size temporaries:
  // x̂ is recomputed where it is needed, and σ², dβ and dγ are summed straight from x and dy.
  // In webasm mode the backend runs the same passes as wasm SIMD streaming kernels instead
  // (k.simd(loopKernels), src/tensor/backends/wasm/loops.ts), about twice as fast there.
  gpu: {
    forward(k, { x, gamma, beta, runningMean, runningVar }, { shapes, attrs }) {
      const d = channelLayout(shapes.x);
      const loops = k.simd(loopKernels);
      if (loops) return loops.batchNorm(x, gamma, beta, runningMean, runningVar, d.N, d.C, d.S, attrs.training, attrs.eps);
      const stats = attrs.training ? batchMeanVarianceGpu(k, x, d) : { mean: runningMean, variance: runningVar };
      const scale = channelScaleGpu(k, gamma, stats.variance, d.C, attrs.eps); // γ/√(σ² + eps)
      return k.run(
        function (this: Thread, x: Flat, mean: Flat, scale: Flat, beta: Flat) {
          const c = Math.floor(this.thread.x / this.constants.S) % this.constants.C;
          return (x[this.thread.x] - mean[c]) * scale[c] + beta[c];
        },
        sizeOf(shapes.x),
        [x, stats.mean, scale, beta],
        { C: d.C, S: d.S },
      );
    },
    backward(k, { x, gamma, runningMean, runningVar }, dy, { shapes, attrs, needsGrad }) {
      const d = channelLayout(shapes.x);
      const loops = k.simd(loopKernels);
      if (loops) return loops.batchNormBackward(x, gamma, runningMean, runningVar, dy, d.N, d.C, d.S, attrs.training, attrs.eps, needsGrad.x);
      const m = d.N * d.S;
      const stats = attrs.training ? batchMeanVarianceGpu(k, x, d) : { mean: runningMean, variance: runningVar };
      const invStd = channelScaleGpu(k, null, stats.variance, d.C, attrs.eps); // 1/√(σ² + eps)
      const dbeta = channelSumsGpu(k, [dy], d); // Σ dy
      // dγ = Σ dy·x̂ = invStd · Σ dy·(x − μ): the sum of products, then one scale per channel.
      const dyCentred = channelSumsGpu(k, [dy, x, stats.mean], d, 1, false);
      const dgamma = k.run(
        function (this: Thread, sum: Flat, invStd: Flat) {
          return sum[this.thread.x] * invStd[this.thread.x];
        },
        d.C,
        [dyCentred, invStd],
      );
      if (!needsGrad.x) return { dgamma, dbeta };
      const size = sizeOf(shapes.x);
      const dx = attrs.training
        ? k.run(
            function (this: Thread, dy: Flat, x: Flat, mean: Flat, invStd: Flat, gamma: Flat, dbeta: Flat, dgamma: Flat) {
              const i = this.thread.x;
              const c = Math.floor(i / this.constants.S) % this.constants.C;
              const xhat = (x[i] - mean[c]) * invStd[c];
              return gamma[c] * invStd[c] * (dy[i] - dbeta[c] / this.constants.M - xhat * (dgamma[c] / this.constants.M));
            },
            size,
            [dy, x, stats.mean, invStd, gamma, dbeta, dgamma],
            { C: d.C, S: d.S, M: m },
          )
        : k.run(
            function (this: Thread, dy: Flat, gamma: Flat, invStd: Flat) {
              const c = Math.floor(this.thread.x / this.constants.S) % this.constants.C;
              return dy[this.thread.x] * gamma[c] * invStd[c];
            },
            size,
            [dy, gamma, invStd],
            { C: d.C, S: d.S },
          );
      return { dx, dgamma, dbeta };
    },
  },
});

/** Per-channel μ and 1/√(σ² + eps): of the batch (training; σ² biased) or the running ones. */
function statistics(
  x: TypedArray,
  runningMean: TypedArray,
  runningVar: TypedArray,
  d: ChannelLayout,
  attrs: BatchNormAttrs,
): { mean: Float64Array; invStd: Float64Array } {
  const { mean, variance } = attrs.training
    ? batchMeanVariance(x, d)
    : { mean: Float64Array.from(runningMean), variance: Float64Array.from(runningVar) };
  return { mean, invStd: variance.map((v) => 1 / Math.sqrt(v + attrs.eps)) };
}

/** γ[c]/√(σ²[c] + eps) per channel, or 1/√(σ²[c] + eps) without γ. */
function channelScaleGpu(k: GpuKit, gamma: DeviceArray | null, variance: DeviceArray, C: number, eps: number): DeviceArray {
  return gamma === null
    ? k.run(
        function (this: Thread, variance: Flat) {
          return 1 / Math.sqrt(variance[this.thread.x] + this.constants.EPS);
        },
        C,
        [variance],
        { EPS: eps },
      )
    : k.run(
        function (this: Thread, gamma: Flat, variance: Flat) {
          return gamma[this.thread.x] / Math.sqrt(variance[this.thread.x] + this.constants.EPS);
        },
        C,
        [gamma, variance],
        { EPS: eps },
      );
}
