/**
 * Dropout (inverted, as PyTorch): in training mode each element is zeroed with probability p and
 * the kept ones are scaled by 1/(1 − p); in evaluation mode x passes through unchanged.
 *
 * The layer owns a seeded random stream: every forward in training mode draws a fresh mask from it,
 * so masks differ from call to call but the whole sequence repeats from the seed. Its state goes
 * into checkpoints (`randomState()`, or `model.randomStates()` for every Dropout of a model), so a
 * resumed run draws the very masks the uninterrupted run would have.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { defaultStream, randomStream, type RandomState, type RandomStream } from '../../tensor/random.js';
import * as F from '../functional.js';
import { checkDropoutP } from '../ops/dropout.js';
import { Module } from '../module.js';
import { checkKeys } from './helpers.js';

/** Options of the Dropout layer. */
export interface DropoutOptions {
  /**
   * Seeds the layer's own mask stream (a number or string). Without one the layer takes a seed from
   * the shared default stream (reseeded by g.manualSeed), so two such layers still draw different masks.
   */
  seed?: number | string;
}

/**
 *   const drop = new Dropout(0.5, { seed: 1 });
 *   drop.forward(x)          // training: about half of x zeroed, the rest doubled
 *   drop.eval().forward(x)   // x itself
 */
export class Dropout extends Module {
  #stream: RandomStream;

  constructor(readonly p = 0.5, options: DropoutOptions = {}) {
    super();
    checkKeys('Dropout', options, ['seed']);
    checkDropoutP('Dropout', p);
    const seed = options.seed ?? defaultStream().int(2 ** 32);
    if (typeof seed !== 'number' && typeof seed !== 'string') throw new Error(`Dropout: seed must be a number or a string; got ${String(seed)}`);
    this.#stream = randomStream(seed);
  }

  forward(x: Tensor): Tensor {
    return F.dropout(x, { p: this.p, training: this.training, seed: this.#stream });
  }

  override randomState(): RandomState {
    return this.#stream.state();
  }

  override setRandomState(state: RandomState): void {
    this.#stream = randomStream('', state);
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
