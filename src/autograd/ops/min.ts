/**
 * min: the minimum over the given axes (keepDims keeps them as size 1).
 *
 *   y[kept index] = min of x over the reduced axes
 *   dx = dy at the first minimal element of each group (lowest flat index), 0 elsewhere.
 *
 * Ties: only the first minimal element gets the gradient (the mirror of max.ts). (Splitting it among
 * the ties is the other common convention; at a tie min is not differentiable, so neither is
 * "right" — gradient checks keep away from ties.)
 */
import { defineOp } from '../op.js';
import { sizeOf } from '../../tensor/shape.js';
import type { DeviceArray, Flat, Thread } from '../../tensor/op-def.js';
import { inverse, permuteGpu } from './gather.js';
import { reducedShape, reductionLayout, walkGroups, type ReduceAttrs } from './reduce.js';

export const min = defineOp({
  name: 'min',
  inputs: ['x'],
  saves: ['x', 'y'],
  outputShape: ({ x }, attrs: ReduceAttrs) => {
    if (attrs.axes.some((a) => x[a] === 0)) throw new Error(`min: cannot reduce over an empty axis of [${x.join(', ')}]`);
    return reducedShape(x, attrs);
  },

  reference: {
    forward({ x }, y, { shapes, attrs }) {
      y.fill(Infinity);
      walkGroups(shapes.x, attrs.axes, (i, j) => {
        if (x[i] < y[j] || Number.isNaN(x[i])) y[j] = x[i];
      });
    },
    backward({ x, y }, dy, { dx }, { shapes, attrs }) {
      const taken = new Uint8Array(y.length);
      walkGroups(shapes.x, attrs.axes, (i, j) => {
        if (!taken[j] && x[i] === y[j]) {
          dx[i] = dy[j];
          taken[j] = 1;
        }
      });
    },
  },

  gpu: {
    forward: (k, { x }, { shapes, attrs }) => {
      const { order, rows, rowLength } = reductionLayout(shapes.x, attrs.axes);
      const moved = permuteGpu(k, x, shapes.x, order);
      const y = k.run(
        function (this: Thread, x: Flat) {
          const start = this.thread.x * this.constants.L;
          let m = x[start];
          // Not Math.min: GL's min() drops NaN. The first NaN wins, as in the reference (NaN test: v !== v; GPUJS.md).
          for (let j = 1; j < this.constants.L; j++) {
            const v = x[start + j];
            if (m === m && (v < m || v !== v)) m = v;
          }
          return m;
        },
        rows,
        [moved],
        { L: rowLength },
      );
      k.release(moved);
      return y;
    },
    backward: (k, { x, y }, dy, { shapes, attrs }) => {
      const { order, rowLength } = reductionLayout(shapes.x, attrs.axes);
      const moved = permuteGpu(k, x, shapes.x, order);
      // In the permuted layout each group is a contiguous row, in the original order.
      const dMoved: DeviceArray = k.run(
        function (this: Thread, x: Flat, y: Flat, dy: Flat) {
          const row = Math.floor(this.thread.x / this.constants.L);
          const start = row * this.constants.L;
          const m = y[row];
          if (x[this.thread.x] !== m) return 0;
          for (let j = 0; j < this.constants.L; j++) {
            if (start + j >= this.thread.x) break;
            if (x[start + j] === m) return 0; // an earlier element already takes the gradient
          }
          return dy[row];
        },
        sizeOf(shapes.x),
        [moved, y, dy],
        { L: rowLength },
      );
      k.release(moved);
      const dx = permuteGpu(k, dMoved, order.map((a) => shapes.x[a]), inverse(order));
      k.release(dMoved);
      return { dx };
    },
  },
});
