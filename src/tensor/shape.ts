/**
 * Shapes, strides and broadcasting.
 *
 * Layout: every tensor is stored flat and row-major (the last axis varies fastest). Image tensors
 * are NCHW: [batch N, channels C, height H, width W], so element (n, c, y, x) of an N×C×H×W tensor
 * sits at ((n·C + c)·H + y)·W + x.
 *
 * Broadcasting follows NumPy: align shapes at the right; two sizes agree when they are equal or
 * one of them is 1; the result takes the larger. [3, 1] with [1, 4] gives [3, 4]; [] (a scalar)
 * broadcasts against anything.
 */
export type Shape = readonly number[];
import { shown } from '../util/format.js';

/** Number of elements of a shape (1 for the scalar shape []). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides: strides[i] = product of shape[i+1..]. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function shapeToString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Throws unless `shape` is a list of non-negative integers. */
export function checkShape(op: string, arg: string, shape: unknown): Shape {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${op}: ${arg} must be a shape (an array of non-negative integers); got ${shown(shape)}`);
  }
  return shape as Shape;
}

/** Throws unless `shape` equals `expected`, naming the op and the argument. */
export function expectShape(op: string, arg: string, shape: Shape, expected: Shape): void {
  if (!sameShape(shape, expected)) {
    throw new Error(`${op}: ${arg} must have shape ${shapeToString(expected)}; got ${shapeToString(shape)}`);
  }
}

/** Throws unless `shape` has `rank` axes; `meaning` says what the axes are, e.g. '(N, C, H, W)'. */
export function expectRank(op: string, arg: string, shape: Shape, rank: number | readonly number[], meaning = ''): void {
  const ranks = typeof rank === 'number' ? [rank] : rank;
  if (!ranks.includes(shape.length)) {
    const want = ranks.map((r) => `${r}-D`).join(' or ');
    throw new Error(`${op}: ${arg} must be ${want}${meaning ? ' ' + meaning : ''}; got ${shapeToString(shape)}`);
  }
}

/** The broadcast shape of `a` and `b` (NumPy rules), or a clear error naming the op. */
export function broadcastShapes(op: string, a: Shape, b: Shape): Shape {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${op}: shapes ${shapeToString(a)} and ${shapeToString(b)} cannot be broadcast together ` +
          `(axis ${i} from the left of the result: ${da} vs ${db}; sizes must be equal or 1)`,
      );
    }
    out[i] = Math.max(da, db);
  }
  return out;
}

/** Normalises an axis that may be negative (−1 is the last axis); throws when out of range. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new Error(`${op}: axis must be an integer in [${-rank}, ${rank - 1}] for a ${rank}-D tensor; got ${axis}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalised, sorted, de-duplicated axes; `undefined` means every axis. */
export function normalizeAxes(op: string, axis: number | readonly number[] | undefined, rank: number): number[] {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : [...axis];
  const axes = list.map((a) => normalizeAxis(op, a, rank));
  if (new Set(axes).size !== axes.length) throw new Error(`${op}: axis lists an axis twice: ${shown(axis)}`);
  return axes.sort((p, q) => p - q);
}
