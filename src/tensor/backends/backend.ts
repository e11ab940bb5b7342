/**
 * The backend seam. A backend stores tensors' numbers and runs ops' kernels; everything above it
 * (autograd, nn, optim) only calls these six methods, so a new backend plugs in here without any
 * op file changing shape.
 */
import type { DType, TypedArray } from '../dtype.js';
import type { AnyOpDef, DeviceArray, OpContext } from '../op-def.js';

/** The backends: 'reference' (plain TypeScript, float32/float64) and 'gpu' (gpu.js, float32). */
export type BackendName = 'reference' | 'gpu';
export const BACKENDS: readonly BackendName[] = ['reference', 'gpu'];

/** A tensor's numbers as its backend holds them. */
export type Storage = TypedArray | DeviceArray;

export interface Backend {
  readonly name: BackendName;
  /** Takes ownership of `values` (already in the right dtype) and returns the backend's storage. */
  upload(values: TypedArray, dtype: DType): Storage;
  /** A host copy of `size` elements. */
  download(data: Storage, size: number, dtype: DType): TypedArray;
  /** Releases device memory (a no-op where the garbage collector owns it). */
  dispose(data: Storage): void;
  forward(op: AnyOpDef, inputs: Readonly<Record<string, Storage>>, ctx: OpContext<string, object>): Storage;
  /** Returns one gradient per input that `ctx.needsGrad` asks for, keyed 'd' + input name. */
  backward(
    op: AnyOpDef,
    saved: Readonly<Record<string, Storage>>,
    dy: Storage,
    ctx: OpContext<string, object>,
  ): Readonly<Record<string, Storage | undefined>>;
}
