/** g.data: the CIFAR-10/100 binary reader, synthetic sets, download, transforms and the DataLoader. */
export {
  CIFAR_FORMATS,
  CIFAR_IMAGE_BYTES,
  CIFAR_IMAGE_SHAPE,
  loadCifar,
  readCifarFile,
  decodeCifarRecords,
  encodeCifarRecords,
  readLabelNames,
  cifarFolder,
  defaultDataDir,
  classCounts,
  channelMeans,
  type CifarName,
  type Split,
  type ImageShape,
  type CifarFormat,
  type ImageDataset,
  type CifarDataset,
  type CifarRecords,
  type LoadCifarOptions,
} from './cifar.js';
export { syntheticCifar, writeSyntheticCifar, type SyntheticOptions, type WriteSyntheticOptions } from './synthetic.js';
export { CIFAR_ARCHIVES, downloadArchive, downloadCifar, archivePresent, md5File, type ArchiveSpec, type DownloadOptions, type DownloadResult } from './download.js';
export { extractTarGz, packTar, type ExtractedFile } from './tar.js';
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
