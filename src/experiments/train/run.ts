/**
 * One training run of the paper's protocol (paper/RECIPE.md), as a library function: what
 * `gradlab train` runs and what `gradlab reproduce` calls once per table cell and seed.
 *
 *   const summary = await train({ model: 'smallnet', activation: 'frelu', batchNorm: true,
 *                                 dataset: 'cifar100', dataDir: 'data', seed: 1, outDir: 'runs/a' });
 *   summary.bestTestError   // a fraction in [0, 1]
 *
 * Each epoch: SGD over the shuffled, augmented training set (the loss is the batch-mean softmax
 * cross-entropy), then evaluation of the test set in eval mode under noGrad, then the schedule's
 * step. After every epoch the output directory gets
 *
 *   checkpoint.gckpt   model, optimiser, schedule, random streams, metrics, epoch (atomic; see checkpoint.ts)
 *   metrics.json       an array of records: epoch, lr, trainLoss, trainError, testLoss, testError,
 *                      imagesPerSecond, seconds, freluB (the FReLU b values by layer name)
 *   metrics.csv        the same, one row per epoch
 * and at the end `summary.json` (best and final test error, the full config, the backend and gpu
 * mode that ran, and whether the run diverged). Errors are fractions in [0, 1].
 *
 * Resuming (`resume: true`) restores everything the checkpoint holds; the data order and the
 * augmentation are functions of (seed, epoch) alone (see data/loader.ts), so on the reference
 * backend an interrupted run ends with exactly the numbers of an uninterrupted one.
 *
 * A non-finite loss stops the run: the summary says `diverged: true` with the reason, and names the
 * first op that produced a non-finite value when that can be found (on the reference backend the
 * batch is run again with `setCheckFinite(true)`).
 *
 * This file holds `train` itself: the order of things. The pieces are beside it: config.ts (the
 * options and their defaults), data.ts and model.ts (what is trained), loop.ts (the numbers of one
 * epoch), checkpoint.ts (saving and resuming), output.ts (metrics files and log lines), records.ts
 * (what a run reports).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { currentBackend, setBackend } from '../../tensor/backends/index.js';
import { setGpuMode } from '../../tensor/backends/gpu.js';
import type { Module } from '../../nn/module.js';
import { cifarTransform } from '../../data/transforms.js';
import { DataLoader } from '../../data/loader.js';
import { SGD } from '../../optim/sgd.js';
import { MultiStepLR } from '../../optim/lr-scheduler.js';
import { lockFolder, makeFolder, removeStaleTemps, writeJsonAtomic } from '../../node/files.js';
import { ProgressBar } from '../../util/progress.js';
import { resolveTrainConfig, type TrainOptions } from './config.js';
import type { Divergence, EpochRecord, TrainSummary } from './records.js';
import { loadData } from './data.js';
import { buildModel, freluValues, parametersOfBnAndFrelu } from './model.js';
import { diagnose, evaluate, nonFiniteParameters, nonFiniteState, trainEpoch } from './loop.js';
import { CHECKPOINT_FILE, checkpointOf, restoreCheckpoint } from './checkpoint.js';
import { saveCheckpoint } from './checkpoint-file.js';
import { MODEL_WEIGHTS_FILE, saveModelSafetensors } from '../../node/safetensors.js';
import { endLines, epochLine, gpuSummary, startLine, writeMetrics } from './output.js';

/** What a caller can follow while a run goes: its start, each epoch, log lines, a progress bar. */
export interface TrainHooks {
  /** Called after each epoch's record is saved. */
  onEpoch?: (record: EpochRecord, metrics: readonly EpochRecord[]) => void | Promise<void>;
  /** Called once the data and the model are ready, just before the first epoch runs, with the model (to inspect, log or instrument it). */
  onStart?: (model: Module) => void;
  /** Where one-line messages go (start, each epoch, the end). Default: nowhere. */
  log?: (line: string) => void;
  /** A progress bar per epoch on this stream (e.g. process.stderr). Default: none. */
  progress?: NodeJS.WriteStream;
  /**
   * Aborting it stops the run after the step in progress: the epoch under way is abandoned (the
   * checkpoint stays the one of the last completed epoch; no summary.json is written) and `train`
   * rejects with a TrainStopped. `gradlab train` aborts it on SIGINT, SIGTERM and SIGHUP.
   */
  stop?: AbortSignal;
}

