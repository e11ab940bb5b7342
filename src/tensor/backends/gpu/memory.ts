/**
 * Device arrays of the gpu backend: where a tensor's numbers live, who owns them, and when they
 * are freed.
 *
 * How tensors map onto kernels. Every tensor is one flat, row-major array on the device: a
 * Float32Array in the CPU modes, a float texture in the GL mode. Every kernel has a 1-D output of n
 * elements; `this.thread.x` is the flat index of the element a thread computes, and kernels recover
 * (n, c, y, x) from it with shape constants. gpu.js lays a 1-D output into a near-square texture
 * (4,194,304 elements → 2048×2048 texels), so one tensor may hold up to MAX_TEXTURE_SIZE² elements
 * (16384² = 268 M on llvmpipe); a 128×32×32×32 activation is 4.2 M. Index arithmetic on thread ids
 * is float arithmetic in GLSL and wasm, exact below 2^24 = 16.7 M elements per tensor; larger
 * tensors are refused with a clear error rather than computed wrongly. Textures are single precision,
 * one value per RGBA texel (16 bytes an element: a 4.2 M tensor is 64 MiB of texture).
 *
 * Memory. Device arrays are owned by tensors; `Tensor.dispose()` (or `tidy`) calls the backend's
 * `dispose`, which deletes a texture exactly once (`free`). Inside an op's gpu implementation,
 * every array the kit makes and the op does not return is freed when the op returns (`inOpScope`;
 * ops may free big temporaries earlier with `k.release`). gpuInfo().liveTextures counts the
 * textures alive; it stays flat over a training loop. gpu.js also keeps each compiled GL kernel's
 * latest output texture, which its next call renders into again once the tensor holding it is
 * disposed: one texture per cached kernel, on top.
 */
import type { Texture } from 'gpu.js';
import type { DeviceArray } from '../../op-def.js';
import type { Storage } from '../backend.js';
import { loadedGpuJs } from './mode.js';
import { disposeTensorArray } from '../wasm/kernels.js';

// gpu.js's typings omit the `output` every texture carries (src/texture.js sets it); declaring it
// makes a gpu.js Texture a DeviceTexture (src/tensor/op-def.ts) without casts.
declare module 'gpu.js' {
  interface Texture {
    readonly output: number[];
  }
}

/** Thread ids are floats inside kernels; integer arithmetic on them is exact below 2^24. */
export const MAX_ELEMENTS = 2 ** 24;

/** Every texture made and not yet deleted. */
const liveTextures = new Set<Texture>();
/** Device arrays already released (CPU-mode arrays too, so a use after release fails in every mode). */
const released = new WeakSet<DeviceArray>();
/** Arrays made by the kit during the op call now running (null outside op calls). */
let opScope: Set<DeviceArray> | null = null;

export function isTexture(a: unknown): a is Texture {
  const gpujs = loadedGpuJs();
  return gpujs !== null && a instanceof gpujs.Texture;
}

/**
 * `a` as a device array. A freed array is refused unless `mayBeFreed`: a value saved for backward
 * may have been freed when backward does not read it (batchNorm in training mode saves the running
 * statistics that the module then replaces), so saved values are checked only when a kernel reads them.
 */
export function deviceArray(where: string, a: Storage, mayBeFreed = false): DeviceArray {
  if (a instanceof Float32Array || isTexture(a)) {
    if (!mayBeFreed && released.has(a)) {
      throw new Error(
        `${where} was already freed (by Tensor.dispose(), tidy() or release()) and cannot be used; ` +
          'if it was saved for backward, call backward() inside the same tidy() as the forward pass and do not dispose tensors the graph still needs',
      );
    }
    return a;
  }
  throw new Error(`${where}: expected a gpu device array (a Float32Array or a gpu.js texture); got ${a.constructor.name}`);
}

export function free(a: DeviceArray): void {
  if (released.has(a)) return;
  released.add(a);
  if (isTexture(a) && liveTextures.delete(a)) a.delete();
  // webasm: an array in the SIMD kernels' memory gives its block back (src/tensor/backends/wasm/arena.ts)
  if (a instanceof Float32Array) disposeTensorArray(a);
}

/**
 * Frees a temporary device array inside an op's gpu implementation before the op returns (the
 * backend frees any temporary at the end of the op anyway; this only lowers peak memory). Only an
 * array the same op call made can be released: inputs and saved values belong to tensors.
 */
export function release(a: DeviceArray): void {
  if (opScope !== null) {
    if (!opScope.has(a)) {
      throw new Error('release: inside an op only a temporary the op made itself (with k.run/k.map/k.sumAll) may be released; inputs belong to their tensors');
    }
    opScope.delete(a);
  }
  free(a);
}

/** Textures alive now (GL mode). */
export function liveTextureCount(): number {
  return liveTextures.size;
}

/** Counts `a`, just made by a kernel, as a temporary of the op call now running (if any). */
export function ownedByOp(a: DeviceArray): void {
  opScope?.add(a);
}

/** A new texture made by a kernel: alive until freed. */
export function trackTexture(t: Texture): void {
  liveTextures.add(t);
}

export function sizeOfDevice(a: DeviceArray): number {
  return a instanceof Float32Array ? a.length : a.output.reduce((p, d) => p * d, 1);
}

/**
 * Runs one op's gpu implementation with an op scope: afterwards every array it made but did not
 * return is freed, and what it returns must be new (an input returned as is would then have two
 * owners, and be deleted twice).
 */
export function inOpScope<R>(op: string, inputs: readonly DeviceArray[], body: () => R, results: (r: R) => DeviceArray[]): R {
  if (opScope !== null) throw new Error(`${op}: a gpu op implementation cannot run another op (the gpu kit is not re-entrant)`);
  const scope = new Set<DeviceArray>();
  opScope = scope;
  let r: R;
  try {
    r = body();
  } catch (e) {
    opScope = null;
    for (const a of scope) free(a);
    // Name the op: gpu.js's own errors (a kernel that does not compile, …) do not.
    if (e instanceof Error && !e.message.startsWith(op)) e.message = `${op} (gpu): ${e.message}`;
    throw e;
  }
  opScope = null;
  const outs = results(r);
  for (const o of outs) scope.delete(o);
  for (const a of scope) free(a);
  if (outs.some((o) => inputs.includes(o))) {
    throw new Error(`${op}: its gpu implementation returned one of its inputs; return a copy (k.map(copy, x)) so each array has one owner`);
  }
  return r;
}
