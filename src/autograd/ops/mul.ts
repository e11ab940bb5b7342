/**
 * mul: y = a · b, elementwise (same shapes; g.mul broadcasts first).
 *
 *   da = dy · b    db = dy · a      (the product rule)
 */
import { defineOp } from '../op.js';
import { sameShapes } from './elementwise.js';
import type { Flat, Thread } from '../../tensor/op-def.js';
import { loopKernels } from '../../tensor/backends/wasm/loops.js';

export const mul = defineOp({
  name: 'mul',
  inputs: ['a', 'b'],
  saves: ['a', 'b'],
  outputShape: ({ a, b }) => sameShapes('mul', a, b),

  reference: {
    forward({ a, b }, y) {
      for (let i = 0; i < y.length; i++) y[i] = a[i] * b[i];
    },
    backward({ a, b }, dy, { da, db }) {
      for (let i = 0; i < da.length; i++) da[i] = dy[i] * b[i];
      for (let i = 0; i < db.length; i++) db[i] = dy[i] * a[i];
    },
  },

  // In webasm mode the backend runs a wasm SIMD streaming kernel instead (k.simd(loopKernels), src/tensor/backends/wasm/loops.ts).
  gpu: {
    forward: (k, { a, b }) => k.simd(loopKernels)?.mul(a, b) ?? k.map(product, a, b),
    backward: (k, { a, b }, dy) => {
      const loops = k.simd(loopKernels);
      return loops ? { da: loops.mul(dy, b), db: loops.mul(dy, a) } : { da: k.map(product, dy, b), db: k.map(product, dy, a) };
    },
  },
});

function product(this: Thread, p: Flat, q: Flat): number {
  return p[this.thread.x] * q[this.thread.x];
}
