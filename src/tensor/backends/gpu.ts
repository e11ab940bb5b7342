/**
 * The gpu backend: every op's `gpu` kernels, compiled by gpu.js and run in one of its modes.
 *
 * Modes. `headlessgl` (a GL context: Mesa llvmpipe under `xvfb-run`, or a real GPU) when one works,
 * otherwise `webasm` (wasm SIMD on the CPU); `cpu` (plain JS) exists for debugging. Force one with
 * GRADLAB_GPU_MODE=webasm|headlessgl|cpu|auto or setGpuMode() before the first gpu op. gpu.js itself
 * falls back silently when a mode cannot run, so this backend checks, after every kernel call, that
 * the kernel really ran on the class of the chosen mode, and gpuInfo() reports that class.
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
 * Data stays on the device. Values go up once (`upload`: in GL mode through an identity kernel, so
 * every later kernel takes textures only) and come back only through `download` (`t.toArray()`).
 * Kernels run with `pipeline: true, immutable: true` in GL mode: each call returns a new texture, and
 * textures pass straight into the next kernel.
 *
 * Memory. Device arrays are owned by tensors; `Tensor.dispose()` (or `tidy`) calls `dispose` below,
 * which deletes a texture exactly once. Inside an op's gpu implementation, every array the kit makes
 * and the op does not return is freed when the op returns (ops may free big temporaries earlier with
 * `release`). gpuInfo().liveTextures counts the textures alive; it stays flat over a training loop.
 * gpu.js also keeps each compiled GL kernel's latest output texture, which its next call renders
 * into again once the tensor holding it is disposed: one texture per cached kernel, on top.
 *
 * Caching. A kernel is compiled once per (kernel source, output size, argument sizes, constants) and
 * kept, so a training loop compiles nothing after its first step (gpuInfo().compiledKernels).
 */
import { createRequire } from 'node:module';
import type { DType, TypedArray } from '../dtype.js';
import type { AnyOpDef, CpuKernels, DeviceArray, Flat, GpuKit, KernelFn, OnDevice, OpContext, Thread } from '../op-def.js';
import { setSimdThreads, simdThreads } from './wasm/kernels.js';
import type { Backend, Storage } from './backend.js';
import type { GPU, IKernelRunShortcut, Kernel, KernelOutput, KernelVariable, Texture } from 'gpu.js';

export { setSimdThreads };

// gpu.js's typings omit the `output` every texture carries (src/texture.js sets it); declaring it
// makes a gpu.js Texture a DeviceTexture (src/tensor/op-def.ts) without casts.
declare module 'gpu.js' {
  interface Texture {
    readonly output: number[];
  }
}

export type GpuMode = 'webasm' | 'headlessgl' | 'cpu';
export const GPU_MODES: readonly GpuMode[] = ['webasm', 'headlessgl', 'cpu'];

/** The gpu.js kernel class each mode must run on (what `kernel.constructor.name` reads). */
const KERNEL_CLASS: Record<GpuMode, string> = { webasm: 'WebAssemblyKernel', headlessgl: 'HeadlessGLKernel', cpu: 'CPUKernel' };

/** Thread ids are floats inside kernels; integer arithmetic on them is exact below 2^24. */
const MAX_ELEMENTS = 2 ** 24;

// ── loading gpu.js ──

type GpuJs = typeof import('gpu.js');
let gpujs: GpuJs | null = null;

function loadGpuJs(): GpuJs {
  if (gpujs === null) {
    // Loaded on first use, so `import 'gradlab'` stays fast for reference-only work.
    const loaded: GpuJs = createRequire(import.meta.url)('gpu.js');
    gpujs = loaded;
  }
  return gpujs;
}

// ── mode selection ──

/** What the caller asked for, in order of precedence: setGpuMode(), then GRADLAB_GPU_MODE, then 'auto'. */
export interface ModeRequest {
  fromCall: GpuMode | 'auto' | null;
  fromEnv: string | undefined;
}

export interface ModeChoice {
  mode: GpuMode;
  /** Why this mode, in words (for log and benchmark headers). */
  reason: string;
}

function isGpuMode(value: string): value is GpuMode {
  return GPU_MODES.some((m) => m === value);
}

