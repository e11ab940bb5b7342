/**
 * The gpu backend in a browser: gpu.js's browser bundle, and how `auto` chooses a mode.
 *
 *   webgl2  on a hardware GPU (then webgl where only WebGL1 exists): kernels are fragment shaders
 *   webasm  when WebGL renders in software (SwiftShader, llvmpipe — 5–7× slower than webasm,
 *           GPUJS.md §9) or is missing; the choice says so in gpuInfo().reason
 *   cpu     plain JavaScript, for debugging
 *
 * WebGPU is not offered: gpu.js's webgpu kernels are asynchronous, and gradlab's op API is
 * synchronous (DESIGN.md), so it would leak Promises into every op.
 *
 * The SIMD kernels of the webasm mode (matmul, conv2d) need a shared WebAssembly.Memory, which a
 * page has only when it is cross-origin isolated (served with COOP: same-origin and COEP:
 * require-corp, as `npm run lab` does); elsewhere they are turned off and matmul and conv2d run
 * their gpu.js kernels. They run on the calling thread, or share the work with Web Workers where the
 * caller itself is a worker (./threads.ts; the lab's training worker starts them).
 */
import * as gpujs from 'gpu.js';
import { callingThreadOnly } from '../tensor/backends/wasm/threads.js';
import { BROWSER_GPU_MODES, glRenderer, isSoftwareRenderer, setGpuPlatform, setKernelCacheLimit, setSimdKernels, setSimdThreadPool, type SimdThreadPoolFactory, type GpuMode, type ModeChoice, type ModeRequest } from '../tensor/backends/gpu.js';

/** What a probe context says about WebGL here: the best version that works and its renderer. */
export interface WebGlProbe {
  version: 'webgl2' | 'webgl' | null;
  renderer: string | null;
}

function probeContext(kind: 'webgl2' | 'webgl'): unknown {
  try {
    if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(1, 1).getContext(kind);
    if (typeof document !== 'undefined') return document.createElement('canvas').getContext(kind);
  } catch {
    return null;
  }
  return null;
}

/** Opens a 1×1 WebGL2 (else WebGL) context and reads its renderer; the context is dropped at once. */
export function probeWebGl(): WebGlProbe {
  for (const version of ['webgl2', 'webgl'] as const) {
    const context = probeContext(version);
    if (context !== null && context !== undefined) {
      const renderer = glRenderer(context);
      const lose: unknown = Reflect.get(Object(context), 'getExtension');
      if (typeof lose === 'function') Reflect.get(Object(lose.call(context, 'WEBGL_lose_context')), 'loseContext')?.call(lose.call(context, 'WEBGL_lose_context'));
      return { version, renderer };
    }
  }
  return { version: null, renderer: null };
}

/**
 * The browser's mode choice, pure apart from the probe: a forced mode is checked (webgl2 needs a
 * WebGL2 context, webgl a WebGL one); `auto` takes WebGL on a hardware renderer, webasm otherwise.
 */
export function resolveBrowserMode(request: ModeRequest, probe: () => WebGlProbe): ModeChoice {
  const wanted: GpuMode | 'auto' = request.fromCall ?? 'auto';
  if (wanted === 'auto') {
    const p = probe();
    if (p.version === null) return { mode: 'webasm', reason: 'auto: no WebGL in this browser, so webasm (the CPU)' };
    const name = p.version === 'webgl2' ? 'WebGL2' : 'WebGL';
    const renderer = p.renderer ?? 'an unnamed renderer';
    if (p.renderer !== null && isSoftwareRenderer(p.renderer)) {
      return { mode: 'webasm', reason: `auto: ${name} renders in software here (${renderer}), 5–7× slower than webasm, so webasm (the CPU); force it with setGpuMode('${p.version}')` };
    }
    return { mode: p.version, reason: `auto: ${name} on ${renderer}` };
  }
  const source = `setGpuMode('${wanted}')`;
  if (wanted === 'webgl2' || wanted === 'webgl') {
    const p = probe();
    const ok = wanted === 'webgl2' ? p.version === 'webgl2' : p.version !== null;
    if (!ok) throw new Error(`gpu backend: mode '${wanted}' was asked for (${source}) but this browser gives no ${wanted === 'webgl2' ? 'WebGL2' : 'WebGL'} context; use setGpuMode('webasm') or 'auto'`);
  }
  return { mode: wanted, reason: source };
}

/** Whether the page (or worker) can share memory between threads: cross-origin isolated. */
export function crossOriginIsolatedHere(): boolean {
  return typeof crossOriginIsolated === 'boolean' && crossOriginIsolated && typeof SharedArrayBuffer !== 'undefined';
}

/**
 * Compiled webasm kernels kept at once in a browser. Chromium gives a renderer process about 124
 * WebAssembly.Memory objects (8 GiB of address space each, 1 TiB in all), shared by its pages and
 * workers, and a terminated worker's memories are freed only some time later: 40 leaves room for
 * a second training worker (and the SIMD kernels' memory) while the first one's are still held.
 */
const WEBASM_KERNEL_LIMIT = 40;

/**
 * The SIMD kernels' default pool in a browser: the calling thread only. Threads there are Web Workers
 * that the caller must block for, which a page's main thread may not do (Atomics.wait); so asking
 * for more is one clear error, naming what to use instead.
 */
const callingThreadInBrowser: SimdThreadPoolFactory = (gemm) => {
  const pool = callingThreadOnly(gemm);
  return {
    run: pool.run,
    get threads(): number {
      return 1;
    },
    set threads(n: number) {
      if (n > 1) {
        throw new Error(
          `setSimdThreads(${n}): in a browser the SIMD kernels run on the calling thread; threads need a Web Worker of a cross-origin-isolated page ` +
            '(the lab trains that way: lab.train({ threads }); see src/browser/threads.ts)',
        );
      }
    },
  };
};

let installed = false;

/** Sets the gpu backend up for the browser, once (the browser entry calls it). */
export function useBrowserGpu(): void {
  if (installed) return;
  installed = true;
  const isolated = crossOriginIsolatedHere();
  setSimdKernels(isolated);
  setSimdThreadPool(callingThreadInBrowser);
  setGpuPlatform({
    name: 'a browser',
    modes: BROWSER_GPU_MODES,
    load: () => gpujs,
    choose: (request) => {
      const choice = resolveBrowserMode(request, probeWebGl);
      // Each gpu.js webasm kernel holds a WebAssembly.Memory, and Chromium gives a page about 124.
      setKernelCacheLimit(choice.mode === 'webasm' ? WEBASM_KERNEL_LIMIT : null);
      if (choice.mode !== 'webasm') return choice;
      const simd = isolated
        ? 'SIMD GEMM kernels on (cross-origin isolated)'
        : 'SIMD GEMM kernels off: the page is not cross-origin isolated (no SharedArrayBuffer), so matmul and conv2d run gpu.js kernels, on one thread';
      return { mode: choice.mode, reason: `${choice.reason}; ${simd}` };
    },
  });
}
