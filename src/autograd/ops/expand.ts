/**
 * expand: broadcasts x to a larger shape (NumPy rules: x's shape is aligned at the right, and each
 * of its axes is either equal to the target's or 1, which is repeated).
 *
 *   y[i] = x[the element i lands on when x's size-1 axes are stretched]
 *   dx   = Σ of dy over the stretched axes       (broadcast's backward is sum — and sum's
 *                                                  backward is broadcast: an adjoint pair)
 */
import { defineOp } from '../op.js';
import { broadcastShapes, sameShape, shapeToString, stridesOf, type Shape } from '../../tensor/shape.js';
import type { TypedArray } from '../../tensor/dtype.js';
import type { DeviceArray, GpuKit } from '../../tensor/op-def.js';
import { gatherGpu, gatherInto } from './permute.js';
import { sumGpu, sumInto } from './sum.js';

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

  gpu: {
    forward: (k, { x }, { shapes, outShape }) => expandGpu(k, x, shapes.x, outShape),
    backward: (k, _, dy, { shapes, outShape }) => ({ dx: sumGpu(k, dy, outShape, stretchedAxes(shapes.x, outShape)) }),
  },
});

/** The axes of `to` along which `from` (right-aligned) has size 1 or does not exist. */
export function stretchedAxes(from: Shape, to: Shape): number[] {
  const pad = to.length - from.length;
  return to.map((_, i) => i).filter((i) => i < pad || (from[i - pad] === 1 && to[i] !== 1));
}

/** Steps in x for each axis of `to`: x's stride, or 0 where x is stretched. */
function broadcastSteps(from: Shape, to: Shape): number[] {
  const pad = to.length - from.length;
  const strides = stridesOf(from);
  return to.map((_, i) => (i < pad || from[i - pad] === 1 ? 0 : strides[i - pad]));
}

export function expandInto(x: TypedArray, from: Shape, to: Shape, y: TypedArray): void {
  gatherInto(x, to, broadcastSteps(from, to), y);
}

export function expandGpu(k: GpuKit, x: DeviceArray, from: Shape, to: Shape): DeviceArray {
  return gatherGpu(k, x, to, broadcastSteps(from, to));
}
