/**
 * PReLU, the parametric ReLU (He et al. 2015): a leaky ReLU whose negative slope a is learned.
 *
 *   y  = x  if x > 0,  a_c·x otherwise
 *   dx = dy  if x > 0,  a_c·dy otherwise          (at x = 0 the derivative is taken as a_c)
 *   da_c = Σ dy·x over the elements of channel c where x ≤ 0
 *
 * a has shape [1] (one slope shared by every element) or [C] (one slope per channel; the channel
 * axis is axis 1, so x is [N, C] or NCHW [N, C, H, W]). da sums over every axis but the channel:
 * a slope reaches every element of its channel, so its gradient collects from all of them.
 *
 * Also home of the per-channel helpers frelu.ts shares: where an element's channel is, and the
 * per-channel sum that both parameters' gradients need.
 */
import { defineOp } from '../../autograd/op.js';
import { shapeToString, sizeOf, type Shape } from '../../tensor/shape.js';
import type { TypedArray } from '../../tensor/dtype.js';
import type { DeviceArray, Flat, GpuKit, Thread } from '../../tensor/op-def.js';
import { release } from '../../tensor/backends/gpu.js';

/**
 * How a parameter of `count` values (1 = shared, or C = one per channel) lies over x: x is read as
 * [N, C, INNER] with INNER the product of the axes after the channel, so element i belongs to
 * channel floor(i / INNER) mod C. A shared parameter is the case C = 1, INNER = x's size.
 */
export interface ChannelLayout {
  N: number;
  C: number;
  INNER: number;
}

export function channelLayout(x: Shape, count: number): ChannelLayout {
  const size = sizeOf(x);
  if (count === 1) return { N: 1, C: 1, INNER: size };
  const INNER = sizeOf(x.slice(2));
  return { N: x[0], C: count, INNER };
}

/** Σ of v over every axis but the channel (reference): sums[c] = Σ_n Σ_j v[(n·C + c)·INNER + j]. */
export function channelSumsInto(v: ArrayLike<number>, { N, C, INNER }: ChannelLayout, sums: TypedArray): void {
  sums.fill(0);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const start = (n * C + c) * INNER;
      for (let j = 0; j < INNER; j++) sums[c] += v[start + j];
    }
  }
}

/**
 * The same sum on the gpu. Shared (C = 1): the backend's block reduction. Per channel: a gather,
 * one thread per channel walking its N·INNER elements (gpu.js cannot scatter-add into sums[c]).
 */
export function channelSumsGpu(k: GpuKit, v: DeviceArray, layout: ChannelLayout): DeviceArray {
  if (layout.C === 1) return k.sumAll(v, layout.N * layout.INNER);
  return k.run(
    function (this: Thread, v: Flat) {
      let s = 0;
      for (let n = 0; n < this.constants.N; n++) {
        const start = (n * this.constants.C + this.thread.x) * this.constants.INNER;
        for (let j = 0; j < this.constants.INNER; j++) s += v[start + j];
      }
      return s;
    },
    layout.C,
    [v],
    { N: layout.N, C: layout.C, INNER: layout.INNER },
  );
}

export const prelu = defineOp({
  name: 'prelu',
  inputs: ['x', 'a'],
  saves: ['x', 'a'],
  outputShape({ x, a }) {
    const C = x.length >= 2 ? x[1] : null;
    const isShared = a.length === 1 && a[0] === 1;
    const isPerChannel = C !== null && a.length === 1 && a[0] === C;
    if (!isShared && !isPerChannel) {
      const want =
        C === null
          ? `[1] (one shared slope; x ${shapeToString(x)} has no channel axis)`
          : `[1] (one shared slope) or [C] = [${C}] (one slope per channel of x ${shapeToString(x)})`;
      throw new Error(`prelu: a must have shape ${want}; got ${shapeToString(a)}`);
    }
    return x;
  },

  reference: {
    forward({ x, a }, y, { shapes }) {
      const { C, INNER } = channelLayout(shapes.x, a.length);
      for (let i = 0; i < y.length; i++) {
        const c = Math.floor(i / INNER) % C;
        y[i] = x[i] > 0 ? x[i] : a[c] * x[i];
      }
    },
    backward({ x, a }, dy, { dx, da }, { shapes, needsGrad }) {
      const layout = channelLayout(shapes.x, a.length);
      for (let i = 0; i < dx.length; i++) {
        const c = Math.floor(i / layout.INNER) % layout.C;
        dx[i] = x[i] > 0 ? dy[i] : a[c] * dy[i];
      }
      if (needsGrad.a) {
        const contribution = dy.map((g, i) => (x[i] > 0 ? 0 : g * x[i]));
        channelSumsInto(contribution, layout, da);
      }
    },
  },

  gpu: {
    forward: (k, { x, a }, { shapes }) => {
      const layout = channelLayout(shapes.x, sizeOf(shapes.a));
      return k.run(
        function (this: Thread, x: Flat, a: Flat) {
          const v = x[this.thread.x];
          const c = Math.floor(this.thread.x / this.constants.INNER) % this.constants.C;
          return v > 0 ? v : a[c] * v;
        },
        sizeOf(shapes.x),
        [x, a],
        { C: layout.C, INNER: layout.INNER },
      );
    },
    backward: (k, { x, a }, dy, { shapes, needsGrad }) => {
      const layout = channelLayout(shapes.x, sizeOf(shapes.a));
      const constants = { C: layout.C, INNER: layout.INNER };
      const size = sizeOf(shapes.x);
      const dx = k.run(
        function (this: Thread, x: Flat, a: Flat, dy: Flat) {
          const g = dy[this.thread.x];
          const c = Math.floor(this.thread.x / this.constants.INNER) % this.constants.C;
          return x[this.thread.x] > 0 ? g : a[c] * g;
        },
        size,
        [x, a, dy],
        constants,
      );
      if (!needsGrad.a) return { dx };
      const contribution = k.map(function (this: Thread, x: Flat, dy: Flat) {
        const v = x[this.thread.x];
        return v > 0 ? 0 : dy[this.thread.x] * v;
      }, x, dy);
      const da = channelSumsGpu(k, contribution, layout);
      release(contribution);
      return { dx, da };
    },
  },
});
