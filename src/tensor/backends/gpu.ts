/**
 * The gpu backend: every op's `gpu` kernels, compiled by gpu.js and run in one of its modes. This
 * file is its entry — the Backend (upload, download, dispose, an op's forward and backward) and
 * gpuInfo() — over four parts:
 *
 *   gpu/mode.ts     which gpu.js mode runs (headlessgl, webasm, cpu) and why; setGpuMode
 *   gpu/memory.ts   device arrays: a Float32Array or a texture per tensor, who owns it, freeing
 *   gpu/kernels.ts  compiling (once per kernel and sizes) and running gpu.js kernels
 *   gpu/kit.ts      the GpuKit an op's gpu implementation receives, and the SIMD kernels' switch
 *
 * Data stays on the device. Values go up once (`upload`: in GL mode through an identity kernel, so
 * every later kernel takes textures only) and come back only through `download` (`t.toArray()`).
 */
import type { DType, TypedArray } from '../dtype.js';
import type { AnyOpDef, DeviceArray, Flat, OpContext, Thread } from '../op-def.js';
import type { Backend, Storage } from './backend.js';
import { setSimdThreadPool, setSimdThreads, simdFma, simdThreads } from './wasm/kernels.js';
import { device, isGlMode, isSoftwareRenderer, runningDevice, type GpuMode } from './gpu/mode.js';
import { deviceArray, free, inOpScope, isTexture, liveTextureCount, MAX_ELEMENTS } from './gpu/memory.js';
import { kernelStats, run } from './gpu/kernels.js';
export { setKernelCacheLimit } from './gpu/kernels.js';
import { kit, simdKernelsEnabled } from './gpu/kit.js';
import { checkKeys } from '../../util/options.js';

export { GPU_MODES, BROWSER_GPU_MODES, resolveGpuMode, setGpuMode, isSoftwareRenderer, glRenderer, type GpuMode, type ModeChoice, type ModeRequest } from './gpu/mode.js';
export { release } from './gpu/memory.js';
export { setSimdKernels } from './gpu/kit.js';
export { setSimdThreads };
export { setSimdFma } from './wasm/gemm.js';
// What a platform installs (src/node/gpu-settings.ts for Node): how to load gpu.js, the threads
// of the SIMD kernels, and its GRADLAB_GPU_MODE setting.
export { setGpuJsLoader, setGpuPlatform, setGpuModeFromEnv, type GpuJs, type GpuPlatform } from './gpu/mode.js';
export { setSimdThreadPool };
export type { SimdThreadPool, SimdThreadPoolFactory } from './wasm/threads.js';

// ── gpuInfo ──

/** What g.gpuInfo() reports about the gpu backend. */
export interface GpuInfo {
  /** The mode the backend runs in, or null before the first gpu op (pass { start: true } to start it). */
  mode: GpuMode | null;
  /** Why that mode: 'auto: a GL context works', 'GRADLAB_GPU_MODE=webasm', … */
  reason: string | null;
  /** The GL renderer the kernels run on (WEBGL_debug_renderer_info), e.g. 'ANGLE (NVIDIA, …)'; null in the CPU modes and before the first kernel. */
  renderer: string | null;
  /** Whether that renderer draws on the CPU (SwiftShader, llvmpipe); null when there is none. */
  softwareRenderer: boolean | null;
  /** In words: 'WebGL2 on ANGLE (…)', 'WebGL2 on SwiftShader (software)', 'webasm (CPU, wasm SIMD)'; null before the first gpu op. */
  summary: string | null;
  /** The gpu.js kernel class that ran the latest kernel, e.g. 'HeadlessGLKernel'; null before any. */
  kernelClass: string | null;
  /** Kernels compiled so far; stops growing once a training loop has run one step. */
  compiledKernels: number;
  /** Total time of the first call of each compiled kernel (compilation plus one run), ms. */
  compileMs: number;
  /** Kernels dropped from a capped cache and compiled again (a browser's webasm mode: see setKernelCacheLimit); 0 elsewhere. */
  evictedKernels: number;
  /** Kernel calls so far (uploads included; in webasm mode the hand-written SIMD kernels' too). */
  kernelCalls: number;
  /** Textures alive now (GL mode; 0 in the CPU modes, where the garbage collector owns arrays). */
  liveTextures: number;
  /** Whether matmul and conv2d run the hand-written wasm SIMD kernels (webasm mode, see setSimdKernels). */
  simdKernels: boolean;
  /** Threads those kernels share their work between, the main thread included (GRADLAB_THREADS, setSimdThreads); 0 when they are not in use. */
  simdThreads: number;
  /** Whether the SIMD GEMM runs its fused multiply-add inner loop (relaxed SIMD, where the engine has it; GRADLAB_FMA=0 turns it off). */
  simdFma: boolean;
}

