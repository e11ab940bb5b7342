/**
 * slice: the block of x given by one [start, end) range per axis (row-major; g.slice normalises
 * negative and absent bounds).
 *
 *   y[i₀, i₁, …] = x[start₀ + i₀, start₁ + i₁, …]            y.shape[k] = end_k − start_k
 *   dx = dy placed back into the block, 0 elsewhere           (slice's backward pads; cat.ts's
 *                                                              backward slices: an adjoint pair)
 *
 * The forward is ./gather.ts's strided gather with x's strides, starting at the block's first
 * element. The gpu backward is in gather form — one thread per element of dx asks whether it lies
 * in the block — while the reference backward scatters dy, mirroring the forward loop.
 */
import { defineOp } from '../op.js';
import { shapeToString, sizeOf, stridesOf, type Shape } from '../../tensor/shape.js';
import type { Flat, Thread } from '../../tensor/op-def.js';
import { gatherGpu, gatherInto, MAX_GPU_RANK } from './gather.js';
import { shown } from '../../util/format.js';

export interface SliceAttrs {
  /** One [start, end) per axis, 0 ≤ start < end ≤ size (no empty slices). */
  ranges: readonly (readonly [number, number])[];
}

function offsetOf(shape: Shape, ranges: SliceAttrs['ranges']): number {
  const strides = stridesOf(shape);
  return ranges.reduce((o, [start], k) => o + start * strides[k], 0);
}

export const slice = defineOp({
  name: 'slice',
  inputs: ['x'],
  saves: [],
  outputShape: ({ x }, { ranges }: SliceAttrs) => {
    if (!Array.isArray(ranges) || ranges.length !== x.length) {
      throw new Error(`slice: ranges must hold one [start, end) pair per axis of x ${shapeToString(x)} (${x.length}); got ${shown(ranges)}`);
    }
    ranges.forEach((r, k) => {
      if (!Array.isArray(r) || r.length !== 2 || !Number.isInteger(r[0]) || !Number.isInteger(r[1]) || r[0] < 0 || r[0] >= r[1] || r[1] > x[k]) {
        throw new Error(`slice: range ${k} must be [start, end) with 0 ≤ start < end ≤ ${x[k]} (axis ${k} of x ${shapeToString(x)}); got ${shown(r)}`);
      }
    });
    return ranges.map(([start, end]) => end - start);
  },

  reference: {
    forward({ x }, y, { shapes, attrs, outShape }) {
      gatherInto(x.subarray(offsetOf(shapes.x, attrs.ranges)), outShape, stridesOf(shapes.x), y);
    },
    backward(_, dy, { dx }, { shapes, attrs, outShape }) {
      const steps = stridesOf(shapes.x);
      const index = new Array<number>(outShape.length).fill(0);
      let j = offsetOf(shapes.x, attrs.ranges);
      for (let i = 0; i < dy.length; i++) {
        dx[j] = dy[i];
        for (let k = outShape.length - 1; k >= 0; k--) {
          index[k]++;
          j += steps[k];
          if (index[k] < outShape[k]) break;
          j -= steps[k] * outShape[k];
          index[k] = 0;
        }
      }
    },
  },

  gpu: {
    forward: (k, { x }, { shapes, attrs, outShape }) => gatherGpu(k, x, outShape, stridesOf(shapes.x), offsetOf(shapes.x, attrs.ranges)),
    backward: (k, _, dy, { shapes, attrs, outShape }) => {
      if (shapes.x.length > MAX_GPU_RANK) throw new Error(`slice: the gpu backend handles up to ${MAX_GPU_RANK} axes; got ${shapeToString(shapes.x)}`);
      // x's axes padded with leading 1s to MAX_GPU_RANK: D (x's size), B (the block's start), E (the block's size).
      const pad = MAX_GPU_RANK - shapes.x.length;
      const c: Record<string, number> = {};
      for (let i = 0; i < MAX_GPU_RANK; i++) {
        c['D' + i] = i < pad ? 1 : shapes.x[i - pad];
        c['B' + i] = i < pad ? 0 : attrs.ranges[i - pad][0];
        c['E' + i] = i < pad ? 1 : outShape[i - pad];
      }
      const dx = k.run(
        function (this: Thread, dy: Flat) {
          let i = this.thread.x;
          const j5 = (i % this.constants.D5) - this.constants.B5;
          i = Math.floor(i / this.constants.D5);
          const j4 = (i % this.constants.D4) - this.constants.B4;
          i = Math.floor(i / this.constants.D4);
          const j3 = (i % this.constants.D3) - this.constants.B3;
          i = Math.floor(i / this.constants.D3);
          const j2 = (i % this.constants.D2) - this.constants.B2;
          i = Math.floor(i / this.constants.D2);
          const j1 = (i % this.constants.D1) - this.constants.B1;
          const j0 = Math.floor(i / this.constants.D1) - this.constants.B0;
          if (j0 < 0 || j1 < 0 || j2 < 0 || j3 < 0 || j4 < 0 || j5 < 0) return 0;
          if (j0 >= this.constants.E0 || j1 >= this.constants.E1 || j2 >= this.constants.E2) return 0;
          if (j3 >= this.constants.E3 || j4 >= this.constants.E4 || j5 >= this.constants.E5) return 0;
          return dy[((((j0 * this.constants.E1 + j1) * this.constants.E2 + j2) * this.constants.E3 + j3) * this.constants.E4 + j4) * this.constants.E5 + j5];
        },
        sizeOf(shapes.x),
        [dy],
        c,
      );
      return { dx };
    },
  },
});
