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
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Tensor, tidy } from '../../tensor/tensor.js';
import { fromTyped } from '../../tensor/create.js';
import type { TypedArray } from '../../tensor/dtype.js';
import type { BackendName } from '../../tensor/backends/backend.js';
import { currentBackend, setBackend } from '../../tensor/backends/index.js';
import { GPU_MODES, gpuInfo, setGpuMode, type GpuMode } from '../../tensor/backends/gpu.js';
import type { RandomState } from '../../tensor/random.js';
import { noGrad, setCheckFinite } from '../../autograd/grad-mode.js';
import { crossEntropy } from '../../nn/functional.js';
import type { Module } from '../../nn/module.js';
import { BatchNorm1d, BatchNorm2d, FReLU } from '../../nn/layers/index.js';
import { resnet, smallNet, type Activation, type BlockVariant } from '../../nn/models/index.js';
import { loadCifar, type CifarName, type ImageDataset } from '../../data/cifar.js';
import { syntheticCifar } from '../../data/synthetic.js';
import { cifarTransform } from '../../data/transforms.js';
import { DataLoader, type Batch, type DataLoaderState } from '../../data/loader.js';
import { SGD, type SGDState } from '../../optim/sgd.js';
import { MultiStepLR, type MultiStepLRState } from '../../optim/lr-scheduler.js';
import { lockFolder, writeFileAtomic, writeJsonAtomic } from '../../util/fs.js';
import { ProgressBar } from '../../util/progress.js';
import { formatSeconds, percent } from '../../util/format.js';
import { loadCheckpoint, saveCheckpoint, type CheckpointValue } from './checkpoint-file.js';

export const MODELS = ['smallnet', 'resnet20', 'resnet32', 'resnet44', 'resnet56', 'resnet110'] as const;
export type ModelName = (typeof MODELS)[number];
export const ACTIVATIONS: readonly Activation[] = ['relu', 'leakyRelu', 'prelu', 'elu', 'frelu'];
export const BLOCKS: readonly BlockVariant[] = ['a', 'b', 'c'];
export const DATASETS = ['cifar10', 'cifar100', 'synthetic'] as const;
export type DatasetName = (typeof DATASETS)[number];

/** Everything that defines a run. `resolveTrainConfig` fills what is not given with the paper's protocol. */
export interface TrainConfig {
  model: ModelName;
  activation: Activation;
  /** SmallNet with or without BN (Table 1). The ResNets always have BN (which BN layers: `block`). */
  batchNorm: boolean;
  /** ResNet block variant of the paper's Fig. 4 (ignored by SmallNet). */
  block: BlockVariant;
  /** One PReLU slope / FReLU b per channel instead of one per layer (the paper: one per layer). */
  perChannel: boolean;
  dataset: DatasetName;
  /** Data directory with the official layout (default $GRADLAB_DATA or ./data); unused by 'synthetic'. */
  dataDir: string | null;
  /** Explicit files instead of the official ones (same record format). */
  trainFiles: string[] | null;
  testFiles: string[] | null;
  epochs: number;
  /** Base learning rate. */
  lr: number;
  /** 1-based epochs at whose start the rate is multiplied by `gamma`. */
  milestones: number[];
  gamma: number;
  batchSize: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  /** Exempt BN's γ/β and FReLU's b from weight decay (the recipe decays every parameter). */
  noDecayBnAndB: boolean;
  /** Training augmentation (flip + pad-and-crop); evaluation is never augmented. */
  augment: boolean;
  seed: number;
  backend: BackendName;
  /** gpu.js mode for backend 'gpu' ('auto': a GL context when one works, else webasm). */
  gpuMode: GpuMode | 'auto';
  outDir: string;
  /** Use only the first N training / test images (quick runs); null: all. */
  limitTrain: number | null;
  limitTest: number | null;
}

export type TrainOptions = Partial<TrainConfig> & {
  /** Continue the run saved in outDir: true (there must be a checkpoint), 'auto' (if there is one). */
  resume?: boolean | 'auto';
  /** Start afresh even if outDir already holds a run. Default false: refuse, so no run is overwritten by accident. */
  overwrite?: boolean;
};

