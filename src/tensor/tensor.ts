/**
 * The Tensor: an n-dimensional array of float32 or float64 numbers, stored flat and row-major on a
 * backend ('reference' or 'gpu'), plus what autograd needs (requiresGrad, grad, and the graph node
 * that produced it).
 *
 * A Tensor's values never change after it is made — except through `assign`, which the optimiser
 * uses to update parameters in place outside the graph (like PyTorch's `with torch.no_grad(): p -= …`).
 * Each `assign` counts up the tensor's `version` (PyTorch's version counter): an op that saved the
 * tensor for its backward remembers the version it saw, and `backward()` refuses to use a tensor
 * changed since, naming the op and the tensor, instead of computing with the new values.
 */
import type { DType, TypedArray } from './dtype.js';
import { shapeToString, sizeOf, type Shape } from './shape.js';
import type { BackendName, Storage } from './backends/backend.js';
import { getBackend } from './backends/index.js';
import type { GraphNode } from '../autograd/graph.js';
// The methods below are conveniences that forward to the free functions of src/autograd. That
// import is circular on purpose (autograd builds on Tensor); it is only used at call time.
import * as math from '../autograd/math.js';
import type { ClampOptions, ReduceArg } from '../autograd/math.js';
import { backward, type BackwardOptions } from '../autograd/engine.js';

export type TensorLike = Tensor | number;

let nextId = 0;

export class Tensor {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly backend: BackendName;
  /** Whether gradients flow to this tensor; leaves you create with `requiresGrad: true` get `.grad`. */
  requiresGrad: boolean;
  /** The op application that produced this tensor; null for leaves (created, not computed). */
  readonly node: GraphNode | null;
  /** A stable id, handy in error messages and for the graph's bookkeeping. */
  readonly id = nextId++;
  #data: Storage | null;
  #grad: Tensor | null = null;
  #version = 0;
  #retainsGrad = false;

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

