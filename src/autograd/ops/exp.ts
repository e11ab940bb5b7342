/**
 * exp: y = eˣ.    dx = dy · y      (the output is its own derivative, so backward saves y)
 */
import { defineOp } from '../op.js';
import type { Flat, Thread } from '../../tensor/op-def.js';

export const exp = defineOp({
  name: 'exp',
  inputs: ['x'],
  saves: ['y'],
  outputShape: ({ x }) => x,

  reference: {
    forward({ x }, y) {
      for (let i = 0; i < y.length; i++) y[i] = Math.exp(x[i]);
    },
    backward({ y }, dy, { dx }) {
      for (let i = 0; i < dx.length; i++) dx[i] = dy[i] * y[i];
    },
  },

  gpu: {
    forward: (k, { x }) =>
      k.map(function (this: Thread, x: Flat) {
        return Math.exp(x[this.thread.x]);
      }, x),
    backward: (k, { y }, dy) => ({
      dx: k.map(function (this: Thread, dy: Flat, y: Flat) {
        return dy[this.thread.x] * y[this.thread.x];
      }, dy, y),
    }),
  },
});
