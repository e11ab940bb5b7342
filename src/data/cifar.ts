/**
 * Reading (and writing) the CIFAR-10 and CIFAR-100 binary files (Krizhevsky 2009, "binary version").
 *
 * A file is a plain sequence of fixed-size records, with no header:
 *
 *   CIFAR-10  record = 1 label byte (0..9)                                + 3072 pixel bytes = 3073 bytes
 *   CIFAR-100 record = 1 coarse-label byte (0..19) + 1 fine-label byte (0..99) + 3072 pixel bytes = 3074 bytes
 *
 * The 3072 pixel bytes are one image in CHW order: 1024 red bytes, then 1024 green, then 1024 blue,
 * each plane 32×32 row-major (top row first). That is already NCHW for one image, so a batch is
 * built by copying records one after another, with no reordering.
 *
 * The official archives unpack to (see download.ts):
 *
 *   cifar-10-batches-bin/  data_batch_1.bin … data_batch_5.bin (train, 10 000 each), test_batch.bin (10 000),
 *                          batches.meta.txt (the 10 label names, one a line)
 *   cifar-100-binary/      train.bin (50 000), test.bin (10 000), fine_label_names.txt, coarse_label_names.txt
 *
 * `loadCifar` reads that layout, or any explicit list of files in the same record format (e.g. the
 * samples in ../shared/data). It validates everything before it returns: a missing file, a size
 * that is not a whole number of records, or a label out of range is an error naming the file;
 * nothing is ever half-loaded.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export type CifarName = 'cifar10' | 'cifar100';
export type Split = 'train' | 'test';

/** Channels, height, width of one image. */
export type ImageShape = readonly [number, number, number];

export const CIFAR_IMAGE_SHAPE: ImageShape = [3, 32, 32];
/** Bytes of one image: 3 · 32 · 32. */
export const CIFAR_IMAGE_BYTES = 3072;

/** What distinguishes the two binary formats. */
export interface CifarFormat {
  readonly name: CifarName;
  readonly title: string;
  /** The folder the official archive unpacks to. */
  readonly folder: string;
  /** Label bytes before the pixels: 1 (CIFAR-10) or 2 (CIFAR-100: coarse, then fine). */
  readonly labelBytes: 1 | 2;
  readonly recordBytes: number;
  /** Classes of the main label (CIFAR-100: the fine label). */
  readonly classes: number;
  /** Classes of the coarse label (CIFAR-100 only). */
  readonly coarseClasses?: number;
  readonly files: Readonly<Record<Split, readonly string[]>>;
  /** Records in each official file. */
  readonly recordsPerFile: Readonly<Record<Split, number>>;
  /** The label-name files, one name a line. */
  readonly labelNamesFile: string;
  readonly coarseLabelNamesFile?: string;
}

export const CIFAR_FORMATS: Readonly<Record<CifarName, CifarFormat>> = {
  cifar10: {
    name: 'cifar10',
    title: 'CIFAR-10',
    folder: 'cifar-10-batches-bin',
    labelBytes: 1,
    recordBytes: 1 + CIFAR_IMAGE_BYTES,
    classes: 10,
    files: {
      train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
      test: ['test_batch.bin'],
    },
    recordsPerFile: { train: 10_000, test: 10_000 },
    labelNamesFile: 'batches.meta.txt',
  },
  cifar100: {
    name: 'cifar100',
    title: 'CIFAR-100',
    folder: 'cifar-100-binary',
    labelBytes: 2,
    recordBytes: 2 + CIFAR_IMAGE_BYTES,
    classes: 100,
    coarseClasses: 20,
    files: { train: ['train.bin'], test: ['test.bin'] },
    recordsPerFile: { train: 50_000, test: 10_000 },
    labelNamesFile: 'fine_label_names.txt',
    coarseLabelNamesFile: 'coarse_label_names.txt',
  },
};

