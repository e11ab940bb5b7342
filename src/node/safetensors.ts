/**
 * Safetensors files (Node): `saveSafetensors(path, tensors)` writes atomically (a temporary file,
 * then a rename, as every gradlab output), `loadSafetensors(path)` reads and checks one. The byte
 * format is src/io/safetensors.ts; this module re-exports it, so `g.io` in Node is both.
 *
 *   g.io.saveSafetensors('model.safetensors', model.stateDict());
 *   model.loadStateDict(g.io.loadSafetensors('model.safetensors'));
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { tidy, type Tensor } from '../tensor/tensor.js';
import { pytorchStateKey, type Module } from '../nn/module.js';
import { checkKeys } from '../util/options.js';
import { decodeSafetensors, encodeStateDict, tensorsOf, type SafetensorsContents, type ToTensorOptions } from '../io/safetensors.js';
import { writeFileAtomic } from './files.js';

export * from '../io/index.js';

/**
 * Writes `tensors` (e.g. `model.stateDict()`) to `path` in the safetensors format, atomically;
 * float32 → F32, float64 → F64, keys ending in `num_batches_tracked` → I64 (PyTorch's dtype).
 */
export function saveSafetensors(path: string, tensors: Record<string, Tensor>, options: { metadata?: Record<string, string> } = {}): void {
  checkKeys('saveSafetensors', options, ['metadata']);
  writeFileAtomic(path, encodeStateDict(tensors, options.metadata));
}

/** Reads a safetensors file into tensors by name; a bad file is one error naming the file and the fault. */
export function loadSafetensors(path: string, options: ToTensorOptions = {}): Record<string, Tensor> {
  return tensorsOf(readSafetensorsFile(path).tensors, options);
}

/** A safetensors file's stored tensors (host arrays, file dtypes) and metadata, checked. */
export function readSafetensorsFile(path: string): SafetensorsContents {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`safetensors: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return decodeSafetensors(bytes, path);
}

/** The file `gradlab train` writes beside its checkpoint after every epoch: the model's weights. */
export const MODEL_WEIGHTS_FILE = 'model.safetensors';

/**
 * Writes `model.stateDict()` to `path` (atomically) under PyTorch's names (pytorchStateKey) and
 * dtypes, with `metadata`; the snapshot's tensors are freed again.
 */
export function saveModelSafetensors(path: string, model: Module, metadata: Record<string, string> = {}): void {
  const bytes = tidy(() => {
    const state = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [pytorchStateKey(k), t]));
    return encodeStateDict(state, { format: 'pt', producer: 'gradlab', ...metadata });
  });
  writeFileAtomic(path, bytes);
}
