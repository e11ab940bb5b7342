/**
 * Stochastic gradient descent with momentum, Nesterov momentum and weight decay — the update of
 * Torch's `optim.sgd`, which fb.resnet.torch and the FReLU paper used (PyTorch's `SGD` is the same).
 * For each parameter θ with gradient g, one step is
 *
 *   g ← g + wd·θ                        weight decay (an L2 penalty ½·wd·θ² added to the loss)
 *   v ← μ·v + (1 − dampening)·g         momentum buffer; on the first step v ← g (no dampening)
 *   g ← g + μ·v   if Nesterov           look ahead along the momentum
 *   g ← v         otherwise
 *   θ ← θ − lr·g
 *
 * With momentum 0 the middle lines vanish and this is plain SGD. The recipe's setting is
 * lr 0.1, μ 0.9, Nesterov, dampening 0, wd 1e-4 on every parameter.
 *
 *   const opt = new SGD(model.namedParameters(), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
 *   opt.zeroGrad(); loss.backward(); opt.step();
 *
 * The update runs as ordinary math ops under `noGrad` and writes into each parameter with
 * `assign`, so it works unchanged on both backends; the temporaries of a step are freed at once
 * (`tidy`), and the momentum buffers are kept out of every `tidy` scope. Each line above is one
 * op, a + s·b (the add primitive with alpha, as PyTorch's `p.add_(g, alpha=-lr)`): one pass over
 * the parameter, where add(a, mul(b, s)) would first stretch s to b's size and take three.
 * It gives the same float32 values as that longer form.
 */
import { Tensor, keep, tidy } from '../tensor/tensor.js';
import { fromTyped } from '../tensor/create.js';
import type { TypedArray } from '../tensor/dtype.js';
import { shapeToString } from '../tensor/shape.js';
import { noGrad } from '../autograd/grad-mode.js';
import { detach, mul } from '../autograd/math.js';
import { add } from '../autograd/ops/add.js';
import { checkKeys } from '../util/options.js';
import { shown } from '../util/format.js';

/**
 * What to optimise: a list of tensors (`model.parameters()`), or named tensors — [name, tensor]
 * pairs (`model.namedParameters()`), a record or a map — so that options can choose parameters by
 * name. A plain list's names are its indices ('0', '1', …).
 */
export type ParameterList =
  | readonly Tensor[]
  | readonly (readonly [string, Tensor])[]
  | Readonly<Record<string, Tensor>>
  | ReadonlyMap<string, Tensor>;

/** Options of SGD: lr is required. */
export interface SGDOptions {
  /** Learning rate (a scheduler may change `optimizer.lr` between steps). */
  lr: number;
  /** μ. Default 0 (no momentum). */
  momentum?: number;
  /** Scales the gradient's share of the momentum buffer by (1 − dampening). Default 0. */
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). Default false. */
  nesterov?: boolean;
  /** wd: L2 weight decay, applied to every parameter unless `weightDecayExclude` says otherwise. Default 0. */
  weightDecay?: number;
  /**
   * Parameters exempt from weight decay, chosen by name (e.g. batch-norm γ/β and FReLU's b).
   * The recipe decays every parameter, so the default exempts none.
   */
  weightDecayExclude?: (name: string, param: Tensor) => boolean;
}

/** What `stateDict()` returns: everything a resumed run needs to continue exactly. */
export interface SGDState {
  /** Steps taken so far. */
  step: number;
  /** The learning rate in use (schedulers set it). */
  lr: number;
  /** One momentum buffer per parameter, in parameter order (null until its first step, or without momentum). */
  momentumBuffers: (TypedArray | null)[];
}

/** Stochastic gradient descent with momentum, Nesterov momentum and weight decay (see the module comment). */
export class SGD {
  /** The learning rate the next step uses. */
  lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  /** The parameters, in order, with their names. */
  readonly params: readonly Tensor[];
  readonly names: readonly string[];
  /** Weight decay per parameter (0 where excluded). */
  readonly #decay: number[];
  #buffers: (Tensor | null)[];
  #step = 0;

