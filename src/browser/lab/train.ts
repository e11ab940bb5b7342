/**
 * The lab's training run, in its Web Worker (./worker.ts): SmallNet (Table 3) trained on a data set
 * the page supplies, with the paper's SGD (Nesterov momentum, 0.9 unless asked otherwise; weight
 * decay 1e-4), one step per batch. DOM-free: it needs only the library.
 *
 * A TrainSession holds one network, its optimizer and its data. `run` steps it in an async loop
 * that yields to the worker's event loop between steps, so the page's pause, resume and stop
 * messages arrive while it trains. After each step it reports what the page draws:
 *
 *   loss, batch error, FReLU's b per layer      the curves
 *   per activation layer: mean and variance of its output, and ‖∂loss/∂output‖₂
 *                                               the initialization analysis (view 2), measured live
 *   the first conv layer's weights               its filters as images
 *
 * and every `testEvery` steps (and after the last) a test pass over the held-out images: test loss
 * and error, every image's predicted class and the confusion matrix. `exportWeights` writes the
 * state dict as safetensors under PyTorch's names (as `gradlab train` writes model.safetensors), and
 * `TrainSession.fromWeights` builds a session from such a file, ready for a test pass.
 */
import * as g from '../index.js';
import { shown } from '../../util/format.js';
import { confusionMatrix, errorRate, predictions, CIFAR10_CLASSES } from './train-metrics.js';
import { forwardKeeping, isActivation, layerStats } from './train-layers.js';

export interface TrainOptions {
  model?: 'smallnet';
  activation?: g.models.Activation;
  bn?: boolean;
  dataset?: 'synthetic' | 'cifar10';
  steps?: number;
  batchSize?: number;
  seed?: number;
  /** Learning rate (default 0.01: BN + FReLU at 0.1 can diverge, README "What gradlab finds"). */
  lr?: number;
  /** Nesterov momentum (default 0.9, the paper's). */
  momentum?: number;
  /** The gpu.js mode (default 'auto': WebGL2 on a hardware GPU, webasm on a software renderer). */
  mode?: g.GpuMode | 'auto';
  /** Threads for the webasm mode's SIMD kernels (cross-origin-isolated pages only; default: the cores, at most 4). */
  threads?: number;
  /** Images of the synthetic training set (default: enough for the steps, at most 1024). */
  syntheticCount?: number;
  /** Held-out images of each test pass (default 100). */
  testCount?: number;
  /** A test pass every this many steps (default 10), and one after the last step. */
  testEvery?: number;
}

/** What the page needs once per run: names, and the held-out images it shows. */
export interface RunSetup {
  /** The activation layers' paths in the network ('features.2', …), in order. */
  layers: string[];
  /** The FReLU layers' paths (empty for other activations). */
  freluLayers: string[];
  classNames: string[];
  /** The first test images (CIFAR bytes: 3 planes of 32×32) and their true classes, for the grid. */
  gridImages: Uint8Array;
  gridLabels: number[];
  testCount: number;
  options: ResolvedOptions;
}

export interface StepReport {
  step: number;
  loss: number;
  /** The fraction of the batch labelled wrong (by the network before this step's update). */
  error: number;
  /** FReLU's b of each FReLU layer after the step (empty for other activations). */
  b: number[];
  /** Per activation layer (RunSetup.layers): its output's mean and variance over the batch, and ‖∂loss/∂output‖₂. */
  activationMean: number[];
  activationVar: number[];
  gradNorm: number[];
  /** The first conv layer's weights [O, C, KH, KW], after the step. */
  filters: { shape: number[]; values: Float32Array };
  /** The step itself (forward, backward, update), and the measuring of the activations after it. */
  ms: number;
  /** The batch's images over the step's time (the first step also compiles the kernels). */
  imagesPerSecond: number;
  measureMs: number;
  liveTextures: number;
}

