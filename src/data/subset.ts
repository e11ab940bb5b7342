/**
 * `subset(dataset, n | indices)`: a smaller image dataset — the first n images, or the images at
 * the given indices in that order (PyTorch's torch.utils.data.Subset) — for quick experiments and
 * tests. The images and labels are copied, so the subset stands on its own.
 *
 *   const small = g.data.subset(train, 1000);            // the first 1,000 images
 *   const picked = g.data.subset(train, [5, 2, 9]);       // images 5, 2 and 9, in that order
 */
import type { ImageDataset } from './cifar.js';
import { shown } from '../util/format.js';

/** A smaller dataset: the first n images, or those at `indices` (see the module comment). */
export function subset(dataset: ImageDataset, selection: number | readonly number[]): ImageDataset {
  if (typeof dataset !== 'object' || dataset === null || !(dataset.images instanceof Uint8Array) || !(dataset.labels instanceof Uint8Array)) {
    throw new Error('subset: dataset must be an image dataset { length, imageShape, images, labels, classes } (see loadCifar)');
  }
  const n = dataset.length;
  let indices: readonly number[];
  if (typeof selection === 'number') {
    if (!Number.isInteger(selection) || selection < 0 || selection > n) {
      throw new Error(`subset: n must be an integer in [0, ${n}] (the dataset's length); got ${selection}`);
    }
    indices = Array.from({ length: selection }, (_, i) => i);
  } else if (Array.isArray(selection)) {
    indices = selection;
    indices.forEach((i, k) => {
      if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error(`subset: indices must be integers in [0, ${n}); got ${shown(i)} at position ${k}`);
    });
  } else {
    throw new Error(`subset: the second argument must be a count n or an array of indices; got ${typeof selection}`);
  }
  const [c, h, w] = dataset.imageShape;
  const size = c * h * w;
  const images = new Uint8Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  indices.forEach((i, k) => {
    images.set(dataset.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = dataset.labels[i];
  });
  return {
    length: indices.length,
    imageShape: dataset.imageShape,
    images,
    labels,
    classes: dataset.classes,
    ...(dataset.labelNames === undefined ? {} : { labelNames: dataset.labelNames }),
  };
}
