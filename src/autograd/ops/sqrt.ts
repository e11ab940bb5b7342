/**
 * sqrt: y = √x.    dx = dy / (2y)
 */
import { defineOp } from '../op.js';
import type { Flat, Thread } from '../../tensor/op-def.js';

export const sqrt = defineOp({
  name: 'sqrt',
  inputs: ['x'],
  saves: ['y'],
  outputShape: ({ x }) => x,

  reference: {
    forward({ x }, y) {
      for (let i = 0; i < y.length; i++) y[i] = Math.sqrt(x[i]);
    },
    backward({ y }, dy, { dx }) {
      for (let i = 0; i < dx.length; i++) dx[i] = dy[i] / (2 * y[i]);
    },
  },

  gpu: {
    forward: (k, { x }) =>
      k.map(function (this: Thread, x: Flat) {
        return Math.sqrt(x[this.thread.x]);
      }, x),
    backward: (k, { y }, dy) => ({
      dx: k.map(function (this: Thread, dy: Flat, y: Flat) {
        return dy[this.thread.x] / (2 * y[this.thread.x]);
      }, dy, y),
    }),
  },
});
