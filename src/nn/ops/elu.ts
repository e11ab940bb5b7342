/**
 * ELU, the exponential linear unit (Clevert et al. 2016), with attribute α (alpha).
 *
 *   y  = x  if x > 0,  α(eˣ − 1) otherwise
 *   dx = dy  if x > 0,  dy·(y + α) otherwise      since d/dx α(eˣ − 1) = αeˣ = y + α
 *
 * At x = 0 the derivative is taken from the negative side, α (= 1 for the default α, where
 * both sides agree). Elementwise, any shape. Backward reuses y, so it saves both x and y.
 */
import { defineOp } from '../../autograd/op.js';
import { sizeOf } from '../../tensor/shape.js';
import type { Flat, Thread } from '../../tensor/op-def.js';

export interface EluAttrs {
  alpha: number;
}

export const elu = defineOp({
  name: 'elu',
  inputs: ['x'],
  saves: ['x', 'y'],
  outputShape: ({ x }, { alpha }: EluAttrs) => {
    if (typeof alpha !== 'number' || !Number.isFinite(alpha)) {
      throw new Error(`elu: alpha must be a finite number; got ${typeof alpha === 'number' ? alpha : JSON.stringify(alpha)}`);
    }
    return x;
  },

  reference: {
    forward({ x }, y, { attrs: { alpha } }) {
      // expm1 keeps eˣ − 1 accurate for small |x|; GLSL has no expm1, so the gpu kernel writes it out.
      for (let i = 0; i < y.length; i++) y[i] = x[i] > 0 ? x[i] : alpha * Math.expm1(x[i]);
    },
    backward({ x, y }, dy, { dx }, { attrs: { alpha } }) {
      for (let i = 0; i < dx.length; i++) dx[i] = x[i] > 0 ? dy[i] : dy[i] * (y[i] + alpha);
    },
  },

  gpu: {
    forward: (k, { x }, { outShape, attrs }) =>
      k.run(
        function (this: Thread, x: Flat) {
          const v = x[this.thread.x];
          return v > 0 ? v : this.constants.ALPHA * (Math.exp(v) - 1);
        },
        sizeOf(outShape),
        [x],
        { ALPHA: attrs.alpha },
      ),
    backward: (k, { x, y }, dy, { outShape, attrs }) => ({
      dx: k.run(
        function (this: Thread, x: Flat, y: Flat, dy: Flat) {
          const g = dy[this.thread.x];
          return x[this.thread.x] > 0 ? g : g * (y[this.thread.x] + this.constants.ALPHA);
        },
        sizeOf(outShape),
        [x, y, dy],
        { ALPHA: attrs.alpha },
      ),
    }),
  },
});
