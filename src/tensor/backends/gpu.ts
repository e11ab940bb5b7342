/**
 * The gpu backend: every op's `gpu` kernels, compiled by gpu.js and run in one of its modes.
 *
 * Modes. `headlessgl` (a GL context, e.g. Mesa under xvfb-run, or a real GPU) when one works,
 * otherwise `webasm` (wasm SIMD on the CPU). Force one with GRADLAB_GPU_MODE=webasm|headlessgl|cpu
 * or setGpuMode(). gpu.js silently falls back when a mode cannot run, so the mode reported by
 * gpuInfo() is read from the kernel that actually ran, never assumed.
 *
 * How tensors map onto kernels. Every tensor is one flat, row-major array on the device: a
 * Float32Array in the CPU modes, a texture in the GL modes (gpu.js lays a 1-D output of n elements
 * into a near-square texture, so the limit is MAX_TEXTURE_SIZE² elements — 268 M on llvmpipe; a
 * 128×32×32×32 activation is 4.2 M). Every kernel has a 1-D output; `this.thread.x` is the flat
 * index of the element it computes, and kernels recover (n, c, y, x) from it with the shape
 * constants. Thread ids stay below 2^24, where float index arithmetic is exact.
 *
 * Caching. A kernel is compiled once per (kernel source, output size, constants) and kept, so a
 * training loop compiles nothing after its first step (gpuInfo().compiledKernels stops growing).
 */
import { createRequire } from 'node:module';
import type { DType, TypedArray } from '../dtype.js';
import type { AnyOpDef, DeviceArray, GpuKit, KernelFn, OpContext } from '../op-def.js';
import type { Backend, Storage } from './backend.js';
import type { GPU as GPUClass, IKernelRunShortcut, Texture } from 'gpu.js';

export type GpuMode = 'webasm' | 'headlessgl' | 'cpu';
export const GPU_MODES: readonly GpuMode[] = ['webasm', 'headlessgl', 'cpu'];

const KERNEL_CLASS: Record<GpuMode, string> = { webasm: 'WebAssemblyKernel', headlessgl: 'HeadlessGLKernel', cpu: 'CPUKernel' };

interface GpuState {
  gpu: GPUClass;
  mode: GpuMode;
  kernels: Map<string, IKernelRunShortcut>;
  compiled: number;
  compileMs: number;
  /** The gpu.js class that ran the latest kernel (the truth about the mode). */
  ranOn: string | null;
}

let state: GpuState | null = null;
let requestedMode: GpuMode | 'auto' | null = null;
const liveTextures = new Set<DeviceArray>();

type GpuJs = typeof import('gpu.js');
let gpujs: GpuJs | null = null;

function loadGpuJs(): GpuJs {
  // Loaded on first use: `import 'gradlab'` stays fast for reference-only work.
  gpujs ??= createRequire(import.meta.url)('gpu.js') as GpuJs;
  return gpujs;
}

/** Chooses the gpu.js mode before the first gpu op ('auto' picks headlessgl when a GL context works, else webasm). */
export function setGpuMode(mode: GpuMode | 'auto'): void {
  if (mode !== 'auto' && !GPU_MODES.includes(mode)) {
    throw new Error(`setGpuMode: mode must be 'auto' or one of ${GPU_MODES.map((m) => `'${m}'`).join(', ')}; got ${JSON.stringify(mode)}`);
  }
  if (state !== null && mode !== 'auto' && mode !== state.mode) {
    throw new Error(`setGpuMode: the gpu backend already runs in '${state.mode}' mode; choose the mode before the first gpu op`);
  }
  requestedMode = mode;
}

function chooseMode(): GpuMode {
  const fromEnv = process.env.GRADLAB_GPU_MODE;
  const wanted = requestedMode ?? (fromEnv ? (fromEnv as GpuMode | 'auto') : 'auto');
  const { GPU } = loadGpuJs();
  if (wanted === 'auto') return GPU.isHeadlessGLSupported ? 'headlessgl' : 'webasm';
  if (!GPU_MODES.includes(wanted)) {
    throw new Error(`GRADLAB_GPU_MODE must be 'auto' or one of ${GPU_MODES.join(', ')}; got ${JSON.stringify(wanted)}`);
  }
  if (wanted === 'headlessgl' && !GPU.isHeadlessGLSupported) {
    throw new Error(
      "gpu backend: mode 'headlessgl' was asked for but no GL context could be created " +
        '(is the `gl` package built, and is there a display? run under `xvfb-run -a`), or use GRADLAB_GPU_MODE=webasm',
    );
  }
  return wanted;
}

function device(): GpuState {
  if (state === null) {
    const mode = chooseMode();
    const { GPU } = loadGpuJs();
    state = { gpu: new GPU({ mode }), mode, kernels: new Map(), compiled: 0, compileMs: 0, ranOn: null };
  }
  return state;
}

export interface GpuInfo {
  /** The mode the backend runs in, or null before the first gpu op. */
  mode: GpuMode | null;
  /** The gpu.js kernel class that ran the latest kernel, e.g. 'WebAssemblyKernel'. */
  kernelClass: string | null;
  compiledKernels: number;
  compileMs: number;
  /** Device arrays (GL textures) alive now; flat over a training loop when memory is released. */
  liveTextures: number;
}

