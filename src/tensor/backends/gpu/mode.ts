/**
 * Which gpu.js mode the gpu backend runs in, and the gpu.js instance running it.
 *
 * `headlessgl` (a GL context: Mesa llvmpipe under `xvfb-run`, or a real GPU) when one works,
 * otherwise `webasm` (wasm SIMD on the CPU); `cpu` (plain JS) exists for debugging. Force one with
 * GRADLAB_GPU_MODE=webasm|headlessgl|cpu|auto or setGpuMode() before the first gpu op. gpu.js itself
 * falls back silently when a mode cannot run, so the backend checks, after every kernel call, that
 * the kernel really ran on the class of the chosen mode (KERNEL_CLASS; ./kernels.ts), and
 * gpuInfo() reports that class.
 */
import type { GPU } from 'gpu.js';

export type GpuMode = 'webasm' | 'headlessgl' | 'cpu';
export const GPU_MODES: readonly GpuMode[] = ['webasm', 'headlessgl', 'cpu'];

/** The gpu.js kernel class each mode must run on (what `kernel.constructor.name` reads). */
export const KERNEL_CLASS: Record<GpuMode, string> = { webasm: 'WebAssemblyKernel', headlessgl: 'HeadlessGLKernel', cpu: 'CPUKernel' };

// ── loading gpu.js ──

export type GpuJs = typeof import('gpu.js');
let gpujs: GpuJs | null = null;
let loader: (() => GpuJs) | null = null;

/**
 * How the backend gets the gpu.js module, called on first use — so `import 'gradlab'` stays fast for
 * reference-only work (loading gpu.js takes about as long as loading gradlab). The platform installs
 * it: Node's entry with Node's require (src/node/gpu-settings.ts); a browser bundle with its own
 * `import * as gpujs from 'gpu.js'`.
 */
export function setGpuJsLoader(load: () => GpuJs): void {
  loader = load;
}

function loadGpuJs(): GpuJs {
  if (gpujs === null) {
    if (loader === null) {
      throw new Error(
        "gpu backend: no way to load gpu.js has been installed; import 'gradlab' (its Node entry installs one) " +
          'or call setGpuJsLoader(() => gpujs) with the gpu.js module first',
      );
    }
    gpujs = loader();
  }
  return gpujs;
}

/** gpu.js once the backend has started, else null (nothing made by gpu.js can exist before). */
export function loadedGpuJs(): GpuJs | null {
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

/** The running gpu.js instance and its mode. */
export interface Device extends ModeChoice {
  gpu: GPU;
}

let running: Device | null = null;
let requestedMode: GpuMode | 'auto' | null = null;
let modeFromEnv: string | undefined;

/**
 * The platform's GRADLAB_GPU_MODE setting as it read it (src/node/gpu-settings.ts in Node), checked
 * when the backend starts, like setGpuMode's choice, which takes precedence over it.
 */
export function setGpuModeFromEnv(value: string | undefined): void {
  modeFromEnv = value;
}

/**
 * Chooses the gpu.js mode: 'auto' (the default) picks headlessgl when a GL context works, else
 * webasm. Call it before the first gpu op; afterwards only the running mode (or 'auto') is accepted.
 */
export function setGpuMode(mode: GpuMode | 'auto'): void {
  if (mode !== 'auto' && !isGpuMode(mode)) {
    throw new Error(`setGpuMode: mode must be 'auto' or one of ${GPU_MODES.map((m) => `'${m}'`).join(', ')}; got ${JSON.stringify(mode)}`);
  }
  if (running !== null && mode !== 'auto' && mode !== running.mode) {
    throw new Error(`setGpuMode: the gpu backend already runs in '${running.mode}' mode (${running.reason}); choose the mode before the first gpu op`);
  }
  requestedMode = mode;
}

/** The device, started on first use in the mode asked for. */
export function device(): Device {
  if (running === null) {
    const { GPU } = loadGpuJs();
    const { mode, reason } = resolveGpuMode({ fromCall: requestedMode, fromEnv: modeFromEnv }, () => GPU.isHeadlessGLSupported);
    running = { gpu: new GPU({ mode }), mode, reason };
  }
  return running;
}

/** The device if it has started, else null (starts nothing). */
export function runningDevice(): Device | null {
  return running;
}
