/**
 * Activation layers. ReLU, LeakyReLU and ELU hold no state; PReLU learns its negative slope and
 * FReLU (flexible ReLU, Qiu & Cai 2017 — not Megvii's 2020 "funnel activation") learns its
 * rectified point b:
 *
 *   ReLU       max(x, 0)
 *   LeakyReLU  x if x > 0, negativeSlope·x otherwise            (default slope 0.01)
 *   PReLU      x if x > 0, a·x otherwise, a learned            (init 0.25; one shared a, or one per channel)
 *   ELU        x if x > 0, alpha·(eˣ − 1) otherwise             (default alpha 1, as in the paper)
 *   FReLU      max(x, 0) + b, b learned                         (eq. 2; init −1; one b per layer, or per channel)
 *   Sigmoid    1 / (1 + e⁻ˣ)
 *   Tanh       tanh(x)
 *   Softmax    exp(x) / Σ exp(x) along an axis                  (default the last: the classes)
 */
import type { Tensor } from '../../tensor/tensor.js';
import { fromTyped } from '../../tensor/create.js';
import * as F from '../functional.js';
import { sigmoid, tanh } from '../../autograd/math.js';
import { Module, type Placement } from '../module.js';
import { checkInt, checkKeys, filled, PLACEMENT_KEYS } from './helpers.js';
import { shown } from '../../util/format.js';

/** max(x, 0), as a layer. */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return F.relu(x);
  }
}

/** 1 / (1 + e⁻ˣ), as a layer. */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** tanh(x), as a layer. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** Options of the Softmax layer. */
export interface SoftmaxOptions {
  /** The axis whose slices sum to 1 (default −1, the last: the classes of [N, C]). */
  axis?: number;
}

/**
 *   new Softmax().forward(g.tensor([[0, Math.log(3)]]))   // [[0.25, 0.75]]
 *   new Softmax({ axis: 1 })                              // over the channels of [N, C, H, W]
 */
export class Softmax extends Module {
  readonly axis: number;

  constructor(options: SoftmaxOptions = {}) {
    super();
    checkKeys('Softmax', options, ['axis']);
    this.axis = options.axis ?? -1;
    if (!Number.isInteger(this.axis)) throw new Error(`Softmax: axis must be an integer; got ${shown(options.axis)}`);
  }

  forward(x: Tensor): Tensor {
    return F.softmax(x, { axis: this.axis });
  }

  protected override extraRepr(): string {
    return `axis=${this.axis}`;
  }
}

/** x for x > 0, negativeSlope·x otherwise (default slope 0.01), as a layer. */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
    if (!Number.isFinite(negativeSlope)) throw new Error(`LeakyReLU: negativeSlope must be a finite number; got ${String(negativeSlope)}`);
  }

  forward(x: Tensor): Tensor {
    return F.leakyRelu(x, { negativeSlope: this.negativeSlope });
  }

  protected override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

/** x for x > 0, alpha·(eˣ − 1) otherwise (default alpha 1), as a layer. */
export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
    if (!Number.isFinite(alpha)) throw new Error(`ELU: alpha must be a finite number; got ${String(alpha)}`);
  }

  forward(x: Tensor): Tensor {
    return F.elu(x, { alpha: this.alpha });
  }

  protected override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

export interface PReLUOptions extends Placement {
  /** The slope's initial value (default 0.25, He et al. 2015 and the paper's baseline). */
  init?: number;
}

/**
 * PReLU with `numSlopes` slopes (PyTorch's num_parameters): 1 (default) shares one slope over the
 * whole layer — weight [1]; the number of channels gives one slope per channel — weight [C].
 *
 *   new PReLU().numParameters()     // 1
 *   new PReLU(64).numParameters()   // 64
 */
export class PReLU extends Module {
  readonly weight: Tensor;

  constructor(readonly numSlopes = 1, options: PReLUOptions = {}) {
    super();
    checkKeys('PReLU', options, [...PLACEMENT_KEYS, 'init']);
    checkInt('PReLU', 'numSlopes', numSlopes, 1);
    const init = options.init ?? 0.25;
    if (!Number.isFinite(init)) throw new Error(`PReLU: init must be a finite number; got ${String(init)}`);
    this.weight = this.registerParameter('weight', filled([numSlopes], init, options));
  }

  forward(x: Tensor): Tensor {
    return F.prelu(x, this.weight);
  }

