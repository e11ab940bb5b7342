/**
 * Weights in and out of gradlab, platform-free (bytes, no files): the safetensors format that
 * PyTorch and Hugging Face read. In Node, `g.io.saveSafetensors(path, tensors)` and
 * `g.io.loadSafetensors(path)` (src/node/safetensors.ts) add the files.
 */
export {
  SAFETENSORS_DTYPES, decodeSafetensors, decodeStateDict, encodeSafetensors, encodeStateDict, isIntegerStateKey, rawTensorsOf, tensorsOf,
  type RawTensor, type SafetensorsContents, type SafetensorsDType, type ToTensorOptions,
} from './safetensors.js';
