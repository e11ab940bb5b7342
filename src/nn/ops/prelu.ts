/**
 * PReLU, the parametric ReLU (He et al. 2015): a leaky ReLU whose negative slope a is learned.
 *
 *   y  = x  if x > 0,  a_c·x otherwise
 *   dx = dy  if x > 0,  a_c·dy otherwise          (at x = 0 the derivative is taken as a_c)
 *   da_c = Σ dy·x over the elements of channel c where x ≤ 0
 *
 * a has shape [1] (one slope shared by every element) or [C] (one slope per channel; the channel
 * axis is axis 1, so x is [N, C] or NCHW [N, C, H, W]). da sums over every axis but the channel:
 * a slope reaches every element of its channel, so its gradient collects from all of them
 * (channels.ts: the layout and the per-channel sum, shared with frelu and batchNorm).
 */
import { defineOp } from '../../autograd/op.js';
import { shapeToString, sizeOf } from '../../tensor/shape.js';
import type { Flat, Thread } from '../../tensor/op-def.js';
import { channelSums, channelSumsGpu, parameterLayout } from './channels.js';

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
      const { C, S } = parameterLayout(shapes.x, a.length);
      for (let i = 0; i < y.length; i++) {
        const c = Math.floor(i / S) % C;
        y[i] = x[i] > 0 ? x[i] : a[c] * x[i];
      }
    },
    backward({ x, a }, dy, { dx, da }, { shapes, needsGrad }) {
      const layout = parameterLayout(shapes.x, a.length);
      for (let i = 0; i < dx.length; i++) {
        const c = Math.floor(i / layout.S) % layout.C;
        dx[i] = x[i] > 0 ? dy[i] : a[c] * dy[i];
      }
      if (needsGrad.a) {
        const contribution = dy.map((g, i) => (x[i] > 0 ? 0 : g * x[i]));
        channelSums(layout, da, (i) => contribution[i]);
      }
    },
  },

  gpu: {
    forward: (k, { x, a }, { shapes }) => {
      const layout = parameterLayout(shapes.x, sizeOf(shapes.a));
      return k.run(
        function (this: Thread, x: Flat, a: Flat) {
          const v = x[this.thread.x];
          const c = Math.floor(this.thread.x / this.constants.S) % this.constants.C;
          return v > 0 ? v : a[c] * v;
        },
        sizeOf(shapes.x),
        [x, a],
        { C: layout.C, S: layout.S },
      );
    },
    backward: (k, { x, a }, dy, { shapes, needsGrad }) => {
      const layout = parameterLayout(shapes.x, sizeOf(shapes.a));
      const constants = { C: layout.C, S: layout.S };
      const size = sizeOf(shapes.x);
      const dx = k.run(
        function (this: Thread, x: Flat, a: Flat, dy: Flat) {
          const g = dy[this.thread.x];
          const c = Math.floor(this.thread.x / this.constants.S) % this.constants.C;
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
      const da = channelSumsGpu(k, [contribution], layout);
      k.release(contribution);
      return { dx, da };
    },
  },
});
