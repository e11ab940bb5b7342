/**
 * dropout: inverted dropout with an explicit mask (Srivastava et al. 2014; the "inverted" scaling
 * that PyTorch uses).
 *
 *   y  = x · mask / (1 − p)      mask: 0 (dropped) or 1 (kept, with probability 1 − p)
 *   dx = dy · mask / (1 − p)     y is linear in x, so the backward applies the same mask and scale
 *
 * Scaling the kept values by 1/(1 − p) while training keeps E[y] = x, so evaluation is simply the
 * identity: no rescaling at test time, and training and evaluation cannot disagree about it.
 *
 * The mask is an input of the op, not drawn inside it: the op stays pure and gradcheckable, and one
 * mask can be fed to both backends. `dropoutMask` draws a mask from a seeded stream;
 * nn.functional.dropout draws one and uploads it. The mask gets no gradient.
 */
import { defineOp } from '../../autograd/op.js';
import { allocate, type DType, type TypedArray } from '../../tensor/dtype.js';
import { sameShape, shapeToString, sizeOf, type Shape } from '../../tensor/shape.js';
import type { RandomStream } from '../../tensor/random.js';
import type { Flat, Thread } from '../../tensor/op-def.js';
import { loopKernels } from '../../tensor/backends/wasm/loops.js';
import { shown } from '../../util/format.js';

export interface DropoutAttrs {
  /** The probability of dropping an element, in [0, 1). */
  p: number;
}

export const dropout = defineOp({
  name: 'dropout',
  inputs: ['x', 'mask'],
  nonDifferentiable: ['mask'],
  saves: ['mask'],
  outputShape({ x, mask }, attrs: DropoutAttrs) {
    checkDropoutP('dropout', attrs.p);
    if (!sameShape(mask, x)) throw new Error(`dropout: mask must have the shape of x ${shapeToString(x)}; got ${shapeToString(mask)}`);
    return x;
  },

  reference: {
    forward({ x, mask }, y, { attrs }) {
      const scale = 1 / (1 - attrs.p);
      for (let i = 0; i < y.length; i++) y[i] = x[i] * mask[i] * scale;
    },
    backward({ mask }, dy, { dx }, { attrs }) {
      const scale = 1 / (1 - attrs.p);
      for (let i = 0; i < dx.length; i++) dx[i] = dy[i] * mask[i] * scale;
    },
  },

  // In webasm mode the backend runs a wasm SIMD streaming kernel instead (k.simd(loopKernels), src/tensor/backends/wasm/loops.ts).
  gpu: {
    forward: (k, { x, mask }, { outShape, attrs }) =>
      k.simd(loopKernels)?.maskedScale(x, mask, 1 / (1 - attrs.p)) ?? k.run(masked, sizeOf(outShape), [x, mask], { SCALE: 1 / (1 - attrs.p) }),
    backward: (k, { mask }, dy, { outShape, attrs }) => ({
      dx: k.simd(loopKernels)?.maskedScale(dy, mask, 1 / (1 - attrs.p)) ?? k.run(masked, sizeOf(outShape), [dy, mask], { SCALE: 1 / (1 - attrs.p) }),
    }),
  },
});

/** v · mask / (1 − p), one element per thread: the forward on x, the backward on dy. */
function masked(this: Thread, v: Flat, mask: Flat): number {
  return v[this.thread.x] * mask[this.thread.x] * this.constants.SCALE;
}

/** Throws unless p is a dropout probability in [0, 1); `op` names the caller in the message. */
export function checkDropoutP(op: string, p: unknown): asserts p is number {
  if (p === 1) {
    throw new Error(`${op}: p = 1 would drop every element (and the kept ones would be scaled by 1/(1 − p) = ∞); p must be in [0, 1)`);
  }
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) {
    throw new Error(`${op}: p (the probability of dropping an element) must be a number in [0, 1); got ${shown(p)}`);
  }
}

/**
 * A dropout mask of `shape`: each element 1 (kept) with probability 1 − p, else 0, drawn in
 * row-major order from `stream`. The same stream state gives the same mask, whatever the backend.
 *
 *   dropoutMask([2, 3], 0.5, randomStream(1))   // Float64Array [0, 1, 1, 0, 1, 1]
 */
export function dropoutMask(shape: Shape, p: number, stream: RandomStream, dtype: DType = 'float64'): TypedArray {
  checkDropoutP('dropoutMask', p);
  const mask = allocate(dtype, sizeOf(shape));
  stream.bernoulli(mask, 1 - p); // mask[i] = stream.uniform() < 1 − p ? 1 : 0, in one pass
  return mask;
}
