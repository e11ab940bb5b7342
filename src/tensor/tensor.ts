/**
 * The Tensor: an n-dimensional array of float32 or float64 numbers, stored flat and row-major on a
 * backend ('reference' or 'gpu'), plus what autograd needs (requiresGrad, grad, and the graph node
 * that produced it).
 *
 * A Tensor's values never change after it is made — except through `assign`, which the optimiser
 * uses to update parameters in place outside the graph (like PyTorch's `with torch.no_grad(): p -= …`).
 */
import type { DType, TypedArray } from './dtype.js';
import { shapeToString, sizeOf, type Shape } from './shape.js';
import type { BackendName, Storage } from './backends/backend.js';
import { getBackend } from './backends/index.js';
import type { GraphNode } from '../autograd/graph.js';
// The methods below are conveniences that forward to the free functions of src/autograd. That
// import is circular on purpose (autograd builds on Tensor); it is only used at call time.
import * as math from '../autograd/math.js';
import { backward, type BackwardOptions } from '../autograd/engine.js';

export type TensorLike = Tensor | number;

let nextId = 0;

export class Tensor {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly backend: BackendName;
  /** Whether gradients flow to this tensor; leaves you create with `requiresGrad: true` get `.grad`. */
  requiresGrad: boolean;
  /** The accumulated gradient of a leaf after `backward()`; null before. */
  grad: Tensor | null = null;
  /** The op application that produced this tensor; null for leaves (created, not computed). */
  readonly node: GraphNode | null;
  /** A stable id, handy in error messages and for the graph's bookkeeping. */
  readonly id = nextId++;
  #data: Storage | null;

  /** Internal: use g.tensor / g.zeros / … to create tensors. */
  constructor(data: Storage, shape: Shape, dtype: DType, backend: BackendName, requiresGrad = false, node: GraphNode | null = null) {
    this.#data = data;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.backend = backend;
    this.requiresGrad = requiresGrad;
    this.node = node;
    trackInScope(this);
  }

  get size(): number {
    return sizeOf(this.shape);
  }
  get rank(): number {
    return this.shape.length;
  }
  get isDisposed(): boolean {
    return this.#data === null;
  }

  /** The backend storage (internal: ops and backends use it). */
  get storage(): Storage {
    if (this.#data === null) throw new Error(`tensor ${shapeToString(this.shape)} (#${this.id}) was disposed; it can no longer be read or used`);
    return this.#data;
  }

  /** A flat, row-major copy of the values. */
  toArray(): TypedArray {
    return getBackend(this.backend).download(this.storage, this.size, this.dtype);
  }

  /** The values, asynchronously (for backends that compute asynchronously). */
  async data(): Promise<TypedArray> {
    return this.toArray();
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: only a one-element tensor has an item; this one has shape ${shapeToString(this.shape)} (${this.size} elements)`);
    return this.toArray()[0];
  }

  /** Frees the storage now (device memory on the gpu backend). Using the tensor afterwards is an error. */
  dispose(): void {
    if (this.#data === null) return;
    getBackend(this.backend).dispose(this.#data);
    this.#data = null;
  }

  /**
   * Replaces this tensor's values by `source`'s (same shape and dtype), taking over its storage.
   * Outside the graph: used by optimisers and `loadStateDict`. `source` must not be used afterwards.
   */
  assign(source: Tensor): void {
    if (source.backend !== this.backend || source.dtype !== this.dtype || sizeOf(source.shape) !== this.size) {
      throw new Error(
        `assign: source must match ${shapeToString(this.shape)} ${this.dtype} on '${this.backend}'; ` +
          `got ${shapeToString(source.shape)} ${source.dtype} on '${source.backend}'`,
      );
    }
    if (source === this) return;
    const old = this.#data;
    this.#data = source.storage;
    source.#data = null;
    if (old !== null && old !== this.#data) getBackend(this.backend).dispose(old);
    keepFromScopes(this);
  }

  toString(): string {
    const values = this.isDisposed ? 'disposed' : Array.from(this.toArray().subarray(0, 8)).map((v) => +v.toPrecision(5)).join(', ');
    return `Tensor(${shapeToString(this.shape)}, ${this.dtype}, ${this.backend}${this.requiresGrad ? ', requiresGrad' : ''}) [${values}${this.size > 8 ? ', …' : ''}]`;
  }

  // ── conveniences: the common free functions as methods ──
  backward(seed?: Tensor, options?: BackwardOptions): void {
    backward(this, seed, options);
  }
  add(other: TensorLike): Tensor { return math.add(this, other); }
  sub(other: TensorLike): Tensor { return math.sub(this, other); }
  mul(other: TensorLike): Tensor { return math.mul(this, other); }
  div(other: TensorLike): Tensor { return math.div(this, other); }
  neg(): Tensor { return math.neg(this); }
  exp(): Tensor { return math.exp(this); }
  log(): Tensor { return math.log(this); }
  sqrt(): Tensor { return math.sqrt(this); }
  pow(exponent: number): Tensor { return math.pow(this, exponent); }
  matmul(other: Tensor): Tensor { return math.matmul(this, other); }
  sum(options?: math.ReduceOptions): Tensor { return math.sum(this, options); }
  mean(options?: math.ReduceOptions): Tensor { return math.mean(this, options); }
  max(options?: math.ReduceOptions): Tensor { return math.max(this, options); }
  reshape(shape: Shape): Tensor { return math.reshape(this, shape); }
  transpose(axis0?: number, axis1?: number): Tensor { return math.transpose(this, axis0, axis1); }
  permute(axes: readonly number[]): Tensor { return math.permute(this, axes); }
  flatten(startAxis?: number): Tensor { return math.flatten(this, startAxis); }
  detach(): Tensor { return math.detach(this); }
}

// ── scopes: `tidy(fn)` frees every tensor made inside fn except what it returns ──

const scopes: Set<Tensor>[] = [];

function trackInScope(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Removes `t` from every open scope, so `tidy` will not free it (parameters, running statistics). */
export function keepFromScopes(t: Tensor): void {
  for (const s of scopes) s.delete(t);
}

/** Marks tensors as kept: `tidy` will not dispose them. Returns its argument. */
export function keep<T extends Tensor>(t: T): T {
  keepFromScopes(t);
  return t;
}

/**
 * Runs `fn` and disposes every tensor created inside it, except the tensors it returns (a tensor,
 * an array or an object of tensors) and tensors marked with `keep()` or stored as a leaf's `.grad`.
 * If `fn` throws, everything it created is disposed. `fn` must be synchronous.
 * On the gpu backend this is what keeps device memory flat over thousands of training steps.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose(); // a failed step must not leak its device memory either
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new Error('tidy: fn returned a Promise; tidy frees tensors when fn returns, so fn must be synchronous');
  }
  const kept = new Set<Tensor>();
  collectTensors(result, kept);
  for (const t of scope) {
    if (kept.has(t)) {
      trackInScope(t); // the enclosing scope now owns it
    } else {
      t.dispose();
    }
  }
  return result;
}

function collectTensors(value: unknown, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, into);
  else if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, into);
  }
}
