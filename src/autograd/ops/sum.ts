/**
 * sum: Σ over the given axes (keepDims keeps them as size 1).
 *
 *   y[kept index] = Σ x over the reduced axes
 *   dx = dy broadcast back over the reduced axes     (sum's backward is broadcast; see expand.ts)
 */
import { defineOp } from '../op.js';
import { sizeOf, stridesOf, type Shape } from '../../tensor/shape.js';
import type { TypedArray } from '../../tensor/dtype.js';
import type { DeviceArray, Flat, GpuKit, Thread } from '../../tensor/op-def.js';
import { permuteGpu, reductionLayout } from './permute.js';
import { expandGpu, expandInto } from './expand.js';
import { release } from '../../tensor/backends/gpu.js';

export interface ReduceAttrs {
  /** Sorted, distinct, non-negative axes (g.sum normalises them). */
  axes: readonly number[];
  keepDims: boolean;
}

export function reducedShape(shape: Shape, { axes, keepDims }: ReduceAttrs): Shape {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

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

/** y = Σ of x over `axes` (reference: walk x once, add each element into its output slot). */
export function sumInto(x: TypedArray, shape: Shape, axes: readonly number[], y: TypedArray): void {
  y.fill(0);
  walkGroups(shape, axes, (i, j) => {
    y[j] += x[i];
  });
}

/** Calls visit(i, j) for every flat input index i, in order, with j the flat index of its output slot. */
export function walkGroups(shape: Shape, axes: readonly number[], visit: (i: number, j: number) => void): void {
  const keptStrides = stridesOf(reducedShape(shape, { axes, keepDims: true }));
  const steps = shape.map((_, i) => (axes.includes(i) ? 0 : keptStrides[i]));
  const index = new Array<number>(shape.length).fill(0);
  const size = sizeOf(shape);
  let j = 0;
  for (let i = 0; i < size; i++) {
    visit(i, j);
    for (let k = shape.length - 1; k >= 0; k--) {
      index[k]++;
      j += steps[k];
      if (index[k] < shape[k]) break;
      j -= steps[k] * shape[k];
      index[k] = 0;
    }
  }
}

/** Σ over `axes` on the gpu: permute the reduced axes to the end, then sum contiguous rows. */
export function sumGpu(k: GpuKit, x: DeviceArray, shape: Shape, axes: readonly number[]): DeviceArray {
  const { order, rows, rowLength } = reductionLayout(shape, axes);
  if (rows === 1) return k.sumAll(x, sizeOf(shape));
  const moved = order.every((a, i) => a === i) ? x : permuteGpu(k, x, shape, order);
  const y = k.run(
    function (this: Thread, x: Flat) {
      let s = 0;
      const start = this.thread.x * this.constants.L;
      for (let j = 0; j < this.constants.L; j++) s += x[start + j];
      return s;
    },
    rows,
    [moved],
    { L: rowLength },
  );
  if (moved !== x) release(moved);
  return y;
}
