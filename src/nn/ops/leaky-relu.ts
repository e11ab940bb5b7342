/**
 * Leaky ReLU: a ReLU whose negative side keeps a small fixed slope s (attribute negativeSlope).
 *
 *   y  = x  if x > 0,  s·x otherwise
 *   dx = dy  if x > 0,  s·dy otherwise      (at x = 0 the derivative is taken as s)
 *
 * Elementwise, any shape. The slope is a constant; prelu.ts makes it learnable.
 */
import { defineOp } from '../../autograd/op.js';
import { sizeOf } from '../../tensor/shape.js';
import type { Flat, Thread } from '../../tensor/op-def.js';

export interface LeakyReluAttrs {
  negativeSlope: number;
}

export const leakyRelu = defineOp({
  name: 'leakyRelu',
  inputs: ['x'],
  saves: ['x'],
  outputShape: ({ x }, { negativeSlope }: LeakyReluAttrs) => {
    if (typeof negativeSlope !== 'number' || !Number.isFinite(negativeSlope)) {
      throw new Error(`leakyRelu: negativeSlope must be a finite number; got ${typeof negativeSlope === 'number' ? negativeSlope : JSON.stringify(negativeSlope)}`);
    }
    return x;
  },

  reference: {
    forward({ x }, y, { attrs: { negativeSlope: s } }) {
      for (let i = 0; i < y.length; i++) y[i] = x[i] > 0 ? x[i] : s * x[i];
    },
    backward({ x }, dy, { dx }, { attrs: { negativeSlope: s } }) {
      for (let i = 0; i < dx.length; i++) dx[i] = x[i] > 0 ? dy[i] : s * dy[i];
    },
  },

  gpu: {
    forward: (k, { x }, { outShape, attrs }) =>
      k.run(
        function (this: Thread, x: Flat) {
          const v = x[this.thread.x];
          return v > 0 ? v : this.constants.S * v;
        },
        sizeOf(outShape),
        [x],
        { S: attrs.negativeSlope },
      ),
    backward: (k, { x }, dy, { outShape, attrs }) => ({
      dx: k.run(
        function (this: Thread, x: Flat, dy: Flat) {
          const g = dy[this.thread.x];
          return x[this.thread.x] > 0 ? g : this.constants.S * g;
        },
        sizeOf(outShape),
        [x, dy],
        { S: attrs.negativeSlope },
      ),
    }),
  },
});