export interface TestReport {
  /** The steps trained before this pass. */
  step: number;
  loss: number;
  error: number;
  /** Each test image's predicted class. */
  predicted: number[];
  /** counts[true][predicted]; sums to the number of test images. */
  confusion: number[][];
  ms: number;
}

export interface TrainResult {
  losses: number[];
  errors: number[];
  /** FReLU b per layer per step: b[step][layer]. */
  b: number[][];
  tests: TestReport[];
  /** Images per second over the steps after the first (the first compiles the kernels). */
  imagesPerSecond: number;
  stepMs: number[];
  liveTextures: number[];
  info: g.GpuInfo;
  /** Whether the run was stopped before its last step. */
  stopped: boolean;
  options: ResolvedOptions;
}

export type ResolvedOptions = Required<Omit<TrainOptions, 'syntheticCount' | 'threads'>> & { images: number };

/** The official files' bytes, as the page read them (data_batch_*.bin, and test_batch.bin when there). */
export interface CifarParts {
  parts: { source: string; bytes: Uint8Array }[];
}

/** What the page sets between steps. */
export interface RunControl {
  paused: boolean;
  stopped: boolean;
}

/** Test images shown in the page's grid. */
const GRID = 16;

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`lab.train: ${name} must be a whole number from ${min} to ${max}; got ${shown(value)}`);
  return value;
}

function checkNumber(name: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !(value >= min && value <= max)) throw new Error(`lab.train: ${name} must be a number from ${min} to ${max}; got ${shown(value)}`);
  return value;
}

/** The options with their defaults, checked. */
export function resolveOptions(options: TrainOptions): ResolvedOptions {
  const model = options.model ?? 'smallnet';
  if (model !== 'smallnet') throw new Error(`lab.train: model must be 'smallnet'; got ${shown(model)}`);
  const activation = options.activation ?? 'frelu';
  if (!g.models.ACTIVATIONS.includes(activation)) throw new Error(`lab.train: activation must be one of ${g.models.ACTIVATIONS.join(', ')}; got ${shown(activation)}`);
  const dataset = options.dataset ?? 'synthetic';
  if (dataset !== 'synthetic' && dataset !== 'cifar10') throw new Error(`lab.train: dataset must be 'synthetic' or 'cifar10'; got ${shown(dataset)}`);
  return {
    model,
    activation,
    bn: options.bn ?? true,
    dataset,
    steps: checkInt('steps', options.steps ?? 10, 0, 100000),
    batchSize: checkInt('batchSize', options.batchSize ?? 16, 1, 512),
    seed: checkInt('seed', options.seed ?? 1, 0, 2 ** 31),
    lr: checkNumber('lr', options.lr ?? 0.01, 0, 10),
    momentum: checkNumber('momentum', options.momentum ?? 0.9, 0, 0.999),
    mode: options.mode ?? 'auto',
    testCount: checkInt('testCount', options.testCount ?? 100, 1, 10000),
    testEvery: checkInt('testEvery', options.testEvery ?? 10, 1, 100000),
    images: 0,
  };
}

/** One network in training, its data and its optimizer (see the module comment). */
export class TrainSession {
  readonly options: ResolvedOptions;
  readonly setup: RunSetup;
  step = 0;
  private readonly net: g.models.SmallNet;
  private readonly frelus: g.nn.FReLU[];
  private readonly firstConv: g.nn.Conv2d;
  private readonly optimizer: g.optim.SGD;
  private readonly loader: g.data.DataLoader;
  private readonly testLoader: g.data.DataLoader;
  private readonly testLabels: Uint8Array;
  private readonly classes: number;
  private batches: Iterator<g.data.Batch> | null = null;
  private epoch = 0;

