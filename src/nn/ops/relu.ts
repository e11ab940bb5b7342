/**
 * ReLU, the rectified linear unit (the paper's eq. 1).
 *
 *   y  = x  if x > 0,  0 otherwise
 *   dx = dy · [x > 0]        at the kink x = 0 the derivative is taken as 0 (as in FReLU's eq. 3)
 *
 * NaN passes through (relu(NaN) = NaN, as in PyTorch and every other activation here): every
 * comparison with NaN is false, so a plain `x > 0 ? x : 0` would turn NaN into 0 and hide it. The
 * kernels test for NaN explicitly — `v !== v` on gpu, the one NaN test that survives the GL shader
 * compilers (they rewrite `v <= 0 ? 0 : v` into a NaN-blind max; GPUJS.md). The gradient at NaN is 0
 * (PyTorch's too).
 *
 * Elementwise, any shape.
 */
import { defineOp } from '../../autograd/op.js';
import type { Flat, Thread } from '../../tensor/op-def.js';
import { loopKernels } from '../../tensor/backends/wasm/loops.js';

export const relu = defineOp({
  name: 'relu',
  inputs: ['x'],
  saves: ['x'], // backward needs only the sign of x
  outputShape: ({ x }) => x,

  reference: {
    forward({ x }, y) {
      for (let i = 0; i < y.length; i++) y[i] = x[i] > 0 || Number.isNaN(x[i]) ? x[i] : 0;
    },
    backward({ x }, dy, { dx }) {
      for (let i = 0; i < dx.length; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
    },
  },

  // In webasm mode the backend runs wasm SIMD streaming kernels instead (k.simd(loopKernels), src/tensor/backends/wasm/loops.ts).
  gpu: {
    forward: (k, { x }) =>
      k.simd(loopKernels)?.relu(x) ??
      k.map(function (this: Thread, x: Flat) {
        const v = x[this.thread.x];
        return v > 0 || v !== v ? v : 0;
      }, x),
    backward: (k, { x }, dy) => ({
      dx:
        k.simd(loopKernels)?.reluBackward(x, dy) ??
        k.map(function (this: Thread, x: Flat, dy: Flat) {
          return x[this.thread.x] > 0 ? dy[this.thread.x] : 0;
        }, x, dy),
    }),
  },
});
