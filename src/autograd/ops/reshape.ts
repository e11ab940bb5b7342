/**
 * reshape: the same values in row-major order, under a new shape of the same size.
 *
 *   y = x (a copy)        dx = dy read back in x's shape      (reshape's backward is reshape back)
 */
import { defineOp } from '../op.js';
import { shapeToString, sizeOf, type Shape } from '../../tensor/shape.js';
import { copy } from './gather.js';
import { loopKernels } from '../../tensor/backends/wasm/loops.js';

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

  // In webasm mode the copy is made in the SIMD kernels' memory (k.simd(loopKernels)), where the
  // next kernel reads it in place (a flatten before a Linear layer: its matmul, and on the way back
  // dropout's backward).
  gpu: {
    forward: (k, { x }) => k.simd(loopKernels)?.copy(x) ?? k.map(copy, x),
    backward: (k, _, dy) => ({ dx: k.simd(loopKernels)?.copy(dy) ?? k.map(copy, dy) }),
  },
});
