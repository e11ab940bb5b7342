/**
 * The lab's Web Worker: one training run per worker (the page starts a fresh one for each
 * lab.train, so each run may choose its gpu.js mode), off the page's main thread so the page never
 * freezes. gpu.js's WebGL2 kernels run here on an OffscreenCanvas (GPUJS.md §9).
 *
 *   page → worker  { options, cifar }             (the files' bytes transferred, not copied)
 *   worker → page  { kind: 'step', report } per step, then { kind: 'done', result } or { kind: 'error', message }
 */
import { train, type CifarParts, type StepReport, type TrainOptions, type TrainResult } from './train.js';

export type FromWorker = { kind: 'step'; report: StepReport } | { kind: 'done'; result: TrainResult } | { kind: 'error'; message: string };
export interface ToWorker {
  options: TrainOptions;
  cifar: CifarParts | null;
}

const post = (message: FromWorker): void => postMessage(message);

addEventListener('message', (event: MessageEvent<ToWorker>) => {
  try {
    const result = train(event.data.options, event.data.cifar, (report) => post({ kind: 'step', report }));
    post({ kind: 'done', result });
  } catch (e) {
    post({ kind: 'error', message: e instanceof Error ? e.message : String(e) });
  }
});
