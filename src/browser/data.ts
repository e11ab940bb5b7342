/**
 * g.data in a browser: the data core (src/data: CIFAR bytes, synthetic sets, transforms,
 * DataLoader) under the same names as in Node. What needs files or the network in Node (loadCifar
 * from a folder, download, tar) is here a function that throws one line saying what to use
 * instead: a page already has the bytes (a file input, a drop, or fetch('./data/…') from
 * `npm run lab`), and g.data.cifarFromBytes parses them.
 */
export * from '../data/index.js';

const FROM_BYTES =
  "in a browser, get the files' bytes (an <input type=file>, a drop, or fetch('./data/cifar-10-batches-bin/data_batch_1.bin') from `npm run lab`) " +
  "and parse them with g.data.cifarFromBytes({ dataset: 'cifar10', split: 'train', parts: [{ source: 'data_batch_1.bin', bytes }] })";

/** A Node-only function's browser stand-in: it throws one line naming what to use instead. */
function nodeOnly(name: string, instead: string): (...args: readonly unknown[]) => never {
  return () => {
    throw new Error(`g.data.${name} needs Node (files, network) and does not run in a browser: ${instead}`);
  };
}

export const loadCifar = nodeOnly('loadCifar', FROM_BYTES);
export const readCifarFile = nodeOnly('readCifarFile', FROM_BYTES);
export const readLabelNames = nodeOnly('readLabelNames', "read the text yourself and use g.data.parseLabelNames(text, …)");
export const cifarFolder = nodeOnly('cifarFolder', FROM_BYTES);
export const defaultDataDir = nodeOnly('defaultDataDir', FROM_BYTES);
export const writeSyntheticCifar = nodeOnly('writeSyntheticCifar', 'g.data.syntheticCifar({ dataset, split, count, seed }) makes the same set in memory');
const DOWNLOAD = 'run `gradlab download cifar10` in Node (then `npm run lab` serves ./data to the page), or pick the official binary files in the page';
export const downloadArchive = nodeOnly('downloadArchive', DOWNLOAD);
export const downloadCifar = nodeOnly('downloadCifar', DOWNLOAD);
export const archivePresent = nodeOnly('archivePresent', DOWNLOAD);
export const md5File = nodeOnly('md5File', DOWNLOAD);
export const extractTarGz = nodeOnly('extractTarGz', 'unpack the archive outside the browser (tar xzf), then pick its .bin files');
export const packTar = nodeOnly('packTar', 'tar archives are made in Node only');

/** The official archives' addresses are Node's business (download); reading one names what to do instead. */
export const CIFAR_ARCHIVES: Readonly<Record<string, never>> = new Proxy(
  {},
  {
    get(_target, key) {
      if (typeof key === 'symbol') return undefined;
      throw new Error(`g.data.CIFAR_ARCHIVES needs Node (download) and does not run in a browser: ${DOWNLOAD}`);
    },
  },
);

/** Node's archive error; in a browser nothing throws it, but `instanceof` checks still work. */
export class ArchiveError extends Error {}
