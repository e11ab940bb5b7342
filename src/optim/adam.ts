/**
 * Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), with PyTorch's update rules. For
 * each parameter θ with gradient g, step t = 1, 2, …:
 *
 *   g ← g + wd·θ                              Adam only: weight decay as an L2 term in the gradient
 *   θ ← θ − lr·wd·θ                           AdamW only: decoupled weight decay, before the update
 *   m ← β₁·m + (1 − β₁)·g                     first moment (m, v start at 0)
 *   v ← β₂·v + (1 − β₂)·g²                    second moment
 *   m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)     bias corrections
 *   θ ← θ − lr · m̂ / (√v̂ + eps)
 *
 * Defaults as PyTorch: lr 1e-3, betas [0.9, 0.999], eps 1e-8; weightDecay 0 (Adam), 0.01 (AdamW).
 *
 *   const opt = new g.optim.Adam(model.parameters(), { lr: 1e-3 });
 *   opt.zeroGrad(); loss.backward(); opt.step();
 *
 * Like SGD, the update runs as ordinary ops under noGrad and writes each parameter with `assign`,
 * so it works on both backends; the moment buffers are kept out of every `tidy` scope. Each line
 * of the form a + s·b (s a number) is one op, add with alpha s (src/autograd/ops/add.ts), which
 * gives the same float32 values as add(a, mul(b, s)) without a full-size copy of s; the lines
 * with two tensors' product or quotient keep mul and div.
 */
import { Tensor, keep, tidy } from '../tensor/tensor.js';
import { fromTyped } from '../tensor/create.js';
import type { TypedArray } from '../tensor/dtype.js';
import { shapeToString } from '../tensor/shape.js';
import { noGrad } from '../autograd/grad-mode.js';
import { add, div, mul, sqrt } from '../autograd/math.js';
import { add as addOp } from '../autograd/ops/add.js';
import { checkKeys } from '../util/options.js';
import { checkedParams, numberChecker, type ParameterList } from './sgd.js';
import { shown } from '../util/format.js';

/** Options of Adam and AdamW; all have PyTorch's defaults. */
export interface AdamOptions {
  /** Learning rate (default 1e-3; a scheduler may change `optimizer.lr`). */
  lr?: number;
  /** [β₁, β₂], the decay rates of the moment averages (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to √v̂ in the denominator (default 1e-8). */
  eps?: number;
  /** Adam: an L2 term added to the gradient (default 0). AdamW: the decoupled decay rate (default 0.01). */
  weightDecay?: number;
}

/** What `stateDict()` returns: everything a resumed run needs to continue exactly. */
export interface AdamState {
  step: number;
  lr: number;
  /** m and v per parameter, in parameter order (null before its first step). */
  firstMoments: (TypedArray | null)[];
  secondMoments: (TypedArray | null)[];
}

/** Adam with PyTorch's update rule (see the module comment); AdamW decouples the weight decay. */
export class Adam {
  lr: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  readonly params: readonly Tensor[];
  readonly names: readonly string[];
  /** Whether weight decay is decoupled from the gradient (AdamW). */
  readonly decoupled: boolean;
  #m: (Tensor | null)[];
  #v: (Tensor | null)[];
  #step = 0;

