/**
 * argmax: the position of the maximum over the given axes — one axis, or every axis (then the
 * flat, row-major index into x). Positions come back as numbers of x's dtype (0, 1, 2, …).
 *
 *   y[kept index] = the position, within its group, of the first maximal element
 *
 * Not differentiable (a position is piecewise constant in x): x is marked nonDifferentiable, so
 * the output never requires grad and no graph is recorded. Ties: the first maximal element, as
 * max.ts routes its gradient; a NaN counts as the maximum (as in PyTorch).
 */
import { defineOp } from '../op.js';
import type { Flat, Thread } from '../../tensor/op-def.js';
import { permuteGpu } from './gather.js';
import { reducedShape, reductionLayout, walkGroups, type ReduceAttrs } from './reduce.js';

export const argmax = defineOp({
  name: 'argmax',
  inputs: ['x'],
  nonDifferentiable: ['x'],
  saves: [],
  outputShape: ({ x }, attrs: ReduceAttrs) => {
    if (attrs.axes.some((a) => x[a] === 0)) throw new Error(`argmax: cannot reduce over an empty axis of [${x.join(', ')}]`);
    if (attrs.axes.length !== 1 && attrs.axes.length !== x.length) {
      throw new Error(`argmax: axis must be one axis, or absent for the flat index over all axes; got axes [${attrs.axes.join(', ')}] of a ${x.length}-D tensor`);
    }
    return reducedShape(x, attrs);
  },

  reference: {
    forward({ x }, y, { shapes, attrs }) {
      const best = new Float64Array(y.length).fill(-Infinity);
      const seen = new Float64Array(y.length); // how many elements of each group were visited
      walkGroups(shapes.x, attrs.axes, (i, j) => {
        const v = x[i];
        if (seen[j] === 0 || v > best[j] || (Number.isNaN(v) && !Number.isNaN(best[j]))) {
          best[j] = v;
          y[j] = seen[j];
        }
        seen[j]++;
      });
    },
    backward() {}, // never called: x is not differentiable
  },

  gpu: {
    forward: (k, { x }, { shapes, attrs }) => {
      const { order, rows, rowLength } = reductionLayout(shapes.x, attrs.axes);
      const moved = permuteGpu(k, x, shapes.x, order);
      const y = k.run(
        function (this: Thread, x: Flat) {
          const start = this.thread.x * this.constants.L;
          let m = x[start];
          let at = 0;
          for (let j = 1; j < this.constants.L; j++) {
            const v = x[start + j];
            if (v > m || (v !== v && m === m)) {
              m = v;
              at = j;
            }
          }
          return at;
        },
        rows,
        [moved],
        { L: rowLength },
      );
      k.release(moved);
      return y;
    },
    backward: () => ({}),
  },
});
