/**
 * The CIFAR-10 and CIFAR-100 binary format (Krizhevsky 2009, "binary version"), over bytes.
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
 * The official archives unpack to:
 *
 *   cifar-10-batches-bin/  data_batch_1.bin … data_batch_5.bin (train, 10 000 each), test_batch.bin (10 000),
 *                          batches.meta.txt (the 10 label names, one a line)
 *   cifar-100-binary/      train.bin (50 000), test.bin (10 000), fine_label_names.txt, coarse_label_names.txt
 *
 * This module knows the format and parses bytes however they arrived (`cifarFromBytes`); it reads
 * no files, so it runs in a browser too. Reading that layout from disk (`loadCifar`) lives in
 * src/node/cifar-files.ts. Everything is validated before a data set is returned: a size that is
 * not a whole number of records, or a label out of range, is an error naming the source; nothing
 * is ever half-built.
 */
import { checkKeys } from '../util/options.js';
import { shown } from '../util/format.js';
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
    throw new Error(`${where}: dataset must be 'cifar10' or 'cifar100'; got ${shown(name)}`);
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
  readonly labelKind: LabelKind;
  /** CIFAR-100 only: both labels, whatever `labelKind` chose. */
  readonly fineLabels?: Uint8Array;
  readonly coarseLabels?: Uint8Array;
  readonly fineLabelNames?: readonly string[];
  readonly coarseLabelNames?: readonly string[];
  /** Where the records came from, in order (`loadCifar`: the files read, as absolute paths). */
  readonly files: readonly string[];
}

/** Records decoded from bytes: images (N × 3072, CHW), the main labels, and CIFAR-100's coarse labels. */
export interface CifarRecords {
  images: Uint8Array;
  labels: Uint8Array;
  coarseLabels?: Uint8Array;
}

/** The number of records in one file's bytes; an empty file or a partial record is an error naming `source`. */
function recordCount(f: CifarFormat, bytes: Uint8Array, source: string): number {
  if (bytes.length === 0) throw new Error(`${source}: the file is empty; expected ${f.title} records of ${f.recordBytes} bytes`);
  if (bytes.length % f.recordBytes !== 0) {
    const whole = Math.floor(bytes.length / f.recordBytes);
    throw new Error(
      `${source}: ${bytes.length} bytes is not a whole number of ${f.recordBytes}-byte ${f.title} records ` +
        `(${whole} records + ${bytes.length - whole * f.recordBytes} bytes): the file is truncated or is not a ${f.title} binary file`,
    );
  }
  return bytes.length / f.recordBytes;
}

/** Decodes every record of `bytes` into `out`, starting at record `first`, checking every label. */
function decodeInto(f: CifarFormat, bytes: Uint8Array, source: string, out: CifarRecords, first: number): void {
  const n = bytes.length / f.recordBytes;
  for (let i = 0; i < n; i++) {
    const at = i * f.recordBytes;
    const label = bytes[at + f.labelBytes - 1];
    if (label >= f.classes) {
      throw new Error(`${source}: record ${i} (byte ${at + f.labelBytes - 1}) has ${f.labelBytes === 2 ? 'fine ' : ''}label ${label}; ${f.title} labels are 0..${f.classes - 1}`);
    }
    out.labels[first + i] = label;
    if (out.coarseLabels) {
      const coarse = bytes[at];
      if (coarse >= (f.coarseClasses ?? 0)) {
        throw new Error(`${source}: record ${i} (byte ${at}) has coarse label ${coarse}; ${f.title} coarse labels are 0..${(f.coarseClasses ?? 0) - 1}`);
      }
      out.coarseLabels[first + i] = coarse;
    }
    out.images.set(bytes.subarray(at + f.labelBytes, at + f.recordBytes), (first + i) * CIFAR_IMAGE_BYTES);
  }
}

/** Empty records for `n` images: images, labels, and CIFAR-100's coarse labels. */
function allocRecords(f: CifarFormat, n: number): CifarRecords {
  const images = new Uint8Array(n * CIFAR_IMAGE_BYTES);
  const labels = new Uint8Array(n);
  return f.labelBytes === 2 ? { images, labels, coarseLabels: new Uint8Array(n) } : { images, labels };
}

/**
 * Decodes the records of one file's bytes, checking the size and every label. `source` names the
 * file in error messages.
 */
