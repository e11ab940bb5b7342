/**
 * Batch normalisation layers (Ioffe & Szegedy 2015): BatchNorm1d for [N, C], BatchNorm2d for
 * [N, C, H, W]. The math lives in ops/batch-norm.ts; a layer holds the state:
 *
 *   parameters  weight γ [C] = 1, bias β [C] = 0             (learned)
 *   buffers     running_mean [C] = 0, running_var [C] = 1   (saved in the state dict, not learned)
 *               num_batches_tracked [] = 0                  (training batches seen)
 *
 * The buffers carry PyTorch's names, so a state dict's keys read as a PyTorch module's
 * ('features.1.running_mean'); the layer's fields keep gradlab's spelling (bn.runningMean).
 * Checkpoints written before the rename (runningMean, runningVar, no counter) still load:
 * Module.loadStateDict maps the old names.
 *
 * In training mode the batch's statistics normalise x and the running averages move towards them
 * (momentum 0.1, the variance unbiased); in evaluation mode the running averages normalise x, so
 * one image's output no longer depends on the rest of its batch.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { shapeToString } from '../../tensor/shape.js';
import * as F from '../functional.js';
import { Module, type Placement } from '../module.js';
import { checkInt, checkKeys, filled, PLACEMENT_KEYS } from './helpers.js';
import { fromTyped } from '../../tensor/create.js';
import { allocate } from '../../tensor/dtype.js';

export interface BatchNormOptions extends Placement {
  /** Added to the variance under the square root (default 1e-5). */
  eps?: number;
  /** Weight of the new batch statistic in the running averages (default 0.1). */
  momentum?: number;
}

abstract class BatchNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  /** How many training batches the running averages have seen (PyTorch's num_batches_tracked). */
  readonly numBatchesTracked: Tensor;
  readonly eps: number;
  readonly momentum: number;
  /** The host's copy of num_batches_tracked, and the buffer's version it matches (see countBatch). */
  private counted: number | null = null;
  private countedVersion = -1;

  constructor(readonly numFeatures: number, options: BatchNormOptions, readonly inputRank: 2 | 4) {
    super();
    checkKeys(new.target.name, options, [...PLACEMENT_KEYS, 'eps', 'momentum']);
    checkInt(this.constructor.name, 'numFeatures', numFeatures, 1);
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    this.weight = this.registerParameter('weight', filled([numFeatures], 1, options));
    this.bias = this.registerParameter('bias', filled([numFeatures], 0, options));
    this.runningMean = this.registerBuffer('running_mean', filled([numFeatures], 0, options));
    this.runningVar = this.registerBuffer('running_var', filled([numFeatures], 1, options));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', filled([], 0, options));
  }

  forward(x: Tensor): Tensor {
    if (x.rank !== this.inputRank || x.shape[1] !== this.numFeatures) {
      const want = this.inputRank === 2 ? `[N, ${this.numFeatures}]` : `[N, ${this.numFeatures}, H, W]`;
      throw new Error(`${this.constructor.name}: x must be ${want}; got ${shapeToString(x.shape)}`);
    }
    if (this.training) this.countBatch();
    return F.batchNorm(x, {
      weight: this.weight,
      bias: this.bias,
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    });
  }

  /**
   * num_batches_tracked += 1. Counted on the host and written to the buffer, so a step never reads
   * back from the device (on the GL modes a read would wait for the gpu); the host count is read
   * from the buffer again only when something else changed it (loadStateDict), as its version says.
   */
  private countBatch(): void {
    const counter = this.numBatchesTracked;
    if (this.counted === null || counter.version !== this.countedVersion) this.counted = counter.item();
    this.counted += 1;
    const value = allocate(counter.dtype, 1);
    value[0] = this.counted;
    counter.assign(fromTyped(value, [], { dtype: counter.dtype, backend: counter.backend }));
    this.countedVersion = counter.version;
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}`;
  }
}

/** Batch norm over x [N, C] (after a Linear layer): statistics per feature over the batch. */
export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options, 2);
  }
}

/** Batch norm over x [N, C, H, W] (after a convolution): statistics per channel over N·H·W values. */
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options, 4);
  }
}
