/**
 * The training checkpoint: what `train` saves after every epoch (model, optimiser, schedule, random
 * streams, metrics, epoch) and how a resumed run reads it back. The bytes on disk are the
 * checkpoint-file.ts container; this file says what the value inside must be.
 *
 * Reading checks everything before anything is restored: the format name and version, then every
 * field's type, and every stored tensor's byte size against its shape and dtype. A damaged or
 * foreign file is an error that names the file and the field (e.g. `runs/a/checkpoint.gckpt:
 * checkpoint field 'scheduler.gamma' must be a number; got "0.1"`), never a cast that fails later.
 */
import { tidy, type Tensor } from '../../tensor/tensor.js';
import { fromTyped } from '../../tensor/create.js';
import type { DType, TypedArray } from '../../tensor/dtype.js';
import type { RandomState } from '../../tensor/random.js';
import { GPU_MODES } from '../../tensor/backends/gpu.js';
import type { Module } from '../../nn/module.js';
import type { DataLoader, DataLoaderState } from '../../data/loader.js';
import type { SGD, SGDState } from '../../optim/sgd.js';
import type { MultiStepLR, MultiStepLRState } from '../../optim/lr-scheduler.js';
import { ACTIVATIONS, BLOCKS, DATASETS, MODELS, RESUMABLE_CHANGES, type TrainConfig } from './config.js';
import type { EpochRecord } from './records.js';
import { loadCheckpoint, type CheckpointValue } from './checkpoint-file.js';
import { shown } from '../../util/format.js';

export const CHECKPOINT_FILE = 'checkpoint.gckpt';
export const CHECKPOINT_FORMAT = 'gradlab-train-checkpoint';
export const CHECKPOINT_VERSION = 1;

/** A tensor as a checkpoint stores it: shape, dtype and the flat values (length = product of the shape). */
export interface StoredTensor {
  shape: number[];
  dtype: DType;
  values: TypedArray;
}

/** Everything a checkpoint holds, as `readTrainCheckpoint` returns it (every field checked). */
export interface TrainCheckpoint {
  format: typeof CHECKPOINT_FORMAT;
  version: typeof CHECKPOINT_VERSION;
  /** The last completed epoch (1-based). */
  epoch: number;
  config: TrainConfig;
  model: Record<string, StoredTensor>;
  optimizer: SGDState;
  scheduler: MultiStepLRState;
  rng: { trainLoader: DataLoaderState; dropout: Record<string, RandomState> };
  /** One record per completed epoch. */
  metrics: EpochRecord[];
}

// ── writing ──

/** The checkpoint after `epoch`: host copies of every tensor and state, ready for saveCheckpoint. */
export function checkpointOf(config: TrainConfig, epoch: number, model: Module, optimizer: SGD, scheduler: MultiStepLR, loader: DataLoader, metrics: EpochRecord[]): CheckpointValue {
  const modelState: Record<string, { shape: number[]; dtype: string; values: TypedArray }> = {};
  tidy(() => {
    for (const [name, t] of Object.entries(model.stateDict())) modelState[name] = { shape: [...t.shape], dtype: t.dtype, values: t.toArray() };
  });
  return {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    epoch,
    config: { ...config },
    model: modelState,
    optimizer: { ...optimizer.stateDict() },
    scheduler: { ...scheduler.stateDict() },
    rng: { trainLoader: { ...loader.state() }, dropout: model.randomStates() },
    metrics: metrics.map((r) => ({ ...r })),
  };
}

// ── reading ──

/** Reads and checks a training checkpoint; see the file's comment. */
export function readTrainCheckpoint(path: string): TrainCheckpoint {
  return checkTrainCheckpoint(loadCheckpoint(path), path);
}

