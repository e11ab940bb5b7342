/**
 * Channels of NCHW tensors, shared by prelu, frelu, batchNorm and batchStats: where an element's
 * channel is, the per-channel sum their gradients and statistics are made of, and a batch's
 * per-channel mean and variance.
 *
 * Layout. x [N, C, H, W] (or [N, C]) is read as [N, C, S]: N examples, C channels, S = H·W values
 * per channel and example (S = 1 for [N, C]); the flat element i belongs to channel ⌊i / S⌋ mod C
 * — the same decoding in the reference loops and the gpu kernels. A parameter shared by the whole
 * layer (prelu's a [1], frelu's scalar b) is the case N = 1, C = 1, S = x's size.
 */
import { sizeOf, type Shape } from '../../tensor/shape.js';
import type { TypedArray } from '../../tensor/dtype.js';
import type { DeviceArray, Flat, GpuKit, Thread } from '../../tensor/op-def.js';

/** x as [N, C, S]: batch, channels, and S values per channel and example. */
export interface ChannelLayout {
  readonly N: number;
  readonly C: number;
  readonly S: number;
}

/** x [N, C, …] read per channel. */
export function channelLayout(x: Shape): ChannelLayout {
  return { N: x[0], C: x[1], S: sizeOf(x.slice(2)) };
}

/** How a parameter of `count` values lies over x: 1 = shared by every element, else one per channel. */
export function parameterLayout(x: Shape, count: number): ChannelLayout {
  return count === 1 ? { N: 1, C: 1, S: sizeOf(x) } : channelLayout(x);
}

// ── the per-channel sum ──

/**
 * sums[c] = Σ term(i, c) over the elements i of channel c (reference). The terms of a channel are
 * added in flat order, into `sums` itself: in float64 scratch, or in an op's own gradient array.
 */
export function channelSums({ N, C, S }: ChannelLayout, sums: TypedArray, term: (i: number, c: number) => number): void {
  sums.fill(0);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const start = (n * C + c) * S;
      for (let j = 0; j < S; j++) sums[c] += term(start + j, c);
    }
  }
}

/**
 * The per-channel sum on the gpu, a [C] array: scale · Σ over (n, s) of one of three terms,
 *   [a]                        a                               (Σ dy; μ with scale 1/m)
 *   [a, b, mean], centreA      (a − mean[c]) · (b − mean[c])   (σ², with a = b = x)
 *   [a, b, mean], !centreA     a · (b − mean[c])               (Σ dy·(x − μ), for batchNorm's dγ)
 * σ² sums squared deviations, never x·(x − μ), whose terms are large and cancel when |μ| ≫ σ.
 * gpu.js cannot scatter, so two gathers: one thread per (c, n) sums its S values, then one thread
 * per c sums its N partial sums. A shared parameter's plain sum (N = C = 1) has no channels to
 * spread over threads: it takes the backend's block reduction, k.sumAll.
 */
export function channelSumsGpu(
  k: GpuKit,
  terms: [DeviceArray] | [DeviceArray, DeviceArray, DeviceArray],
  { N, C, S }: ChannelLayout,
  scale = 1,
  centreA = false,
): DeviceArray {
  if (N === 1 && C === 1 && terms.length === 1 && scale === 1) return k.sumAll(terms[0], S);
  const partial =
    terms.length === 1
      ? k.run(
          function (this: Thread, a: Flat) {
            const c = Math.floor(this.thread.x / this.constants.N); // thread = c·N + n
            const n = this.thread.x % this.constants.N;
            let i = (n * this.constants.C + c) * this.constants.S; // a[n, c, 0]
            let sum = 0;
            for (let s = 0; s < this.constants.S; s++) {
              sum += a[i];
              i++;
            }
            return sum;
          },
          C * N,
          terms,
          { N, C, S },
        )
      : k.run(
          function (this: Thread, a: Flat, b: Flat, mean: Flat) {
            const c = Math.floor(this.thread.x / this.constants.N);
            const n = this.thread.x % this.constants.N;
            const mu = mean[c];
            const aShift = this.constants.CENTRE_A * mu; // μ or 0
            let i = (n * this.constants.C + c) * this.constants.S;
            let sum = 0;
            for (let s = 0; s < this.constants.S; s++) {
              sum += (a[i] - aShift) * (b[i] - mu);
              i++;
            }
            return sum;
          },
          C * N,
          terms,
          { N, C, S, CENTRE_A: centreA ? 1 : 0 },
        );
  const total = k.run(
    function (this: Thread, partial: Flat) {
      let i = this.thread.x * this.constants.N;
      let sum = 0;
      for (let n = 0; n < this.constants.N; n++) {
        sum += partial[i];
        i++;
      }
      return sum * this.constants.SCALE;
    },
    C,
    [partial],
    { N, SCALE: scale },
  );
  k.release(partial);
  return total;
}

// ── batch statistics ──

/**
 * The batch's per-channel mean μ and biased variance σ² (divided by m = N·S, not m − 1): what
 * batchNorm normalises with in training, and batchStats' forward. Two passes, μ first and then the
 * squared deviations: E[x²] − μ² would cancel catastrophically when |μ| ≫ σ (batch-stats.ts).
 */
export function batchMeanVariance(x: TypedArray, layout: ChannelLayout): { mean: Float64Array; variance: Float64Array } {
  const m = layout.N * layout.S;
  const mean = new Float64Array(layout.C);
  const variance = new Float64Array(layout.C);
  channelSums(layout, mean, (i) => x[i]);
  for (let c = 0; c < layout.C; c++) mean[c] /= m;
  channelSums(layout, variance, (i, c) => (x[i] - mean[c]) ** 2);
  for (let c = 0; c < layout.C; c++) variance[c] /= m;
  return { mean, variance };
}

/** The same on the gpu (two passes, as above), each a [C] array. */
export function batchMeanVarianceGpu(k: GpuKit, x: DeviceArray, layout: ChannelLayout): { mean: DeviceArray; variance: DeviceArray } {
  const m = layout.N * layout.S;
  const mean = channelSumsGpu(k, [x], layout, 1 / m);
  return { mean, variance: channelSumsGpu(k, [x, x, mean], layout, 1 / m, true) };
}
