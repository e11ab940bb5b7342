/**
 * The lab's Web Worker: lab.train's runs, off the page's main thread so the page never freezes.
 * The page keeps one worker while the gpu.js mode asked for stays the same (a worker's mode is fixed
 * at its first op; and a terminated worker's wasm memories are freed only later, of which Chromium
 * allows a page few), and starts a new one when it changes. gpu.js's WebGL2 kernels run here on an OffscreenCanvas (GPUJS.md §9); in webasm mode,
 * on a cross-origin-isolated page, the SIMD kernels share their work with ../threads.ts's workers.
 *
 *   page → worker  { options, cifar }             (the files' bytes transferred, not copied)
 *   worker → page  { kind: 'step', report } per step, then { kind: 'done', result } or { kind: 'error', message }
 */
import { train, type CifarParts, type StepReport, type TrainOptions, type TrainResult } from './train.js';
import { startSimdWorkers } from '../threads.js';
import { crossOriginIsolatedHere } from '../gpu.js';
import { setSimdThreadPool, setSimdThreads } from '../../tensor/backends/gpu.js';
import { simdThreads } from '../../tensor/backends/wasm/kernels.js';

export type FromWorker = { kind: 'step'; report: StepReport } | { kind: 'done'; result: TrainResult } | { kind: 'error'; message: string };
export interface ToWorker {
  options: TrainOptions;
  cifar: CifarParts | null;
}

const post = (message: FromWorker): void => postMessage(message);

/**
 * Threads for the webasm mode's SIMD kernels: `threads` (default: the browser's
 * hardwareConcurrency, at most 4) when the page is cross-origin isolated, else 1.
 */
let poolThreads = 1;

async function startThreads(options: TrainOptions): Promise<void> {
  const wanted = options.threads ?? Math.min(4, navigator.hardwareConcurrency || 1);
  if (wanted > poolThreads && poolThreads === 1 && crossOriginIsolatedHere()) {
    const { factory, ready } = await startSimdWorkers(new URL('./simd-worker.js', import.meta.url), wanted);
    setSimdThreadPool(factory);
    simdThreads(); // starts the SIMD engine now, which hands the workers its memory …
    await ready(); // … and waits until each has built its GEMM kernel over it
    poolThreads = wanted;
  }
  setSimdThreads(Math.max(1, Math.min(wanted, poolThreads)));
}

addEventListener('message', (event: MessageEvent<ToWorker>) => {
  startThreads(event.data.options)
    .then(() => {
      const result = train(event.data.options, event.data.cifar, (report) => post({ kind: 'step', report }));
      post({ kind: 'done', result });
    })
    .catch((e: unknown) => post({ kind: 'error', message: e instanceof Error ? e.message : String(e) }));
});
