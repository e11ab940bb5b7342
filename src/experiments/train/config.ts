/**
 * What defines a training run: the config (model, data, optimiser, schedule, backend, output
 * folder), its defaults (the paper's protocol, paper/RECIPE.md) and the checks that fill it in
 * from the options a caller gives. Errors name the field.
 */
import { join } from 'node:path';
import type { BackendName } from '../../tensor/backends/backend.js';
import { GPU_MODES, type GpuMode } from '../../tensor/backends/gpu.js';
import type { Activation, BlockVariant } from '../../nn/models/index.js';
import { checkKeys } from '../../util/options.js';
import { shown } from '../../util/format.js';

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
  /** Post-paper (the authors' later code): FReLU b's gradient × this factor. 1 = the paper (eq. 3). */
  freluBGradScale: number;
  /** Post-paper (the authors' later code): a FReLU b that turns positive in a step returns to its previous value. false = the paper. */
  freluBKeepNonPositive: boolean;
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

/** Every option train() takes (the compiler checks the list is complete), so a misspelled one is an error. */
const TRAIN_OPTION_KEYS: Readonly<Record<keyof TrainOptions, true>> = {
  model: true, activation: true, batchNorm: true, block: true, perChannel: true, freluBGradScale: true, freluBKeepNonPositive: true,
  dataset: true, dataDir: true, trainFiles: true, testFiles: true, epochs: true, lr: true, milestones: true, gamma: true,
  batchSize: true, momentum: true, nesterov: true, weightDecay: true, noDecayBnAndB: true, augment: true, seed: true,
  backend: true, gpuMode: true, outDir: true, limitTrain: true, limitTest: true, resume: true, overwrite: true,
};

/** Fills in defaults (the paper's protocol) and checks every field; errors name the field. */
export function resolveTrainConfig(options: TrainOptions = {}): TrainConfig {
  checkKeys('train', options, Object.keys(TRAIN_OPTION_KEYS));
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
    throw new Error(`train: milestones must be strictly increasing 1-based epochs, e.g. [81, 122]; got ${shown(milestones)}`);
  }
  const backend = oneOf('backend', o.backend ?? 'gpu', ['reference', 'gpu'] as const);
  const gpuMode = oneOf('gpuMode', o.gpuMode ?? 'auto', ['auto', ...GPU_MODES] as const);
  const block = oneOf('block', o.block ?? 'a', BLOCKS);
  const nesterov = o.nesterov ?? true;
  const momentum = num('momentum', o.momentum ?? 0.9, 0);
  if (nesterov && momentum === 0) throw new Error('train: Nesterov momentum needs momentum > 0 (pass nesterov: false for plain SGD)');
  const files = (name: string, v: string[] | null | undefined) => {
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v) || v.length === 0 || !v.every((f) => typeof f === 'string' && f !== '')) throw new Error(`train: ${name} must be a non-empty list of file paths; got ${shown(v)}`);
    return [...v];
  };
  if (o.outDir !== undefined && (typeof o.outDir !== 'string' || o.outDir.trim() === '')) {
    throw new Error(`train: outDir must name a folder (it would otherwise be the current directory); got ${shown(o.outDir)}`);
  }
  const limit = (name: string, v: number | null | undefined) => (v === undefined || v === null ? null : int(name, v, 1));
  const config: TrainConfig = {
    model,
    activation,
    batchNorm,
    block,
    perChannel: o.perChannel ?? false,
    freluBGradScale: num('freluBGradScale', o.freluBGradScale ?? 1, 0),
    freluBKeepNonPositive: bool('freluBKeepNonPositive', o.freluBKeepNonPositive ?? false),
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

/** The variant part of run and job names: 'bn' or 'nobn' for SmallNet, 'block-a' … for a ResNet. */
export function variantTag(c: Pick<TrainConfig, 'model' | 'batchNorm' | 'block'>): string {
  return c.model === 'smallnet' ? (c.batchNorm ? 'bn' : 'nobn') : `block-${c.block}`;
}

/** runs/<model>-<activation>[-bn|-nobn|-block]-<dataset>-seed<seed> */
export function defaultOutDir(c: Pick<TrainConfig, 'model' | 'activation' | 'batchNorm' | 'block' | 'dataset' | 'seed'>): string {
  return join('runs', `${c.model}-${c.activation}-${variantTag(c)}-${c.dataset}-seed${c.seed}`);
}


/** Fields that may change when a run is resumed; every other field must match the checkpoint's. */
export const RESUMABLE_CHANGES: readonly (keyof TrainConfig)[] = ['epochs', 'backend', 'gpuMode', 'outDir'];

// ── checks ──

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new Error(`train: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got ${shown(value)}`);
  }
  return value as T;
}

function int(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new Error(`train: ${name} must be an integer ≥ ${min}; got ${shown(value)}`);
  return value;
}

function num(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) throw new Error(`train: ${name} must be a number ≥ ${min}; got ${shown(value)}`);
  return value;
}

function bool(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new Error(`train: ${name} must be true or false; got ${shown(value)}`);
  return value;
}