/** What the gpu backend is running on (starts it if `start` is set). */
export function gpuInfo(options: { start?: boolean } = {}): GpuInfo {
  if (options.start) device();
  return {
    mode: state?.mode ?? null,
    kernelClass: state?.ranOn ?? null,
    compiledKernels: state?.compiled ?? 0,
    compileMs: state?.compileMs ?? 0,
    liveTextures: liveTextures.size,
  };
}

function isTexture(a: Storage): a is Texture & DeviceArray {
  return !(a instanceof Float32Array) && !(a instanceof Float64Array);
}

function kernelFor(kernel: KernelFn | string, size: number, constants: Record<string, number>, isGL: boolean): IKernelRunShortcut {
  const s = device();
  const source = typeof kernel === 'string' ? kernel : kernel.toString();
  const key = `${source}|${size}|${JSON.stringify(constants)}`;
  let k = s.kernels.get(key);
  if (k === undefined) {
    k = s.gpu.createKernel(source, {
      output: [size],
      constants,
      pipeline: isGL,
      immutable: true,
      tactic: 'precision',
      precision: 'single',
    });
    s.kernels.set(key, k);
    s.compiled++;
  }
  return k;
}

function run(kernel: KernelFn | string, size: number, args: readonly DeviceArray[], constants: Record<string, number> = {}): DeviceArray {
  if (!Number.isInteger(size) || size < 1) throw new Error(`gpu kernel: output size must be a positive integer; got ${size}`);
  const s = device();
  const isGL = s.mode === 'headlessgl';
  const fresh = !s.kernels.has(`${typeof kernel === 'string' ? kernel : kernel.toString()}|${size}|${JSON.stringify(constants)}`);
  const k = kernelFor(kernel, size, constants, isGL);
  const t0 = fresh ? performance.now() : 0;
  const out = k(...(args as unknown[] as Parameters<typeof k>)) as unknown as DeviceArray;
  if (fresh) s.compileMs += performance.now() - t0;
  s.ranOn = k.kernel.constructor.name;
  if (s.ranOn !== KERNEL_CLASS[s.mode]) {
    const reason = (k.kernel as { fallbackReason?: string }).fallbackReason;
    throw new Error(`gpu backend: a kernel meant for '${s.mode}' ran on ${s.ranOn}${reason ? ` (${reason})` : ''}`);
  }
  if (isTexture(out)) liveTextures.add(out);
  return out;
}

function sizeOfDevice(a: DeviceArray): number {
  return a instanceof Float32Array ? a.length : a.output.reduce((p, d) => p * d, 1);
}

/** Σ over blocks of BLOCK elements, then Σ of the block sums: two short kernels, no atomics. */
const BLOCK = 1024;
function blockSums(this: { thread: { x: number }; constants: { N: number; BLOCK: number } }, x: number[]): number {
  let s = 0;
  const start = this.thread.x * this.constants.BLOCK;
  for (let j = 0; j < this.constants.BLOCK; j++) {
    if (start + j < this.constants.N) s += x[start + j];
  }
  return s;
}
function total(this: { constants: { N: number } }, x: number[]): number {
  let s = 0;
  for (let j = 0; j < this.constants.N; j++) s += x[j];
  return s;
}

const kit: GpuKit = {
  run,
  map: (kernel, ...args) => run(kernel, sizeOfDevice(args[0]), args),
  sumAll(x, size) {
    if (size <= BLOCK) return run(total.toString(), 1, [x], { N: size });
    const blocks = Math.ceil(size / BLOCK);
    const partial = run(blockSums.toString(), blocks, [x], { N: size, BLOCK });
    const out = run(total.toString(), 1, [partial], { N: blocks });
    release(partial);
    return out;
  },
};

/** Frees a device array the backend made (a texture in GL mode; garbage-collected otherwise). */
export function release(a: Storage): void {
  if (isTexture(a) && liveTextures.delete(a)) a.delete();
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

function identity(this: { thread: { x: number } }, x: number[]): number {
  return x[this.thread.x];
}

export const gpuBackend: Backend = {
  name: 'gpu',
  upload(values: TypedArray, dtype: DType): Storage {
    checkFloat32('tensor', dtype);
    const flat = values as Float32Array;
    // GL kernels take textures only (a kernel switching between arrays and textures recompiles),
    // so values go up once through the identity kernel; the CPU modes use the array itself.
    if (device().mode !== 'headlessgl' || flat.length === 0) return flat;
    return run(identity.toString(), flat.length, [flat]);
  },
  download(data: Storage, size: number, dtype: DType): TypedArray {
    checkFloat32('toArray', dtype);
    if (!isTexture(data)) return Float32Array.from((data as Float32Array).subarray(0, size));
    const values = (data as Texture).toArray() as unknown as Float32Array;
    return Float32Array.from(values.subarray(0, size));
  },
  dispose: release,

  forward(op, inputs, ctx: OpContext<string, object>) {
    checkFloat32(op.name, ctx.dtype);
    return gpuKernels(op).forward(kit, inputs as Readonly<Record<string, DeviceArray>>, ctx);
  },
  backward(op, saved, dy, ctx) {
    checkFloat32(op.name, ctx.dtype);
    const grads = gpuKernels(op).backward(kit, saved as Readonly<Record<string, DeviceArray>>, dy as DeviceArray, ctx) as Record<string, DeviceArray | undefined>;
    // Release gradients the engine did not ask for.
    for (const name of op.inputs) {
      const g = grads['d' + name];
      if (g !== undefined && !ctx.needsGrad[name]) {
        release(g);
        delete grads['d' + name];
      }
    }
    return grads;
  },
};
