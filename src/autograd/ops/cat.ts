/**
 * cat: a and b joined along one axis (every other axis equal). g.cat(tensors, { axis }) joins a
 * list by applying this pairwise.
 *
 * Seen as three axes — O (the axes before `axis`), the joined axis, I (the axes after) — with
 * a [O, A, I], b [O, B, I]:
 *
 *   y[o, j, i] = a[o, j, i]       for j < A
 *              = b[o, j − A, i]   for A ≤ j < A + B
 *   da = dy[:, :A, :],  db = dy[:, A:, :]       (cat's backward is slicing: an adjoint pair with slice.ts)
 */
import { defineOp } from '../op.js';
import { shapeToString, sizeOf, type Shape } from '../../tensor/shape.js';
import type { Flat, Thread } from '../../tensor/op-def.js';

export interface CatAttrs {
  /** The joined axis, normalised (≥ 0). */
  axis: number;
}

/** O, A, B, I: the sizes before, along (for a and for b) and after the axis. */
function layout(a: Shape, b: Shape, axis: number): { O: number; A: number; B: number; I: number } {
  return { O: sizeOf(a.slice(0, axis)), A: a[axis], B: b[axis], I: sizeOf(a.slice(axis + 1)) };
}

export const cat = defineOp({
  name: 'cat',
  inputs: ['a', 'b'],
  saves: [],
  outputShape: ({ a, b }, { axis }: CatAttrs) => {
    if (a.length !== b.length || a.length === 0) {
      throw new Error(`cat: tensors must have the same number of axes (at least 1); got ${shapeToString(a)} and ${shapeToString(b)}`);
    }
    if (!Number.isInteger(axis) || axis < 0 || axis >= a.length) throw new Error(`cat: axis must be in [0, ${a.length - 1}]; got ${axis}`);
    if (a.some((d, i) => i !== axis && d !== b[i])) {
      throw new Error(`cat: tensors must match on every axis but axis ${axis}; got ${shapeToString(a)} and ${shapeToString(b)}`);
    }
    return a.map((d, i) => (i === axis ? d + b[i] : d));
  },

  reference: {
    forward({ a, b }, y, { shapes, attrs }) {
      const { O, A, B, I } = layout(shapes.a, shapes.b, attrs.axis);
      for (let o = 0; o < O; o++) {
        y.set(a.subarray(o * A * I, (o + 1) * A * I), o * (A + B) * I);
        y.set(b.subarray(o * B * I, (o + 1) * B * I), (o * (A + B) + A) * I);
      }
    },
    backward(_, dy, { da, db }, { shapes, attrs }) {
      const { O, A, B, I } = layout(shapes.a, shapes.b, attrs.axis);
      for (let o = 0; o < O; o++) {
        if (da.length > 0) da.set(dy.subarray(o * (A + B) * I, (o * (A + B) + A) * I), o * A * I);
        if (db.length > 0) db.set(dy.subarray((o * (A + B) + A) * I, (o + 1) * (A + B) * I), o * B * I);
      }
    },
  },

  gpu: {
    forward: (k, { a, b }, { shapes, attrs, outShape }) =>
      k.run(
        function (this: Thread, a: Flat, b: Flat) {
          const J = this.constants.A + this.constants.B;
          const i = this.thread.x % this.constants.I;
          const j = Math.floor(this.thread.x / this.constants.I) % J;
          const o = Math.floor(this.thread.x / (this.constants.I * J));
          if (j < this.constants.A) return a[(o * this.constants.A + j) * this.constants.I + i];
          return b[(o * this.constants.B + j - this.constants.A) * this.constants.I + i];
        },
        sizeOf(outShape),
        [a, b],
        layout(shapes.a, shapes.b, attrs.axis),
      ),
    backward: (k, _, dy, { shapes, attrs }) => {
      const c = layout(shapes.a, shapes.b, attrs.axis);
      // One slice kernel for both: rows of length LEN starting at offset OFF within each o-block.
      const part = (offset: number, length: number) =>
        k.run(
          function (this: Thread, dy: Flat) {
            const i = this.thread.x % this.constants.I;
            const j = Math.floor(this.thread.x / this.constants.I) % this.constants.LEN;
            const o = Math.floor(this.thread.x / (this.constants.I * this.constants.LEN));
            return dy[(o * (this.constants.A + this.constants.B) + this.constants.OFF + j) * this.constants.I + i];
          },
          c.O * length * c.I,
          [dy],
          { ...c, OFF: offset, LEN: length },
        );
      return { da: part(0, c.A), db: part(c.A, c.B) };
    },
  },
});
