/**
 * The public math functions (g.add, g.sum, g.matmul, …). They accept numbers where a tensor is
 * expected, broadcast (NumPy rules) through the `expand` primitive, normalise axes, and then call
 * the primitive ops of ./ops — or are composites written in those primitives (mean, transpose,
 * flatten), which need no kernels and no backward of their own.
 */
import { Tensor, type TensorLike } from '../tensor/tensor.js';
import { fromTyped } from '../tensor/create.js';
import { allocate } from '../tensor/dtype.js';
import { broadcastShapes, normalizeAxes, normalizeAxis, sameShape, shapeToString, sizeOf, type Shape } from '../tensor/shape.js';
import * as P from './ops/index.js';
import { noGrad } from './grad-mode.js';
import { checkKeys } from '../util/options.js';
import { shown } from '../util/format.js';

/** A number becomes a scalar tensor on the other operand's backend and dtype. */
function asTensor(op: string, value: TensorLike, like: TensorLike): Tensor {
  if (value instanceof Tensor) return value;
  if (typeof value !== 'number') throw new Error(`${op}: expected a Tensor or a number; got ${typeof value}`);
  if (!(like instanceof Tensor)) throw new Error(`${op}: at least one argument must be a Tensor`);
  const v = allocate(like.dtype, 1);
  v[0] = value;
  return fromTyped(v, [], { dtype: like.dtype, backend: like.backend });
}

/** `x` broadcast to `shape` (a copy when the shape changes). Backward: sum over the broadcast axes. */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  return sameShape(x.shape, shape) ? x : P.expand.apply({ x }, { shape });
}

function binary(op: 'add' | 'sub' | 'mul' | 'div', a: TensorLike, b: TensorLike): Tensor {
  const ta = asTensor(op, a, b);
  const tb = asTensor(op, b, a);
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  return P[op].apply({ a: broadcastTo(ta, shape), b: broadcastTo(tb, shape) });
}

/** a + b, broadcasting. `g.add(x, 1)`, `g.add(a [3,1], b [1,4])` → [3, 4]. */
export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', a, b);
/** a − b, broadcasting. */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b);
/** a · b elementwise, broadcasting. */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('mul', a, b);
/** a / b elementwise, broadcasting. */
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('div', a, b);

/** −x elementwise. */
export const neg = (x: Tensor): Tensor => P.neg.apply({ x });
/** eˣ elementwise. */
export const exp = (x: Tensor): Tensor => P.exp.apply({ x });
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => P.log.apply({ x });
/** √x elementwise. */
export const sqrt = (x: Tensor): Tensor => P.sqrt.apply({ x });
/** x ** exponent, for a number exponent. */
export const pow = (x: Tensor, exponent: number): Tensor => P.pow.apply({ x }, { exponent });

/**
 * Matrix product. 2-D: [M, K] @ [K, N] → [M, N]. Batched: [..., M, K] @ [..., K, N] with the
 * batch axes broadcast (NumPy's matmul rule).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new Error('matmul: a and b must be Tensors');
  if (a.rank < 2 || b.rank < 2) {
    throw new Error(`matmul: a and b must be at least 2-D (matrices or batches of matrices); got ${shapeToString(a.shape)} and ${shapeToString(b.shape)}`);
  }
  if (a.rank === 2 && b.rank === 2) return P.matmul.apply({ a, b });
  const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const [M, K] = a.shape.slice(-2);
  const [K2, N] = b.shape.slice(-2);
  const B = sizeOf(batch);
  const a3 = reshape(broadcastTo(a, [...batch, M, K]), [B, M, K]);
  const b3 = reshape(broadcastTo(b, [...batch, K2, N]), [B, K2, N]);
  return reshape(P.matmul.apply({ a: a3, b: b3 }), [...batch, M, N]);
}

/** Options of the reductions (sum, mean, max, min, argmax): which axes, and whether to keep them. */
export interface ReduceOptions {
  /** The axis or axes to reduce (negative counts from the end); all axes when omitted. */
  axis?: number | readonly number[];
  /** Keep reduced axes as size 1 (so the result broadcasts against the input). Default false. */
  keepDims?: boolean;
}

/**
 * How the reductions take their axes: an options object, or — as in PyTorch's `x.sum(1)` — a bare
 * axis (or list of axes). `g.sum(x, 1)` is `g.sum(x, { axis: 1 })`.
 */
export type ReduceArg = ReduceOptions | number | readonly number[];

const REDUCE_KEYS = ['axis', 'keepDims'] as const;

