/**
 * g.data in Node: the data core (src/data: CIFAR bytes, synthetic sets, transforms, DataLoader)
 * plus what needs the file system and the network: loadCifar from disk, download with MD5 check,
 * .tar.gz extraction, and writing synthetic sets in the official layout.
 *
 * @module
 */
export * from '../data/index.js';
export { loadCifar, readCifarFile, readLabelNames, cifarFolder, defaultDataDir, type LoadCifarOptions } from './cifar-files.js';
export { writeSyntheticCifar, type WriteSyntheticOptions } from './synthetic-files.js';
export { CIFAR_ARCHIVES, downloadArchive, downloadCifar, archivePresent, md5File, type ArchiveSpec, type DownloadOptions, type DownloadResult } from './download.js';
export { ArchiveError, extractTarGz, packTar, type ExtractedFile } from './tar.js';