/** Checks a decoded checkpoint value field by field; `source` names the file in errors. */
export function checkTrainCheckpoint(value: CheckpointValue, source: string): TrainCheckpoint {
  const r = new FieldReader(source);
  const top = r.record(value, '(the whole value)');
  if (top.format !== CHECKPOINT_FORMAT) {
    throw new Error(`${source}: not a gradlab training checkpoint (its format is ${describe(top.format)}, not '${CHECKPOINT_FORMAT}')`);
  }
  if (top.version !== CHECKPOINT_VERSION) {
    throw new Error(`${source}: training checkpoint version ${describe(top.version)} is not one this gradlab reads (version ${CHECKPOINT_VERSION})`);
  }
  const epoch = r.integer(top.epoch, 'epoch', 1);
  const metrics = r.array(top.metrics, 'metrics').map((m, i) => readEpochRecord(r, m, `metrics[${i}]`));
  if (metrics.length !== epoch) throw new Error(`${source}: checkpoint field 'metrics' holds ${metrics.length} epoch records; field 'epoch' says ${epoch} epochs ran`);
  const rng = r.record(top.rng, 'rng');
  const loader = r.record(rng.trainLoader, 'rng.trainLoader');
  return {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    epoch,
    config: readConfig(r, top.config),
    model: r.entries(top.model, 'model', (v, field) => readTensor(r, v, field)),
    optimizer: readSgdState(r, top.optimizer),
    scheduler: readSchedulerState(r, top.scheduler),
    rng: {
      trainLoader: { seed: r.numberOrString(loader.seed, 'rng.trainLoader.seed'), epoch: r.integer(loader.epoch, 'rng.trainLoader.epoch', 0) },
      dropout: r.entries(rng.dropout, 'rng.dropout', (v, field) => readRandomState(r, v, field)),
    },
    metrics,
  };
}

function readConfig(r: FieldReader, value: unknown): TrainConfig {
  const c = r.record(value, 'config');
  const files = (key: 'trainFiles' | 'testFiles'): string[] | null =>
    r.nullable(c[key], `config.${key}`, (x) => r.array(x, `config.${key}`).map((s, i) => r.string(s, `config.${key}[${i}]`)));
  const limit = (key: 'limitTrain' | 'limitTest'): number | null => r.nullable(c[key], `config.${key}`, (x) => r.integer(x, `config.${key}`, 1));
  return {
    model: r.oneOf(c.model, 'config.model', MODELS),
    activation: r.oneOf(c.activation, 'config.activation', ACTIVATIONS),
    batchNorm: r.boolean(c.batchNorm, 'config.batchNorm'),
    block: r.oneOf(c.block, 'config.block', BLOCKS),
    perChannel: r.boolean(c.perChannel, 'config.perChannel'),
    // Absent from checkpoints written before these post-paper options existed: the paper's values.
    freluBGradScale: c.freluBGradScale === undefined ? 1 : r.number(c.freluBGradScale, 'config.freluBGradScale'),
    freluBKeepNonPositive: c.freluBKeepNonPositive === undefined ? false : r.boolean(c.freluBKeepNonPositive, 'config.freluBKeepNonPositive'),
    dataset: r.oneOf(c.dataset, 'config.dataset', DATASETS),
    dataDir: r.nullable(c.dataDir, 'config.dataDir', (x) => r.string(x, 'config.dataDir')),
    trainFiles: files('trainFiles'),
    testFiles: files('testFiles'),
    epochs: r.integer(c.epochs, 'config.epochs', 1),
    lr: r.number(c.lr, 'config.lr'),
    milestones: r.array(c.milestones, 'config.milestones').map((m, i) => r.integer(m, `config.milestones[${i}]`, 1)),
    gamma: r.number(c.gamma, 'config.gamma'),
    batchSize: r.integer(c.batchSize, 'config.batchSize', 1),
    momentum: r.number(c.momentum, 'config.momentum'),
    nesterov: r.boolean(c.nesterov, 'config.nesterov'),
    weightDecay: r.number(c.weightDecay, 'config.weightDecay'),
    noDecayBnAndB: r.boolean(c.noDecayBnAndB, 'config.noDecayBnAndB'),
    augment: r.boolean(c.augment, 'config.augment'),
    seed: r.integer(c.seed, 'config.seed', 0),
    backend: r.oneOf(c.backend, 'config.backend', ['reference', 'gpu'] as const),
    gpuMode: r.oneOf(c.gpuMode, 'config.gpuMode', ['auto', ...GPU_MODES] as const),
    outDir: r.string(c.outDir, 'config.outDir'),
    limitTrain: limit('limitTrain'),
    limitTest: limit('limitTest'),
  };
}

