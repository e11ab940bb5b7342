/**
 * Reductions over axes, shared by sum and max (and by expand's backward, which is a sum): the
 * reduced shape, the walk that pairs every input element with its output slot, and Σ itself on
 * both backends.
 *
 * On the gpu a reduction first permutes the reduced axes to the end (./gather.ts), so each output
 * element is the reduction of one contiguous row: one thread per row.
 */
import { sizeOf, stridesOf, type Shape } from '../../tensor/shape.js';
import type { TypedArray } from '../../tensor/dtype.js';
import type { DeviceArray, Flat, GpuKit, Thread } from '../../tensor/op-def.js';
import { permuteGpu } from './gather.js';

export interface ReduceAttrs {
  /** Sorted, distinct, non-negative axes (g.sum normalises them). */
  axes: readonly number[];
  keepDims: boolean;
}

export function reducedShape(shape: Shape, { axes, keepDims }: ReduceAttrs): Shape {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
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

/**
 * For a reduction over `axes` of `shape`: the permutation that moves them last, how many output
 * rows that leaves and how long each row is.
 */
export function reductionLayout(shape: Shape, axes: readonly number[]): { order: number[]; rows: number; rowLength: number } {
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  return {
    order: [...kept, ...axes],
    rows: sizeOf(kept.map((i) => shape[i])),
    rowLength: sizeOf(axes.map((i) => shape[i])),
  };
}

/** y = Σ of x over `axes` (reference: walk x once, add each element into its output slot). */
export function sumInto(x: TypedArray, shape: Shape, axes: readonly number[], y: TypedArray): void {
  y.fill(0);
  walkGroups(shape, axes, (i, j) => {
    y[j] += x[i];
  });
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
  if (moved !== x) k.release(moved);
  return y;
}
