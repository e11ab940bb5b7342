/**
 * tanh: y = tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ).    dx = dy · (1 − y²)
 *
 * Backward saves y (the derivative is written in the output). The gpu kernel computes
 * 1 − 2 / (e²ˣ + 1), which stays finite for large |x| (GLSL has no tanh in every profile gpu.js
 * targets, and the quotient form would be Infinity / Infinity).
 */
import { defineOp } from '../op.js';
import type { Flat, Thread } from '../../tensor/op-def.js';

export const tanh = defineOp({
  name: 'tanh',
  inputs: ['x'],
  saves: ['y'],
  outputShape: ({ x }) => x,

  reference: {
    forward({ x }, y) {
      for (let i = 0; i < y.length; i++) y[i] = Math.tanh(x[i]);
    },
    backward({ y }, dy, { dx }) {
      for (let i = 0; i < dx.length; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
    },
  },

  gpu: {
    forward: (k, { x }) =>
      k.map(function (this: Thread, x: Flat) {
        return 1 - 2 / (Math.exp(2 * x[this.thread.x]) + 1);
      }, x),
    backward: (k, { y }, dy) => ({
      dx: k.map(function (this: Thread, dy: Flat, y: Flat) {
        const v = y[this.thread.x];
        return dy[this.thread.x] * (1 - v * v);
      }, dy, y),
    }),
  },
});
