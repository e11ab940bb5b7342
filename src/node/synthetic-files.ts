/**
 * Writing a synthetic CIFAR set to disk in the official layout (`gradlab download synthetic`), so
 * that `loadCifar({ dir })` and `gradlab train --data DIR` read it as they would the real data.
 * The images themselves come from src/data/synthetic.ts, in memory.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cifarFormat, type CifarName } from '../data/cifar.js';
import { syntheticCifarFiles } from '../data/synthetic.js';
import { makeFolder, writeFileAtomic } from './files.js';

/** What writeSyntheticCifar writes, and where. */
export interface WriteSyntheticOptions {
  dataset: CifarName;
  /** The data directory; files go to `<dir>/<official folder>/`. */
  dir: string;
  /** Training images (spread over the official training files). Default 5000. */
  train?: number;
  /** Test images. Default 1000. */
  test?: number;
  seed?: number | string;
  noise?: number;
  /** Overwrite an existing folder. Default false: refuse, so real data is never replaced by accident. */
  force?: boolean;
}

/** Writes a synthetic set in the official layout; returns the folder and the files written. */
export function writeSyntheticCifar(options: WriteSyntheticOptions): { folder: string; files: string[] } {
  const f = cifarFormat('writeSyntheticCifar', options.dataset);
  const folder = resolve(options.dir, f.folder);
  if (existsSync(folder) && !options.force) {
    throw new Error(`writeSyntheticCifar: ${folder} already exists; choose another directory or pass force (--force) to overwrite it`);
  }
  const files = syntheticCifarFiles(options, 'writeSyntheticCifar');
  makeFolder(folder, `cannot write the synthetic set into ${folder}`);
  return {
    folder,
    files: files.map(({ name, bytes }) => {
      const path = join(folder, name);
      writeFileAtomic(path, bytes);
      return path;
    }),
  };
}
