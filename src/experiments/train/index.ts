/**
 * One training run (`gradlab train`, and each job of `gradlab reproduce`): what the CLI, the
 * reproduce runner and the tests use. `train` is in run.ts; the other files hold its parts.
 */
export { TrainStopped, train, type TrainHooks } from './run.js';
export {
  ACTIVATIONS, BLOCKS, DATASETS, MODELS, RESUMABLE_CHANGES, SYNTHETIC_SIZES, defaultLr, defaultOutDir, resolveTrainConfig, variantTag,
  type DatasetName, type ModelName, type TrainConfig, type TrainOptions,
} from './config.js';
export type { Divergence, EpochRecord, TrainSummary } from './records.js';
export { buildModel } from './model.js';
export { CHECKPOINT_FILE, checkTrainCheckpoint, readTrainCheckpoint, type StoredTensor, type TrainCheckpoint } from './checkpoint.js';
export { decodeCheckpoint, encodeCheckpoint, loadCheckpoint, saveCheckpoint, type CheckpointValue, type StoredArray } from './checkpoint-file.js';
