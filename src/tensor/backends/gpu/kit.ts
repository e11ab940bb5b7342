/**
 * The kit an op's gpu implementation receives (GpuKit, src/tensor/op-def.ts): run, map, scalar,
 * the shared reduction sumAll, release, and the hand-written SIMD kernels of the webasm mode.
 * Everything an op does on the gpu goes through it; no op file imports the backend itself.
 */
import type { CpuKernels, CpuResults, Flat, GpuKit, OnDevice, Thread } from '../../op-def.js';
import { countKernelCall, run } from './kernels.js';
import { deviceArray, isTexture, ownedByOp, release, sizeOfDevice } from './memory.js';
import { device } from './mode.js';
import { shown } from '../../../util/format.js';

// ── the shared reduction ──

/** Σ over blocks of BLOCK elements, then Σ of the block sums: two short kernels, no atomics. */
const BLOCK = 1024;
function blockSums(this: Thread, x: Flat): number {
  let s = 0;
  const start = this.thread.x * this.constants.BLOCK;
  for (let j = 0; j < this.constants.BLOCK; j++) {
    if (start + j < this.constants.N) s += x[start + j];
  }
  return s;
}
function total(this: Thread, x: Flat): number {
  let s = 0;
  for (let j = 0; j < this.constants.N; j++) s += x[j];
  return s;
}

// ── the hand-written SIMD kernels (webasm mode) ──

let simdEnabled = true;

/**
 * In webasm mode, matmul and conv2d — and batch norm, relu, frelu, add/sub/mul, dropout, 2×2 max
 * pooling and reshape's copy (src/tensor/backends/wasm/streams.ts) — run hand-written wasm SIMD
 * kernels unless this is turned off (or GRADLAB_SIMD=0): then they run their gpu.js kernels like
 * every other op — for comparison and for testing those kernels. Takes effect from the next op.
 */
export function setSimdKernels(enabled: boolean): void {
  if (typeof enabled !== 'boolean') throw new Error(`setSimdKernels: expected true or false; got ${shown(enabled)}`);
  simdEnabled = enabled;
}

/** Whether the SIMD kernels are turned on (they run in webasm mode only). */
export function simdKernelsEnabled(): boolean {
  return simdEnabled;
}

/**
 * Kernels over Float32Arrays as the kit hands them to an op (GpuKit.simd): every array argument
 * checked like a kernel argument (a live Float32Array: the CPU modes' device arrays), every result
 * owned by the op call like k.run's. Any kernels object is wrapped the same way, kernel by kernel,
 * and once (the wrapper is kept for the next call).
 */
type Results = Float32Array | CpuResults;
const checkedKernels = new WeakMap<CpuKernels, Readonly<Record<string, (...args: unknown[]) => Results>>>();
function checkedSimd<K extends CpuKernels>(kernels: K): OnDevice<K> {
  let checked = checkedKernels.get(kernels);
  if (checked === undefined) {
    const wrapped: Record<string, (...args: unknown[]) => Results> = {};
    for (const name of Object.keys(kernels)) {
      wrapped[name] = (...args) => {
        // Looked up at each call, so that a profiler may wrap the kernels (bench/profile.ts); the
        // arguments are checked here, at run time, so the kernel may take them as unknowns.
        const call = kernels[name] as (...args: unknown[]) => Results;
        const y = call(...args.map((a, i) => simdArg(`k.simd: ${name}'s argument ${i}`, a)));
        countKernelCall();
        if (y instanceof Float32Array) ownedByOp(y);
        else for (const out of Object.values(y)) ownedByOp(out);
        return y;
      };
    }
    checked = wrapped;
    checkedKernels.set(kernels, checked);
  }
  return checked as OnDevice<K>;
}

/** A device array argument as a live Float32Array; any other argument (sizes, flags) as it is. */
function simdArg(where: string, a: unknown): unknown {
  if (!(a instanceof Float32Array) && !isTexture(a)) return a;
  const d = deviceArray(where, a);
  if (!(d instanceof Float32Array)) throw new Error(`${where}: the SIMD kernels take Float32Arrays (webasm mode)`);
  return d;
}

// ── the kit ──

export const kit: GpuKit = {
  run,
  map: (kernel, ...args) => {
    if (args.length === 0) throw new Error('k.map: give at least one argument (the output takes its size)');
    return run(kernel, sizeOfDevice(args[0]), args);
  },
  scalar: (value) => Float32Array.of(value),
  sumAll(x, size) {
    if (size <= BLOCK) return run(total, 1, [x], { N: size });
    const blocks = Math.ceil(size / BLOCK);
    const partial = run(blockSums, blocks, [x], { N: size, BLOCK });
    const out = run(total, 1, [partial], { N: blocks });
    release(partial);
    return out;
  },
  release,
  /** In webasm mode only; and not when GRADLAB_SIMD=0, which runs gpu.js's kernels there too (for comparison). */
  simd: (kernels) => (device().mode === 'webasm' && simdEnabled ? checkedSimd(kernels) : null),
};