/** What the gpu backend is running on. */
export function gpuInfo(options: { start?: boolean } = {}): GpuInfo {
  checkKeys('gpuInfo', options, ['start']);
  if (options.start) device();
  const running = runningDevice();
  const stats = kernelStats();
  const simd = running?.mode === 'webasm' && simdKernelsEnabled();
  const renderer = running?.renderer ?? null;
  return {
    mode: running?.mode ?? null,
    reason: running?.reason ?? null,
    renderer,
    softwareRenderer: renderer === null ? null : isSoftwareRenderer(renderer),
    summary: running ? modeSummary(running.mode, renderer, simd) : null,
    kernelClass: stats.ranOn,
    compiledKernels: stats.compiled,
    compileMs: stats.compileMs,
    evictedKernels: stats.evicted,
    kernelCalls: stats.kernelCalls,
    liveTextures: liveTextureCount(),
    simdKernels: simd,
    simdThreads: simd ? simdThreads() : 0,
    simdFma: simd && simdFma(),
  };
}

const MODE_WORDS: Record<GpuMode, string> = { webgl2: 'WebGL2', webgl: 'WebGL', headlessgl: 'headless-gl', webasm: 'webasm', cpu: 'cpu' };

function modeSummary(mode: GpuMode, renderer: string | null, simd: boolean): string {
  if (isGlMode(mode)) {
    if (renderer === null) return `${MODE_WORDS[mode]} (renderer not read yet: run a gpu op)`;
    return `${MODE_WORDS[mode]} on ${renderer}${isSoftwareRenderer(renderer) ? ' (software)' : ''}`;
  }
  if (mode === 'webasm') return `webasm (CPU, WebAssembly${simd ? `; SIMD GEMM on ${simdThreads()} thread${simdThreads() === 1 ? '' : 's'}${simdFma() ? ' with FMA' : ''}` : ''})`;
  return 'cpu (plain JavaScript, for debugging)';
}

// ── the backend ──

function identity(this: Thread, x: Flat): number {
  return x[this.thread.x];
}

function checkFloat32(op: string, dtype: DType): void {
  if (dtype !== 'float32') {
    throw new Error(`${op}: the gpu backend runs float32 only; got a ${dtype} tensor — use the 'reference' backend for float64 (e.g. gradient checking)`);
  }
}

function gpuKernels(op: AnyOpDef): NonNullable<AnyOpDef['gpu']> {
  if (!op.gpu) throw new Error(`${op.name}: this op has no gpu kernel; run it on the 'reference' backend`);
  return op.gpu;
}

function deviceRecord(op: string, what: string, record: Readonly<Record<string, Storage>>, mayBeFreed: boolean): Record<string, DeviceArray> {
  const out: Record<string, DeviceArray> = {};
  for (const [name, a] of Object.entries(record)) out[name] = deviceArray(`${op}: ${what} '${name}'`, a, mayBeFreed);
  return out;
}

export const gpuBackend: Backend = {
  name: 'gpu',
  upload(values: TypedArray, dtype: DType): Storage {
    checkFloat32('tensor', dtype);
    if (!(values instanceof Float32Array)) throw new Error(`tensor: the gpu backend stores Float32Array values; got ${values.constructor.name}`);
    if (values.length > MAX_ELEMENTS) {
      throw new Error(`tensor: ${values.length} elements exceed the gpu backend's limit of 2^24 = ${MAX_ELEMENTS} per tensor; split it along its batch axis`);
    }
    // GL kernels take textures only (a kernel switching between arrays and textures recompiles),
    // so values go up once through the identity kernel; the CPU modes use the array itself.
    if (!isGlMode(device().mode) || values.length === 0) return values;
    return run(identity, values.length, [values]);
  },
  download(data: Storage, size: number, dtype: DType): TypedArray {
    checkFloat32('toArray', dtype);
    const a = deviceArray("toArray: the tensor's device array", data);
    if (a instanceof Float32Array) return a.slice(0, size);
    if (!isTexture(a)) throw new Error('toArray: expected a gpu.js texture');
    // A 1-D float texture reads back as a Float32Array of output[0] values.
    const values = a.toArray();
    if (!(values instanceof Float32Array)) throw new Error(`toArray: a gpu texture read back as ${values.constructor.name}, not a Float32Array`);
    return values.length === size ? values : values.slice(0, size);
  },
  dispose(data: Storage): void {
    if (data instanceof Float32Array || isTexture(data)) free(data);
  },

  forward(op, inputs, ctx: OpContext<string, object>) {
    checkFloat32(op.name, ctx.dtype);
    const arrays = deviceRecord(op.name, 'input', inputs, false);
    return inOpScope(op.name, Object.values(arrays), () => gpuKernels(op).forward(kit, arrays, ctx), (y) => [y]);
  },
  backward(op, saved, dy, ctx) {
    checkFloat32(op.name, ctx.dtype);
    const savedArrays = deviceRecord(op.name, 'the value saved for backward', saved, true);
    const dyArray = deviceArray(`${op.name}: the upstream gradient`, dy);
    const grads = inOpScope(
      op.name,
      [...Object.values(savedArrays), dyArray],
      () => gpuKernels(op).backward(kit, savedArrays, dyArray, ctx),
      (g) => Object.values(g).filter((a) => a !== undefined),
    );
    // Hand back only the gradients the engine asked for; free the rest.
    const out: Record<string, DeviceArray> = {};
    for (const name of op.inputs) {
      const g = grads[`d${name}`];
      if (g === undefined) continue;
      if (ctx.needsGrad[name]) out[`d${name}`] = g;
      else free(g);
    }
    return out;
  },
};
