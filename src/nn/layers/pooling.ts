/**
 * Pooling layers (no parameters): MaxPool2d and AvgPool2d, NCHW.
 */
import type { Tensor } from '../../tensor/tensor.js';
import * as F from '../functional.js';
import { Module } from '../module.js';
import { checkKeys } from './helpers.js';

/** Options of MaxPool2d and AvgPool2d besides the window size. */
export interface Pool2dOptions {
  /** Step of the window; default kernelSize (windows side by side). */
  stride?: F.Size2;
  /** Padding on each side; default 0. */
  padding?: F.Size2;
}

function show(v: F.Size2): string {
  return typeof v === 'number' ? String(v) : `[${v.join(', ')}]`;
}

/**
 * The maximum of each window, per channel. SmallNet uses `new MaxPool2d(2)`: 32×32 → 16×16.
 */
export class MaxPool2d extends Module {
  constructor(readonly kernelSize: F.Size2, readonly options: Pool2dOptions = {}) {
    super();
    checkKeys('MaxPool2d', options, ['stride', 'padding']);
  }

  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, { kernelSize: this.kernelSize, ...this.options });
  }

  protected override extraRepr(): string {
    return `kernelSize=${show(this.kernelSize)}, stride=${show(this.options.stride ?? this.kernelSize)}, padding=${show(this.options.padding ?? 0)}`;
  }
}

/**
 * The mean of each window, per channel. The ResNets end with `new AvgPool2d(8)`: the global
 * average of each 8×8 feature map, [N, 64, 8, 8] → [N, 64, 1, 1].
 */
export class AvgPool2d extends Module {
  constructor(readonly kernelSize: F.Size2, readonly options: Pool2dOptions = {}) {
    super();
    checkKeys('AvgPool2d', options, ['stride', 'padding']);
  }

  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, { kernelSize: this.kernelSize, ...this.options });
  }

  protected override extraRepr(): string {
    return `kernelSize=${show(this.kernelSize)}, stride=${show(this.options.stride ?? this.kernelSize)}, padding=${show(this.options.padding ?? 0)}`;
  }
}
