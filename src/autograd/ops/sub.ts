/**
 * sub: y = a − b, elementwise (same shapes; g.sub broadcasts first).
 *
 *   da = dy        db = −dy
 */
import { defineOp } from '../op.js';
import { sameShapes } from './elementwise.js';
import type { DeviceArray, Flat, GpuKit, Thread } from '../../tensor/op-def.js';
import { loopKernels } from '../../tensor/backends/wasm/loops.js';

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

  // In webasm mode the backend runs wasm SIMD streaming kernels instead (k.simd(loopKernels), src/tensor/backends/wasm/loops.ts).
  gpu: {
    forward: (k, { a, b }) =>
      k.simd(loopKernels)?.sub(a, b) ??
      k.map(function (this: Thread, a: Flat, b: Flat) {
        return a[this.thread.x] - b[this.thread.x];
      }, a, b),
    backward: (k, _, dy) => {
      const loops = k.simd(loopKernels);
      return loops ? { da: loops.copy(dy), db: loops.neg(dy) } : subGrads(k, dy);
    },
  },
});

/** sub's gradients as gpu.js kernels. */
function subGrads(k: GpuKit, dy: DeviceArray): { da: DeviceArray; db: DeviceArray } {
  return {
    da: k.map(function (this: Thread, dy: Flat) {
      return dy[this.thread.x];
    }, dy),
    db: k.map(function (this: Thread, dy: Flat) {
      return -dy[this.thread.x];
    }, dy),
  };
}