/** The format of `name`, or a clear error for anything else. */
export function cifarFormat(where: string, name: unknown): CifarFormat {
  if (name !== 'cifar10' && name !== 'cifar100') {
    throw new Error(`${where}: dataset must be 'cifar10' or 'cifar100'; got ${JSON.stringify(name)}`);
  }
  return CIFAR_FORMATS[name];
}

/**
 * What the DataLoader needs: `length` images of `imageShape`, stored as bytes one after another
 * (image i is `images.subarray(i·C·H·W, (i+1)·C·H·W)`, CHW), and one class index per image.
 */
export interface ImageDataset {
  readonly length: number;
  readonly imageShape: ImageShape;
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly classes: number;
  readonly labelNames?: readonly string[];
}

export interface CifarDataset extends ImageDataset {
  readonly dataset: CifarName;
  readonly split: Split;
  /** Which CIFAR-100 label `labels` holds ('fine' for CIFAR-10, which has just one). */
  readonly labelKind: 'fine' | 'coarse';
  /** CIFAR-100 only: both labels, whatever `labelKind` chose. */
  readonly fineLabels?: Uint8Array;
  readonly coarseLabels?: Uint8Array;
  readonly fineLabelNames?: readonly string[];
  readonly coarseLabelNames?: readonly string[];
  /** The files read, in order (absolute paths). */
  readonly files: readonly string[];
}

/** Records decoded from bytes: images (N × 3072, CHW), the main labels, and CIFAR-100's coarse labels. */
export interface CifarRecords {
  images: Uint8Array;
  labels: Uint8Array;
  coarseLabels?: Uint8Array;
}

/**
 * Decodes the records of one file's bytes, checking the size and every label. `source` names the
 * file in error messages.
 */
export function decodeCifarRecords(dataset: CifarName, bytes: Uint8Array, source: string): CifarRecords {
  const f = cifarFormat('decodeCifarRecords', dataset);
  if (bytes.length === 0) throw new Error(`${source}: the file is empty; expected ${f.title} records of ${f.recordBytes} bytes`);
  if (bytes.length % f.recordBytes !== 0) {
    const whole = Math.floor(bytes.length / f.recordBytes);
    throw new Error(
      `${source}: ${bytes.length} bytes is not a whole number of ${f.recordBytes}-byte ${f.title} records ` +
        `(${whole} records + ${bytes.length - whole * f.recordBytes} bytes): the file is truncated or is not a ${f.title} binary file`,
    );
  }
  const n = bytes.length / f.recordBytes;
  const images = new Uint8Array(n * CIFAR_IMAGE_BYTES);
  const labels = new Uint8Array(n);
  const coarseLabels = f.labelBytes === 2 ? new Uint8Array(n) : undefined;
  for (let i = 0; i < n; i++) {
    const at = i * f.recordBytes;
    const label = bytes[at + f.labelBytes - 1];
    if (label >= f.classes) {
      throw new Error(`${source}: record ${i} (byte ${at + f.labelBytes - 1}) has ${f.labelBytes === 2 ? 'fine ' : ''}label ${label}; ${f.title} labels are 0..${f.classes - 1}`);
    }
    labels[i] = label;
    if (coarseLabels) {
      const coarse = bytes[at];
      if (coarse >= (f.coarseClasses ?? 0)) {
        throw new Error(`${source}: record ${i} (byte ${at}) has coarse label ${coarse}; ${f.title} coarse labels are 0..${(f.coarseClasses ?? 0) - 1}`);
      }
      coarseLabels[i] = coarse;
    }
    images.set(bytes.subarray(at + f.labelBytes, at + f.recordBytes), i * CIFAR_IMAGE_BYTES);
  }
  return coarseLabels ? { images, labels, coarseLabels } : { images, labels };
}

/**
 * The inverse of `decodeCifarRecords`: records in the official byte format. CIFAR-100 needs
 * `coarseLabels`; `labels` are its fine labels.
 */