  /**
   * The accumulated gradient after `backward()`, null before: on leaves that require grad, and on
   * computed tensors that asked for it with `retainGrad()` (others warn once when read, as PyTorch does).
   */
  get grad(): Tensor | null {
    if (this.node !== null && !this.#retainsGrad && this.#grad === null) warnNonLeafGrad(this.node.op.name);
    return this.#grad;
  }
  set grad(g: Tensor | null) {
    this.#grad = g;
  }

  /** How many times `assign` has changed this tensor's values in place (PyTorch's `_version`). */
  get version(): number {
    return this.#version;
  }

  /** Whether `backward()` keeps this computed tensor's gradient in `.grad` (see retainGrad). */
  get retainsGrad(): boolean {
    return this.#retainsGrad || this.node === null;
  }

  /**
   * Asks `backward()` to keep this tensor's gradient in `.grad` although it is computed, not a leaf
   * (PyTorch's `retain_grad()`); a no-op on leaves, which keep theirs anyway. Returns the tensor.
   *
   *   const h = g.mul(x, 2).retainGrad();  g.sum(h).backward();  h.grad   // ones
   */
  retainGrad(): this {
    if (!this.requiresGrad) throw new Error(`retainGrad: tensor #${this.id} ${shapeToString(this.shape)} does not require grad, so backward() never reaches it`);
    this.#retainsGrad = true;
    return this;
  }

  /** The name of the op that made this tensor (PyTorch's grad_fn), null for a leaf. */
  get gradFn(): string | null {
    return this.node === null ? null : this.node.op.name;
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
    this.#version++;
    const old = this.#data;
    this.#data = source.storage;
    source.#data = null;
    if (old !== null && old !== this.#data) getBackend(this.backend).dispose(old);
    keepFromScopes(this);
  }

  /** A short description: shape, dtype, backend, the op that made it (gradFn) or requiresGrad, and the first values. */
  toString(): string {
    const values = this.isDisposed ? 'disposed' : Array.from(this.toArray().subarray(0, 8)).map((v) => +v.toPrecision(5)).join(', ');
    const grad = this.node !== null ? `, gradFn: ${this.node.op.name}` : this.requiresGrad ? ', requiresGrad' : '';
    return `Tensor(${shapeToString(this.shape)}, ${this.dtype}, ${this.backend}${grad}) [${values}${this.size > 8 ? ', …' : ''}]`;
  }

  /**
   * Internal (customGrad): a new tensor made by `node` that takes over `source`'s storage, which
   * `source` gives up (as with assign).
   */
  static adopt(source: Tensor, node: GraphNode): Tensor {
    const t = new Tensor(source.storage, source.shape, source.dtype, source.backend, true, node);
    source.#data = null;
    return t;
  }

  // ── conveniences: the common free functions as methods ──
  /** Backpropagates from this tensor (see g.backward): a scalar needs no seed. */
  backward(seed?: Tensor, options?: BackwardOptions): void {
    backward(this, seed, options);
  }
  /** this + other, broadcasting (g.add). */
  add(other: TensorLike): Tensor { return math.add(this, other); }
  /** this − other, broadcasting (g.sub). */
  sub(other: TensorLike): Tensor { return math.sub(this, other); }
  /** this · other elementwise, broadcasting (g.mul). */
  mul(other: TensorLike): Tensor { return math.mul(this, other); }
  /** this / other elementwise, broadcasting (g.div). */
  div(other: TensorLike): Tensor { return math.div(this, other); }
  /** −this (g.neg). */
  neg(): Tensor { return math.neg(this); }
  /** eˣ elementwise (g.exp). */
  exp(): Tensor { return math.exp(this); }
  /** The natural logarithm elementwise (g.log). */
  log(): Tensor { return math.log(this); }
  /** √x elementwise (g.sqrt). */
  sqrt(): Tensor { return math.sqrt(this); }
  /** xᵖ elementwise for a number p (g.pow). */
  pow(exponent: number): Tensor { return math.pow(this, exponent); }
  /** The matrix product this @ other (g.matmul). */
  matmul(other: Tensor): Tensor { return math.matmul(this, other); }
  /** Σ over axes: x.sum(), x.sum(1), x.sum({ axis: 1, keepDims: true }) (g.sum). */
  sum(options?: ReduceArg): Tensor { return math.sum(this, options); }
  /** The mean over axes (g.mean). */
  mean(options?: ReduceArg): Tensor { return math.mean(this, options); }
  /** The maximum over axes (g.max). */
  max(options?: ReduceArg): Tensor { return math.max(this, options); }
  /** The minimum over axes (g.min). */
  min(options?: ReduceArg): Tensor { return math.min(this, options); }
  /** The position of the maximum along an axis, or the flat index (g.argmax); no gradient. */
  argmax(options?: number | { axis?: number; keepDims?: boolean }): Tensor { return math.argmax(this, options); }
  /** 1 / (1 + e⁻ˣ) elementwise (g.sigmoid). */
  sigmoid(): Tensor { return math.sigmoid(this); }
  /** tanh elementwise (g.tanh). */
  tanh(): Tensor { return math.tanh(this); }
  /** |x| elementwise (g.abs). */
  abs(): Tensor { return math.abs(this); }
  /** x limited to [min, max] (g.clamp). */
  clamp(options: ClampOptions): Tensor { return math.clamp(this, options); }
  /** The same values in a new shape; one axis may be −1 (g.reshape). */
  reshape(shape: Shape): Tensor { return math.reshape(this, shape); }
  /** Swaps two axes, by default the last two (g.transpose). */
  transpose(axis0?: number, axis1?: number): Tensor { return math.transpose(this, axis0, axis1); }
  /** Reorders the axes (g.permute). */
  permute(axes: readonly number[]): Tensor { return math.permute(this, axes); }
  /** Collapses the axes from startAxis on into one (g.flatten). */
  flatten(startAxis?: number): Tensor { return math.flatten(this, startAxis); }
  /** A copy cut from the graph, not requiring grad (g.detach). */
  detach(): Tensor { return math.detach(this); }
}

let warnedNonLeafGrad = false;

/** Internal (tests): lets the next read of a non-leaf's .grad warn again. */
export function resetNonLeafGradWarning(): void {
  warnedNonLeafGrad = false;
}

/** Reading `.grad` of a computed tensor that did not call retainGrad(): warn once per process, as PyTorch does. */
function warnNonLeafGrad(op: string): void {
  if (warnedNonLeafGrad) return;
  warnedNonLeafGrad = true;
  console.warn(
    `gradlab: reading .grad of a tensor computed by '${op}' (not a leaf): it stays null, because backward() keeps ` +
      'gradients only on leaves. Call t.retainGrad() before backward() to keep it.',
  );
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
