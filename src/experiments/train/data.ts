/**
 * The images of a run: CIFAR-10/100 from the official files (or explicit ones), or gradlab's
 * synthetic set, cut to the run's limits.
 */
import type { CifarName, ImageDataset } from '../../data/cifar.js';
import { loadCifar } from '../../node/cifar-files.js';
import { syntheticCifar } from '../../data/synthetic.js';
import { SYNTHETIC_SIZES, type TrainConfig } from './config.js';

export interface RunData {
  train: ImageDataset;
  test: ImageDataset;
  classes: number;
  /** Whose channel statistics normalise the images. */
  normalization: CifarName;
}

export function loadData(config: TrainConfig): RunData {
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
