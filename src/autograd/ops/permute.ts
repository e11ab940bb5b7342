/**
 * permute: reorders axes. y.shape[i] = x.shape[axes[i]], and
 *
 *   y[i₀, …, iₙ] = x[j]  where j puts iₖ on axis axes[k]
 *   dx = permute(dy, inverse(axes))        (a permutation's adjoint is its inverse)
 *
 * Also home of the helpers that move data between layouts, shared by the reductions (sum, max)
 * and by expand's backward: the gpu reductions first permute the reduced axes to the end, then
 * reduce contiguous rows.
 */
import { defineOp } from '../op.js';
import { shapeToString, sizeOf, stridesOf, type Shape } from '../../tensor/shape.js';
import type { TypedArray } from '../../tensor/dtype.js';
import type { DeviceArray, Flat, GpuKit, Thread } from '../../tensor/op-def.js';

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

  gpu: {
    forward: (k, { x }, { shapes, attrs }) => permuteGpu(k, x, shapes.x, attrs.axes),
    backward: (k, _, dy, { outShape, attrs }) => ({ dx: permuteGpu(k, dy, outShape, inverse(attrs.axes)) }),
  },
});

export function inverse(axes: readonly number[]): number[] {
  const inv = new Array<number>(axes.length);
  axes.forEach((a, i) => (inv[a] = i));
  return inv;
}

/** y = x with axes reordered: a strided gather over y's shape. */
export function permuteInto(x: TypedArray, shape: Shape, axes: readonly number[], y: TypedArray): void {
  const xStrides = stridesOf(shape);
  gatherInto(x, axes.map((a) => shape[a]), axes.map((a) => xStrides[a]), y);
}

/**
 * The strided gather behind permute and expand: walk y (shape `yShape`) in row-major order; a step
 * along y's axis k moves `steps[k]` elements in x (a permuted stride, or 0 on a broadcast axis).
 */
export function gatherInto(x: TypedArray, yShape: Shape, steps: readonly number[], y: TypedArray): void {
  const index = new Array<number>(yShape.length).fill(0);
  let j = 0;
  for (let i = 0; i < y.length; i++) {
    y[i] = x[j];
    for (let k = yShape.length - 1; k >= 0; k--) {
      index[k]++;
      j += steps[k];
      if (index[k] < yShape[k]) break;
      j -= steps[k] * yShape[k];
      index[k] = 0;
    }
  }
}

/** The largest rank the gpu gather handles (shapes are padded with leading 1s up to it). */
export const MAX_GPU_RANK = 6;

/** y = x with axes reordered, on the gpu. */
export function permuteGpu(k: GpuKit, x: DeviceArray, shape: Shape, axes: readonly number[]): DeviceArray {
  if (axes.every((a, i) => a === i)) return k.map(copy, x);
  const xStrides = stridesOf(shape);
  return gatherGpu(k, x, axes.map((a) => shape[a]), axes.map((a) => xStrides[a]));
}

/** The strided gather as one gpu kernel: each thread decodes its y index and reads one x element. */
export function gatherGpu(k: GpuKit, x: DeviceArray, yShape: Shape, steps: readonly number[]): DeviceArray {
  if (yShape.length > MAX_GPU_RANK) throw new Error(`gather: the gpu backend handles up to ${MAX_GPU_RANK} axes; got ${shapeToString(yShape)}`);
  const pad = MAX_GPU_RANK - yShape.length;
  const c: Record<string, number> = {};
  for (let i = 0; i < MAX_GPU_RANK; i++) {
    c['D' + i] = i < pad ? 1 : yShape[i - pad];
    c['S' + i] = i < pad ? 0 : steps[i - pad];
  }
  return k.run(
    function (this: Thread, x: Flat) {
      let i = this.thread.x;
      const i5 = i % this.constants.D5;
      i = Math.floor(i / this.constants.D5);
      const i4 = i % this.constants.D4;
      i = Math.floor(i / this.constants.D4);
      const i3 = i % this.constants.D3;
      i = Math.floor(i / this.constants.D3);
      const i2 = i % this.constants.D2;
      i = Math.floor(i / this.constants.D2);
      const i1 = i % this.constants.D1;
      const i0 = Math.floor(i / this.constants.D1);
      return x[
        i0 * this.constants.S0 + i1 * this.constants.S1 + i2 * this.constants.S2 +
        i3 * this.constants.S3 + i4 * this.constants.S4 + i5 * this.constants.S5
      ];
    },
    sizeOf(yShape),
    [x],
    c,
  );
}

export function copy(this: Thread, x: Flat): number {
  return x[this.thread.x];
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