  constructor(options: TrainOptions, cifar: CifarParts | null) {
    const o = resolveOptions(options);
    g.setGpuMode(o.mode);
    g.setBackend('gpu');
    const { train, test } = dataSets(o, options.syntheticCount ?? Math.min(1024, Math.max(1, o.steps) * o.batchSize), cifar);
    if (train.length < o.batchSize) throw new Error(`lab.train: batchSize ${o.batchSize} is more than the ${train.length} training images; lower it or use more images`);
    this.options = { ...o, images: train.length };
    this.classes = train.classes;
    this.net = g.models.smallNet({ activation: o.activation, batchNorm: o.bn, classes: train.classes, seed: o.seed });
    this.net.train();
    const modules = this.net.namedModules();
    this.frelus = modules.flatMap(([, m]) => (m instanceof g.nn.FReLU ? [m] : []));
    const conv = modules.find(([, m]) => m instanceof g.nn.Conv2d)?.[1];
    if (!(conv instanceof g.nn.Conv2d)) throw new Error('lab.train: SmallNet has no conv layer');
    this.firstConv = conv;
    this.optimizer = new g.optim.SGD(this.net.namedParameters(), { lr: o.lr, momentum: o.momentum, nesterov: o.momentum > 0, weightDecay: 1e-4 });
    const transform = g.data.cifarTransform('cifar10', { augment: false });
    this.loader = new g.data.DataLoader(train, { batchSize: o.batchSize, shuffle: true, seed: o.seed, dropLast: true, transform });
    this.testLoader = new g.data.DataLoader(test, { batchSize: 50, shuffle: false, transform });
    this.testLabels = test.labels;
    const size = 3 * 32 * 32;
    const shown = Math.min(GRID, test.length);
    this.setup = {
      layers: modules.filter(([, m]) => isActivation(m)).map(([path]) => path),
      freluLayers: modules.filter(([, m]) => m instanceof g.nn.FReLU).map(([path]) => path),
      classNames: o.dataset === 'cifar10' ? [...CIFAR10_CLASSES] : Array.from({ length: train.classes }, (_, k) => `class ${k}`),
      gridImages: test.images.slice(0, shown * size),
      gridLabels: Array.from(test.labels.subarray(0, shown)),
      testCount: test.length,
      options: this.options,
    };
  }

  /** The next training batch (the loader's epochs, one after another). */
  private nextBatch(): g.data.Batch {
    for (;;) {
      this.batches ??= this.loader.batches(this.epoch)[Symbol.iterator]();
      const next = this.batches.next();
      if (!next.done) return next.value;
      this.batches = null;
      this.epoch++;
    }
  }

  /** One SGD step, and what it measured (see StepReport). */
  trainStep(): StepReport {
    const batch = this.nextBatch();
    const t0 = performance.now();
    const { loss, scores, stats, t1 } = g.tidy(() => {
      this.optimizer.zeroGrad();
      const kept: g.Tensor[] = [];
      const logits = forwardKeeping(this.net, batch.x, kept);
      const l = g.nn.functional.crossEntropy(logits, batch.y);
      l.backward();
      this.optimizer.step();
      const lossValue = l.item();
      const stepDone = performance.now();
      const measured = kept.map(layerStats);
      // A retained gradient outlives tidy (as a parameter's does): free it, or each step leaks one per layer.
      for (const a of kept) {
        a.grad?.dispose();
        a.grad = null;
      }
      return { loss: lossValue, scores: logits.toArray(), stats: measured, t1: stepDone };
    });
    const labels = batch.labels;
    batch.x.dispose();
    batch.y.dispose();
    this.step++;
    return {
      step: this.step,
      loss,
      error: errorRate(predictions(scores, this.classes), labels),
      b: this.frelus.map((f) => f.b.item()),
      activationMean: stats.map((st) => st.mean),
      activationVar: stats.map((st) => st.variance),
      gradNorm: stats.map((st) => st.gradNorm),
      filters: { shape: [...this.firstConv.weight.shape], values: Float32Array.from(this.firstConv.weight.toArray()) },
      ms: t1 - t0,
      imagesPerSecond: labels.length / ((t1 - t0) / 1000),
      measureMs: performance.now() - t1,
      liveTextures: g.gpuInfo().liveTextures,
    };
  }

