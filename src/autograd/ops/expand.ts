/**
 * expand: broadcasts x to a larger shape (NumPy rules: x's shape is aligned at the right, and each
 * of its axes is either equal to the target's or 1, which is repeated).
 *
 *   y[i] = x[the element i lands on when x's size-1 axes are stretched]
 *   dx   = Σ of dy over the stretched axes       (broadcast's backward is sum — and sum's
 *                                                  backward is broadcast: an adjoint pair)
 */
import { defineOp } from '../op.js';
import { broadcastShapes, sameShape, shapeToString, sizeOf, type Shape } from '../../tensor/shape.js';
import { loopKernels } from '../../tensor/backends/wasm/loops.js';
import { expandGpu, expandInto } from './gather.js';
import { sumGpu, sumInto } from './reduce.js';

export const expand = defineOp({
  name: 'expand',
  inputs: ['x'],
  saves: [],
  outputShape: ({ x }, { shape }: { shape: Shape }) => {
    if (!sameShape(broadcastShapes('expand', x, shape), shape)) {
      throw new Error(`expand: x ${shapeToString(x)} cannot be broadcast to ${shapeToString(shape)}`);
    }
    return shape;
  },

  reference: {
    forward({ x }, y, { shapes, outShape }) {
      expandInto(x, shapes.x, outShape, y);
    },
    backward(_, dy, { dx }, { shapes, outShape }) {
      sumInto(dy, outShape, stretchedAxes(shapes.x, outShape), dx);
    },
  },

  // In webasm mode a one-element x (an optimiser's scalar stretched over a parameter) is a fill instead (k.simd(loopKernels)).
  gpu: {
    forward: (k, { x }, { shapes, outShape }) =>
      (sizeOf(shapes.x) === 1 ? k.simd(loopKernels)?.fill(x, sizeOf(outShape)) : undefined) ?? expandGpu(k, x, shapes.x, outShape),
    backward: (k, _, dy, { shapes, outShape }) => ({ dx: sumGpu(k, dy, outShape, stretchedAxes(shapes.x, outShape)) }),
  },
});

/** The axes of `to` along which `from` (right-aligned) has size 1 or does not exist. */
function stretchedAxes(from: Shape, to: Shape): number[] {
  const pad = to.length - from.length;
  return to.map((_, i) => i).filter((i) => i < pad || (from[i - pad] === 1 && to[i] !== 1));
}
