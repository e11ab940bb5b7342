/**
 * add: y = a + α·b, elementwise (same shapes; g.add broadcasts first). α is attrs.alpha, 1 unless
 * given — PyTorch's `torch.add(a, b, alpha=α)`, which the optimisers use to write an update as
 * one op: θ − lr·g is add(θ, g, { alpha: −lr }), one pass over θ instead of a full-size copy of
 * lr (expand), a product and a difference.
 *
 *   da = dy        db = α·dy
 *
 * In float32, α is taken as a float32 and α·b is rounded to float32 before the sum, so add(a, b,
 * { alpha }) equals add(a, mul(b, α)) bit for bit on the reference backend and in webasm mode (a
 * GL shader compiler may fuse the product and the sum into one rounding). The gpu.js kernels read
 * α from a one-element array (k.scalar), not a compile-time constant, so a new learning rate
 * compiles no new kernel.
 */
import { defineOp } from '../op.js';
import { sameShapes } from './elementwise.js';
import type { Flat, Thread } from '../../tensor/op-def.js';
import type { DType } from '../../tensor/dtype.js';
import { loopKernels } from '../../tensor/backends/wasm/loops.js';
import { shown } from '../../util/format.js';

export interface AddAttrs {
  /** α, the factor of b (default 1). */
  alpha?: number;
}

export const add = defineOp({
  name: 'add',
  inputs: ['a', 'b'],
  saves: [],
  outputShape: ({ a, b }, { alpha = 1 }: AddAttrs) => {
    if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new Error(`add: alpha must be a finite number (y = a + alpha·b); got ${shown(alpha)}`);
    return sameShapes('add', a, b);
  },

  reference: {
    forward({ a, b }, y, { attrs, dtype }) {
      const round = rounding(dtype);
      const alpha = round(attrs.alpha ?? 1);
      for (let i = 0; i < y.length; i++) y[i] = a[i] + round(alpha * b[i]);
    },
    backward(_, dy, { da, db }, { attrs, dtype }) {
      const alpha = rounding(dtype)(attrs.alpha ?? 1);
      da.set(dy.subarray(0, da.length));
      for (let i = 0; i < db.length; i++) db[i] = alpha * dy[i];
    },
  },

  // In webasm mode the backend runs wasm SIMD streaming kernels instead (k.simd(loopKernels), src/tensor/backends/wasm/loops.ts).
  gpu: {
    forward: (k, { a, b }, { attrs }) => {
      const alpha = Math.fround(attrs.alpha ?? 1);
      const loops = k.simd(loopKernels);
      if (alpha === 1) {
        return (
          loops?.add(a, b) ??
          k.map(function (this: Thread, a: Flat, b: Flat) {
            return a[this.thread.x] + b[this.thread.x];
          }, a, b)
        );
      }
      return (
        loops?.addScaled(a, b, alpha) ??
        k.map(function (this: Thread, a: Flat, b: Flat, alpha: Flat) {
          return a[this.thread.x] + Math.fround(alpha[0] * b[this.thread.x]);
        }, a, b, k.scalar(alpha))
      );
    },
    backward: (k, _, dy, { attrs }) => {
      const alpha = Math.fround(attrs.alpha ?? 1);
      const loops = k.simd(loopKernels);
      if (loops) return { da: loops.copy(dy), db: alpha === 1 ? loops.copy(dy) : loops.scale(dy, alpha) };
      const db =
        alpha === 1
          ? k.map(copy, dy)
          : k.map(function (this: Thread, dy: Flat, alpha: Flat) {
              return alpha[0] * dy[this.thread.x];
            }, dy, k.scalar(alpha));
      return { da: k.map(copy, dy), db };
    },
  },
});

function copy(this: Thread, dy: Flat): number {
  return dy[this.thread.x];
}

/** How a value is stored in an array of `dtype`: float32 rounds (Math.fround), float64 keeps it. */
function rounding(dtype: DType): (v: number) => number {
  return dtype === 'float32' ? Math.fround : (v) => v;
}