  /** A test pass over the held-out images (eval mode: BN's running statistics, no dropout). */
  testPass(): TestReport {
    const t0 = performance.now();
    this.net.eval();
    let lossSum = 0;
    const scores: number[] = [];
    try {
      g.noGrad(() => {
        for (const batch of this.testLoader.batches(0)) {
          g.tidy(() => {
            const logits = this.net.forward(batch.x);
            lossSum += g.nn.functional.crossEntropy(logits, batch.y).item() * batch.labels.length;
            scores.push(...logits.toArray());
          });
          batch.x.dispose();
          batch.y.dispose();
        }
      });
    } finally {
      this.net.train();
    }
    const predicted = predictions(scores, this.classes);
    return {
      step: this.step,
      loss: lossSum / this.testLabels.length,
      error: errorRate(predicted, this.testLabels),
      predicted: Array.from(predicted),
      confusion: confusionMatrix(predicted, this.testLabels, this.classes),
      ms: performance.now() - t0,
    };
  }

  /**
   * Trains to `options.steps`, yielding between steps; a test pass every `testEvery` steps and
   * after the last. Stops early when `control.stopped` is set; waits while `control.paused`
   * (`onHold` says when a pause has taken hold: the step in flight has finished).
   */
  async run(control: RunControl, onStep: (r: StepReport) => void, onTest: (r: TestReport) => void, onHold: (step: number) => void = () => {}): Promise<TrainResult> {
    const reports: StepReport[] = [];
    const tests: TestReport[] = [];
    const test = (): void => {
      const t = this.testPass();
      tests.push(t);
      onTest(t);
    };
    while (this.step < this.options.steps) {
      await betweenSteps(control, () => onHold(this.step));
      if (control.stopped) break;
      const r = this.trainStep();
      reports.push(r);
      onStep(r);
      if (this.step % this.options.testEvery === 0 || this.step === this.options.steps) test();
    }
    // A stopped run's network is freed already; a finished one ends with a test pass of its last weights.
    if (!control.stopped && (tests.length === 0 || tests[tests.length - 1].step !== this.step)) test();
    const timed = reports.length > 1 ? reports.slice(1) : reports;
    const seconds = timed.reduce((s, r) => s + r.ms, 0) / 1000;
    return {
      losses: reports.map((r) => r.loss),
      errors: reports.map((r) => r.error),
      b: reports.map((r) => r.b),
      tests,
      imagesPerSecond: seconds > 0 ? (this.options.batchSize * timed.length) / seconds : 0,
      stepMs: reports.map((r) => r.ms),
      liveTextures: reports.map((r) => r.liveTextures),
      info: g.gpuInfo(),
      stopped: control.stopped,
      options: this.options,
    };
  }

  /**
   * The network's state dict as safetensors bytes, under PyTorch's names and dtypes (BN's
   * num_batches_tracked as I64), with the metadata `gradlab train` writes (format pt, producer,
   * model, activation) and what fromWeights needs to rebuild the same test set.
   */
  exportWeights(): Uint8Array {
    const o = this.options;
    return g.tidy(() =>
      g.io.encodeStateDict(this.net.stateDict(), {
        format: 'pt',
        producer: 'gradlab',
        model: o.model,
        activation: o.activation,
        bn: String(o.bn),
        dataset: o.dataset,
        seed: String(o.seed),
        test_count: String(o.testCount),
        step: String(this.step),
      }),
    );
  }