/** The default base rate: 0.1, except SmallNet without BN, which the paper trained at 0.01 (0.1 diverges, Table 1). */
export function defaultLr(model: ModelName, batchNorm: boolean): number {
  return model === 'smallnet' && !batchNorm ? 0.01 : 0.1;
}

/** The images of a synthetic set (when dataset is 'synthetic' and no limit is given). */
export const SYNTHETIC_SIZES = { train: 5000, test: 1000 } as const;

/** Fills in defaults (the paper's protocol) and checks every field; errors name the field. */
export function resolveTrainConfig(options: TrainOptions = {}): TrainConfig {
  const o = options;
  const model = oneOf('model', o.model ?? 'smallnet', MODELS);
  const isResNet = model !== 'smallnet';
  if (isResNet && o.batchNorm === false) {
    throw new Error(`train: ${model} always has batch normalisation; choose where with block ('a' | 'b' | 'c'), or train smallnet without BN`);
  }
  const batchNorm = o.batchNorm ?? true;
  const seed = int('seed', o.seed ?? 1, 0);
  const activation = oneOf('activation', o.activation ?? 'frelu', ACTIVATIONS);
  const dataset = oneOf('dataset', o.dataset ?? 'cifar100', DATASETS);
  const epochs = int('epochs', o.epochs ?? 164, 1);
  const milestones = o.milestones ?? [81, 122];
  if (!Array.isArray(milestones) || !milestones.every((m, i) => Number.isInteger(m) && m >= 1 && (i === 0 || m > milestones[i - 1]))) {
    throw new Error(`train: milestones must be strictly increasing 1-based epochs, e.g. [81, 122]; got ${JSON.stringify(milestones)}`);
  }
  const backend = oneOf('backend', o.backend ?? 'gpu', ['reference', 'gpu'] as const);
  const gpuMode = oneOf('gpuMode', o.gpuMode ?? 'auto', ['auto', ...GPU_MODES] as const);
  const block = oneOf('block', o.block ?? 'a', BLOCKS);
  const nesterov = o.nesterov ?? true;
  const momentum = num('momentum', o.momentum ?? 0.9, 0);
  if (nesterov && momentum === 0) throw new Error('train: Nesterov momentum needs momentum > 0 (pass nesterov: false for plain SGD)');
  const files = (name: string, v: string[] | null | undefined) => {
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v) || v.length === 0 || !v.every((f) => typeof f === 'string' && f !== '')) throw new Error(`train: ${name} must be a non-empty list of file paths; got ${JSON.stringify(v)}`);
    return [...v];
  };
  const limit = (name: string, v: number | null | undefined) => (v === undefined || v === null ? null : int(name, v, 1));
  const config: TrainConfig = {
    model,
    activation,
    batchNorm,
    block,
    perChannel: o.perChannel ?? false,
    dataset,
    dataDir: o.dataDir ?? null,
    trainFiles: files('trainFiles', o.trainFiles),
    testFiles: files('testFiles', o.testFiles),
    epochs,
    lr: num('lr', o.lr ?? defaultLr(model, batchNorm), 0),
    milestones: [...milestones],
    gamma: num('gamma', o.gamma ?? 0.1, 0),
    batchSize: int('batchSize', o.batchSize ?? 128, 1),
    momentum,
    nesterov,
    weightDecay: num('weightDecay', o.weightDecay ?? 1e-4, 0),
    noDecayBnAndB: o.noDecayBnAndB ?? false,
    augment: o.augment ?? true,
    seed,
    backend,
    gpuMode,
    outDir: o.outDir ?? defaultOutDir({ model, activation, batchNorm, block, dataset, seed }),
    limitTrain: limit('limitTrain', o.limitTrain),
    limitTest: limit('limitTest', o.limitTest),
  };
  if (dataset === 'synthetic' && (config.trainFiles || config.testFiles)) throw new Error("train: trainFiles/testFiles are for cifar10/cifar100; the 'synthetic' set is generated");
  return config;
}

