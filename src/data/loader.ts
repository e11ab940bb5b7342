/**
 * DataLoader: an image dataset as a sequence of batches, shuffled and augmented reproducibly.
 *
 *   const loader = new DataLoader(train, { batchSize: 128, shuffle: true, seed: 1,
 *                                          transform: cifarTransform('cifar10', { augment: true }) });
 *   for (let epoch = 0; epoch < 200; epoch++) {
 *     for (const { x, y } of loader) { … }   // each pass is the next epoch: a new permutation
 *   }
 *
 * Each batch: `x` a float32 tensor [B, C, H, W] (on `backend`, default the current default
 * backend), `y` a float32 tensor [B] of class indices (the form crossEntropy takes), and the same
 * labels as an Int32Array `labels`, with the dataset `indices` they came from. The caller owns the
 * tensors (dispose them, or build the step inside `tidy`). Without a transform, x holds the raw
 * pixel values 0..255.
 *
 * Randomness, derived from (seed, epoch) only, never from what ran before:
 *
 *   order of epoch e          = Fisher–Yates permutation from stream `${seed}:shuffle:${e}`
 *   augmentation of batch b   = draws from stream `${seed}:augment:${e}:${b}`
 *
 * So resuming a run at epoch e (`setEpoch(e)`, or `batches(e, { from: b })` mid-epoch) replays
 * exactly the batches an uninterrupted run would have seen; a checkpoint needs only `state()`.
 *
 * Iterating (`for … of loader`) uses the current epoch and advances it by one when the pass
 * begins. `batches(epoch)` yields an epoch's batches without touching that counter.
 * The last partial batch is kept (CIFAR-10 train at 128: 390 full batches + one of 80 = 391),
 * unless `dropLast`.
 */
import type { Tensor } from '../tensor/tensor.js';
import { fromTyped } from '../tensor/create.js';
import type { BackendName } from '../tensor/backends/backend.js';
import { permutation, randomStream } from '../tensor/random.js';
import type { ImageDataset } from './cifar.js';
import type { Transform } from './transforms.js';
import { checkKeys } from '../util/options.js';
import { shown } from '../util/format.js';

/** Options of the DataLoader: batchSize is required. */
export interface DataLoaderOptions {
  batchSize: number;
  /** A new permutation every epoch. Default false (dataset order). */
  shuffle?: boolean;
  /** Seeds the shuffle and the augmentation. Default 0. */
  seed?: number | string;
  /** Applied to every image (CHW floats, 0–255) before batching, e.g. cifarTransform(…). */
  transform?: Transform;
  /** Drop the last batch when it is smaller than batchSize. Default false (kept, as in the recipe). */
  dropLast?: boolean;
  /** Where x and y are created. Default: the current default backend, when the batch is made. */
  backend?: BackendName;
  /** The epoch the first pass uses. Default 0. */
  epoch?: number;
}

/** One batch: images x, labels y (and as Int32Array), their dataset indices, epoch and batch number. */
export interface Batch {
  /** float32 [B, C, H, W]. */
  x: Tensor;
  /** float32 [B]: class indices. */
  y: Tensor;
  labels: Int32Array;
  /** Dataset index of each image of the batch. */
  indices: Int32Array;
  epoch: number;
  /** Batch number within the epoch, from 0. */
  index: number;
}

/** What a checkpoint stores to resume the loader exactly. */
export interface DataLoaderState {
  seed: number | string;
  epoch: number;
}

/** Batches of an image dataset, shuffled and augmented reproducibly (see the module comment). */
export class DataLoader implements Iterable<Batch> {
  readonly dataset: ImageDataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number | string;
  readonly dropLast: boolean;
  readonly transform: Transform | undefined;
  readonly backend: BackendName | undefined;
  #epoch: number;

  constructor(dataset: ImageDataset, options: DataLoaderOptions) {
    const [c, h, w] = dataset?.imageShape ?? [];
    if (!dataset || dataset.images?.length !== dataset.length * c * h * w || dataset.labels?.length !== dataset.length) {
      throw new Error(`DataLoader: dataset must hold length × C×H×W image bytes and length labels (see loadCifar)`);
    }
    checkKeys('DataLoader', options, ['batchSize', 'shuffle', 'seed', 'transform', 'dropLast', 'backend', 'epoch']);
    const { batchSize } = options ?? {};
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`DataLoader: batchSize must be a positive integer; got ${batchSize}`);
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.seed = options.seed ?? 0;
    this.dropLast = options.dropLast ?? false;
    this.transform = options.transform;
    this.backend = options.backend;
    this.#epoch = checkEpoch(options.epoch ?? 0);
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The epoch the next `for … of` pass will use. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Makes the next pass use epoch `e` (to resume a run). */
  setEpoch(e: number): void {
    this.#epoch = checkEpoch(e);
  }

  /** The seed and the next epoch: what a checkpoint stores to resume exactly. */
  state(): DataLoaderState {
    return { seed: this.seed, epoch: this.#epoch };
  }

  /** Restores a `state()`; the seed must be the loader's own. */
  restore(state: DataLoaderState): void {
    if (String(state?.seed) !== String(this.seed)) {
      throw new Error(`DataLoader.restore: the state was saved with seed ${shown(state?.seed)}; this loader has seed ${shown(this.seed)}`);
    }
    this.setEpoch(state.epoch);
  }

  /** The order in which epoch `e` visits the dataset. */
  order(epoch: number): Int32Array {
    const n = this.dataset.length;
    if (!this.shuffle) return Int32Array.from({ length: n }, (_, i) => i);
    return permutation(n, randomStream(`${this.seed}:shuffle:${checkEpoch(epoch)}`));
  }

  /** One pass over the data: the current epoch's batches; the epoch then advances by one. */
  [Symbol.iterator](): Iterator<Batch> {
    const epoch = this.#epoch;
    this.#epoch = epoch + 1;
    return this.batches(epoch);
  }

  /** The batches of one epoch, starting at batch `from` (default 0). Does not change `epoch`. */
  *batches(epoch: number, options: { from?: number } = {}): Generator<Batch> {
    checkKeys('DataLoader.batches', options, ['from']);
    const order = this.order(epoch);
    const [c, h, w] = this.dataset.imageShape;
    const size = c * h * w;
    for (let b = options.from ?? 0; b < this.length; b++) {
      const indices = order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length));
      const rng = randomStream(`${this.seed}:augment:${epoch}:${b}`);
      const x = new Float32Array(indices.length * size);
      const labels = new Int32Array(indices.length);
      indices.forEach((idx, i) => {
        let image: Float32Array = Float32Array.from(this.dataset.images.subarray(idx * size, (idx + 1) * size));
        if (this.transform) {
          image = this.transform(image, { shape: this.dataset.imageShape, rng });
          if (image.length !== size) throw new Error(`DataLoader: the transform returned ${image.length} values for a ${c}×${h}×${w} image`);
        }
        x.set(image, i * size);
        labels[i] = this.dataset.labels[idx];
      });
      const backend = this.backend === undefined ? {} : { backend: this.backend };
      yield {
        x: fromTyped(x, [indices.length, c, h, w], backend),
        y: fromTyped(Float32Array.from(labels), [indices.length], backend),
        labels,
        indices: Int32Array.from(indices),
        epoch,
        index: b,
      };
    }
  }
}

function checkEpoch(e: number): number {
  if (!Number.isInteger(e) || e < 0) throw new Error(`DataLoader: epoch must be a non-negative integer; got ${e}`);
  return e;
}
