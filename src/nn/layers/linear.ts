/**
 * The layers with weights: Linear (fully connected) and Conv2d.
 *
 * Both start from PyTorch's (and Torch7's) generic default, weight and bias drawn from
 * U(−1/√fanIn, 1/√fanIn) — fanIn = in for Linear, C·KH·KW for Conv2d. Models re-initialise what
 * their paper prescribes (src/nn/models/common.ts: MSRA fan-out for convs, zero Linear biases).
 */
import type { Tensor } from '../../tensor/tensor.js';
import * as F from '../functional.js';
import * as init from '../init.js';
import type { Seed } from '../init.js';
import { Module, type Placement } from '../module.js';
import { checkInt, checkKeys, filled, PLACEMENT_KEYS, streamFor } from './helpers.js';

export interface LinearOptions extends Placement {
  /** Learn a bias b [out] (default true). */
  bias?: boolean;
  /** Seeds the default init; without one, draws from the shared default stream. */
  seed?: Seed;
}

/**
 * y = x @ wᵀ + b, with w [outFeatures, inFeatures] (PyTorch's layout) and b [outFeatures].
 *
 *   const fc = new Linear(2048, 512);   // 2048·512 + 512 = 1,049,088 parameters
 *   fc.forward(x [N, 2048])              // → [N, 512]
 */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super();
    checkKeys('Linear', options, [...PLACEMENT_KEYS, 'bias', 'seed']);
    checkInt('Linear', 'inFeatures', inFeatures, 1);
    checkInt('Linear', 'outFeatures', outFeatures, 1);
    const rng = streamFor('Linear', options.seed);
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.registerParameter('weight', filled([outFeatures, inFeatures], 0, options));
    init.uniform(this.weight, { low: -bound, high: bound, seed: rng });
    this.bias = null;
    if (options.bias ?? true) {
      this.bias = this.registerParameter('bias', filled([outFeatures], 0, options));
      init.uniform(this.bias, { low: -bound, high: bound, seed: rng });
    }
  }

  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }

  protected override extraRepr(): string {
    return `${this.inFeatures}, ${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

export interface Conv2dOptions extends Placement {
  /** Step of the window (default 1). */
  stride?: F.Size2;
  /** Zeros added on each side (default 0; 1 keeps a 3×3 convolution's size). */
  padding?: F.Size2;
  /** Learn a bias b [outChannels] (default true; the paper's networks use none). */
  bias?: boolean;
  /** Seeds the default init; without one, draws from the shared default stream. */
  seed?: Seed;
}

/**
 * 2-D convolution, NCHW: weight [outChannels, inChannels, KH, KW], optional bias [outChannels].
 *
 *   const conv = new Conv2d(3, 16, 3, { padding: 1, bias: false });   // 16·3·3·3 = 432 parameters
 *   conv.forward(x [N, 3, 32, 32])                                     // → [N, 16, 32, 32]
 */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: readonly [number, number];
  readonly stride: F.Size2;
  readonly padding: F.Size2;

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: F.Size2, options: Conv2dOptions = {}) {
    super();
    checkKeys('Conv2d', options, [...PLACEMENT_KEYS, 'stride', 'padding', 'bias', 'seed']);
    checkInt('Conv2d', 'inChannels', inChannels, 1);
    checkInt('Conv2d', 'outChannels', outChannels, 1);
    const [KH, KW] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    checkInt('Conv2d', 'kernelSize', KH, 1);
    checkInt('Conv2d', 'kernelSize', KW, 1);
    this.kernelSize = [KH, KW];
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    const rng = streamFor('Conv2d', options.seed);
    const bound = 1 / Math.sqrt(inChannels * KH * KW);
    this.weight = this.registerParameter('weight', filled([outChannels, inChannels, KH, KW], 0, options));
    init.uniform(this.weight, { low: -bound, high: bound, seed: rng });
    this.bias = null;
    if (options.bias ?? true) {
      this.bias = this.registerParameter('bias', filled([outChannels], 0, options));
      init.uniform(this.bias, { low: -bound, high: bound, seed: rng });
    }
  }

  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }

  protected override extraRepr(): string {
    const [KH, KW] = this.kernelSize;
    const show = (v: F.Size2) => (typeof v === 'number' ? String(v) : `[${v.join(', ')}]`);
    return `${this.inChannels}, ${this.outChannels}, kernelSize=${KH === KW ? KH : `[${KH}, ${KW}]`}, stride=${show(this.stride)}, padding=${show(this.padding)}, bias=${this.bias !== null}`;
  }
}