export function encodeCifarRecords(dataset: CifarName, records: CifarRecords): Uint8Array {
  const f = cifarFormat('encodeCifarRecords', dataset);
  const n = records.labels.length;
  if (records.images.length !== n * CIFAR_IMAGE_BYTES) {
    throw new Error(`encodeCifarRecords: ${n} labels need ${n * CIFAR_IMAGE_BYTES} image bytes; got ${records.images.length}`);
  }
  if (f.labelBytes === 2 && records.coarseLabels?.length !== n) {
    throw new Error(`encodeCifarRecords: ${f.title} needs ${n} coarse labels; got ${records.coarseLabels?.length ?? 'none'}`);
  }
  const out = new Uint8Array(n * f.recordBytes);
  for (let i = 0; i < n; i++) {
    const at = i * f.recordBytes;
    if (f.labelBytes === 2) out[at] = records.coarseLabels?.[i] ?? 0;
    out[at + f.labelBytes - 1] = records.labels[i];
    out.set(records.images.subarray(i * CIFAR_IMAGE_BYTES, (i + 1) * CIFAR_IMAGE_BYTES), at + f.labelBytes);
  }
  return out;
}

/** Reads and decodes one binary file; a missing or unreadable file is an error naming it. */
export function readCifarFile(dataset: CifarName, path: string): CifarRecords {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory, not a file' : code ?? String(err);
    throw new Error(`${path}: cannot read ${cifarFormat('readCifarFile', dataset).title} file: ${why}`);
  }
  return decodeCifarRecords(dataset, bytes, path);
}

/** Label names, one a line (blank lines dropped, as the official batches.meta.txt ends with some). */
export function readLabelNames(path: string, expected: number): string[] {
  const names = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length !== expected) throw new Error(`${path}: expected ${expected} label names, one a line; found ${names.length}`);
  return names;
}

/** The data directory when none is given: $GRADLAB_DATA, else ./data. */
export function defaultDataDir(): string {
  return process.env.GRADLAB_DATA ?? 'data';
}

/**
 * Where a data set's files are: `<dir>/<official folder>` when that folder exists, else `dir`
 * itself when it holds the official files directly.
 */
export function cifarFolder(dataset: CifarName, dir: string = defaultDataDir()): string {
  const f = cifarFormat('cifarFolder', dataset);
  const nested = resolve(dir, f.folder);
  if (existsSync(nested) && statSync(nested).isDirectory()) return nested;
  if (existsSync(join(dir, f.files.test[0])) || existsSync(join(dir, f.files.train[0]))) return resolve(dir);
  return nested;
}

export interface LoadCifarOptions {
  dataset: CifarName;
  split: Split;
  /** The data directory: holds the official folder (cifar-10-batches-bin …) or the files themselves. Default $GRADLAB_DATA or ./data. */
  dir?: string;
  /** Explicit files for this split instead of the official names (any number, same record format). */
  files?: string | readonly string[];
  /** CIFAR-100: which label becomes `labels`/`classes`. Default 'fine' (100 classes, as in the paper). */
  label?: 'fine' | 'coarse';
}

/**
 * Loads one split of CIFAR-10 or CIFAR-100 into memory (50 000 training images are 154 MB).
 *
 *   const train = loadCifar({ dataset: 'cifar10', split: 'train', dir: 'data' });
 *   const sample = loadCifar({ dataset: 'cifar10', split: 'train', files: ['../shared/data/cifar10/train_4000.bin'] });
 *
 * Label names are read from the official names file in the data folder (or beside the first of
 * `files`) when it is there.
 */