export function decodeCifarRecords(dataset: CifarName, bytes: Uint8Array, source: string): CifarRecords {
  const f = cifarFormat('decodeCifarRecords', dataset);
  const out = allocRecords(f, recordCount(f, bytes, source));
  decodeInto(f, bytes, source, out, 0);
  return out;
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

/** The label names in `text`, one a line (blank lines dropped, as the official batches.meta.txt ends with some). */
export function parseLabelNames(text: string, expected: number, source: string): string[] {
  const names = text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length !== expected) throw new Error(`${source}: expected ${expected} label names, one a line; found ${names.length}`);
  return names;
}

/** Which CIFAR-100 label becomes a data set's `labels`. */
export type LabelKind = 'fine' | 'coarse';

/** Checks a (dataset, split, label) choice; `where` names the caller in the error. Returns the format. */
export function checkCifarChoice(where: string, dataset: unknown, split: unknown, label: unknown = 'fine'): CifarFormat {
  const f = cifarFormat(where, dataset);
  if (split !== 'train' && split !== 'test') throw new Error(`${where}: split must be 'train' or 'test'; got ${shown(split)}`);
  if (label !== 'fine' && label !== 'coarse') throw new Error(`${where}: label must be 'fine' or 'coarse'; got ${shown(label)}`);
  if (label === 'coarse' && f.labelBytes === 1) throw new Error(`${where}: label 'coarse' exists only in CIFAR-100; ${f.title} has one label`);
  return f;
}

/** Text with the name of where it came from (a path, a URL), for error messages. */
export interface NamedText {
  source: string;
  text: string;
}

export interface CifarBytes {
  dataset: CifarName;
  split: Split;
  /** The record files' bytes, in order; each `source` names its file in errors and in the data set's `files`. */
  parts: readonly { source: string; bytes: Uint8Array }[];
  /** The label-names file (batches.meta.txt, fine_label_names.txt), when there is one. */
  labelNames?: NamedText;
  /** CIFAR-100's coarse_label_names.txt, when there is one. */
  coarseLabelNames?: NamedText;
  /** CIFAR-100: which label becomes `labels`/`classes`. Default 'fine' (100 classes, as in the paper). */
  label?: LabelKind;
}

/**
 * One split of CIFAR-10 or CIFAR-100 from the bytes of its files, however they were obtained
 * (read from disk by `loadCifar`, fetched in a browser, built in memory).
 *
 *   const test = cifarFromBytes({ dataset: 'cifar10', split: 'test', parts: [{ source: 'test_batch.bin', bytes }] });
 */
export function cifarFromBytes(input: CifarBytes): CifarDataset {
  checkKeys('cifarFromBytes', input, ['dataset', 'split', 'parts', 'labelNames', 'coarseLabelNames', 'label']);
  const f = checkCifarChoice('cifarFromBytes', input?.dataset, input.split, input.label ?? 'fine');
  const labelKind = input.label ?? 'fine';
  if (input.parts.length === 0) throw new Error(`cifarFromBytes: parts is empty; give the bytes of at least one ${f.title} ${input.split} file`);

  // Every size is checked before anything is allocated; a bad label throws before anything is returned.
  const counts = input.parts.map((p) => recordCount(f, p.bytes, p.source));
  const n = counts.reduce((s, c) => s + c, 0);
  const records = allocRecords(f, n);
  let at = 0;
  input.parts.forEach((p, k) => {
    decodeInto(f, p.bytes, p.source, records, at);
    at += counts[k];
  });
  const { images, labels: fine, coarseLabels: coarse } = records;

  const names = (named: NamedText | undefined, count: number): string[] | undefined =>
    named === undefined ? undefined : parseLabelNames(named.text, count, named.source);
  const fineNames = names(input.labelNames, f.classes);
  const coarseNames = f.labelBytes === 2 ? names(input.coarseLabelNames, f.coarseClasses ?? 0) : undefined;
  const useCoarse = labelKind === 'coarse';
  const labelNames = useCoarse ? coarseNames : fineNames;
  return {
    dataset: f.name,
    split: input.split,
    length: n,
    imageShape: CIFAR_IMAGE_SHAPE,
    images,
    labels: useCoarse && coarse ? coarse : fine,
    classes: useCoarse ? f.coarseClasses ?? f.classes : f.classes,
    labelKind,
    files: input.parts.map((p) => p.source),
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