function isAxisList(arg: unknown): arg is readonly number[] {
  return Array.isArray(arg);
}

/** The options a reduction was given, checked: unknown keys (PyTorch's `dim`, `keepdim`) are errors. */
export function reduceOptions(op: string, arg: ReduceArg | undefined): ReduceOptions {
  if (typeof arg === 'number' || isAxisList(arg)) return { axis: arg };
  checkKeys(op, arg, REDUCE_KEYS);
  const o: ReduceOptions = arg ?? {};
  if (o.keepDims !== undefined && typeof o.keepDims !== 'boolean') throw new Error(`${op}: keepDims must be true or false; got ${shown(o.keepDims)}`);
  return o;
}

/**
 * Σ over axes. `g.sum(x)` is a scalar; `g.sum(x, 1)` or `g.sum(x, { axis: 1 })` sums each row;
 * `g.sum(x, { axis: 1, keepDims: true })` keeps [N, 1].
 */
export function sum(x: Tensor, options?: ReduceArg): Tensor {
  const o = reduceOptions('sum', options);
  const axes = normalizeAxes('sum', o.axis, x.rank);
  return P.sum.apply({ x }, { axes, keepDims: o.keepDims ?? false });
}

/** The mean over axes (`g.mean(x, 0)`, `g.mean(x, { axis: 0 })`): the sum divided by the number of elements reduced. */
export function mean(x: Tensor, options?: ReduceArg): Tensor {
  const o = reduceOptions('mean', options);
  const axes = normalizeAxes('mean', o.axis, x.rank);
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  return mul(sum(x, o), 1 / count);
}

/** The maximum over axes. Ties: the gradient goes to the first maximal element (lowest index). */
export function max(x: Tensor, options?: ReduceArg): Tensor {
  const o = reduceOptions('max', options);
  const axes = normalizeAxes('max', o.axis, x.rank);
  return P.max.apply({ x }, { axes, keepDims: o.keepDims ?? false });
}

/** The minimum over axes (`g.min(x, 1)`). Ties: the gradient goes to the first minimal element. */
export function min(x: Tensor, options?: ReduceArg): Tensor {
  const o = reduceOptions('min', options);
  const axes = normalizeAxes('min', o.axis, x.rank);
  return P.min.apply({ x }, { axes, keepDims: o.keepDims ?? false });
}

/**
 * The position of the maximum along one axis (`g.argmax(x, { axis: 1 })`, `g.argmax(x, 1)`), or
 * the flat index of the maximum of the whole tensor (no axis). Values of x's dtype; no gradient.
 *
 *   g.argmax(g.tensor([[1, 5, 2], [7, 0, 7]]), 1)   // [1, 0]  (ties: the first)
 */
export function argmax(x: Tensor, options?: number | { axis?: number; keepDims?: boolean }): Tensor {
  const o = reduceOptions('argmax', options);
  if (isAxisList(o.axis)) throw new Error(`argmax: axis must be one axis (a number); got ${shown(o.axis)}`);
  const axes = normalizeAxes('argmax', o.axis, x.rank);
  return P.argmax.apply({ x }, { axes, keepDims: o.keepDims ?? false });
}

/** Same values, new shape (one axis may be −1: inferred). Backward: reshape back. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  if (!Array.isArray(shape)) throw new Error(`reshape: shape must be an array; got ${shown(shape)}`);
  const inferred = shape.filter((d) => d === -1).length;
  if (inferred > 1) throw new Error(`reshape: at most one axis may be -1; got ${shapeToString(shape)}`);
  let target = shape;
  if (inferred === 1) {
    const known = shape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    if (known === 0 || x.size % known !== 0) {
      throw new Error(`reshape: cannot infer the -1 axis of ${shapeToString(shape)} for ${x.size} elements (from ${shapeToString(x.shape)})`);
    }
    target = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  if (sameShape(target, x.shape)) return x;
  return P.reshape.apply({ x }, { shape: target });
}

/** Reorders axes: y.shape[i] = x.shape[axes[i]]. Backward: the inverse permutation. */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  return P.permute.apply({ x }, { axes: axes.map((a) => normalizeAxis('permute', a, x.rank)) });
}

/** Swaps two axes (default the last two: the matrix transpose). */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  if (x.rank < 2) throw new Error(`transpose: x must be at least 2-D; got ${shapeToString(x.shape)}`);
  const a0 = normalizeAxis('transpose', axis0, x.rank);
  const a1 = normalizeAxis('transpose', axis1, x.rank);
  const axes = x.shape.map((_, i) => i);
  axes[a0] = a1;
  axes[a1] = a0;
  return permute(x, axes);
}

