/**
 * Which gpu.js mode the gpu backend runs in, and the gpu.js instance running it.
 *
 * In Node: `headlessgl` (a GL context: Mesa llvmpipe under `xvfb-run`, or a real GPU) when one
 * works, otherwise `webasm` (wasm SIMD on the CPU). In a browser: `webgl2`, then `webgl`, on a
 * hardware GPU; `webasm` when WebGL renders in software (SwiftShader, llvmpipe: 5–7× slower than
 * webasm, GPUJS.md §9) or is missing. `cpu` (plain JS) exists for debugging. Force one with
 * setGpuMode() (or GRADLAB_GPU_MODE in Node) before the first gpu op. The platform (Node's entry,
 * the browser entry) installs how gpu.js loads and how `auto` chooses (setGpuPlatform). gpu.js
 * itself falls back silently when a mode cannot run, so the backend checks, after every kernel
 * call, that the kernel really ran on the class of the chosen mode (KERNEL_CLASS; ./kernels.ts),
 * and gpuInfo() reports that class and, in the GL modes, the renderer.
 */
import type { GPU } from 'gpu.js';
import { shown } from '../../../util/format.js';

/** A gpu.js mode the gpu backend can run in. */
export type GpuMode = 'webasm' | 'headlessgl' | 'webgl2' | 'webgl' | 'cpu';
/** The modes Node runs (the CLI's --gpu-mode choices). */
export const GPU_MODES: readonly GpuMode[] = ['webasm', 'headlessgl', 'cpu'];
/** The modes a browser runs. */
export const BROWSER_GPU_MODES: readonly GpuMode[] = ['webgl2', 'webgl', 'webasm', 'cpu'];
const ALL_MODES: readonly GpuMode[] = ['webasm', 'headlessgl', 'webgl2', 'webgl', 'cpu'];

/** The gpu.js kernel class each mode must run on (what `kernel.constructor.name` reads). */
export const KERNEL_CLASS: Record<GpuMode, string> = {
  webasm: 'WebAssemblyKernel',
  headlessgl: 'HeadlessGLKernel',
  webgl2: 'WebGL2Kernel',
  webgl: 'WebGLKernel',
  cpu: 'CPUKernel',
};

/** Whether a mode keeps tensors in GL textures (and so passes textures between kernels). */
export function isGlMode(mode: GpuMode): boolean {
  return mode === 'headlessgl' || mode === 'webgl2' || mode === 'webgl';
}

// ── loading gpu.js ──

export type GpuJs = typeof import('gpu.js');
let gpujs: GpuJs | null = null;

/**
 * What a platform supplies to the gpu backend: how gpu.js loads (on first use, so
 * `import 'gradlab'` stays fast for reference-only work) and how a mode request becomes a mode.
 * Node's (src/node/gpu-settings.ts) loads gpu.js through require and probes headless-gl; the
 * browser's (src/browser/gpu.ts) imports gpu.js's browser bundle and probes WebGL2's renderer.
 */
export interface GpuPlatform {
  /** 'Node', 'the browser': for messages. */
  name: string;
  /** The modes it runs; setGpuMode refuses others. */
  modes: readonly GpuMode[];
  load(): GpuJs;
  choose(request: ModeRequest, gpujs: GpuJs): ModeChoice;
}

let platform: GpuPlatform | null = null;

export function setGpuPlatform(p: GpuPlatform): void {
  platform = p;
}

/** Node's platform over a gpu.js loader: `auto` is headlessgl when a GL context works, else webasm. */
export function setGpuJsLoader(load: () => GpuJs): void {
  setGpuPlatform({ name: 'Node', modes: GPU_MODES, load, choose: (request, g) => resolveGpuMode(request, () => g.GPU.isHeadlessGLSupported) });
}

