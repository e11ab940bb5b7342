/**
 * sigmoid: y = σ(x) = 1 / (1 + e⁻ˣ).    dx = dy · y · (1 − y)
 *
 * The derivative is written in the output, so backward saves y. Stable for large |x|: for x ≪ 0,
 * e⁻ˣ overflows to Infinity and y = 1/Infinity = 0, which is the right limit (no NaN).
 */
import { defineOp } from '../op.js';
import type { Flat, Thread } from '../../tensor/op-def.js';

export const sigmoid = defineOp({
  name: 'sigmoid',
  inputs: ['x'],
  saves: ['y'],
  outputShape: ({ x }) => x,

  reference: {
    forward({ x }, y) {
      for (let i = 0; i < y.length; i++) y[i] = 1 / (1 + Math.exp(-x[i]));
    },
    backward({ y }, dy, { dx }) {
      for (let i = 0; i < dx.length; i++) dx[i] = dy[i] * y[i] * (1 - y[i]);
    },
  },

  gpu: {
    forward: (k, { x }) =>
      k.map(function (this: Thread, x: Flat) {
        return 1 / (1 + Math.exp(-x[this.thread.x]));
      }, x),
    backward: (k, { y }, dy) => ({
      dx: k.map(function (this: Thread, dy: Flat, y: Flat) {
        const v = y[this.thread.x];
        return dy[this.thread.x] * v * (1 - v);
      }, dy, y),
    }),
  },
});