/** Collapses axes startAxis… into one: [N, C, H, W] with startAxis 1 → [N, C·H·W]. */
export function flatten(x: Tensor, startAxis = 0): Tensor {
  const start = normalizeAxis('flatten', startAxis, x.rank);
  return reshape(x, [...x.shape.slice(0, start), sizeOf(x.shape.slice(start))]);
}

/** A copy of x's values that does not require gradients and is cut from the graph. */
export function detach(x: Tensor): Tensor {
  return noGrad(() => P.reshape.apply({ x }, { shape: x.shape }));
}

// ── elementwise functions people reach for ──

/** The logistic sigmoid 1 / (1 + e⁻ˣ). `g.sigmoid(g.tensor([0]))` → [0.5]. */
export const sigmoid = (x: Tensor): Tensor => P.sigmoid.apply({ x });
/** The hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => P.tanh.apply({ x });
/** |x|; the gradient at 0 is taken as 0. */
export const abs = (x: Tensor): Tensor => P.abs.apply({ x });

/** Bounds of g.clamp; either may be absent. */
export interface ClampOptions {
  /** The lower bound (none when absent). */
  min?: number;
  /** The upper bound (none when absent). */
  max?: number;
}

/**
 * x limited to [min, max] (either bound may be absent). The gradient passes where min ≤ x ≤ max.
 *
 *   g.clamp(g.tensor([-2, 0.5, 3]), { min: 0, max: 1 })   // [0, 0.5, 1]
 */
export function clamp(x: Tensor, options: ClampOptions): Tensor {
  checkKeys('clamp', options, ['min', 'max']);
  const { min: lo = -Infinity, max: hi = Infinity } = options ?? {};
  if (lo === -Infinity && hi === Infinity) throw new Error('clamp: give min, max or both; got neither');
  if (!(typeof lo === 'number' && lo < Infinity) || !(typeof hi === 'number' && hi > -Infinity)) {
    throw new Error(`clamp: min and max must be finite numbers; got min ${shown(lo)}, max ${shown(hi)}`);
  }
  return P.clamp.apply({ x }, { min: lo, max: hi });
}

// ── joining and cutting ──

/**
 * Joins tensors along an axis (default 0); every other axis must agree.
 *
 *   g.cat([g.ones([2, 3]), g.zeros([1, 3])])               // [3, 3]
 *   g.cat([a [2, 3], b [2, 4]], { axis: 1 })               // [2, 7]
 */
export function cat(tensors: readonly Tensor[], options: { axis?: number } = {}): Tensor {
  checkKeys('cat', options, ['axis']);
  if (!Array.isArray(tensors) || tensors.length === 0 || !tensors.every((t) => t instanceof Tensor)) {
    throw new Error('cat: tensors must be a non-empty array of Tensors');
  }
  const first = tensors[0];
  if (first.rank === 0) throw new Error('cat: scalars have no axis to join along; reshape them to [1] first');
  const axis = normalizeAxis('cat', options.axis ?? 0, first.rank);
  return tensors.slice(1).reduce((a, b) => P.cat.apply({ a, b }, { axis }), first);
}

/**
 * A block of x: one [start, end) pair per axis (negative bounds count from the end; `null` or a
 * missing pair takes the whole axis). Like PyTorch's x[s0:e0, s1:e1].
 *
 *   g.slice(x [4, 5], [[1, 3], [0, -1]])   // rows 1–2, columns 0–3 → [2, 4]
 */
export function slice(x: Tensor, ranges: readonly (readonly [number, number] | null)[]): Tensor {
  if (!(x instanceof Tensor)) throw new Error('slice: x must be a Tensor');
  if (!Array.isArray(ranges) || ranges.length > x.rank) {
    throw new Error(`slice: ranges must be an array of at most ${x.rank} [start, end) pairs (one per axis of x ${shapeToString(x.shape)}); got ${shown(ranges)}`);
  }
  const full = x.shape.map((d, k): [number, number] => {
    const r = ranges[k];
    if (r === undefined || r === null) return [0, d];
    if (!Array.isArray(r) || r.length !== 2) throw new Error(`slice: range ${k} must be a [start, end) pair or null; got ${shown(r)}`);
    const at = (v: number): number => (v < 0 ? v + d : v);
    return [at(r[0]), at(r[1])];
  });
  return P.slice.apply({ x }, { ranges: full });
}
