/**
 * Small helpers the layers share: making a parameter or buffer where the layer lives, and turning
 * a seed option into a random stream.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { full } from '../../tensor/create.js';
import { defaultStream, randomStream, type RandomStream } from '../../tensor/random.js';
import type { Shape } from '../../tensor/shape.js';
import type { Placement } from '../module.js';
import type { Seed } from '../init.js';
import { shown } from '../../util/format.js';

/** A tensor of `shape` filled with `value` on the layer's backend and dtype (default float32). */
export function filled(shape: Shape, value: number, placement: Placement): Tensor {
  return full(shape, value, { backend: placement.backend, dtype: placement.dtype ?? 'float32' });
}

/**
 * The stream a layer initialises from: a fresh one for a number or string, the given stream itself
 * (draws continue from it), or — when no seed is given — the shared default stream, which
 * `g.manualSeed` reseeds (as PyTorch layers draw from the global generator).
 */
export function streamFor(op: string, seed: Seed | undefined): RandomStream {
  if (seed === undefined) return defaultStream();
  if (typeof seed === 'number' || typeof seed === 'string') return randomStream(seed);
  if (seed !== null && typeof seed === 'object' && typeof seed.uniform === 'function') return seed;
  throw new Error(`${op}: seed must be a number, a string or a RandomStream; got ${String(seed)}`);
}

/** The keys of Placement, which every layer that makes tensors accepts. */
export const PLACEMENT_KEYS = ['backend', 'dtype'] as const;

export { checkKeys } from '../../util/options.js';

/** Throws unless `value` is an integer ≥ `min`. */
export function checkInt(op: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new Error(`${op}: ${name} must be an integer ≥ ${min}; got ${shown(value)}`);
  }
  return value;
}