/** runs/<model>-<activation>[-bn|-nobn|-block]-<dataset>-seed<seed> */
export function defaultOutDir(c: Pick<TrainConfig, 'model' | 'activation' | 'batchNorm' | 'block' | 'dataset' | 'seed'>): string {
  const variant = c.model === 'smallnet' ? (c.batchNorm ? 'bn' : 'nobn') : `block-${c.block}`;
  return join('runs', `${c.model}-${c.activation}-${variant}-${c.dataset}-seed${c.seed}`);
}

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
}

export interface Divergence {
  epoch: number;
  /** 0-based batch of that epoch. */
  batch: number;
  /** 'trainLoss' or 'testLoss': which value was not finite. */
  where: 'trainLoss' | 'testLoss';
  /** That value, as text ('NaN', 'Infinity' or '-Infinity'; JSON has no such numbers). */
  value: string;
  /** What was found: non-finite parameters, or the first op producing a non-finite value, or why it could not be located. */
  reason: string;
  /** The op named by the rerun with setCheckFinite(true), when one was found. */
  firstNonFiniteOp: string | null;
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
  /** Absolute paths of what was written. */
  files: { summary: string; metricsJson: string; metricsCsv: string; checkpoint: string };
  /** Seconds this invocation spent (a resumed run counts only its own part). */
  seconds: number;
}

export interface TrainHooks {
  /** Called after each epoch's record is saved. */
  onEpoch?: (record: EpochRecord, metrics: readonly EpochRecord[]) => void | Promise<void>;
  /** Called once the data and the model are ready, just before the first epoch runs. */
  onStart?: () => void;
  /** Where one-line messages go (start, each epoch, the end). Default: nowhere. */
  log?: (line: string) => void;
  /** A progress bar per epoch on this stream (e.g. process.stderr). Default: none. */
  progress?: NodeJS.WriteStream;
}

export const CHECKPOINT_FILE = 'checkpoint.gckpt';

