/**
 * Small synthetic data sets in the CIFAR binary format, for tests and offline demos.
 *
 * Each class has a prototype image: a coarse 4×4 grid of random colours per channel, blown up to
 * 32×32 (8×8 blocks). An image of class k is its prototype plus Gaussian noise (std `noise`),
 * rounded and clipped to 0..255. The classes are well separated (with the defaults, a
 * nearest-class-mean classifier fitted on 500 training images labels 200 test images without an
 * error), so a demo shows the loss falling without any download.
 * Train and test images share the prototypes and come from separate streams; everything is
 * drawn from `seed`, so the same options always give the same bytes.
 *
 * `syntheticCifarFiles` lays a set out as the official files (data_batch_1.bin … test_batch.bin,
 * batches.meta.txt), in memory; `writeSyntheticCifar` (src/node/synthetic-files.ts) writes them
 * to `<dir>/cifar-10-batches-bin/`, so `loadCifar({ dir })` and `gradlab train --data DIR` read
 * them as they would read the real data.
 */
import { checkKeys } from '../util/options.js';
import { randomStream, type RandomStream } from '../tensor/random.js';
import { CIFAR_IMAGE_BYTES, cifarFormat, encodeCifarRecords, type CifarName, type CifarRecords, type Split } from './cifar.js';
import { shown } from '../util/format.js';

/** Options of syntheticCifar: which format, split and size, and the seed. */
export interface SyntheticOptions {
  dataset: CifarName;
  split: Split;
  /** Number of images. */
  count: number;
  seed?: number | string;
  /** Standard deviation of the per-pixel noise, 0–255 scale. Default 40. */
  noise?: number;
}

/** One class's prototype: 3 planes of 32×32, constant over 8×8 blocks. */
function prototype(rng: RandomStream): Float64Array {
  const img = new Float64Array(CIFAR_IMAGE_BYTES);
  for (let c = 0; c < 3; c++) {
    const grid = Array.from({ length: 16 }, () => 30 + 195 * rng.uniform());
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) img[c * 1024 + y * 32 + x] = grid[(y >> 3) * 4 + (x >> 3)];
    }
  }
  return img;
}

/**
 * Records of a synthetic set: labels balanced over the classes (count/classes each, the remainder
 * to the first classes) in a shuffled order. CIFAR-100 coarse label = floor(fine / 5).
 */
export function syntheticCifar(options: SyntheticOptions): CifarRecords {
  checkKeys('syntheticCifar', options, ['dataset', 'split', 'count', 'seed', 'noise']);
  const f = cifarFormat('syntheticCifar', options.dataset);
  const { count, split } = options;
  if (!Number.isInteger(count) || count < 1) throw new Error(`syntheticCifar: count must be a positive integer; got ${count}`);
  if (split !== 'train' && split !== 'test') throw new Error(`syntheticCifar: split must be 'train' or 'test'; got ${shown(split)}`);
  const seed = String(options.seed ?? 0);
  const noise = options.noise ?? 40;
  const protoRng = randomStream(`${seed}:synthetic:${f.name}:prototypes`);
  const prototypes = Array.from({ length: f.classes }, () => prototype(protoRng));

  const rng = randomStream(`${seed}:synthetic:${f.name}:${split}`);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = i % f.classes;
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = labels[i];
    labels[i] = labels[j];
    labels[j] = t;
  }
  const images = new Uint8Array(count * CIFAR_IMAGE_BYTES);
  for (let i = 0; i < count; i++) {
    const proto = prototypes[labels[i]];
    for (let p = 0; p < CIFAR_IMAGE_BYTES; p++) {
      images[i * CIFAR_IMAGE_BYTES + p] = Math.min(255, Math.max(0, Math.round(proto[p] + noise * rng.normal())));
    }
  }
  if (f.labelBytes === 1) return { images, labels };
  return { images, labels, coarseLabels: labels.map((l) => Math.floor(l / 5)) };
}

/** Options of syntheticCifarFiles: the format, image counts and seed. */
export interface SyntheticFilesOptions {
  dataset: CifarName;
  /** Training images (spread over the official training files). Default 5000. */
  train?: number;
  /** Test images. Default 1000. */
  test?: number;
  seed?: number | string;
  noise?: number;
}

/** One file of a data set laid out in memory: its name in the official folder, and its bytes. */
export interface FileBytes {
  name: string;
  bytes: Uint8Array;
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/**
 * A synthetic set as the official files, in the official order: the training files, the test
 * file(s), then the label-name file(s). `where` names the caller in errors.
 */
export function syntheticCifarFiles(options: SyntheticFilesOptions, where = 'syntheticCifarFiles'): FileBytes[] {
  // writeSyntheticCifar passes its own options through, with its keys dir and force.
  checkKeys(where, options, ['dataset', 'train', 'test', 'seed', 'noise', ...(where === 'writeSyntheticCifar' ? ['dir', 'force'] : [])]);
  const f = cifarFormat(where, options.dataset);
  const files: FileBytes[] = [];
  for (const split of ['train', 'test'] as const) {
    const count = split === 'train' ? options.train ?? 5000 : options.test ?? 1000;
    const names = f.files[split];
    if (!Number.isInteger(count) || count < names.length) {
      throw new Error(`${where}: ${split} needs an integer count of at least ${names.length} (one record per file); got ${count}`);
    }
    const records = syntheticCifar({ dataset: f.name, split, count, seed: options.seed, noise: options.noise });
    // Spread the records over the split's files as evenly as possible (file k gets records [from, to)).
    names.forEach((name, k) => {
      const from = Math.floor((k * count) / names.length);
      const to = Math.floor(((k + 1) * count) / names.length);
      const part: CifarRecords = {
        images: records.images.subarray(from * CIFAR_IMAGE_BYTES, to * CIFAR_IMAGE_BYTES),
        labels: records.labels.subarray(from, to),
        ...(records.coarseLabels ? { coarseLabels: records.coarseLabels.subarray(from, to) } : {}),
      };
      files.push({ name, bytes: encodeCifarRecords(f.name, part) });
    });
  }
  files.push({ name: f.labelNamesFile, bytes: utf8(Array.from({ length: f.classes }, (_, k) => `synthetic_${k}\n`).join('')) });
  if (f.coarseLabelNamesFile && f.coarseClasses) {
    files.push({ name: f.coarseLabelNamesFile, bytes: utf8(Array.from({ length: f.coarseClasses }, (_, k) => `synthetic_group_${k}\n`).join('')) });
  }
  return files;
}