/** What `train` rejects with when `hooks.stop` was aborted: where it stopped and what --resume continues from. */
export class TrainStopped extends Error {
  constructor(
    /** The epoch that was under way (abandoned), and the steps of it that had finished. */
    readonly epoch: number,
    readonly step: number,
    /** The epoch the checkpoint holds (null: none yet, a rerun starts afresh). */
    readonly checkpointEpoch: number | null,
    readonly reason: string,
  ) {
    super(
      `train: stopped at epoch ${epoch} step ${step} (${reason}); ` +
        (checkpointEpoch === null ? 'no epoch had completed, so there is no checkpoint: run again to start afresh' : `the checkpoint holds epoch ${checkpointEpoch}; --resume continues`),
    );
    this.name = 'TrainStopped';
  }
}

/** Why `stop` was aborted, in words (its reason, when it is a string). */
function stopReason(stop: AbortSignal): string {
  return typeof stop.reason === 'string' ? stop.reason : 'stop requested';
}

/** Runs (or resumes) one training run and returns its summary; see the file's comment. */
export async function train(options: TrainOptions = {}, hooks: TrainHooks = {}): Promise<TrainSummary> {
  const config = resolveTrainConfig(options);
  const started = performance.now();
  const log = hooks.log ?? (() => {});
  const outDir = resolve(config.outDir);
  const files = {
    summary: join(outDir, 'summary.json'),
    metricsJson: join(outDir, 'metrics.json'),
    metricsCsv: join(outDir, 'metrics.csv'),
    checkpoint: join(outDir, CHECKPOINT_FILE),
  };
  const hasCheckpoint = existsSync(files.checkpoint);
  const resume = options.resume === true || (options.resume === 'auto' && hasCheckpoint);
  if (options.resume === true && options.overwrite === true) throw new Error('train: --resume and --overwrite contradict each other (continue the run, or start it afresh); give one');
  if (options.resume === true && !hasCheckpoint) throw new Error(`train: nothing to resume: ${files.checkpoint} does not exist`);
  if (!resume && !options.overwrite && (hasCheckpoint || existsSync(files.summary))) {
    throw new Error(`train: ${outDir} already holds a run; resume it (--resume), choose another output directory (--out), or overwrite it (--overwrite)`);
  }
  makeFolder(outDir, `train: cannot create the output folder ${outDir}`);

  if (config.backend === 'gpu' && config.gpuMode !== 'auto') setGpuMode(config.gpuMode);
  const previousBackend = currentBackend();
  setBackend(config.backend); // the model's tensors and the batches are created there
  // Freed at the end: the caller gets the summary and the files, and a process that trains many
  // models (gradlab reproduce) must not keep each one's tensors (GL textures) alive.
  let owned: { model: Module; optimizer: SGD } | null = null;
  const unlock = lockFolder(outDir, 'train'); // one run at a time per folder
  try {
    const stale = removeStaleTemps(outDir);
    if (stale.length > 0) log(`removed ${stale.length} temporary file(s) left by an interrupted write: ${stale.join(', ')}`);
    const data = loadData(config);
    const model = buildModel(config, data.classes);
    const bnOrB = parametersOfBnAndFrelu(model);
    const optimizer = new SGD(model.namedParameters(), {
      lr: config.lr,
      momentum: config.momentum,
      nesterov: config.nesterov,
      weightDecay: config.weightDecay,
      weightDecayExclude: config.noDecayBnAndB ? (name) => bnOrB.has(name) : undefined,
    });
    owned = { model, optimizer };
    const scheduler = new MultiStepLR(optimizer, { milestones: config.milestones, gamma: config.gamma });
    const trainLoader = new DataLoader(data.train, {
      batchSize: config.batchSize,
      shuffle: true,
      seed: config.seed,
      transform: cifarTransform(data.normalization, { augment: config.augment }),
      backend: config.backend,
    });
    const testLoader = new DataLoader(data.test, {
      batchSize: config.batchSize,
      shuffle: false,
      transform: cifarTransform(data.normalization, { augment: false }),
      backend: config.backend,
    });

    let metrics: EpochRecord[] = [];
    let firstEpoch = 1;
    let checkpointEpoch: number | null = null;
    if (resume) {
      const restored = restoreCheckpoint(files.checkpoint, config, { model, optimizer, scheduler, trainLoader });
      checkpointEpoch = restored.epoch;
      metrics = restored.metrics;
      firstEpoch = restored.epoch + 1;
      log(`resumed ${outDir} after epoch ${restored.epoch}`);
    }
    log(startLine(config, { train: data.train.length, test: data.test.length }, model.numParameters(), firstEpoch, outDir));
    hooks.onStart?.(model);

    let divergence: Divergence | null = null;
    for (let epoch = firstEpoch; epoch <= config.epochs && divergence === null; epoch++) {
      const lr = optimizer.lr;
      const bar = hooks.progress ? new ProgressBar({ label: `epoch ${epoch}/${config.epochs}`, total: trainLoader.length, unit: 'batch', stream: hooks.progress }) : null;
      if (hooks.stop?.aborted) throw new TrainStopped(epoch, 0, checkpointEpoch, stopReason(hooks.stop));
      const trained = await trainEpoch(model, optimizer, trainLoader, epoch, bar, hooks.stop);
      if (trained.stoppedAfterSteps !== null && hooks.stop) throw new TrainStopped(epoch, trained.stoppedAfterSteps, checkpointEpoch, stopReason(hooks.stop));
      if (trained.divergence) {
        const { batch, value, batchData, absDbLast } = trained.divergence;
        divergence = {
          epoch,
          batch,
          where: 'trainLoss',
          value: String(value),
          ...diagnose(model, batchData, config.backend, checkpointEpoch),
          step: (epoch - 1) * trainLoader.length + batch + 1,
          freluB: freluValues(model),
          freluAbsDbLast: absDbLast,
        };
        batchData.x.dispose();
        batchData.y.dispose();
        break;
      }
      const tested = await evaluate(model, testLoader, hooks.stop);
      if (tested === null && hooks.stop) throw new TrainStopped(epoch, trainLoader.length, checkpointEpoch, `${stopReason(hooks.stop)}, during the test pass`);
      if (tested === null) throw new Error('train: the test pass stopped without a stop request');
      const badState = nonFiniteState(model);
      if (badState !== null) {
        // A finite loss does not prove finite weights: a NaN in a weight the loss does not reach, or in BN's running statistics (used only in eval mode), would be saved and trained on.
        divergence = { epoch, batch: trainLoader.length - 1, where: 'state', value: 'NaN', reason: badState, firstNonFiniteOp: null, step: epoch * trainLoader.length, freluB: freluValues(model), freluAbsDbLast: {} };
        break;
      }
      if (!Number.isFinite(tested.loss)) {
        const reason = nonFiniteParameters(model) ?? 'every parameter is finite; a BN running statistic or an overflow in the eval-mode forward pass made the test loss non-finite';
        divergence = { epoch, batch: tested.firstBadBatch, where: 'testLoss', value: String(tested.loss), reason, firstNonFiniteOp: null, step: null, freluB: freluValues(model), freluAbsDbLast: {} };
        break;
      }
      const record: EpochRecord = {
        epoch,
        lr,
        trainLoss: trained.loss,
        trainError: trained.error,
        testLoss: tested.loss,
        testError: tested.error,
        imagesPerSecond: trained.images / trained.seconds,
        seconds: trained.seconds,
        freluB: freluValues(model),
        freluAbsDb: trained.freluAbsDb,
      };
      metrics.push(record);
      scheduler.step();
      trainLoader.setEpoch(epoch); // the loader counts from 0: its epoch `epoch` is the run's next one
      saveCheckpoint(files.checkpoint, checkpointOf(config, epoch, model, optimizer, scheduler, trainLoader, metrics));
      saveModelSafetensors(join(outDir, MODEL_WEIGHTS_FILE), model, { model: config.model, activation: config.activation, epoch: String(epoch) }); // for PyTorch (gradlab export)
      checkpointEpoch = epoch;
      writeMetrics(files, metrics);
      log(epochLine(record, config.epochs));
      await hooks.onEpoch?.(record, metrics);
    }
    writeMetrics(files, metrics);

    const best = metrics.reduce<EpochRecord | null>((b, r) => (b === null || r.testError < b.testError ? r : b), null);
    const summary: TrainSummary = {
      status: divergence ? 'diverged' : 'completed',
      diverged: divergence !== null,
      divergence,
      bestTestError: best?.testError ?? null,
      bestEpoch: best?.epoch ?? null,
      finalTestError: metrics.at(-1)?.testError ?? null,
      epochsCompleted: metrics.length,
      parameters: model.numParameters(),
      config,
      backend: config.backend,
      gpu: config.backend === 'gpu' ? gpuSummary() : null,
      files: { ...files, checkpoint: existsSync(files.checkpoint) ? files.checkpoint : null },
      checkpointEpoch,
      seconds: (performance.now() - started) / 1000,
    };
    writeJsonAtomic(files.summary, summary);
    for (const line of endLines(summary)) log(line);
    return summary;
  } finally {
    owned?.optimizer.dispose();
    owned?.model.dispose();
    setBackend(previousBackend);
    unlock();
  }
}

