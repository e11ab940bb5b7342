/**
 * div: y = a / b, elementwise (same shapes; g.div broadcasts first).
 *
 *   da = dy / b    db = −dy · a / b²
 */
import { defineOp } from '../op.js';
import { sameShapes } from './elementwise.js';
import type { Flat, Thread } from '../../tensor/op-def.js';

export const div = defineOp({
  name: 'div',
  inputs: ['a', 'b'],
  saves: ['a', 'b'],
  outputShape: ({ a, b }) => sameShapes('div', a, b),

  reference: {
    forward({ a, b }, y) {
      for (let i = 0; i < y.length; i++) y[i] = a[i] / b[i];
    },
    backward({ a, b }, dy, { da, db }) {
      for (let i = 0; i < da.length; i++) da[i] = dy[i] / b[i];
      for (let i = 0; i < db.length; i++) db[i] = (-dy[i] * a[i]) / (b[i] * b[i]);
    },
  },

  gpu: {
    forward: (k, { a, b }) =>
      k.map(function (this: Thread, a: Flat, b: Flat) {
        return a[this.thread.x] / b[this.thread.x];
      }, a, b),
    backward: (k, { a, b }, dy) => ({
      da: k.map(function (this: Thread, dy: Flat, b: Flat) {
        return dy[this.thread.x] / b[this.thread.x];
      }, dy, b),
      db: k.map(function (this: Thread, dy: Flat, a: Flat, b: Flat) {
        const bi = b[this.thread.x];
        return (-dy[this.thread.x] * a[this.thread.x]) / (bi * bi);
      }, dy, a, b),
    }),
  },
});
