/**
 * sub: y = a − b, elementwise (same shapes; g.sub broadcasts first).
 *
 *   da = dy        db = −dy
 */
import { defineOp } from '../op.js';
import { sameShapes } from './elementwise.js';
import type { Flat, Thread } from '../../tensor/op-def.js';

export const sub = defineOp({
  name: 'sub',
  inputs: ['a', 'b'],
  saves: [],
  outputShape: ({ a, b }) => sameShapes('sub', a, b),

  reference: {
    forward({ a, b }, y) {
      for (let i = 0; i < y.length; i++) y[i] = a[i] - b[i];
    },
    backward(_, dy, { da, db }) {
      for (let i = 0; i < da.length; i++) da[i] = dy[i];
      for (let i = 0; i < db.length; i++) db[i] = -dy[i];
    },
  },

  gpu: {
    forward: (k, { a, b }) =>
      k.map(function (this: Thread, a: Flat, b: Flat) {
        return a[this.thread.x] - b[this.thread.x];
      }, a, b),
    backward: (k, _, dy) => ({
      da: k.map(function (this: Thread, dy: Flat) {
        return dy[this.thread.x];
      }, dy),
      db: k.map(function (this: Thread, dy: Flat) {
        return -dy[this.thread.x];
      }, dy),
    }),
  },
});