export function loadCifar(options: LoadCifarOptions): CifarDataset {
  const f = cifarFormat('loadCifar', options?.dataset);
  const split = options.split;
  if (split !== 'train' && split !== 'test') throw new Error(`loadCifar: split must be 'train' or 'test'; got ${JSON.stringify(split)}`);
  const labelKind = options.label ?? 'fine';
  if (labelKind !== 'fine' && labelKind !== 'coarse') throw new Error(`loadCifar: label must be 'fine' or 'coarse'; got ${JSON.stringify(labelKind)}`);
  if (labelKind === 'coarse' && f.labelBytes === 1) throw new Error(`loadCifar: label 'coarse' exists only in CIFAR-100; ${f.title} has one label`);

  let files: string[];
  let folder: string;
  if (options.files !== undefined) {
    files = (typeof options.files === 'string' ? [options.files] : [...options.files]).map((p) => resolve(p));
    if (files.length === 0) throw new Error(`loadCifar: files is empty; give at least one ${f.title} ${split} file`);
    folder = dirname(files[0]);
  } else {
    folder = cifarFolder(f.name, options.dir);
    files = f.files[split].map((name) => join(folder, name));
    const missing = files.filter((p) => !existsSync(p));
    if (missing.length > 0) {
      throw new Error(
        `loadCifar: ${f.title} ${split} file${missing.length > 1 ? 's' : ''} missing: ${missing.join(', ')}. ` +
          `Download the data set with 'gradlab download ${f.name}' (it unpacks to <dir>/${f.folder}), ` +
          `or pass the files explicitly (loadCifar's files option, --${split}-files on the command line)`,
      );
    }
  }

  // Read and check every file first; only then assemble, so an error leaves nothing half-built.
  const parts = files.map((p) => readCifarFile(f.name, p));
  const n = parts.reduce((s, p) => s + p.labels.length, 0);
  const images = new Uint8Array(n * CIFAR_IMAGE_BYTES);
  const fine = new Uint8Array(n);
  const coarse = f.labelBytes === 2 ? new Uint8Array(n) : undefined;
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * CIFAR_IMAGE_BYTES);
    fine.set(p.labels, at);
    if (coarse && p.coarseLabels) coarse.set(p.coarseLabels, at);
    at += p.labels.length;
  }

  const namesAt = (file: string | undefined, count: number): string[] | undefined =>
    file !== undefined && existsSync(join(folder, file)) ? readLabelNames(join(folder, file), count) : undefined;
  const fineNames = namesAt(f.labelNamesFile, f.classes);
  const coarseNames = namesAt(f.coarseLabelNamesFile, f.coarseClasses ?? 0);
  const useCoarse = labelKind === 'coarse';
  const labelNames = useCoarse ? coarseNames : fineNames;
  return {
    dataset: f.name,
    split,
    length: n,
    imageShape: CIFAR_IMAGE_SHAPE,
    images,
    labels: useCoarse && coarse ? coarse : fine,
    classes: useCoarse ? f.coarseClasses ?? f.classes : f.classes,
    labelKind,
    files,
    ...(labelNames ? { labelNames } : {}),
    ...(coarse ? { fineLabels: fine, coarseLabels: coarse } : {}),
    ...(fineNames && coarse ? { fineLabelNames: fineNames } : {}),
    ...(coarseNames ? { coarseLabelNames: coarseNames } : {}),
  };
}

/** How many images of each class (index = class). */
export function classCounts(dataset: Pick<ImageDataset, 'labels' | 'classes'>): number[] {
  const counts = new Array<number>(dataset.classes).fill(0);
  for (const l of dataset.labels) counts[l]++;
  return counts;
}

/** The mean pixel value of each channel, on the 0–255 scale. */
export function channelMeans(dataset: Pick<ImageDataset, 'images' | 'imageShape' | 'length'>): number[] {
  const [c, h, w] = dataset.imageShape;
  const plane = h * w;
  const sums = new Array<number>(c).fill(0);
  for (let i = 0; i < dataset.length; i++) {
    for (let ch = 0; ch < c; ch++) {
      const start = (i * c + ch) * plane;
      let s = 0;
      for (let p = 0; p < plane; p++) s += dataset.images[start + p];
      sums[ch] += s;
    }
  }
  return sums.map((s) => s / (dataset.length * plane));
}