  constructor(params: ParameterList, options: AdamOptions = {}) {
    const op = new.target.name;
    this.decoupled = op === 'AdamW';
    checkKeys(op, options, ['lr', 'betas', 'eps', 'weightDecay']);
    const named = checkedParams(op, params);
    const check = numberChecker(op);
    this.lr = check('lr', options.lr ?? 1e-3, (v) => v >= 0, 'a number ≥ 0');
    const betas = options.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) throw new Error(`${op}: betas must be a pair [β₁, β₂]; got ${shown(betas)}`);
    this.betas = [
      check('betas[0]', betas[0], (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
      check('betas[1]', betas[1], (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
    ];
    this.eps = check('eps', options.eps ?? 1e-8, (v) => v >= 0, 'a number ≥ 0');
    this.weightDecay = check('weightDecay', options.weightDecay ?? (this.decoupled ? 0.01 : 0), (v) => v >= 0, 'a number ≥ 0');
    this.params = named.map(([, p]) => p);
    this.names = named.map(([n]) => n);
    this.#m = this.params.map(() => null);
    this.#v = this.params.map(() => null);
  }

  /** Steps taken so far. */
  get stepCount(): number {
    return this.#step;
  }

  /** One update of every parameter that has a gradient (parameters without one are left alone). */
  step(): void {
    const t = this.#step + 1;
    const [b1, b2] = this.betas;
    const { lr, eps, weightDecay: wd, decoupled } = this;
    const c1 = 1 - b1 ** t;
    const c2 = 1 - b2 ** t;
    tidy(() =>
      noGrad(() => {
        this.params.forEach((p, i) => {
          const grad = p.grad;
          if (grad === null || grad.isDisposed) return;
          let d: Tensor = grad;
          if (wd !== 0 && !decoupled) d = addScaled(d, p, wd); // g + wd·θ
          const mOld = this.#m[i];
          const vOld = this.#v[i];
          const m = mOld === null ? mul(d, 1 - b1) : addScaled(mul(mOld, b1), d, 1 - b1); // β₁·m + (1 − β₁)·g
          const v = vOld === null ? mul(mul(d, d), 1 - b2) : addScaled(mul(vOld, b2), mul(d, d), 1 - b2); // β₂·v + (1 − β₂)·g²
          this.#m[i] = store(this.#m[i], m);
          this.#v[i] = store(this.#v[i], v);
          const mHat = div(this.#m[i]!, c1);
          const vHat = div(this.#v[i]!, c2);
          const base = decoupled && wd !== 0 ? mul(p, 1 - lr * wd) : p; // one product: θ + (−lr·wd)·θ would round differently
          p.assign(addScaled(base, div(mHat, add(sqrt(vHat), eps)), -lr)); // θ − lr·m̂/(√v̂ + eps)
        });
      }),
    );
    this.#step = t;
  }

  /** Frees every parameter's gradient (sets `.grad` to null). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Frees the moment buffers. */
  dispose(): void {
    for (const b of [...this.#m, ...this.#v]) b?.dispose();
    this.#m = this.#m.map(() => null);
    this.#v = this.#v.map(() => null);
  }

  /** The step count, learning rate and moments, as host arrays (backend-independent). */
  stateDict(): AdamState {
    return {
      step: this.#step,
      lr: this.lr,
      firstMoments: this.#m.map((b) => (b === null ? null : b.toArray())),
      secondMoments: this.#v.map((b) => (b === null ? null : b.toArray())),
    };
  }

  /** Restores what `stateDict()` returned (onto the parameters' backend). */
  loadStateDict(state: AdamState): void {
    const op = `${this.constructor.name}.loadStateDict`;
    if (state === null || typeof state !== 'object' || !Array.isArray(state.firstMoments) || !Array.isArray(state.secondMoments)) {
      throw new Error(`${op}: expected { step, lr, firstMoments, secondMoments } as returned by stateDict()`);
    }
    checkKeys(op, state, ['step', 'lr', 'firstMoments', 'secondMoments']);
    const load = (list: (TypedArray | null)[], what: string): (Tensor | null)[] => {
      if (list.length !== this.params.length) throw new Error(`${op}: the state has ${list.length} ${what}; this optimiser has ${this.params.length} parameters`);
      return list.map((values, i) => {
        if (values === null) return null;
        const p = this.params[i];
        if (values.length !== p.size) throw new Error(`${op}: ${what} ${i} ('${this.names[i]}') has ${values.length} values; the parameter ${shapeToString(p.shape)} has ${p.size}`);
        return keep(fromTyped(values.slice(), p.shape, { dtype: p.dtype, backend: p.backend }));
      });
    };
    const check = numberChecker(op);
    const step = check('state.step', state.step, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
    const lr = check('state.lr', state.lr, (v) => v >= 0, 'a number ≥ 0');
    const m = load(state.firstMoments, 'first moments');
    const v = load(state.secondMoments, 'second moments');
    this.dispose();
    this.#m = m;
    this.#v = v;
    this.#step = step;
    this.lr = lr;
  }
}

/** AdamW: Adam with decoupled weight decay (default 0.01): θ ← θ·(1 − lr·wd) before the Adam update. */
export class AdamW extends Adam {}

/** a + s·b, for a and b of one shape (the add primitive with alpha s; SGD's update lines are written the same way). */
function addScaled(a: Tensor, b: Tensor, s: number): Tensor {
  return addOp.apply({ a, b }, { alpha: s });
}

/** The new moment `next` stored in place of `old` (kept out of tidy scopes), the old one freed. */
function store(old: Tensor | null, next: Tensor): Tensor {
  if (old === null) return keep(next);
  old.assign(next);
  return old;
}
