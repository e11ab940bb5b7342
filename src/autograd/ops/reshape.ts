/**
 * reshape: the same values in row-major order, under a new shape of the same size.
 *
 *   y = x (a copy)        dx = dy read back in x's shape      (reshape's backward is reshape back)
 */
import { defineOp } from '../op.js';
import { shapeToString, sizeOf, type Shape } from '../../tensor/shape.js';
import { copy } from './gather.js';

export const reshape = defineOp({
  name: 'reshape',
  inputs: ['x'],
  saves: [],
  outputShape: ({ x }, { shape }: { shape: Shape }) => {
    if (!shape.every((d) => Number.isInteger(d) && d >= 0) || sizeOf(shape) !== sizeOf(x)) {
      throw new Error(`reshape: cannot reshape ${shapeToString(x)} (${sizeOf(x)} elements) to ${shapeToString(shape)} (${sizeOf(shape)} elements)`);
    }
    return shape;
  },

  reference: {
    forward({ x }, y) {
      y.set(x);
    },
    backward(_, dy, { dx }) {
      dx.set(dy);
    },
  },

  gpu: {
    forward: (k, { x }) => k.map(copy, x),
    backward: (k, _, dy) => ({ dx: k.map(copy, dy) }),
  },
});
