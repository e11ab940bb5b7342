/**
 * The gpu backend in Node. The backend itself (src/tensor/backends/gpu.ts) runs anywhere and takes
 * what is Node's from here:
 *
 *   gpu.js          loaded through Node's require on the first gpu op (not at import: it takes
 *                   about as long to load as gradlab itself)
 *   worker threads  for the SIMD kernels of the webasm mode (./threads.ts)
 *   environment     GRADLAB_GPU_MODE   webasm | headlessgl | cpu | auto   (setGpuMode() wins over it)
 *                   GRADLAB_SIMD       0 | 1                              (as setSimdKernels)
 *                   GRADLAB_THREADS    1 … 64                             (as setSimdThreads)
 *                   GRADLAB_FMA        0 | 1                              (as setSimdFma)
 *   V8's flag       --experimental-wasm-relaxed-simd, so the SIMD GEMM can use fused multiply-adds
 *
 * The Node entry (src/index.ts) calls useNodeGpu() once when it is imported, and so does the
 * `gradlab` command (src/cli/main.ts); code that imports the backend's modules directly (tests,
 * benchmarks) imports src/index.ts first.
 */
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { setGpuJsLoader, setGpuModeFromEnv, setSimdFma, setSimdKernels, setSimdThreadPool, setSimdThreads, type GpuJs } from '../tensor/backends/gpu.js';
import { parseThreads } from '../tensor/backends/wasm/threads.js';
import { nodeThreadPool } from './threads.js';
import { shown } from '../util/format.js';

/** GRADLAB_SIMD as a setting: unset, '' or 1 = on (the default), 0 = off; anything else an error. */
function simdSetting(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === '1') return true;
  if (value === '0') return false;
  throw new Error(`GRADLAB_SIMD must be 0 (gpu.js kernels only) or 1 (the default: hand-written SIMD kernels for matmul and conv2d in webasm mode); got ${shown(value)}`);
}

/** GRADLAB_FMA as a setting: unset, '' or 1 = on (the default, where the engine has it), 0 = off; anything else an error. */
function fmaSetting(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === '1') return true;
  if (value === '0') return false;
  throw new Error(`GRADLAB_FMA must be 0 (the SIMD GEMM multiplies then adds) or 1 (the default: fused multiply-adds, where the engine has relaxed SIMD); got ${shown(value)}`);
}

/**
 * Node 20's V8 has relaxed SIMD (f32x4.relaxed_madd, the GEMM's fused multiply-add) only behind a
 * flag. Flags are the process's — worker threads see it too — and count for modules compiled after
 * they are set: so this runs before the first SIMD kernel is built. (Where V8 has it on by
 * default, the flag is still accepted and changes nothing.)
 */
function enableRelaxedSimd(): void {
  setFlagsFromString('--experimental-wasm-relaxed-simd');
}

/**
 * Applies the environment's settings through the backend's setters. GRADLAB_SIMD and
 * GRADLAB_THREADS are checked here; GRADLAB_GPU_MODE when the backend starts (a wrong mode, or
 * headlessgl without a display, fails the first gpu op, not the import).
 */
export function applyGpuSettings(env: Readonly<Record<string, string | undefined>>): void {
  setGpuModeFromEnv(env.GRADLAB_GPU_MODE);
  setSimdKernels(simdSetting(env.GRADLAB_SIMD));
  setSimdFma(fmaSetting(env.GRADLAB_FMA));
  const threads = env.GRADLAB_THREADS;
  if (threads !== undefined && threads !== '') setSimdThreads(parseThreads('GRADLAB_THREADS', threads));
}

let installed = false;

/** Sets the gpu backend up for Node, once: gpu.js, the worker threads, and process.env's settings. */
export function useNodeGpu(): void {
  if (installed) return;
  installed = true;
  setGpuJsLoader(() => {
    const gpujs: GpuJs = createRequire(import.meta.url)('gpu.js');
    return gpujs;
  });
  setSimdThreadPool(nodeThreadPool);
  enableRelaxedSimd();
  applyGpuSettings(process.env);
}
