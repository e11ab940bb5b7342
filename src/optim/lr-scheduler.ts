/**
 * Learning-rate schedules. `MultiStepLR` is the recipe's: the base rate, multiplied by γ at the
 * start of each milestone epoch. Epochs are counted from 1, as in fb.resnet.torch:
 *
 *   lr(epoch) = baseLr · γ^k,   k = the number of milestones m with m ≤ epoch
 *
 * so milestones [81, 122] with base 0.1 and γ 0.1 give 0.1 for epochs 1–80, 0.01 for 81–121 and
 * 0.001 from 122 on.
 *
 *   const sched = new MultiStepLR(opt, { milestones: [81, 122], gamma: 0.1 });  // sets opt.lr = lrAt(1)
 *   for (let epoch = 1; epoch <= 164; epoch++) { trainOneEpoch(); sched.step(); }
 */
import { checkKeys } from '../util/options.js';
import { shown } from '../util/format.js';

/** Anything with a learning rate a schedule can set (SGD). */
export interface HasLearningRate {
  lr: number;
}
/** Options of MultiStepLR: the milestone epochs, and gamma (default 0.1). */
export interface MultiStepLROptions {
  /** 1-based epochs at whose start the rate is multiplied by γ; strictly increasing. */
  milestones: readonly number[];
  /** The factor. Default 0.1. */
  gamma?: number;
}

/** What MultiStepLR.stateDict() returns. */
export interface MultiStepLRState {
  /** The 1-based epoch the optimiser's rate is now set for. */
  epoch: number;
  baseLr: number;
  milestones: number[];
  gamma: number;
}

/** The learning rate multiplied by gamma at each milestone epoch (see the module comment). */
export class MultiStepLR {
  #epoch = 1;
  #baseLr: number;
  #milestones: number[];
  #gamma: number;

  /** Takes the optimiser's current `lr` as the base rate and sets it for epoch 1. */
  constructor(
    private readonly optimizer: HasLearningRate,
    options: MultiStepLROptions,
  ) {
    if (optimizer === null || typeof optimizer !== 'object' || typeof optimizer.lr !== 'number') {
      throw new Error('MultiStepLR: optimizer must be an optimiser with a numeric lr (e.g. an SGD)');
    }
    this.#baseLr = optimizer.lr;
    checkKeys('MultiStepLR', options, ['milestones', 'gamma']);
    this.#milestones = checkMilestones(options?.milestones);
    this.#gamma = checkGamma(options?.gamma ?? 0.1);
    optimizer.lr = this.lrAt(1);
  }

  get epoch(): number {
    return this.#epoch;
  }
  get baseLr(): number {
    return this.#baseLr;
  }
  get milestones(): readonly number[] {
    return this.#milestones;
  }
  get gamma(): number {
    return this.#gamma;
  }

  /** The rate for a 1-based epoch. */
  lrAt(epoch: number): number {
    if (!Number.isInteger(epoch) || epoch < 1) throw new Error(`MultiStepLR.lrAt: epoch must be an integer ≥ 1 (epochs count from 1); got ${epoch}`);
    const k = this.#milestones.filter((m) => m <= epoch).length;
    return this.#baseLr * this.#gamma ** k;
  }

  /** Moves on to the next epoch (call once at the end of each epoch) and sets its rate. */
  step(): void {
    this.#epoch++;
    this.optimizer.lr = this.lrAt(this.#epoch);
  }

  /** The epoch and settings, to resume the schedule exactly. */
  stateDict(): MultiStepLRState {
    return { epoch: this.#epoch, baseLr: this.#baseLr, milestones: [...this.#milestones], gamma: this.#gamma };
  }

  /** Restores the schedule and sets the optimiser's rate for the restored epoch. */
  loadStateDict(state: MultiStepLRState): void {
    if (state === null || typeof state !== 'object') throw new Error('MultiStepLR.loadStateDict: expected { epoch, baseLr, milestones, gamma } as returned by stateDict()');
    if (!Number.isInteger(state.epoch) || state.epoch < 1) throw new Error(`MultiStepLR.loadStateDict: epoch must be an integer ≥ 1; got ${shown(state.epoch)}`);
    if (typeof state.baseLr !== 'number' || !(state.baseLr >= 0)) throw new Error(`MultiStepLR.loadStateDict: baseLr must be a number ≥ 0; got ${shown(state.baseLr)}`);
    this.#milestones = checkMilestones(state.milestones);
    this.#gamma = checkGamma(state.gamma);
    this.#baseLr = state.baseLr;
    this.#epoch = state.epoch;
    this.optimizer.lr = this.lrAt(this.#epoch);
  }
}

function checkMilestones(milestones: unknown): number[] {
  if (!Array.isArray(milestones)) throw new Error(`MultiStepLR: milestones must be a list of 1-based epochs, e.g. [81, 122]; got ${shown(milestones)}`);
  milestones.forEach((m, i) => {
    if (!Number.isInteger(m) || m < 1) throw new Error(`MultiStepLR: milestones must be integers ≥ 1 (1-based epochs); got ${shown(m)} at position ${i}`);
    if (i > 0 && m <= milestones[i - 1]) throw new Error(`MultiStepLR: milestones must be strictly increasing; got ${shown(milestones)}`);
  });
  return [...(milestones as number[])];
}

function checkGamma(gamma: unknown): number {
  if (typeof gamma !== 'number' || !Number.isFinite(gamma) || gamma <= 0) throw new Error(`MultiStepLR: gamma must be a number > 0; got ${shown(gamma)}`);
  return gamma;
}
