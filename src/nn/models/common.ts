/**
 * What SmallNet and the ResNets share: the activation choice and the authors' initialisation.
 */
import type { RandomStream } from '../../tensor/random.js';
import * as init from '../init.js';
import { Module, type Placement } from '../module.js';
import { Conv2d, Linear } from '../layers/linear.js';
import { ELU, FReLU, LeakyReLU, PReLU, ReLU } from '../layers/activations.js';
import { shown } from '../../util/format.js';

/** The activations the paper compares (Tables 1 and 2), plus leaky ReLU. */
export type Activation = 'relu' | 'leakyRelu' | 'prelu' | 'elu' | 'frelu';

/** The activations a model can use. */
export const ACTIVATIONS: readonly Activation[] = ['relu', 'leakyRelu', 'prelu', 'elu', 'frelu'];

/** Settings of the activation layers; the defaults are the paper's. */
export interface ActivationOptions {
  /** LeakyReLU's slope (default 0.01; the paper runs no leaky-ReLU model). */
  negativeSlope?: number;
  /** ELU's α (default 1, as the paper). */
  alpha?: number;
  /** PReLU's initial slope (default 0.25) or FReLU's initial b (default −1), as the paper. */
  init?: number;
  /**
   * One PReLU slope / FReLU b per channel instead of one per layer. Default false: the paper uses
   * one shared PReLU slope and one b per FReLU layer (the authors advise against per-channel b).
   */
  perChannel?: boolean;
  /** FReLU, post-paper (the authors' later code): b's gradient × this factor (default 1, the paper). */
  bGradScale?: number;
  /** FReLU, post-paper (the authors' later code): a b that turns positive in a step returns to its previous value (default false). */
  bKeepNonPositive?: boolean;
}

/** The keys of ActivationOptions (models reject any other). */
export const ACTIVATION_OPTION_KEYS = ['negativeSlope', 'alpha', 'init', 'perChannel', 'bGradScale', 'bKeepNonPositive'] as const;

export function checkActivation(model: string, activation: unknown): Activation {
  if (!ACTIVATIONS.includes(activation as Activation)) {
    throw new Error(`${model}: activation must be one of ${ACTIVATIONS.map((a) => `'${a}'`).join(', ')}; got ${shown(activation)}`);
  }
  return activation as Activation;
}

/** A new activation layer of kind `kind` following a layer with `channels` outputs. */
export function makeActivation(kind: Activation, channels: number, options: ActivationOptions, placement: Placement): Module {
  switch (kind) {
    case 'relu':
      return new ReLU();
    case 'leakyRelu':
      return new LeakyReLU(options.negativeSlope ?? 0.01);
    case 'elu':
      return new ELU(options.alpha ?? 1);
    case 'prelu':
      return new PReLU(options.perChannel ? channels : 1, { init: options.init ?? 0.25, ...placement });
    case 'frelu':
      return new FReLU({
        init: options.init ?? -1,
        perChannel: options.perChannel ? channels : undefined,
        bGradScale: options.bGradScale,
        bKeepNonPositive: options.bKeepNonPositive,
        ...placement,
      });
  }
}

/**
 * The initialisation of fb.resnet.torch and of the authors' model files (kyuusaku/frelu.torch),
 * applied to every layer of `model`, in module order, drawing from `rng`:
 *
 *   Conv2d   weight ~ N(0, 2 / (KH·KW·outChannels))  — MSRA on the fan-out, the paper's eq. (5);
 *            bias (if any) 0 (the paper's convs have none)
 *   Linear   weight keeps Torch's default U(±1/√fanIn), drawn when the layer was built; bias 0.
 *            The Lua code zeroes the bias of *every* nn.Linear, so SmallNet's hidden
 *            Linear(2048→512) gets the same treatment as the final layer.
 *   BN       γ = 1, β = 0 — already the layers' initial values.
 */
export function initLikeTheAuthors(model: Module, rng: RandomStream): void {
  for (const [, m] of model.namedModules()) {
    if (m instanceof Conv2d) {
      init.kaimingNormal(m.weight, { mode: 'fanOut', seed: rng });
      if (m.bias !== null) init.constant(m.bias, 0);
    } else if (m instanceof Linear) {
      if (m.bias !== null) init.constant(m.bias, 0);
    }
  }
}

/** Throws unless `seed` is a number or a string. */
export function checkSeed(model: string, seed: unknown): number | string {
  if (typeof seed !== 'number' && typeof seed !== 'string') throw new Error(`${model}: seed must be a number or a string; got ${shown(seed)}`);
  return seed;
}
