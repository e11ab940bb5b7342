/**
 * permute: reorders axes. y.shape[i] = x.shape[axes[i]], and
 *
 *   y[i₀, …, iₙ] = x[j]  where j puts iₖ on axis axes[k]
 *   dx = permute(dy, inverse(axes))        (a permutation's adjoint is its inverse)
 *
 * Both kernels are the strided gather of ./gather.ts, which expand and the reductions share.
 */
import { defineOp } from '../op.js';
import { shapeToString, stridesOf, type Shape } from '../../tensor/shape.js';
import type { TypedArray } from '../../tensor/dtype.js';
import { gatherInto, inverse, permuteGpu } from './gather.js';
import { loopKernels } from '../../tensor/backends/wasm/loops.js';

export const permute = defineOp({
  name: 'permute',
  inputs: ['x'],
  saves: [],
  outputShape: ({ x }, { axes }: { axes: readonly number[] }) => {
    const sorted = [...axes].sort((p, q) => p - q);
    if (axes.length !== x.length || sorted.some((a, i) => a !== i)) {
      throw new Error(`permute: axes must be a permutation of 0..${x.length - 1} for x ${shapeToString(x)}; got [${axes.join(', ')}]`);
    }
    return axes.map((a) => x[a]);
  },

  reference: {
    forward({ x }, y, { shapes, attrs }) {
      permuteInto(x, shapes.x, attrs.axes, y);
    },
    backward(_, dy, { dx }, { outShape, attrs }) {
      permuteInto(dy, outShape, inverse(attrs.axes), dx);
    },
  },

  // In webasm mode a matrix transpose (g.transpose of a matrix) is a blocked loop instead (k.simd(loopKernels)).
  gpu: {
    forward: (k, { x }, { shapes, attrs }) => (isTranspose(attrs.axes) ? k.simd(loopKernels)?.transpose(x, shapes.x[0], shapes.x[1]) : undefined) ?? permuteGpu(k, x, shapes.x, attrs.axes),
    backward: (k, _, dy, { outShape, attrs }) => ({
      dx: (isTranspose(attrs.axes) ? k.simd(loopKernels)?.transpose(dy, outShape[0], outShape[1]) : undefined) ?? permuteGpu(k, dy, outShape, inverse(attrs.axes)),
    }),
  },
});

/** y = x with axes reordered: a strided gather over y's shape. */
function permuteInto(x: TypedArray, shape: Shape, axes: readonly number[], y: TypedArray): void {
  const xStrides = stridesOf(shape);
  gatherInto(x, axes.map((a) => shape[a]), axes.map((a) => xStrides[a]), y);
}

/** Whether `axes` swaps the two axes of a matrix. */
function isTranspose(axes: readonly number[]): boolean {
  return axes.length === 2 && axes[0] === 1 && axes[1] === 0;
}