/** Fields that may change when a run is resumed; every other field must match the checkpoint's. */
const RESUMABLE_CHANGES: readonly (keyof TrainConfig)[] = ['epochs', 'backend', 'gpuMode', 'outDir'];

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
  if (options.resume === true && !hasCheckpoint) throw new Error(`train: nothing to resume: ${files.checkpoint} does not exist`);
  if (!resume && !options.overwrite && (hasCheckpoint || existsSync(files.summary))) {
    throw new Error(`train: ${outDir} already holds a run; resume it (--resume), choose another output directory (--out), or overwrite it (--overwrite)`);
  }
  mkdirSync(outDir, { recursive: true });

  if (config.backend === 'gpu' && config.gpuMode !== 'auto') setGpuMode(config.gpuMode);
  const previousBackend = currentBackend();
  setBackend(config.backend); // the model's tensors and the batches are created there
  // Freed at the end: the caller gets the summary and the files, and a process that trains many
  // models (gradlab reproduce) must not keep each one's tensors (GL textures) alive.
  let owned: { model: Module; optimizer: SGD } | null = null;
  const unlock = lockFolder(outDir, 'train'); // one run at a time per folder
  try {
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
    if (resume) {
      const restored = restoreCheckpoint(files.checkpoint, config, { model, optimizer, scheduler, trainLoader });
      metrics = restored.metrics;
      firstEpoch = restored.epoch + 1;
      log(`resumed ${outDir} after epoch ${restored.epoch}`);
    }
    log(
      `train ${config.model} (${config.activation}${config.model === 'smallnet' ? (config.batchNorm ? ', BN' : ', no BN') : `, block ${config.block}`}) ` +
        `on ${config.dataset}: ${data.train.length} train / ${data.test.length} test images, ${model.numParameters().toLocaleString('en-US')} parameters, ` +
        `backend ${backendLabel(config.backend)}, epochs ${firstEpoch}–${config.epochs}, out ${outDir}`,
    );
    hooks.onStart?.();

    let divergence: Divergence | null = null;
    for (let epoch = firstEpoch; epoch <= config.epochs && divergence === null; epoch++) {
      const lr = optimizer.lr;
      const bar = hooks.progress ? new ProgressBar({ label: `epoch ${epoch}/${config.epochs}`, total: trainLoader.length, unit: 'batch', stream: hooks.progress }) : null;
      const trained = trainEpoch(model, optimizer, trainLoader, epoch, bar);
      if (trained.divergence) {
        const { batch, value, batchData } = trained.divergence;
        divergence = { epoch, batch, where: 'trainLoss', value: String(value), ...diagnose(model, batchData, config.backend) };
        batchData.x.dispose();
        batchData.y.dispose();
        break;
      }
      const tested = evaluate(model, testLoader);
      if (!Number.isFinite(tested.loss)) {
        const reason = nonFiniteParameters(model) ?? 'every parameter is finite; a BN running statistic or an overflow in the eval-mode forward pass made the test loss non-finite';
        divergence = { epoch, batch: tested.firstBadBatch, where: 'testLoss', value: String(tested.loss), reason, firstNonFiniteOp: null };
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
      };
      metrics.push(record);
      scheduler.step();
      trainLoader.setEpoch(epoch); // the loader counts from 0: its epoch `epoch` is the run's next one
      saveCheckpoint(files.checkpoint, checkpointOf(config, epoch, model, optimizer, scheduler, trainLoader, metrics));
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
      files,
      seconds: (performance.now() - started) / 1000,
    };
    writeJsonAtomic(files.summary, summary);
    if (divergence) log(`diverged at epoch ${divergence.epoch}, batch ${divergence.batch}: ${divergence.where} = ${divergence.value}; ${divergence.reason}`);
    log(
      `best test error ${percent(summary.bestTestError)} (epoch ${summary.bestEpoch ?? '-'}), final ${percent(summary.finalTestError)} ` +
        `after ${summary.epochsCompleted} epochs; wrote ${files.summary}, ${files.metricsJson}, ${files.metricsCsv}, ${files.checkpoint}`,
    );
    return summary;
  } finally {
    owned?.optimizer.dispose();
    owned?.model.dispose();
    setBackend(previousBackend);
    unlock();
  }
}

// ── data and model ──

interface RunData {
  train: ImageDataset;
  test: ImageDataset;
  classes: number;
  /** Whose channel statistics normalise the images. */
  normalization: CifarName;
}

function loadData(config: TrainConfig): RunData {
  let train: ImageDataset;
  let test: ImageDataset;
  let normalization: CifarName;
  if (config.dataset === 'synthetic') {
    // A fixed generator seed: every training seed sees the same synthetic images.
    const make = (split: 'train' | 'test', count: number): ImageDataset => {
      const r = syntheticCifar({ dataset: 'cifar10', split, count, seed: 0 });
      return { length: count, imageShape: [3, 32, 32], images: r.images, labels: r.labels, classes: 10 };
    };
    train = make('train', config.limitTrain ?? SYNTHETIC_SIZES.train);
    test = make('test', config.limitTest ?? SYNTHETIC_SIZES.test);
    normalization = 'cifar10';
  } else {
    const dir = config.dataDir ?? undefined;
    train = loadCifar({ dataset: config.dataset, split: 'train', dir, ...(config.trainFiles ? { files: config.trainFiles } : {}) });
    test = loadCifar({ dataset: config.dataset, split: 'test', dir, ...(config.testFiles ? { files: config.testFiles } : {}) });
    normalization = config.dataset;
  }
  return { train: firstImages(train, config.limitTrain), test: firstImages(test, config.limitTest), classes: train.classes, normalization };
}

/** The first `limit` images of a dataset (all when limit is null or larger). */
function firstImages(d: ImageDataset, limit: number | null): ImageDataset {
  if (limit === null || limit >= d.length) return d;
  const [c, h, w] = d.imageShape;
  return { length: limit, imageShape: d.imageShape, images: d.images.subarray(0, limit * c * h * w), labels: d.labels.subarray(0, limit), classes: d.classes };
}