/** A stored tensor: its values must be the dtype's array type and exactly as many bytes as the shape needs. */
function readTensor(r: FieldReader, value: unknown, field: string): StoredTensor {
  const t = r.record(value, field);
  const shape = r.array(t.shape, `${field}.shape`).map((d, i) => r.integer(d, `${field}.shape[${i}]`, 0));
  const dtype = r.oneOf(t.dtype, `${field}.dtype`, ['float32', 'float64'] as const);
  const values = r.floats(t.values, `${field}.values`);
  const Expected = dtype === 'float64' ? Float64Array : Float32Array;
  const size = shape.reduce((n, d) => n * d, 1);
  if (!(values instanceof Expected) || values.length !== size) {
    r.fail(`${field}.values`, `${size * Expected.BYTES_PER_ELEMENT} bytes (shape [${shape.join(', ')}], ${dtype})`,
      `${values.byteLength} bytes (${values.length} values of a ${values.constructor.name})`);
  }
  return { shape, dtype, values };
}

function readSgdState(r: FieldReader, value: unknown): SGDState {
  const s = r.record(value, 'optimizer');
  return {
    step: r.integer(s.step, 'optimizer.step', 0),
    lr: r.number(s.lr, 'optimizer.lr'),
    momentumBuffers: r.array(s.momentumBuffers, 'optimizer.momentumBuffers').map((b, i) => r.nullable(b, `optimizer.momentumBuffers[${i}]`, (x) => r.floats(x, `optimizer.momentumBuffers[${i}]`))),
  };
}

function readSchedulerState(r: FieldReader, value: unknown): MultiStepLRState {
  const s = r.record(value, 'scheduler');
  return {
    epoch: r.integer(s.epoch, 'scheduler.epoch', 1),
    baseLr: r.number(s.baseLr, 'scheduler.baseLr'),
    milestones: r.array(s.milestones, 'scheduler.milestones').map((m, i) => r.integer(m, `scheduler.milestones[${i}]`, 1)),
    gamma: r.number(s.gamma, 'scheduler.gamma'),
  };
}

/** A seeded stream's state: seedrandom's Alea state { c, s0, s1, s2 } and the Box–Muller spare. */
function readRandomState(r: FieldReader, value: unknown, field: string): RandomState {
  const s = r.record(value, field);
  const alea = r.record(s.alea, `${field}.alea`);
  const n = (key: 'c' | 's0' | 's1' | 's2'): number => r.number(alea[key], `${field}.alea.${key}`);
  return { alea: { c: n('c'), s0: n('s0'), s1: n('s1'), s2: n('s2') }, spare: r.nullable(s.spare, `${field}.spare`, (x) => r.number(x, `${field}.spare`)) };
}

function readEpochRecord(r: FieldReader, value: unknown, field: string): EpochRecord {
  const e = r.record(value, field);
  const n = (key: Exclude<keyof EpochRecord, 'freluB' | 'freluAbsDb' | 'epoch'>): number => r.number(e[key], `${field}.${key}`);
  return {
    epoch: r.integer(e.epoch, `${field}.epoch`, 1),
    lr: n('lr'),
    trainLoss: n('trainLoss'),
    trainError: n('trainError'),
    testLoss: n('testLoss'),
    testError: n('testError'),
    imagesPerSecond: n('imagesPerSecond'),
    seconds: n('seconds'),
    freluB: r.entries(e.freluB, `${field}.freluB`, (b, f) =>
      Array.isArray(b) ? b.map((x, i) => r.number(x, `${f}[${i}]`)) : r.number(b, f)),
    ...(e.freluAbsDb === undefined ? {} : { freluAbsDb: r.entries(e.freluAbsDb, `${field}.freluAbsDb`, (v, f) => r.number(v, f)) }),
  };
}

// ── restoring ──

/** What a checkpoint restores into. */
export interface Restorable {
  model: Module;
  optimizer: SGD;
  scheduler: MultiStepLR;
  trainLoader: DataLoader;
}

/**
 * Reads the checkpoint at `path` and restores it into the run's objects; returns the last completed
 * epoch and the metrics so far. Refuses a checkpoint whose setup differs from `config` in any field
 * but RESUMABLE_CHANGES, or whose epoch is past `config.epochs`.
 */