/**
 * Picks the mode: a forced mode is checked (headlessgl needs a working GL context), 'auto' takes
 * headlessgl when `glWorks()` and webasm otherwise. Pure apart from the probe, so tests drive it.
 */
export function resolveGpuMode(request: ModeRequest, glWorks: () => boolean): ModeChoice {
  let wanted: GpuMode | 'auto' = 'auto';
  let source = 'auto';
  if (request.fromCall !== null) {
    wanted = request.fromCall;
    source = `setGpuMode('${request.fromCall}')`;
  } else if (request.fromEnv !== undefined && request.fromEnv !== '') {
    const env = request.fromEnv.trim().toLowerCase();
    if (env !== 'auto' && !isGpuMode(env)) {
      throw new Error(`GRADLAB_GPU_MODE must be 'auto' or one of ${GPU_MODES.join(', ')}; got ${JSON.stringify(request.fromEnv)}`);
    }
    wanted = env;
    source = `GRADLAB_GPU_MODE=${env}`;
  }
  if (wanted === 'auto') {
    return glWorks()
      ? { mode: 'headlessgl', reason: `${source}: a GL context works` }
      : { mode: 'webasm', reason: `${source}: no GL context (no display, or the gl package is not built), so webasm` };
  }
  if (wanted === 'headlessgl' && !glWorks()) {
    throw new Error(
      `gpu backend: mode 'headlessgl' was asked for (${source}) but no GL context could be created: ` +
        'is the `gl` package built (npm install with allowScripts), and is there a display (run under `xvfb-run -a`)? ' +
        'Or use GRADLAB_GPU_MODE=webasm',
    );
  }
  return { mode: wanted, reason: source };
}

interface CacheEntry {
  run: IKernelRunShortcut;
  /** The gpu.js kernel object last seen; gpu.js swaps it when it recompiles for new arguments. */
  kernel: Kernel;
}

interface GpuState {
  gpu: GPU;
  mode: GpuMode;
  reason: string;
  kernels: Map<string, CacheEntry>;
  compiled: number;
  compileMs: number;
  kernelCalls: number;
  /** The gpu.js class that ran the latest kernel (the truth about the mode). */
  ranOn: string | null;
}

let state: GpuState | null = null;
let requestedMode: GpuMode | 'auto' | null = null;

/**
 * Chooses the gpu.js mode: 'auto' (the default) picks headlessgl when a GL context works, else
 * webasm. Call it before the first gpu op; afterwards only the running mode (or 'auto') is accepted.
 */
export function setGpuMode(mode: GpuMode | 'auto'): void {
  if (mode !== 'auto' && !isGpuMode(mode)) {
    throw new Error(`setGpuMode: mode must be 'auto' or one of ${GPU_MODES.map((m) => `'${m}'`).join(', ')}; got ${JSON.stringify(mode)}`);
  }
  if (state !== null && mode !== 'auto' && mode !== state.mode) {
    throw new Error(`setGpuMode: the gpu backend already runs in '${state.mode}' mode (${state.reason}); choose the mode before the first gpu op`);
  }
  requestedMode = mode;
}

function device(): GpuState {
  if (state === null) {
    const { GPU } = loadGpuJs();
    const { mode, reason } = resolveGpuMode({ fromCall: requestedMode, fromEnv: process.env.GRADLAB_GPU_MODE }, () => GPU.isHeadlessGLSupported);
    state = { gpu: new GPU({ mode }), mode, reason, kernels: new Map(), compiled: 0, compileMs: 0, kernelCalls: 0, ranOn: null };
  }
  return state;
}

// ── gpuInfo ──

export interface GpuInfo {
  /** The mode the backend runs in, or null before the first gpu op (pass { start: true } to start it). */
  mode: GpuMode | null;
  /** Why that mode: 'auto: a GL context works', 'GRADLAB_GPU_MODE=webasm', … */
  reason: string | null;
  /** The gpu.js kernel class that ran the latest kernel, e.g. 'HeadlessGLKernel'; null before any. */
  kernelClass: string | null;
  /** Kernels compiled so far; stops growing once a training loop has run one step. */
  compiledKernels: number;
  /** Total time of the first call of each compiled kernel (compilation plus one run), ms. */
  compileMs: number;
  /** Kernel calls so far (uploads included). */
  kernelCalls: number;
  /** Textures alive now (GL mode; 0 in the CPU modes, where the garbage collector owns arrays). */
  liveTextures: number;
  /** Whether matmul and conv2d run the hand-written wasm SIMD kernels (webasm mode, see setSimdKernels). */
  simdKernels: boolean;
  /** Threads those kernels share their work between, the main thread included (GRADLAB_THREADS, setSimdThreads); 0 when they are not in use. */
  simdThreads: number;
}

