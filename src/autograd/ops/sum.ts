/**
 * sum: Σ over the given axes (keepDims keeps them as size 1).
 *
 *   y[kept index] = Σ x over the reduced axes
 *   dx = dy broadcast back over the reduced axes     (sum's backward is broadcast; see expand.ts)
 *
 * The kernels are ./reduce.ts's (expand's backward sums too), the broadcast ./gather.ts's.
 */
import { defineOp } from '../op.js';
import { expandGpu, expandInto } from './gather.js';
import { reducedShape, sumGpu, sumInto, type ReduceAttrs } from './reduce.js';

export const sum = defineOp({
  name: 'sum',
  inputs: ['x'],
  saves: [],
  outputShape: ({ x }, attrs: ReduceAttrs) => reducedShape(x, attrs),

  reference: {
    forward({ x }, y, { shapes, attrs }) {
      sumInto(x, shapes.x, attrs.axes, y);
    },
    backward(_, dy, { dx }, { shapes, attrs }) {
      expandInto(dy, reducedShape(shapes.x, { ...attrs, keepDims: true }), shapes.x, dx);
    },
  },

  gpu: {
    forward: (k, { x }, { shapes, attrs }) => sumGpu(k, x, shapes.x, attrs.axes),
    backward: (k, _, dy, { shapes, attrs }) => ({
      dx: expandGpu(k, dy, reducedShape(shapes.x, { ...attrs, keepDims: true }), shapes.x),
    }),
  },
});