function loadGpuJs(): GpuJs {
  if (gpujs === null) {
    if (platform === null) {
      throw new Error(
        "gpu backend: no way to load gpu.js has been installed; import 'gradlab' (its Node and browser entries install one) " +
          'or call setGpuJsLoader(() => gpujs) with the gpu.js module first',
      );
    }
    gpujs = platform.load();
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

function isAnyGpuMode(value: string): value is GpuMode {
  return ALL_MODES.some((m) => m === value);
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
      throw new Error(`GRADLAB_GPU_MODE must be 'auto' or one of ${GPU_MODES.join(', ')}; got ${shown(request.fromEnv)}`);
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
  /** The GL renderer (WEBGL_debug_renderer_info), read after the first GL kernel; null before and in the CPU modes. */
  renderer: string | null;
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
 * Chooses the gpu.js mode: 'auto' (the default) picks the platform's GL mode on a GL context
 * (headlessgl in Node; webgl2 in a browser on a hardware GPU), else webasm. Call it before the
 * first gpu op; afterwards only the running mode (or 'auto') is accepted.
 */
export function setGpuMode(mode: GpuMode | 'auto'): void {
  const modes = platform?.modes ?? ALL_MODES;
  if (mode !== 'auto' && !modes.some((m) => m === mode)) {
    const elsewhere = isAnyGpuMode(mode) ? ` ('${mode}' runs ${GPU_MODES.includes(mode) ? 'in Node' : 'in a browser'}, not in ${platform?.name ?? 'this platform'})` : '';
    throw new Error(`setGpuMode: mode must be 'auto' or one of ${modes.map((m) => `'${m}'`).join(', ')}${elsewhere}; got ${shown(mode)}`);
  }
  if (running !== null && mode !== 'auto' && mode !== running.mode) {
    throw new Error(`setGpuMode: the gpu backend already runs in '${running.mode}' mode (${running.reason}); choose the mode before the first gpu op`);
  }
  requestedMode = mode;
}

/** The device, started on first use in the mode asked for. */
export function device(): Device {
  if (running === null) {
    const g = loadGpuJs();
    const request = { fromCall: requestedMode, fromEnv: modeFromEnv };
    const { mode, reason } = platform === null ? resolveGpuMode(request, () => g.GPU.isHeadlessGLSupported) : platform.choose(request, g);
    running = { gpu: new g.GPU({ mode }), mode, reason, renderer: null };
  }
  return running;
}

/** The device if it has started, else null (starts nothing). */
export function runningDevice(): Device | null {
  return running;
}

// ── the renderer ──

/** Renderers that draw on the CPU: GL there is 5–7× slower than webasm (GPUJS.md §9). */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|lavapipe|software|basic render/i;

export function isSoftwareRenderer(renderer: string): boolean {
  return SOFTWARE_RENDERER.test(renderer);
}

/**
 * The renderer of a WebGL(2) context — the unmasked one (WEBGL_debug_renderer_info) where the
 * browser gives it, else RENDERER — or null when `context` is not a GL context. Structural, so it
 * needs no DOM types: it reads headless-gl's contexts as well as a browser's.
 */
export function glRenderer(context: unknown): string | null {
  if (typeof context !== 'object' || context === null) return null;
  const getExtension: unknown = Reflect.get(context, 'getExtension');
  const getParameter: unknown = Reflect.get(context, 'getParameter');
  if (typeof getExtension !== 'function' || typeof getParameter !== 'function') return null;
  const info: unknown = getExtension.call(context, 'WEBGL_debug_renderer_info');
  const unmasked: unknown = typeof info === 'object' && info !== null ? Reflect.get(info, 'UNMASKED_RENDERER_WEBGL') : undefined;
  const which: unknown = typeof unmasked === 'number' ? unmasked : Reflect.get(context, 'RENDERER');
  const value: unknown = typeof which === 'number' ? getParameter.call(context, which) : null;
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Records the renderer of the running GL device from a kernel's context (once). */
export function noteRenderer(context: unknown): void {
  if (running !== null && running.renderer === null && isGlMode(running.mode)) running.renderer = glRenderer(context);
}
