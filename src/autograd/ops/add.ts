/**
 * add: y = a + b, elementwise (same shapes; g.add broadcasts first).
 *
 *   da = dy        db = dy
 */
import { defineOp } from '../op.js';
import { sameShapes } from './elementwise.js';
import type { Flat, Thread } from '../../tensor/op-def.js';
import { loopKernels } from '../../tensor/backends/wasm/loops.js';

export const add = defineOp({
  name: 'add',
  inputs: ['a', 'b'],
  saves: [],
  outputShape: ({ a, b }) => sameShapes('add', a, b),

  reference: {
    forward({ a, b }, y) {
      for (let i = 0; i < y.length; i++) y[i] = a[i] + b[i];
    },
    backward(_, dy, { da, db }) {
      da.set(dy.subarray(0, da.length));
      db.set(dy.subarray(0, db.length));
    },
  },

  // In webasm mode the backend runs wasm SIMD streaming kernels instead (k.simd(loopKernels), src/tensor/backends/wasm/loops.ts).
  gpu: {
    forward: (k, { a, b }) =>
      k.simd(loopKernels)?.add(a, b) ??
      k.map(function (this: Thread, a: Flat, b: Flat) {
        return a[this.thread.x] + b[this.thread.x];
      }, a, b),
    backward: (k, _, dy) => {
      const loops = k.simd(loopKernels);
      return loops ? { da: loops.copy(dy), db: loops.copy(dy) } : { da: k.map(copy, dy), db: k.map(copy, dy) };
    },
  },
});

function copy(this: Thread, dy: Flat): number {
  return dy[this.thread.x];
}
