/**
 * Compiling and running gpu.js kernels: the one place the gpu backend calls gpu.js's createKernel.
 *
 * Caching. A kernel is compiled once per (kernel source, output size, argument sizes, constants) and
 * kept, so a training loop compiles nothing after its first step (gpuInfo().compiledKernels).
 *
 * Data stays on the device. Kernels run with `pipeline: true, immutable: true` in GL mode: each call
 * returns a new texture, and textures pass straight into the next kernel. After every call the
 * backend checks that the kernel ran on the class of the chosen mode (gpu.js falls back silently).
 */
import type { IKernelRunShortcut, Kernel, KernelOutput, KernelVariable } from 'gpu.js';
import type { DeviceArray, KernelFn } from '../../op-def.js';
import { deviceArray, isTexture, MAX_ELEMENTS, ownedByOp, sizeOfDevice, trackTexture } from './memory.js';
import { device, isGlMode, KERNEL_CLASS, noteRenderer } from './mode.js';

interface CacheEntry {
  run: IKernelRunShortcut;
  /** The gpu.js kernel object last seen; gpu.js swaps it when it recompiles for new arguments. */
  kernel: Kernel;
}

/** What gpuInfo() reports about the kernels. */
export interface KernelStats {
  compiled: number;
  /** Total time of the first call of each compiled kernel (compilation plus one run), ms. */
  compileMs: number;
  kernelCalls: number;
  /** Kernels dropped from the cache by setKernelCacheLimit (each is compiled again when next run). */
  evicted: number;
  /** The gpu.js class that ran the latest kernel (the truth about the mode). */
  ranOn: string | null;
}

/** The compiled kernels, by cache key. */
const cache = new Map<string, CacheEntry>();
/** The most kernels kept compiled at once (null: no limit); see setKernelCacheLimit. */
let cacheLimit: number | null = null;
/** The key of the kernel run last, evicted first when the cache is full (see below). */
let lastKey: string | null = null;

/**
 * Caps how many compiled kernels the backend keeps. A browser needs it in webasm mode: every gpu.js
 * webasm kernel owns a WebAssembly.Memory, and Chromium reserves 8 GiB of address space for each,
 * so a page can hold only about 124 of them ('WebAssembly.Memory(): could not allocate memory'),
 * fewer than a SmallNet step compiles (about 150). Past the cap the kernel run last is dropped
 * (the garbage collector then frees its memory): a training step runs its kernels in the same
 * order every time, and for such a cycle dropping the most recently used keeps the most hits,
 * where dropping the least recently used would miss on every kernel.
 */
export function setKernelCacheLimit(limit: number | null): void {
  if (limit !== null && (!Number.isInteger(limit) || limit < 1)) throw new Error(`setKernelCacheLimit: expected a positive whole number or null; got ${String(limit)}`);
  cacheLimit = limit;
}
const stats: KernelStats = { compiled: 0, compileMs: 0, kernelCalls: 0, evicted: 0, ranOn: null };

export function kernelStats(): Readonly<KernelStats> {
  return stats;
}

/** Counts a call of a hand-written kernel (GpuKit.simd) with the gpu.js kernels' calls. */
export function countKernelCall(): void {
  stats.kernelCalls++;
}

/** Each kernel function's source, and a small id per distinct source (the cache key's first part). */
const sourceOf = new WeakMap<KernelFn, { source: string; id: number }>();
const sourceIds = new Map<string, number>();
function kernelSource(kernel: KernelFn): { source: string; id: number } {
  let s = sourceOf.get(kernel);
  if (s === undefined) {
    // An op may build its kernel function on every call: equal sources share one id, so one cache entry.
    const source = kernel.toString();
    let id = sourceIds.get(source);
    if (id === undefined) sourceIds.set(source, (id = sourceIds.size));
    s = { source, id };
    sourceOf.set(kernel, s);
  }
  return s;
}

function kernelArg(a: DeviceArray): KernelVariable {
  if (a instanceof Float32Array) return a;
  if (isTexture(a)) return a;
  throw new Error('gpu kernel: an argument is not a device array of the gpu backend (was it made by another backend?)');
}

