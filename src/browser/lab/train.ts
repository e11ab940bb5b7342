/**
 * lab.train's work, run in the lab's Web Worker (./worker.ts): SmallNet (Table 3) trained for a
 * few steps on a data set the page supplies, with the paper's SGD (Nesterov momentum 0.9, weight
 * decay 1e-4), one step per batch. It reports after every step (loss, FReLU's b per layer, time),
 * so the page can draw while it runs. DOM-free: it needs only the library.
 */
import * as g from '../index.js';

export interface TrainOptions {
  model?: 'smallnet';
  activation?: g.models.Activation;
  bn?: boolean;
  dataset?: 'synthetic' | 'cifar10';
  steps?: number;
  batchSize?: number;
  seed?: number;
  lr?: number;
  /** The gpu.js mode (default 'auto': WebGL2 on a hardware GPU, webasm on a software renderer). */
  mode?: g.GpuMode | 'auto';
  /** Threads for the webasm mode's SIMD kernels (cross-origin-isolated pages only; default: the cores, at most 4). */
  threads?: number;
  /** Images of the synthetic set (default: enough for the steps, at most 1024). */
  syntheticCount?: number;
}

export interface StepReport {
  step: number;
  loss: number;
  /** FReLU's b of each FReLU layer after the step (empty for other activations). */
  b: number[];
  ms: number;
  liveTextures: number;
}

export interface TrainResult {
  losses: number[];
  /** FReLU b per layer per step: b[step][layer]. */
  b: number[][];
  /** Images per second over the steps after the first (the first compiles the kernels). */
  imagesPerSecond: number;
  stepMs: number[];
  liveTextures: number[];
  info: g.GpuInfo;
  options: Required<Omit<TrainOptions, 'syntheticCount' | 'lr' | 'threads'>> & { lr: number; images: number };
}

/** The official files' bytes, as the page read them. */
export interface CifarParts {
  parts: { source: string; bytes: Uint8Array }[];
}

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`lab.train: ${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}`);
  return value;
}

/** Trains as asked, calling `onStep` after each step. */
export function train(options: TrainOptions, cifar: CifarParts | null, onStep: (r: StepReport) => void): TrainResult {
  const model = options.model ?? 'smallnet';
  if (model !== 'smallnet') throw new Error(`lab.train: model must be 'smallnet'; got ${JSON.stringify(model)}`);
  const activation = options.activation ?? 'frelu';
  const bn = options.bn ?? true;
  const dataset = options.dataset ?? 'synthetic';
  if (dataset !== 'synthetic' && dataset !== 'cifar10') throw new Error(`lab.train: dataset must be 'synthetic' or 'cifar10'; got ${JSON.stringify(dataset)}`);
  const steps = checkInt('steps', options.steps ?? 10, 1, 100000);
  const batchSize = checkInt('batchSize', options.batchSize ?? 16, 1, 512);
  const seed = checkInt('seed', options.seed ?? 1, 0, 2 ** 31);
  const lr = options.lr ?? (bn ? 0.1 : 0.01);
  const mode = options.mode ?? 'auto';

  g.setGpuMode(mode);
  g.setBackend('gpu');
  const data =
    dataset === 'synthetic'
      ? syntheticSet(options.syntheticCount ?? Math.min(1024, steps * batchSize), seed)
      : g.data.cifarFromBytes({ dataset: 'cifar10', split: 'train', parts: cifarParts(cifar) });
  const net = g.models.smallNet({ activation, batchNorm: bn, classes: data.classes, seed });
  net.train();
  const frelus = net.namedModules().flatMap(([, m]) => (m instanceof g.nn.FReLU ? [m] : []));
  const optimizer = new g.optim.SGD(net.namedParameters(), { lr, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
  const loader = new g.data.DataLoader(data, { batchSize, shuffle: true, seed, dropLast: true, transform: g.data.cifarTransform('cifar10', { augment: false }) });

  const losses: number[] = [];
  const b: number[][] = [];
  const stepMs: number[] = [];
  const liveTextures: number[] = [];
  for (let epoch = 0; losses.length < steps; epoch++) {
    for (const batch of loader.batches(epoch)) {
      if (losses.length >= steps) break;
      const t0 = performance.now();
      const loss = g.tidy(() => {
        optimizer.zeroGrad();
        const l = g.nn.functional.crossEntropy(net.forward(batch.x), batch.y);
        l.backward();
        optimizer.step();
        return l.item();
      });
      batch.x.dispose();
      batch.y.dispose();
      const bs = frelus.map((f) => f.b.item());
      const ms = performance.now() - t0;
      const live = g.gpuInfo().liveTextures;
      losses.push(loss);
      b.push(bs);
      stepMs.push(ms);
      liveTextures.push(live);
      onStep({ step: losses.length, loss, b: bs, ms, liveTextures: live });
    }
  }
  net.dispose();
  const timed = stepMs.length > 1 ? stepMs.slice(1) : stepMs;
  const imagesPerSecond = (batchSize * timed.length) / (timed.reduce((s, t) => s + t, 0) / 1000);
  return {
    losses,
    b,
    imagesPerSecond,
    stepMs,
    liveTextures,
    info: g.gpuInfo(),
    options: { model, activation, bn, dataset, steps, batchSize, seed, mode, lr, images: data.length },
  };
}

function syntheticSet(count: number, seed: number): g.data.ImageDataset {
  const records = g.data.syntheticCifar({ dataset: 'cifar10', split: 'train', count, seed });
  return { length: count, imageShape: g.data.CIFAR_IMAGE_SHAPE, images: records.images, labels: records.labels, classes: 10 };
}

function cifarParts(cifar: CifarParts | null): { source: string; bytes: Uint8Array }[] {
  if (cifar === null || cifar.parts.length === 0) {
    throw new Error("lab.train: dataset 'cifar10' needs the official binary files: pick or drop data_batch_*.bin in the page, or run `gradlab download cifar10` so that `npm run lab` serves ./data");
  }
  return cifar.parts;
}
