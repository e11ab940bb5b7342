/**
 * Creating tensors: from values, filled with a constant, or drawn from a seeded random stream.
 *
 *   g.tensor([[1, 2], [3, 4]])                  // shape [2, 2] inferred from nesting
 *   g.tensor([1, 2, 3, 4], { shape: [2, 2] })    // or given
 *   g.zeros([2, 3]); g.full([2], 0.5, { dtype: 'float64' })
 *   g.randn([3, 3], { seed: 1 })                 // the same numbers every run
 */
import { allocate, checkDType, toTyped, type DType, type TypedArray } from './dtype.js';
import { checkShape, shapeToString, sizeOf, type Shape } from './shape.js';
import { randomStream } from './random.js';
import { Tensor } from './tensor.js';
import type { BackendName } from './backends/backend.js';
import { currentBackend, getBackend } from './backends/index.js';
import { checkKeys } from '../util/options.js';
import { shown } from '../util/format.js';

/** Where and how a new tensor is made: dtype (default float32), requiresGrad (default false), backend (default the current one). */
export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
  backend?: BackendName;
}

const TENSOR_KEYS = ['dtype', 'requiresGrad', 'backend'] as const;

export type NestedArray = number | readonly NestedArray[];

/** Wraps a typed array the caller gives up (no copy) as a tensor. */
export function fromTyped(values: TypedArray, shape: Shape, options: TensorOptions = {}): Tensor {
  checkKeys('fromTyped', options, TENSOR_KEYS);
  const dtype = options.dtype ?? (values instanceof Float64Array ? 'float64' : 'float32');
  const backend = options.backend ?? currentBackend();
  if (values.length !== sizeOf(shape)) {
    throw new Error(`tensor: ${values.length} values cannot fill shape ${shapeToString(shape)} (${sizeOf(shape)} elements)`);
  }
  const data = (values instanceof Float64Array) === (dtype === 'float64') ? values : toTyped(values, dtype);
  return new Tensor(getBackend(backend).upload(data, dtype), shape, dtype, backend, options.requiresGrad ?? false);
}

/** A tensor from nested arrays, a flat array with `shape`, or a typed array. */
export function tensor(values: NestedArray | ArrayLike<number>, options: TensorOptions & { shape?: Shape } = {}): Tensor {
  checkKeys('tensor', options, [...TENSOR_KEYS, 'shape']);
  const dtype = checkDType('tensor', options.dtype ?? 'float32');
  let flat: number[] | ArrayLike<number>;
  let shape: Shape;
  if (typeof values === 'number') {
    flat = [values];
    shape = [];
  } else if (ArrayBuffer.isView(values) || !Array.isArray(values) || values.every((v) => typeof v === 'number')) {
    flat = values as ArrayLike<number>;
    shape = [flat.length];
  } else {
    ({ flat, shape } = flattenNested(values as readonly NestedArray[]));
  }
  if (options.shape !== undefined) {
    const given = checkShape('tensor', 'shape', options.shape);
    if (sizeOf(given) !== flat.length) {
      throw new Error(`tensor: shape ${shapeToString(given)} needs ${sizeOf(given)} values; got ${flat.length}`);
    }
    shape = given;
  }
  for (let i = 0; i < flat.length; i++) {
    if (typeof flat[i] !== 'number') throw new Error(`tensor: values must be numbers; element ${i} is ${shown(flat[i])}`);
  }
  return fromTyped(toTyped(flat, dtype), shape, { dtype, requiresGrad: options.requiresGrad, backend: options.backend });
}

function flattenNested(values: readonly NestedArray[]): { flat: number[]; shape: number[] } {
  const shape: number[] = [];
  for (let level: NestedArray = values; Array.isArray(level); level = (level as readonly NestedArray[])[0]) {
    shape.push((level as readonly NestedArray[]).length);
  }
  const flat: number[] = [];
  const walk = (v: NestedArray, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (Array.isArray(v)) throw new Error(`tensor: ragged nested array at ${path}: expected a number, as the first row has; got a list`);
      if (typeof v !== 'number') throw new Error(`tensor: ${path} is not a number; got ${shown(v) ?? String(v)}`);
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new Error(`tensor: ragged nested array at ${path}: expected ${shape[depth]} elements, as the first row has`);
    }
    (v as readonly NestedArray[]).forEach((u, i) => walk(u, depth + 1, `${path}[${i}]`));
  };
  walk(values, 0, 'values');
  return { flat, shape };
}

function filled(op: string, shape: Shape, fill: (out: TypedArray) => void, options: TensorOptions, extraKeys: readonly string[] = []): Tensor {
  checkKeys(op, options, [...TENSOR_KEYS, ...extraKeys]);
  checkShape(op, 'shape', shape);
  const dtype = checkDType(op, options.dtype ?? 'float32');
  const out = allocate(dtype, sizeOf(shape), () => `${op}: shape ${shapeToString(shape)}`);
  fill(out);
  return fromTyped(out, shape, { dtype, requiresGrad: options.requiresGrad, backend: options.backend });
}

/** A tensor of zeros: `g.zeros([2, 3])`. */
export function zeros(shape: Shape, options: TensorOptions = {}): Tensor {
  return filled('zeros', shape, () => {}, options);
}

/** A tensor of ones: `g.ones([2, 3], { dtype: 'float64' })`. */
export function ones(shape: Shape, options: TensorOptions = {}): Tensor {
  return filled('ones', shape, (out) => out.fill(1), options);
}

/** A tensor filled with `value`: `g.full([2], 0.5)`. */
export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  if (typeof value !== 'number') throw new Error(`full: value must be a number; got ${shown(value)}`);
  return filled('full', shape, (out) => out.fill(value), options);
}

/** TensorOptions plus the seed every random tensor needs. */
export interface RandomOptions extends TensorOptions {
  /** Required: every random tensor comes from a seeded stream. */
  seed: number | string;
}

function checkSeed(op: string, options: RandomOptions | undefined): RandomOptions {
  if (!options || (typeof options.seed !== 'number' && typeof options.seed !== 'string')) {
    throw new Error(`${op}: options.seed is required (a number or string), so the draw can be repeated`);
  }
  return options;
}

/** Uniform in [low, high) (default [0, 1)) from a stream seeded with `seed`. */
export function rand(shape: Shape, options: RandomOptions & { low?: number; high?: number }): Tensor {
  const o = checkSeed('rand', options);
  const rng = randomStream(o.seed);
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  return filled('rand', shape, (out) => {
    for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * rng.uniform();
  }, o, ['seed', 'low', 'high']);
}

/** Normal with `mean` (default 0) and `std` (default 1) from a stream seeded with `seed`. */
export function randn(shape: Shape, options: RandomOptions & { mean?: number; std?: number }): Tensor {
  const o = checkSeed('randn', options);
  const rng = randomStream(o.seed);
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  return filled('randn', shape, (out) => {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * rng.normal();
  }, o, ['seed', 'mean', 'std']);
}

/**
 * A copy of `t` on another backend (values downloaded and uploaded), optionally in another dtype —
 * e.g. a gpu tensor for gradcheck: `g.toBackend(x, 'reference', { dtype: 'float64', requiresGrad: true })`.
 */
export function toBackend(t: Tensor, backend: BackendName, options: { requiresGrad?: boolean; dtype?: DType } = {}): Tensor {
  checkKeys('toBackend', options, ['requiresGrad', 'dtype']);
  const dtype = checkDType('toBackend', options.dtype ?? t.dtype);
  return fromTyped(toTyped(t.toArray(), dtype), t.shape, { dtype, backend, requiresGrad: options.requiresGrad ?? false });
}
