/**
 * The CIFAR files on disk: the data directory ($GRADLAB_DATA, else ./data), the official folder
 * layout inside it, and `loadCifar`, which reads the files of one split and hands their bytes to
 * the core parser (`cifarFromBytes` in src/data/cifar.ts).
 *
 *   <dir>/cifar-10-batches-bin/  data_batch_1.bin … data_batch_5.bin, test_batch.bin, batches.meta.txt
 *   <dir>/cifar-100-binary/      train.bin, test.bin, fine_label_names.txt, coarse_label_names.txt
 *
 * Any explicit list of files in the same record format works too (e.g. the samples in
 * ../shared/data). A missing or unreadable file is an error naming it; nothing is half-loaded.
 */
import { checkKeys } from '../util/options.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  cifarFormat,
  cifarFromBytes,
  checkCifarChoice,
  decodeCifarRecords,
  parseLabelNames,
  type CifarDataset,
  type CifarName,
  type CifarRecords,
  type LabelKind,
  type NamedText,
  type Split,
} from '../data/cifar.js';

/** The bytes of `path`; a missing or unreadable file is an error naming it and the data set. */
function readBytes(dataset: CifarName, path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = err instanceof Error ? Reflect.get(err, 'code') : undefined;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory, not a file' : typeof code === 'string' ? code : String(err);
    throw new Error(`${path}: cannot read ${cifarFormat('readCifarFile', dataset).title} file: ${why}`);
  }
}

/** Reads and decodes one binary file; a missing or unreadable file is an error naming it. */
export function readCifarFile(dataset: CifarName, path: string): CifarRecords {
  return decodeCifarRecords(dataset, readBytes(dataset, path), path);
}

/** Label names, one a line (blank lines dropped, as the official batches.meta.txt ends with some). */
export function readLabelNames(path: string, expected: number): string[] {
  return parseLabelNames(readFileSync(path, 'utf8'), expected, path);
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

/** Which CIFAR split to load, and from where. */
export interface LoadCifarOptions {
  dataset: CifarName;
  split: Split;
  /** The data directory: holds the official folder (cifar-10-batches-bin …) or the files themselves. Default $GRADLAB_DATA or ./data. */
  dir?: string;
  /** Explicit files for this split instead of the official names (any number, same record format). */
  files?: string | readonly string[];
  /** CIFAR-100: which label becomes `labels`/`classes`. Default 'fine' (100 classes, as in the paper). */
  label?: LabelKind;
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
  checkKeys('loadCifar', options, ['dataset', 'split', 'dir', 'files', 'label']);
  const f = checkCifarChoice('loadCifar', options?.dataset, options.split, options.label ?? 'fine');
  const split = options.split;

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

  const namesFile = (file: string | undefined): NamedText | undefined => {
    if (file === undefined || !existsSync(join(folder, file))) return undefined;
    const source = join(folder, file);
    return { source, text: readFileSync(source, 'utf8') };
  };
  const labelNames = namesFile(f.labelNamesFile);
  const coarseLabelNames = namesFile(f.coarseLabelNamesFile);
  return cifarFromBytes({
    dataset: f.name,
    split,
    parts: files.map((source) => ({ source, bytes: readBytes(f.name, source) })),
    ...(labelNames ? { labelNames } : {}),
    ...(coarseLabelNames ? { coarseLabelNames } : {}),
    ...(options.label ? { label: options.label } : {}),
  });
}
