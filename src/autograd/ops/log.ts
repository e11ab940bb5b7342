/**
 * log: y = ln x (natural logarithm; NaN for x < 0, −∞ at 0, as in IEEE arithmetic).
 *
 *   dx = dy / x
 */
import { defineOp } from '../op.js';
import type { Flat, Thread } from '../../tensor/op-def.js';

export const log = defineOp({
  name: 'log',
  inputs: ['x'],
  saves: ['x'],
  outputShape: ({ x }) => x,

  reference: {
    forward({ x }, y) {
      for (let i = 0; i < y.length; i++) y[i] = Math.log(x[i]);
    },
    backward({ x }, dy, { dx }) {
      for (let i = 0; i < dx.length; i++) dx[i] = dy[i] / x[i];
    },
  },

  gpu: {
    forward: (k, { x }) =>
      k.map(function (this: Thread, x: Flat) {
        return Math.log(x[this.thread.x]);
      }, x),
    backward: (k, { x }, dy) => ({
      dx: k.map(function (this: Thread, dy: Flat, x: Flat) {
        return dy[this.thread.x] / x[this.thread.x];
      }, dy, x),
    }),
  },
});