  protected override extraRepr(): string {
    return `numSlopes=${this.numSlopes}`;
  }
}

export interface FReLUOptions extends Placement {
  /** b's initial value (default −1, the paper's choice throughout). */
  init?: number;
  /** Give a channel count for one b per channel (b [C]); by default one scalar b per layer (b []), as the paper. */
  perChannel?: number;
  /**
   * Post-paper (the authors' later code): b's gradient is scaled by this factor, db = s · Σ dy.
   * Default 1, the paper's eq. 3; the authors later used 0.1.
   */
  bGradScale?: number;
  /**
   * Post-paper (the authors' later code): after each optimizer step, a b that became positive
   * returns to its value before the step (`rememberB()` before the step, `keepBNonPositive()`
   * after it; `gradlab train` calls both). Default false, the paper.
   */
  bKeepNonPositive?: boolean;
}

/**
 * FReLU, eq. (2): y = max(x, 0) + b. The paper's form has one scalar b for the whole layer
 * (shape []), initialised to −1; its gradient is the sum of dL/dy over every element (eq. 3).
 *
 *   const act = new FReLU();                 // b = −1, one parameter
 *   act.forward(g.tensor([-2, 0.5]))         // [-1, -0.5]
 *   new FReLU({ perChannel: 64 })            // b [64], an option the authors advise against
 *   new FReLU({ bGradScale: 0.1, bKeepNonPositive: true })   // the authors' later rules (post-paper)
 */
export class FReLU extends Module {
  readonly b: Tensor;
  readonly bGradScale: number;
  readonly bKeepNonPositive: boolean;
  /** b's values before the current optimizer step (bKeepNonPositive only). */
  private bBefore: Float64Array | null = null;

  constructor(options: FReLUOptions = {}) {
    super();
    checkKeys('FReLU', options, [...PLACEMENT_KEYS, 'init', 'perChannel', 'bGradScale', 'bKeepNonPositive']);
    const init = options.init ?? -1;
    if (!Number.isFinite(init)) throw new Error(`FReLU: init must be a finite number; got ${String(init)}`);
    const bGradScale = options.bGradScale ?? 1;
    if (typeof bGradScale !== 'number' || !Number.isFinite(bGradScale) || bGradScale < 0) {
      throw new Error(`FReLU: bGradScale must be a finite number ≥ 0 (1 = the paper); got ${String(bGradScale)}`);
    }
    const keep = options.bKeepNonPositive ?? false;
    if (typeof keep !== 'boolean') throw new Error(`FReLU: bKeepNonPositive must be true or false; got ${shown(keep)}`);
    this.bGradScale = bGradScale;
    this.bKeepNonPositive = keep;
    const shape = options.perChannel === undefined ? [] : [checkInt('FReLU', 'perChannel', options.perChannel, 1)];
    this.b = this.registerParameter('b', filled(shape, init, options));
  }

  forward(x: Tensor): Tensor {
    return F.frelu(x, this.b, { bGradScale: this.bGradScale });
  }

  /** Before an optimizer step: remembers b (a no-op unless bKeepNonPositive). */
  rememberB(): void {
    this.bBefore = this.bKeepNonPositive ? Float64Array.from(this.b.toArray()) : null;
  }

  /**
   * After an optimizer step: every element of b that became positive returns to its value before
   * the step (the authors' later rule; a no-op unless bKeepNonPositive). Returns how many were reset.
   */
  keepBNonPositive(): number {
    const before = this.bBefore;
    this.bBefore = null;
    if (before === null) return 0;
    const now = this.b.toArray();
    let reset = 0;
    const next = Float64Array.from(now, (v, i) => {
      if (v > 0) {
        reset++;
        return before[i];
      }
      return v;
    });
    if (reset > 0) this.b.assign(fromTyped(next, this.b.shape, { dtype: this.b.dtype, backend: this.b.backend }));
    return reset;
  }

  protected override extraRepr(): string {
    const where = this.b.rank === 0 ? 'b: one per layer' : `b: one per channel (${this.b.size})`;
    const post = [this.bGradScale !== 1 ? `bGradScale=${this.bGradScale}` : '', this.bKeepNonPositive ? 'bKeepNonPositive' : ''].filter((s) => s !== '');
    return post.length === 0 ? where : `${where}, post-paper: ${post.join(', ')}`;
  }
}