export function restoreCheckpoint(path: string, config: TrainConfig, r: Restorable): { epoch: number; metrics: EpochRecord[] } {
  const ckpt = readTrainCheckpoint(path);
  const saved = ckpt.config;
  const changed = (Object.keys(config) as (keyof TrainConfig)[]).filter(
    (k) => !RESUMABLE_CHANGES.includes(k) && JSON.stringify(saved[k]) !== JSON.stringify(config[k]),
  );
  if (changed.length > 0) {
    throw new Error(
      `train: cannot resume ${path} with a different setup: ` +
        changed.map((k) => `${k} was ${shown(saved[k])}, now ${shown(config[k])}`).join('; ') +
        ` (only ${RESUMABLE_CHANGES.join(', ')} may change)`,
    );
  }
  const epoch = ckpt.epoch;
  const bad = nonFiniteTensors(ckpt);
  if (bad.length > 0) {
    throw new Error(
      `train: cannot resume ${path}: it holds non-finite values in ${bad.slice(0, 6).join(', ')}${bad.length > 6 ? ` and ${bad.length - 6} more` : ''}; ` +
        'training on would spread them (start afresh with --overwrite, or resume an earlier copy of the checkpoint)',
    );
  }
  if (epoch > config.epochs) throw new Error(`train: the checkpoint is after epoch ${epoch}, beyond epochs = ${config.epochs}`);
  tidy(() => {
    const state: Record<string, Tensor> = {};
    for (const [name, { shape, values }] of Object.entries(ckpt.model)) state[name] = fromTyped(values, shape, { backend: 'reference' });
    r.model.loadStateDict(state);
  });
  r.optimizer.loadStateDict(ckpt.optimizer);
  r.scheduler.loadStateDict(ckpt.scheduler);
  r.trainLoader.restore(ckpt.rng.trainLoader);
  r.model.loadRandomStates(ckpt.rng.dropout);
  return { epoch, metrics: ckpt.metrics };
}

/** The checkpoint's tensors (model parameters and buffers, momentum buffers) holding NaN or ±Infinity, each with its count. */
export function nonFiniteTensors(ckpt: TrainCheckpoint): string[] {
  const bad: string[] = [];
  const look = (name: string, v: TypedArray): void => {
    let count = 0;
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) count++;
    if (count > 0) bad.push(`${name} (${count} of ${v.length} values)`);
  };
  for (const [name, t] of Object.entries(ckpt.model)) look(name, t.values);
  ckpt.optimizer.momentumBuffers.forEach((b, i) => {
    if (b !== null) look(`optimizer.momentumBuffers[${i}]`, b);
  });
  return bad;
}

// ── checked reading of untyped values ──

/** Reads fields of a value that came from a file, checking each one's type; errors name the file and the field. */
class FieldReader {
  constructor(private readonly source: string) {}

  fail(field: string, expected: string, got: string): never {
    throw new Error(`${this.source}: checkpoint field '${field}' must be ${expected}; got ${got}`);
  }

  record(v: unknown, field: string): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) this.fail(field, 'an object', describe(v));
    return Object.fromEntries(Object.entries(v));
  }

  /** A record whose every value is read by `read` (with the field named `<field>.<key>`). */
  entries<T>(v: unknown, field: string, read: (value: unknown, field: string) => T): Record<string, T> {
    return Object.fromEntries(Object.entries(this.record(v, field)).map(([k, x]) => [k, read(x, `${field}.${k}`)]));
  }

  array(v: unknown, field: string): unknown[] {
    if (!Array.isArray(v)) this.fail(field, 'a list', describe(v));
    return v;
  }

  number(v: unknown, field: string): number {
    if (typeof v !== 'number') this.fail(field, 'a number', describe(v));
    return v;
  }

  integer(v: unknown, field: string, min: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) this.fail(field, `an integer ≥ ${min}`, describe(v));
    return v;
  }

  string(v: unknown, field: string): string {
    if (typeof v !== 'string') this.fail(field, 'a string', describe(v));
    return v;
  }

  numberOrString(v: unknown, field: string): number | string {
    if (typeof v !== 'number' && typeof v !== 'string') this.fail(field, 'a number or a string', describe(v));
    return v;
  }

  boolean(v: unknown, field: string): boolean {
    if (typeof v !== 'boolean') this.fail(field, 'true or false', describe(v));
    return v;
  }

  oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
    const found = allowed.find((a) => a === v);
    if (found === undefined) this.fail(field, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, describe(v));
    return found;
  }

  nullable<T>(v: unknown, field: string, read: (value: unknown) => T): T | null {
    return v === null ? null : read(v);
  }

  /** A Float32Array or Float64Array (the arrays a tensor's values are stored as). */
  floats(v: unknown, field: string): TypedArray {
    if (!(v instanceof Float32Array || v instanceof Float64Array)) this.fail(field, 'a Float32Array or Float64Array', describe(v));
    return v;
  }
}

/** A short description of a value for an error message. */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of ${v.byteLength} bytes`;
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
