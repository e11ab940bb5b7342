/**
 * abs: y = |x|.    dx = dy · sign(x)
 *
 * At the kink x = 0 the derivative is taken as 0 (PyTorch's sign(0) = 0); gradient checks keep
 * away from 0, and gradcheck reports an input within eps of it as a non-differentiable point.
 */
import { defineOp } from '../op.js';
import type { Flat, Thread } from '../../tensor/op-def.js';

export const abs = defineOp({
  name: 'abs',
  inputs: ['x'],
  saves: ['x'],
  outputShape: ({ x }) => x,

  reference: {
    forward({ x }, y) {
      for (let i = 0; i < y.length; i++) y[i] = Math.abs(x[i]);
    },
    backward({ x }, dy, { dx }) {
      for (let i = 0; i < dx.length; i++) dx[i] = x[i] > 0 ? dy[i] : x[i] < 0 ? -dy[i] : 0;
    },
  },

  gpu: {
    forward: (k, { x }) =>
      k.map(function (this: Thread, x: Flat) {
        return Math.abs(x[this.thread.x]);
      }, x),
    backward: (k, { x }, dy) => ({
      dx: k.map(function (this: Thread, x: Flat, dy: Flat) {
        const v = x[this.thread.x];
        if (v > 0) return dy[this.thread.x];
        if (v < 0) return -dy[this.thread.x];
        return 0;
      }, x, dy),
    }),
  },
});