  constructor(params: ParameterList, options: SGDOptions) {
    checkKeys('SGD', options, ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'weightDecayExclude']);
    const named = checkedParams('SGD', params);
    const o = options ?? ({} as SGDOptions);
    const checkNumber = numberChecker('SGD');
    this.lr = checkNumber('lr', o.lr, (v) => v >= 0, 'a number ≥ 0');
    this.momentum = checkNumber('momentum', o.momentum ?? 0, (v) => v >= 0, 'a number ≥ 0');
    this.dampening = checkNumber('dampening', o.dampening ?? 0, (v) => v >= 0 && v <= 1, 'a number in [0, 1]');
    this.weightDecay = checkNumber('weightDecay', o.weightDecay ?? 0, (v) => v >= 0, 'a number ≥ 0');
    this.nesterov = o.nesterov ?? false;
    if (typeof this.nesterov !== 'boolean') throw new Error(`SGD: nesterov must be true or false; got ${shown(o.nesterov)}`);
    if (this.nesterov && (this.momentum === 0 || this.dampening !== 0)) {
      throw new Error(`SGD: Nesterov momentum needs momentum > 0 and dampening 0; got momentum ${this.momentum}, dampening ${this.dampening}`);
    }
    this.params = named.map(([, p]) => p);
    this.names = named.map(([n]) => n);
    const exclude = o.weightDecayExclude;
    this.#decay = named.map(([n, p]) => (exclude?.(n, p) ? 0 : this.weightDecay));
    this.#buffers = this.params.map(() => null);
  }

  /** Steps taken so far. */
  get stepCount(): number {
    return this.#step;
  }

  /** The names of the parameters that get weight decay (all of them unless some were excluded). */
  get decayedNames(): string[] {
    return this.names.filter((_, i) => this.#decay[i] !== 0);
  }

  /** One update of every parameter that has a gradient (parameters without one are left alone). */
  step(): void {
    const { lr, momentum, dampening, nesterov } = this;
    tidy(() =>
      noGrad(() => {
        this.params.forEach((p, i) => {
          const grad = p.grad;
          if (grad === null || grad.isDisposed) return;
          let d = grad;
          const wd = this.#decay[i];
          if (wd !== 0) d = addScaled(d, p, wd); // g + wd·θ
          if (momentum !== 0) {
            const v = this.#buffers[i];
            if (v === null) {
              // v ← g: a copy when d is the gradient itself (zeroGrad frees that), else d's own storage
              this.#buffers[i] = keep(d === grad ? detach(d) : d);
            } else {
              v.assign(addScaled(dampening === 0 ? d : mul(d, 1 - dampening), v, momentum)); // (1 − dampening)·g + μ·v
            }
            const buffer = this.#buffers[i]!;
            d = nesterov ? addScaled(d, buffer, momentum) : buffer; // g + μ·v
          }
          p.assign(addScaled(p, d, -lr)); // θ − lr·g
        });
      }),
    );
    this.#step++;
  }

  /** Frees every parameter's gradient (sets `.grad` to null), so the next backward starts from zero. */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Frees the momentum buffers (the optimiser starts them afresh if it steps again). */
  dispose(): void {
    for (const b of this.#buffers) b?.dispose();
    this.#buffers = this.#buffers.map(() => null);
  }

  /** The step count, learning rate and momentum buffers, as host arrays (backend-independent). */
  stateDict(): SGDState {
    return {
      step: this.#step,
      lr: this.lr,
      momentumBuffers: this.#buffers.map((b) => (b === null ? null : b.toArray())),
    };
  }

  /** Restores what `stateDict()` returned (onto the parameters' backend). */
  loadStateDict(state: SGDState): void {
    if (state === null || typeof state !== 'object' || !Array.isArray(state.momentumBuffers)) {
      throw new Error('SGD.loadStateDict: expected { step, lr, momentumBuffers } as returned by stateDict()');
    }
    if (state.momentumBuffers.length !== this.params.length) {
      throw new Error(`SGD.loadStateDict: the state has ${state.momentumBuffers.length} momentum buffers; this optimiser has ${this.params.length} parameters`);
    }
    const buffers = state.momentumBuffers.map((values, i) => {
      if (values === null) return null;
      const p = this.params[i];
      if (values.length !== p.size) {
        throw new Error(`SGD.loadStateDict: momentum buffer ${i} ('${this.names[i]}') has ${values.length} values; the parameter ${shapeToString(p.shape)} has ${p.size}`);
      }
      return keep(fromTyped(values.slice(), p.shape, { dtype: p.dtype, backend: p.backend }));
    });
    for (const b of this.#buffers) b?.dispose();
    this.#buffers = buffers;
    const checkNumber = numberChecker('SGD');
    this.#step = checkNumber('state.step', state.step, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
    this.lr = checkNumber('state.lr', state.lr, (v) => v >= 0, 'a number ≥ 0');
  }
}

/** a + s·b, for a and b of one shape (the add primitive with alpha s). */
function addScaled(a: Tensor, b: Tensor, s: number): Tensor {
  return add.apply({ a, b }, { alpha: s });
}

/** The parameters as [name, tensor] pairs, each a distinct tensor that requires grad (else an error naming `op`). */
export function checkedParams(op: string, params: ParameterList): [string, Tensor][] {
  const named = namedList(op, params);
  if (named.length === 0) throw new Error(`${op}: params is empty; give it the tensors to optimise (e.g. model.parameters())`);
  const seen = new Set<Tensor>();
  for (const [name, p] of named) {
    if (!(p instanceof Tensor)) throw new Error(`${op}: parameter '${name}' must be a Tensor; got ${typeof p}`);
    if (!p.requiresGrad) throw new Error(`${op}: parameter '${name}' ${shapeToString(p.shape)} does not require grad, so it would never change`);
    if (seen.has(p)) throw new Error(`${op}: parameter '${name}' appears twice; each tensor may be listed once`);
    seen.add(p);
  }
  return named;
}

function namedList(op: string, params: ParameterList): [string, Tensor][] {
  if (Array.isArray(params)) {
    return (params as readonly (Tensor | readonly [string, Tensor])[]).map((p, i): [string, Tensor] =>
      p instanceof Tensor ? [String(i), p] : [String(p[0]), p[1]],
    );
  }
  if (params instanceof Map) return [...params.entries()];
  if (params !== null && typeof params === 'object') return Object.entries(params as Readonly<Record<string, Tensor>>);
  throw new Error(`${op}: params must be a list of tensors or a record/map of named tensors; got ${typeof params}`);
}

/** A checker of numeric options whose errors name `op`, the option, what it must be and what came. */
export function numberChecker(op: string): (name: string, value: unknown, ok: (v: number) => boolean, expected: string) => number {
  return (name, value, ok, expected) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
      throw new Error(`${op}: ${name} must be ${expected}; got ${shown(value)}`);
    }
    return value;
  };
}