function buildModel(config: TrainConfig, classes: number): Module {
  const { activation, seed, backend } = config;
  const activationOptions = { perChannel: config.perChannel };
  if (config.model === 'smallnet') return smallNet({ activation, batchNorm: config.batchNorm, classes, seed, backend, activationOptions });
  const depth = Number(config.model.slice('resnet'.length));
  return resnet({ depth, classes, block: config.block, activation, seed, backend, activationOptions });
}

/** Names of BN γ/β and FReLU b parameters (for the noDecayBnAndB option). */
function parametersOfBnAndFrelu(model: Module): Set<string> {
  const names = new Set<string>();
  for (const [path, m] of model.namedModules()) {
    if (m instanceof BatchNorm1d || m instanceof BatchNorm2d || m instanceof FReLU) {
      for (const [name] of m.namedParameters()) names.add(path === '' ? name : `${path}.${name}`);
    }
  }
  return names;
}

/** FReLU b values by layer path: a number for a layer-wise b, an array for a per-channel one. */
function freluValues(model: Module): Record<string, number | number[]> {
  const out: Record<string, number | number[]> = {};
  for (const [path, m] of model.namedModules()) {
    if (!(m instanceof FReLU)) continue;
    const b = Array.from(m.b.toArray());
    out[path] = b.length === 1 ? b[0] : b;
  }
  return out;
}

// ── one epoch ──

interface TrainedEpoch {
  loss: number;
  error: number;
  images: number;
  seconds: number;
  divergence: { batch: number; value: number; batchData: Batch } | null;
}

function trainEpoch(model: Module, optimizer: SGD, loader: DataLoader, epoch: number, bar: ProgressBar | null): TrainedEpoch {
  model.train();
  const start = performance.now();
  let lossSum = 0;
  let wrong = 0;
  let images = 0;
  // The loader numbers epochs from 0; the recipe (and this file) from 1.
  for (const batch of loader.batches(epoch - 1)) {
    const n = batch.labels.length;
    const step = tidy(() => {
      const logits = model.forward(batch.x);
      const loss = crossEntropy(logits, batch.y);
      const value = loss.item();
      if (!Number.isFinite(value)) return { value, wrong: 0 };
      const miss = countWrong(logits.toArray(), batch.labels);
      loss.backward();
      optimizer.step();
      optimizer.zeroGrad();
      return { value, wrong: miss };
    });
    if (!Number.isFinite(step.value)) {
      return { loss: NaN, error: NaN, images, seconds: (performance.now() - start) / 1000, divergence: { batch: batch.index, value: step.value, batchData: batch } };
    }
    batch.x.dispose();
    batch.y.dispose();
    lossSum += step.value * n;
    wrong += step.wrong;
    images += n;
    const seconds = (performance.now() - start) / 1000;
    bar?.update(batch.index + 1, { loss: lossSum / images, 'img/s': images / seconds });
  }
  return { loss: lossSum / images, error: wrong / images, images, seconds: (performance.now() - start) / 1000, divergence: null };
}

function evaluate(model: Module, loader: DataLoader): { loss: number; error: number; firstBadBatch: number } {
  model.eval();
  let lossSum = 0;
  let wrong = 0;
  let images = 0;
  let firstBadBatch = -1;
  noGrad(() => {
    for (const batch of loader.batches(0)) {
      const n = batch.labels.length;
      const r = tidy(() => {
        const logits = model.forward(batch.x);
        return { loss: crossEntropy(logits, batch.y).item(), wrong: countWrong(logits.toArray(), batch.labels) };
      });
      batch.x.dispose();
      batch.y.dispose();
      if (!Number.isFinite(r.loss) && firstBadBatch < 0) firstBadBatch = batch.index;
      lossSum += r.loss * n;
      wrong += r.wrong;
      images += n;
    }
  });
  return { loss: lossSum / images, error: wrong / images, firstBadBatch };
}