/** What the gpu backend is running on. */
export function gpuInfo(options: { start?: boolean } = {}): GpuInfo {
  if (options.start) device();
  return {
    mode: state?.mode ?? null,
    reason: state?.reason ?? null,
    kernelClass: state?.ranOn ?? null,
    compiledKernels: state?.compiled ?? 0,
    compileMs: state?.compileMs ?? 0,
    kernelCalls: state?.kernelCalls ?? 0,
    liveTextures: liveTextures.size,
    simdKernels: state?.mode === 'webasm' && simdEnabled,
    simdThreads: state?.mode === 'webasm' && simdEnabled ? simdThreads() : 0,
  };
}

// ── the hand-written SIMD kernels (webasm mode) ──

function simdFromEnv(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === '1') return true;
  if (value === '0') return false;
  throw new Error(`GRADLAB_SIMD must be 0 (gpu.js kernels only) or 1 (the default: hand-written SIMD kernels for matmul and conv2d in webasm mode); got ${JSON.stringify(value)}`);
}
let simdEnabled = simdFromEnv(process.env.GRADLAB_SIMD);

/**
 * In webasm mode, matmul and conv2d run hand-written wasm SIMD kernels (src/tensor/backends/wasm)
 * unless this is turned off (or GRADLAB_SIMD=0): then they run their gpu.js kernels like every
 * other op — for comparison and for testing those kernels. Takes effect from the next op.
 */
export function setSimdKernels(enabled: boolean): void {
  if (typeof enabled !== 'boolean') throw new Error(`setSimdKernels: expected true or false; got ${JSON.stringify(enabled)}`);
  simdEnabled = enabled;
}

// ── device arrays: ownership and release ──

/** Every texture made and not yet deleted. */
const liveTextures = new Set<Texture>();
/** Device arrays already released (CPU-mode arrays too, so a use after release fails in every mode). */
const released = new WeakSet<DeviceArray>();
/** Arrays made by the kit during the op call now running (null outside op calls). */
let opScope: Set<DeviceArray> | null = null;

function isTexture(a: unknown): a is Texture {
  return gpujs !== null && a instanceof gpujs.Texture;
}

/**
 * `a` as a device array. A freed array is refused unless `mayBeFreed`: a value saved for backward
 * may have been freed when backward does not read it (batchNorm in training mode saves the running
 * statistics that the module then replaces), so saved values are checked only when a kernel reads them.
 */
