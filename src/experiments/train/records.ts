/**
 * What a training run reports: one record per epoch (metrics.json, metrics.csv), the divergence
 * when a loss stopped being finite, and the summary (summary.json, and what `train` returns).
 */
import type { BackendName } from '../../tensor/backends/backend.js';
import type { GpuMode } from '../../tensor/backends/gpu.js';
import type { TrainConfig } from './config.js';

/** One epoch's line of metrics.json. */
export interface EpochRecord {
  epoch: number;
  lr: number;
  trainLoss: number;
  trainError: number;
  testLoss: number;
  testError: number;
  /** Training images per second (training pass only). */
  imagesPerSecond: number;
  /** Seconds of the training pass. */
  seconds: number;
  /** FReLU b by layer name: a number (layer-wise b) or one per channel. Empty without FReLU. */
  freluB: Record<string, number | number[]>;
  /**
   * Mean |∂E/∂b| over the epoch's steps, by FReLU layer (per-channel b: averaged over channels
   * too): the gradient backward computed, bGradScale included, weight decay not. A b about to blow
   * up shows here first. Empty without FReLU; absent in records written before it existed.
   */
  freluAbsDb?: Record<string, number>;
}

export interface Divergence {
  epoch: number;
  /** 0-based batch of that epoch. */
  batch: number;
  /** Which value was not finite: the training loss, the test loss, or (with finite losses) a parameter or BN statistic after the epoch. */
  where: 'trainLoss' | 'testLoss' | 'state';
  /** That value, as text ('NaN', 'Infinity' or '-Infinity'; JSON has no such numbers). */
  value: string;
  /** What was found: non-finite parameters, or the first op producing a non-finite value, or why it could not be located. */
  reason: string;
  /** The op named by the rerun with setCheckFinite(true), when one was found. */
  firstNonFiniteOp: string | null;
  /** 1-based training step of the whole run (epochs × steps per epoch) whose loss was not finite; null for a test-loss divergence. */
  step?: number | null;
  /** FReLU b by layer when the run stopped (after the last update): a b that ran away shows here. */
  freluB?: Record<string, number | number[]>;
  /** |∂E/∂b| of the last step whose loss was finite, by FReLU layer (training divergence only). */
  freluAbsDbLast?: Record<string, number>;
}

export interface TrainSummary {
  status: 'completed' | 'diverged';
  diverged: boolean;
  divergence: Divergence | null;
  /** Minimum test error over the completed epochs (null if none completed), and its epoch. */
  bestTestError: number | null;
  bestEpoch: number | null;
  /** Test error of the last completed epoch. */
  finalTestError: number | null;
  epochsCompleted: number;
  parameters: number;
  config: TrainConfig;
  backend: BackendName;
  /** The gpu.js mode and kernel class that ran (backend 'gpu'), else null. */
  gpu: { mode: GpuMode | null; kernelClass: string | null; compiledKernels: number; liveTextures: number } | null;
  /** Absolute paths of what was written; checkpoint is null when no epoch completed (none was written). */
  files: { summary: string; metricsJson: string; metricsCsv: string; checkpoint: string | null };
  /** The epoch the checkpoint holds (the last completed one), or null without a checkpoint. */
  checkpointEpoch?: number | null;
  /** Seconds this invocation spent (a resumed run counts only its own part). */
  seconds: number;
}
