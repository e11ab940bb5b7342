/**
 * clamp: y = min(max(x, lo), hi), with bounds lo ≤ hi given as attributes (−Infinity / Infinity
 * when absent: g.clamp fills them in).
 *
 *   dx = dy where lo ≤ x ≤ hi, 0 outside      (PyTorch's rule: a value on a bound passes the gradient;
 *                                               NaN is inside no bounds, so its gradient is 0, as in PyTorch)
 *
 * On the bounds clamp is not differentiable; gradient checks keep away from them. The gpu kernels
 * test for NaN with `v !== v`, the one NaN test that survives the GL shader compilers (relu.ts).
 */
import { defineOp } from '../op.js';
import type { Flat, Thread } from '../../tensor/op-def.js';
import { shown } from '../../util/format.js';

export interface ClampAttrs {
  min: number;
  max: number;
}

export const clamp = defineOp({
  name: 'clamp',
  inputs: ['x'],
  saves: ['x'],
  outputShape: ({ x }, { min, max }: ClampAttrs) => {
    if (typeof min !== 'number' || typeof max !== 'number' || Number.isNaN(min) || Number.isNaN(max) || min > max) {
      throw new Error(`clamp: min and max must be numbers with min ≤ max; got min ${shown(min)}, max ${shown(max)}`);
    }
    return x;
  },

  reference: {
    forward({ x }, y, { attrs: { min, max } }) {
      for (let i = 0; i < y.length; i++) y[i] = Math.min(Math.max(x[i], min), max);
    },
    backward({ x }, dy, { dx }, { attrs: { min, max } }) {
      for (let i = 0; i < dx.length; i++) dx[i] = x[i] >= min && x[i] <= max ? dy[i] : 0;
    },
  },

  // gpu.js constants are finite floats, so an absent bound travels as a flag (HAS_LO, HAS_HI).
  gpu: {
    forward: (k, { x }, { outShape, attrs }) =>
      k.run(
        function (this: Thread, x: Flat) {
          let v = x[this.thread.x];
          if (v !== v) return v; // NaN stays NaN: GL's compilers turn these two tests into a NaN-blind max/min
          if (this.constants.HAS_LO === 1 && v < this.constants.LO) v = this.constants.LO;
          if (this.constants.HAS_HI === 1 && v > this.constants.HI) v = this.constants.HI;
          return v;
        },
        outShape.reduce((n, d) => n * d, 1),
        [x],
        bounds(attrs),
      ),
    backward: (k, { x }, dy, { outShape, attrs }) => ({
      dx: k.run(
        function (this: Thread, x: Flat, dy: Flat) {
          const v = x[this.thread.x];
          if (v !== v) return 0; // NaN is inside no bounds (the reference's lo ≤ x ≤ hi is false for it)
          if (this.constants.HAS_LO === 1 && v < this.constants.LO) return 0;
          if (this.constants.HAS_HI === 1 && v > this.constants.HI) return 0;
          return dy[this.thread.x];
        },
        outShape.reduce((n, d) => n * d, 1),
        [x, dy],
        bounds(attrs),
      ),
    }),
  },
});

function bounds({ min, max }: ClampAttrs): Record<string, number> {
  const hasLo = Number.isFinite(min);
  const hasHi = Number.isFinite(max);
  return { HAS_LO: hasLo ? 1 : 0, LO: hasLo ? min : 0, HAS_HI: hasHi ? 1 : 0, HI: hasHi ? max : 0 };
}