  /**
   * A session whose network holds the weights of a safetensors file, ready for a test pass. The file's metadata
   * names the activation, data set, seed and test size (gradlab's exports carry them); `fallback`
   * (the page's settings) fills in what a file does not say. BN is on when the file has BN's running means.
   */
  static fromWeights(bytes: Uint8Array, fallback: TrainOptions, cifar: CifarParts | null): TrainSession {
    const { tensors, metadata } = g.io.decodeSafetensors(bytes, 'the weights file');
    const activation = metadata.activation ?? fallback.activation;
    const known = g.models.ACTIVATIONS.find((a) => a === activation);
    if (known === undefined) throw new Error(`lab.loadWeights: the file's activation (metadata 'activation') is ${shown(activation)}; SmallNet's are ${g.models.ACTIVATIONS.join(', ')}`);
    const whole = (key: string): number | undefined => {
      const text = metadata[key];
      if (text === undefined) return undefined;
      if (!/^\d+$/.test(text)) throw new Error(`lab.loadWeights: the file's metadata '${key}' is ${shown(text)}, not a whole number`);
      return Number(text);
    };
    const session = new TrainSession(
      {
        ...fallback,
        activation: known,
        bn: Object.keys(tensors).some((k) => k.endsWith('running_mean')),
        dataset: metadata.dataset === 'cifar10' || metadata.dataset === 'synthetic' ? metadata.dataset : fallback.dataset,
        seed: whole('seed') ?? fallback.seed,
        testCount: whole('test_count') ?? fallback.testCount,
        steps: 0,
      },
      cifar,
    );
    session.step = whole('step') ?? 0; // the steps the weights were trained for
    const loaded = g.io.tensorsOf(tensors, { backend: 'gpu' });
    try {
      session.net.loadStateDict(loaded);
    } catch (e) {
      session.dispose();
      throw new Error(`lab.loadWeights: the file does not fit SmallNet (${known}${session.options.bn ? ', BN' : ''}): ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      for (const t of Object.values(loaded)) t.dispose();
    }
    return session;
  }

  dispose(): void {
    this.net.dispose();
  }
}

/**
 * Lets the worker's messages in; then, while paused, waits (polling: a pause lasts seconds, not
 * microseconds), calling `onHold` once when the wait begins.
 */
async function betweenSteps(control: RunControl, onHold: () => void): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  if (!control.paused || control.stopped) return;
  onHold();
  while (control.paused && !control.stopped) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** The training set and the held-out test set (see TrainOptions). */
function dataSets(o: ResolvedOptions, syntheticCount: number, cifar: CifarParts | null): { train: g.data.ImageDataset; test: g.data.ImageDataset } {
  if (o.dataset === 'synthetic') {
    const set = (split: 'train' | 'test', count: number): g.data.ImageDataset => {
      const r = g.data.syntheticCifar({ dataset: 'cifar10', split, count, seed: o.seed });
      return { length: count, imageShape: g.data.CIFAR_IMAGE_SHAPE, images: r.images, labels: r.labels, classes: 10 };
    };
    return { train: set('train', syntheticCount), test: set('test', o.testCount) };
  }
  const parts = cifar?.parts ?? [];
  const trainParts = parts.filter((p) => p.source !== 'test_batch.bin');
  const testParts = parts.filter((p) => p.source === 'test_batch.bin');
  if (trainParts.length === 0) {
    throw new Error("lab.train: dataset 'cifar10' needs the official binary files: pick or drop data_batch_*.bin in the page, or run `gradlab download cifar10` so that `npm run lab` serves ./data");
  }
  const train = g.data.cifarFromBytes({ dataset: 'cifar10', split: 'train', parts: trainParts });
  if (testParts.length > 0) {
    const test = g.data.cifarFromBytes({ dataset: 'cifar10', split: 'test', parts: testParts });
    return { train, test: g.data.subset(test, Math.min(o.testCount, test.length)) };
  }
  // No test file: the last testCount training images are held out.
  if (train.length <= o.testCount) throw new Error(`lab.train: ${train.length} training images leave none to train on after holding out ${o.testCount} for the test passes (no test_batch.bin given); lower testCount`);
  const cut = train.length - o.testCount;
  const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
  return { train: g.data.subset(train, range(0, cut)), test: g.data.subset(train, range(cut, train.length)) };
}
