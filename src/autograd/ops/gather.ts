/**
 * Moving values between layouts without arithmetic: the strided gather behind permute and expand
 * (and, through them, the reductions' gpu kernels, which first permute the reduced axes to the end).
 *
 * Walk y in row-major order; a step along y's axis k moves `steps[k]` elements in x:
 *   permute   steps = x's strides, reordered like the axes
 *   expand    steps = x's strides, or 0 along an axis x is broadcast over
 */
import { shapeToString, sizeOf, stridesOf, type Shape } from '../../tensor/shape.js';
import type { TypedArray } from '../../tensor/dtype.js';
import type { DeviceArray, Flat, GpuKit, Thread } from '../../tensor/op-def.js';

/** The strided gather (reference): y (shape `yShape`) from x, x's index advancing by steps[k] along y's axis k. */
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

/**
 * The strided gather as one gpu kernel: each thread decodes its y index and reads one x element,
 * starting at x's element `offset` (slice.ts: the first element of the slice).
 */
export function gatherGpu(k: GpuKit, x: DeviceArray, yShape: Shape, steps: readonly number[], offset = 0): DeviceArray {
  if (yShape.length > MAX_GPU_RANK) throw new Error(`gather: the gpu backend handles up to ${MAX_GPU_RANK} axes; got ${shapeToString(yShape)}`);
  const pad = MAX_GPU_RANK - yShape.length;
  const c: Record<string, number> = { OFFSET: offset };
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
        this.constants.OFFSET + i0 * this.constants.S0 + i1 * this.constants.S1 + i2 * this.constants.S2 +
        i3 * this.constants.S3 + i4 * this.constants.S4 + i5 * this.constants.S5
      ];
    },
    sizeOf(yShape),
    [x],
    c,
  );
}

/** The identity kernel: a copy, element by element (reshape; permute by the identity). */
export function copy(this: Thread, x: Flat): number {
  return x[this.thread.x];
}

// ── permutations ──

/** The permutation that undoes `axes`. */
export function inverse(axes: readonly number[]): number[] {
  const inv = new Array<number>(axes.length);
  axes.forEach((a, i) => (inv[a] = i));
  return inv;
}

/** y = x with axes reordered (y.shape[i] = shape[axes[i]]), on the gpu. */
export function permuteGpu(k: GpuKit, x: DeviceArray, shape: Shape, axes: readonly number[]): DeviceArray {
  if (axes.every((a, i) => a === i)) return k.map(copy, x);
  const xStrides = stridesOf(shape);
  return gatherGpu(k, x, axes.map((a) => shape[a]), axes.map((a) => xStrides[a]));
}

// ── broadcasting ──

/** Steps in x for each axis of `to`: x's stride, or 0 where x (right-aligned) is stretched. */
function broadcastSteps(from: Shape, to: Shape): number[] {
  const pad = to.length - from.length;
  const strides = stridesOf(from);
  return to.map((_, i) => (i < pad || from[i - pad] === 1 ? 0 : strides[i - pad]));
}

/** y = x [from] broadcast to `to` (reference). */
export function expandInto(x: TypedArray, from: Shape, to: Shape, y: TypedArray): void {
  gatherInto(x, to, broadcastSteps(from, to), y);
}

/** y = x [from] broadcast to `to`, on the gpu. */
export function expandGpu(k: GpuKit, x: DeviceArray, from: Shape, to: Shape): DeviceArray {
  return gatherGpu(k, x, to, broadcastSteps(from, to));
}