/** Rows of `logits` [N, C] whose arg-max (the first, at a tie) is not the label. */
function countWrong(logits: TypedArray, labels: Int32Array): number {
  const n = labels.length;
  const c = logits.length / n;
  let wrong = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (logits[i * c + k] > logits[i * c + best]) best = k;
    if (best !== labels[i]) wrong++;
  }
  return wrong;
}

// ── divergence ──

/** Names the parameters holding a non-finite value, or null when all are finite. */
function nonFiniteParameters(model: Module): string | null {
  const bad = model.namedParameters().filter(([, t]) => t.toArray().some((v) => !Number.isFinite(v))).map(([name]) => name);
  if (bad.length === 0) return null;
  const shown = bad.slice(0, 6).join(', ') + (bad.length > 6 ? ` and ${bad.length - 6} more` : '');
  return `parameters with non-finite values after the previous update: ${shown} (their gradients or the update overflowed)`;
}

/**
 * Why the loss of `batch` was not finite. Non-finite parameters are reported first (the previous
 * update broke them). Otherwise, on the reference backend, the batch's forward pass is run again
 * with every op checking its output, and the first op producing a non-finite value is named.
 */
function diagnose(model: Module, batch: Batch, backend: BackendName): { reason: string; firstNonFiniteOp: string | null } {
  const params = nonFiniteParameters(model);
  if (params !== null) return { reason: params, firstNonFiniteOp: null };
  if (backend !== 'reference') {
    return {
      reason:
        'every parameter is finite; the gpu backend does not check op outputs, so the first op producing a non-finite value ' +
        'is not located here (resume the last checkpoint with --backend reference to find it)',
      firstNonFiniteOp: null,
    };
  }
  setCheckFinite(true);
  try {
    noGrad(() => tidy(() => crossEntropy(model.forward(batch.x), batch.y)));
    return { reason: 'every parameter is finite, and a rerun of the batch with setCheckFinite(true) gave finite values in every op', firstNonFiniteOp: null };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const op = /^(\w+): produced a non-finite value/.exec(message);
    return { reason: `every parameter is finite; a rerun of the batch with setCheckFinite(true) says: ${message}`, firstNonFiniteOp: op ? op[1] : null };
  } finally {
    setCheckFinite(false);
  }
}

// ── checkpoints ──

interface Restorable {
  model: Module;
  optimizer: SGD;
  scheduler: MultiStepLR;
  trainLoader: DataLoader;
}

function checkpointOf(config: TrainConfig, epoch: number, model: Module, optimizer: SGD, scheduler: MultiStepLR, loader: DataLoader, metrics: EpochRecord[]): CheckpointValue {
  const modelState: Record<string, { shape: number[]; dtype: string; values: TypedArray }> = {};
  tidy(() => {
    for (const [name, t] of Object.entries(model.stateDict())) modelState[name] = { shape: [...t.shape], dtype: t.dtype, values: t.toArray() };
  });
  return {
    format: 'gradlab-train-checkpoint',
    version: 1,
    epoch,
    config: { ...config },
    model: modelState,
    optimizer: { ...optimizer.stateDict() },
    scheduler: { ...scheduler.stateDict() },
    rng: { trainLoader: { ...loader.state() }, dropout: model.randomStates() },
    metrics: metrics.map((r) => ({ ...r })),
  };
}