function checkKernelFn(kernel: KernelFn): void {
  if (typeof kernel !== 'function') throw new Error(`gpu kernel: expected a kernel function; got ${typeof kernel}`);
  const src = kernelSource(kernel).source;
  if (!/^function\b/.test(src)) {
    throw new Error(`gpu kernel: kernels must be \`function (this: Thread, …) { … }\` expressions (gpu.js cannot compile arrows or methods); got ${src.slice(0, 60)}…`);
  }
}

/** GpuKit.run: `kernel` once per element of a flat output of `size` elements (see src/tensor/op-def.ts). */
export function run(kernel: KernelFn, size: number, args: readonly DeviceArray[], constants: Record<string, number> = {}): DeviceArray {
  if (!Number.isInteger(size) || size < 1) throw new Error(`gpu kernel: the output size must be a positive integer; got ${size}`);
  if (size > MAX_ELEMENTS) {
    throw new Error(`gpu kernel: an output of ${size} elements exceeds the gpu backend's limit of 2^24 = ${MAX_ELEMENTS} per tensor (thread ids are exact only below it); split the tensor along its batch axis`);
  }
  checkKernelFn(kernel);
  const d = device();
  const isGL = isGlMode(d.mode);
  const kernelArgs = args.map((a, i) => kernelArg(deviceArray(`gpu kernel: argument ${i}`, a)));
  const argSizes = args.map((a) => (a instanceof Float32Array ? `a${a.length}` : `t${sizeOfDevice(a)}`)).join(',');
  const { source, id } = kernelSource(kernel);
  const key = `${id}|${size}|${argSizes}|${JSON.stringify(constants)}`;
  let entry = cache.get(key);
  const fresh = entry === undefined;
  if (entry === undefined) {
    if (cacheLimit !== null && cache.size >= cacheLimit) {
      const victim = lastKey !== null && cache.has(lastKey) ? lastKey : cache.keys().next().value;
      const dropped = victim === undefined ? undefined : cache.get(victim);
      if (victim !== undefined && dropped !== undefined) {
        cache.delete(victim);
        stats.evicted++;
        // gpu.js keeps every kernel in gpu.kernels until destroyed. A CPU-mode kernel's results are
        // copies, so destroying it frees only its own memory; a GL kernel's last output texture may
        // still belong to a tensor, so GL kernels are never destroyed here.
        if (!isGL) dropped.kernel.destroy();
      }
    }
    const compiled = d.gpu.createKernel(source, {
      output: [size],
      constants,
      pipeline: isGL,
      immutable: true,
      tactic: 'precision',
      precision: 'single',
    });
    entry = { run: compiled, kernel: compiled.kernel };
    cache.set(key, entry);
    stats.compiled++;
  }
  const t0 = performance.now();
  lastKey = key;
  const out: KernelOutput = entry.run(...kernelArgs);
  if (fresh) stats.compileMs += performance.now() - t0;
  stats.kernelCalls++;
  // gpu.js may swap the kernel object during a call (first call, or a recompile for new argument
  // types): count a swap after the first call as a compile, and check what actually ran.
  if (entry.run.kernel !== entry.kernel) {
    if (!fresh) stats.compiled++;
    entry.kernel = entry.run.kernel;
  }
  stats.ranOn = entry.run.kernel.constructor.name;
  if (stats.ranOn !== KERNEL_CLASS[d.mode]) {
    const reason = entry.run.kernel.fallbackReason;
    throw new Error(`gpu backend: a kernel meant for '${d.mode}' ran on ${stats.ranOn}${reason ? ` (${reason})` : ''}`);
  }
  if (fresh && isGL) noteRenderer(entry.run.kernel.context);
  let result: DeviceArray;
  if (out instanceof Float32Array && !isGL) {
    result = out;
  } else if (isTexture(out) && isGL) {
    trackTexture(out);
    result = out;
  } else {
    throw new Error(`gpu backend: a '${d.mode}' kernel returned ${out?.constructor.name ?? String(out)}, not a ${isGL ? 'texture' : 'Float32Array'}`);
  }
  ownedByOp(result);
  return result;
}