function deviceArray(where: string, a: Storage, mayBeFreed = false): DeviceArray {
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

function free(a: DeviceArray): void {
  if (released.has(a)) return;
  released.add(a);
  if (isTexture(a) && liveTextures.delete(a)) a.delete();
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

// ── kernels ──

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

function sizeOfDevice(a: DeviceArray): number {
  return a instanceof Float32Array ? a.length : a.output.reduce((p, d) => p * d, 1);
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

function run(kernel: KernelFn, size: number, args: readonly DeviceArray[], constants: Record<string, number> = {}): DeviceArray {
  if (!Number.isInteger(size) || size < 1) throw new Error(`gpu kernel: the output size must be a positive integer; got ${size}`);
  if (size > MAX_ELEMENTS) {
    throw new Error(`gpu kernel: an output of ${size} elements exceeds the gpu backend's limit of 2^24 = ${MAX_ELEMENTS} per tensor (thread ids are exact only below it); split the tensor along its batch axis`);
  }
  checkKernelFn(kernel);
  const s = device();
  const isGL = s.mode === 'headlessgl';
  const kernelArgs = args.map((a, i) => kernelArg(deviceArray(`gpu kernel: argument ${i}`, a)));
  const argSizes = args.map((a) => (a instanceof Float32Array ? `a${a.length}` : `t${sizeOfDevice(a)}`)).join(',');
  const { source, id } = kernelSource(kernel);
  const key = `${id}|${size}|${argSizes}|${JSON.stringify(constants)}`;
  let entry = s.kernels.get(key);
  const fresh = entry === undefined;
  if (entry === undefined) {
    const compiled = s.gpu.createKernel(source, {
      output: [size],
      constants,
      pipeline: isGL,
      immutable: true,
      tactic: 'precision',
      precision: 'single',
    });
    entry = { run: compiled, kernel: compiled.kernel };
    s.kernels.set(key, entry);
    s.compiled++;
  }
  const t0 = performance.now();
  const out: KernelOutput = entry.run(...kernelArgs);
  if (fresh) s.compileMs += performance.now() - t0;
  s.kernelCalls++;
  // gpu.js may swap the kernel object during a call (first call, or a recompile for new argument
  // types): count a swap after the first call as a compile, and check what actually ran.
  if (entry.run.kernel !== entry.kernel) {
    if (!fresh) s.compiled++;
    entry.kernel = entry.run.kernel;
  }
  s.ranOn = entry.run.kernel.constructor.name;
  if (s.ranOn !== KERNEL_CLASS[s.mode]) {
    const reason = entry.run.kernel.fallbackReason;
    throw new Error(`gpu backend: a kernel meant for '${s.mode}' ran on ${s.ranOn}${reason ? ` (${reason})` : ''}`);
  }
  let result: DeviceArray;
  if (out instanceof Float32Array && !isGL) {
    result = out;
  } else if (isTexture(out) && isGL) {
    liveTextures.add(out);
    result = out;
  } else {
    throw new Error(`gpu backend: a '${s.mode}' kernel returned ${out?.constructor.name ?? String(out)}, not a ${isGL ? 'texture' : 'Float32Array'}`);
  }
  opScope?.add(result);
  return result;
}

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

function identity(this: Thread, x: Flat): number {
  return x[this.thread.x];
}

/**
 * Kernels over Float32Arrays as the kit hands them to an op (GpuKit.simd): every array argument
 * checked like a kernel argument (a live Float32Array: the CPU modes' device arrays), every result
 * owned by the op call like k.run's. Any kernels object is wrapped the same way, kernel by kernel,
 * and once (the wrapper is kept for the next call).
 */
const checkedKernels = new WeakMap<CpuKernels, Readonly<Record<string, (...args: unknown[]) => DeviceArray>>>();
function checkedSimd<K extends CpuKernels>(kernels: K): OnDevice<K> {
  let checked = checkedKernels.get(kernels);
  if (checked === undefined) {
    const wrapped: Record<string, (...args: unknown[]) => DeviceArray> = {};
    for (const [name, kernel] of Object.entries(kernels)) {
      // The arguments are checked here, at run time, so the kernel may take them as unknowns.
      const call = kernel as (...args: unknown[]) => Float32Array;
      wrapped[name] = (...args) => {
        const y = call(...args.map((a, i) => simdArg(`k.simd: ${name}'s argument ${i}`, a)));
        opScope?.add(y);
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

const kit: GpuKit = {
  run,
  map: (kernel, ...args) => {
    if (args.length === 0) throw new Error('k.map: give at least one argument (the output takes its size)');
    return run(kernel, sizeOfDevice(args[0]), args);
  },
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

function checkFloat32(op: string, dtype: DType): void {
  if (dtype !== 'float32') {
    throw new Error(`${op}: the gpu backend runs float32 only; got a ${dtype} tensor — use the 'reference' backend for float64 (e.g. gradient checking)`);
  }
}

function gpuKernels(op: AnyOpDef): NonNullable<AnyOpDef['gpu']> {
  if (!op.gpu) throw new Error(`${op.name}: this op has no gpu kernel; run it on the 'reference' backend`);
  return op.gpu;
}

/**
 * Runs one op's gpu implementation with an op scope: afterwards every array it made but did not
 * return is freed, and what it returns must be new (an input returned as is would then have two
 * owners, and be deleted twice).
 */
function inOpScope<R>(op: string, inputs: readonly DeviceArray[], body: () => R, results: (r: R) => DeviceArray[]): R {
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
    if (device().mode !== 'headlessgl' || values.length === 0) return values;
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