function restoreCheckpoint(path: string, config: TrainConfig, r: Restorable): { epoch: number; metrics: EpochRecord[] } {
  const ckpt = loadCheckpoint(path) as unknown;
  if (!isRecord(ckpt) || ckpt.format !== 'gradlab-train-checkpoint' || ckpt.version !== 1) {
    throw new Error(`${path}: not a gradlab training checkpoint (format 'gradlab-train-checkpoint', version 1)`);
  }
  const saved = ckpt.config as TrainConfig;
  const changed = (Object.keys(config) as (keyof TrainConfig)[]).filter(
    (k) => !RESUMABLE_CHANGES.includes(k) && JSON.stringify(saved[k]) !== JSON.stringify(config[k]),
  );
  if (changed.length > 0) {
    throw new Error(
      `train: cannot resume ${path} with a different setup: ` +
        changed.map((k) => `${k} was ${JSON.stringify(saved[k])}, now ${JSON.stringify(config[k])}`).join('; ') +
        ` (only ${RESUMABLE_CHANGES.join(', ')} may change)`,
    );
  }
  const epoch = ckpt.epoch as number;
  if (epoch > config.epochs) throw new Error(`train: the checkpoint is after epoch ${epoch}, beyond epochs = ${config.epochs}`);
  const modelState = ckpt.model as Record<string, { shape: number[]; values: TypedArray }>;
  tidy(() => {
    const state: Record<string, Tensor> = {};
    for (const [name, { shape, values }] of Object.entries(modelState)) state[name] = fromTyped(values, shape, { backend: 'reference' });
    r.model.loadStateDict(state);
  });
  r.optimizer.loadStateDict(ckpt.optimizer as SGDState);
  r.scheduler.loadStateDict(ckpt.scheduler as MultiStepLRState);
  const rng = ckpt.rng as { trainLoader: DataLoaderState; dropout: Record<string, RandomState> };
  r.trainLoader.restore(rng.trainLoader);
  r.model.loadRandomStates(rng.dropout);
  return { epoch, metrics: ckpt.metrics as EpochRecord[] };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// ── output ──

const CSV_COLUMNS = ['epoch', 'lr', 'trainLoss', 'trainError', 'testLoss', 'testError', 'imagesPerSecond', 'seconds'] as const;

function writeMetrics(files: TrainSummary['files'], metrics: readonly EpochRecord[]): void {
  writeJsonAtomic(files.metricsJson, metrics);
  const layers = [...new Set(metrics.flatMap((r) => Object.keys(r.freluB)))];
  const header = [...CSV_COLUMNS, ...layers.map((l) => `freluB:${l}`)].join(',');
  const rows = metrics.map((r) =>
    [
      ...CSV_COLUMNS.map((k) => String(r[k])),
      ...layers.map((l) => {
        const b = r.freluB[l];
        return b === undefined ? '' : Array.isArray(b) ? `"${b.join(' ')}"` : String(b);
      }),
    ].join(','),
  );
  writeFileAtomic(files.metricsCsv, [header, ...rows].join('\n') + '\n');
}

function gpuSummary(): TrainSummary['gpu'] {
  const info = gpuInfo();
  return { mode: info.mode, kernelClass: info.kernelClass, compiledKernels: info.compiledKernels, liveTextures: info.liveTextures };
}

function backendLabel(backend: BackendName): string {
  if (backend !== 'gpu') return backend;
  const info = gpuInfo({ start: true });
  return `gpu (gpu.js mode ${info.mode})`;
}

function epochLine(r: EpochRecord, epochs: number): string {
  const bs = Object.values(r.freluB).map((b) => (Array.isArray(b) ? `[${b.length} values]` : b.toFixed(3)));
  return (
    `epoch ${r.epoch}/${epochs}  lr ${r.lr.toPrecision(3)}  train loss ${r.trainLoss.toFixed(4)} error ${percent(r.trainError)}  ` +
    `test loss ${r.testLoss.toFixed(4)} error ${percent(r.testError)}  ${r.imagesPerSecond.toFixed(1)} img/s  ${formatSeconds(r.seconds)}` +
    (bs.length > 0 ? `  b ${bs.join(' ')}` : '')
  );
}

// ── checks ──

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new Error(`train: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got ${JSON.stringify(value)}`);
  }
  return value as T;
}

function int(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new Error(`train: ${name} must be an integer ≥ ${min}; got ${JSON.stringify(value)}`);
  return value;
}

function num(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) throw new Error(`train: ${name} must be a number ≥ ${min}; got ${JSON.stringify(value)}`);
  return value;
}
