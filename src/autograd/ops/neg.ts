/**
 * neg: y = −x.    dx = −dy
 */
import { defineOp } from '../op.js';
import type { Flat, Thread } from '../../tensor/op-def.js';

export const neg = defineOp({
  name: 'neg',
  inputs: ['x'],
  saves: [],
  outputShape: ({ x }) => x,

  reference: {
    forward({ x }, y) {
      for (let i = 0; i < y.length; i++) y[i] = -x[i];
    },
    backward(_, dy, { dx }) {
      for (let i = 0; i < dx.length; i++) dx[i] = -dy[i];
    },
  },

  gpu: {
    forward: (k, { x }) => k.map(negate, x),
    backward: (k, _, dy) => ({ dx: k.map(negate, dy) }),
  },
});

function negate(this: Thread, v: Flat): number {
  return -v[this.thread.x];
}
