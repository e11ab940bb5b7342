/**
 * The data core: the CIFAR-10/100 binary format over bytes, synthetic sets in memory, transforms
 * and the DataLoader. Nothing here touches files or the network, so it runs in a browser as well;
 * the Node parts (loadCifar from disk, download, tar, writing synthetic sets) are in src/node/, and
 * g.data (src/node/data.ts) is this plus them.
 */
export {
  CIFAR_FORMATS,
  CIFAR_IMAGE_BYTES,
  CIFAR_IMAGE_SHAPE,
  cifarFromBytes,
  decodeCifarRecords,
  encodeCifarRecords,
  parseLabelNames,
  classCounts,
  channelMeans,
  type CifarName,
  type Split,
  type LabelKind,
  type ImageShape,
  type CifarFormat,
  type ImageDataset,
  type CifarDataset,
  type CifarRecords,
  type CifarBytes,
  type NamedText,
} from './cifar.js';
export { syntheticCifar, syntheticCifarFiles, type SyntheticOptions, type SyntheticFilesOptions, type FileBytes } from './synthetic.js';
export {
  CIFAR_NORMALIZATION,
  normalize,
  randomHorizontalFlip,
  randomCrop,
  compose,
  cifarTransform,
  type Transform,
  type TransformContext,
} from './transforms.js';
export { DataLoader, type DataLoaderOptions, type Batch, type DataLoaderState } from './loader.js';
export { subset } from './subset.js';
