/**
 * The lab's Web Worker: training runs (./train.ts), off the page's main thread so the page never
 * freezes. The page keeps one worker while the gpu.js mode asked for stays the same (a worker's mode
 * is fixed at its first op; and a terminated worker's wasm memories are freed only later, of which
 * Chromium allows a page few), and starts a new one when it changes. gpu.js's WebGL2 kernels run
 * here on an OffscreenCanvas (GPUJS.md §9); in webasm mode, on a cross-origin-isolated page, the
 * SIMD kernels share their work with ../threads.ts's workers.
 *
 * A worker holds a session per run id (the main run and the "compare" run: their steps interleave,
 * since each run's loop yields between steps). Messages:
 *
 *   page → worker  { kind: 'start', run, options, cifar }         (the files' bytes transferred, not copied)
 *                  { kind: 'pause' | 'resume' | 'stop', run }      between two steps (stop also frees the network)
 *                  { kind: 'export', request, run }                → reply: the weights as safetensors bytes
 *                  { kind: 'load', request, run, bytes, options, cifar }
 *                                                                  → a session from the file, a test pass; reply: its TestReport
 *   worker → page  { kind: 'setup', run, setup }, then { kind: 'step', run, report } per step (after the
 *                  first, { kind: 'backend', run, info }: what the kernels run on) and
 *                  { kind: 'test', run, report } per test pass, { kind: 'held', run, step } when a pause takes hold, then { kind: 'done', run, result } or { kind: 'error', run, message };
 *                  { kind: 'reply', request, value } or { kind: 'error', request, message }
 */
import { TrainSession, type CifarParts, type RunControl, type RunSetup, type StepReport, type TestReport, type TrainOptions, type TrainResult } from './train.js';
import { gpuInfo, type GpuInfo } from '../index.js';
import { startSimdWorkers } from '../threads.js';
import { crossOriginIsolatedHere } from '../gpu.js';
import { setSimdThreadPool, setSimdThreads } from '../../tensor/backends/gpu.js';
import { simdThreads } from '../../tensor/backends/wasm/kernels.js';

export type ToWorker =
  | { kind: 'start'; run: number; options: TrainOptions; cifar: CifarParts | null }
  | { kind: 'pause' | 'resume' | 'stop'; run: number }
  | { kind: 'export'; request: number; run: number }
  | { kind: 'load'; request: number; run: number; bytes: Uint8Array; options: TrainOptions; cifar: CifarParts | null };

export type FromWorker =
  | { kind: 'setup'; run: number; setup: RunSetup }
  | { kind: 'backend'; run: number; info: GpuInfo }
  | { kind: 'held'; run: number; step: number }
  | { kind: 'step'; run: number; report: StepReport }
  | { kind: 'test'; run: number; report: TestReport }
  | { kind: 'done'; run: number; result: TrainResult }
  | { kind: 'reply'; request: number; value: Uint8Array | TestReport }
  | { kind: 'error'; run?: number; request?: number; message: string };

const post = (message: FromWorker, transfer: Transferable[] = []): void => postMessage(message, { transfer });
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Each run's session and the flags its loop reads between steps. */
const runs = new Map<number, { session: TrainSession; control: RunControl }>();

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

/** Frees a run's network (a run is replaced by a new one under its id, stopped, or reloaded). */
function end(run: number): void {
  const old = runs.get(run);
  if (old === undefined) return;
  old.control.stopped = true;
  old.session.dispose();
  runs.delete(run);
}

async function start(run: number, options: TrainOptions, cifar: CifarParts | null): Promise<void> {
  end(run);
  await startThreads(options);
  const entry = { session: new TrainSession(options, cifar), control: { paused: false, stopped: false } };
  runs.set(run, entry);
  post({ kind: 'setup', run, setup: entry.session.setup });
  const result = await entry.session.run(
    entry.control,
    (report) => {
      post({ kind: 'step', run, report });
      if (report.step === 1) post({ kind: 'backend', run, info: gpuInfo() }); // the mode is settled by the first kernel
    },
    (report) => post({ kind: 'test', run, report }),
    (step) => post({ kind: 'held', run, step }),
  );
  // The session stays (for export and more test passes) unless it was stopped, which freed it.
  post({ kind: 'done', run, result });
}

function sessionOf(run: number): TrainSession {
  const entry = runs.get(run);
  if (entry === undefined) throw new Error('the lab has no network to export yet: train one first');
  return entry.session;
}

async function load(run: number, bytes: Uint8Array, options: TrainOptions, cifar: CifarParts | null): Promise<TestReport> {
  await startThreads(options);
  const session = TrainSession.fromWeights(bytes, options, cifar);
  end(run);
  runs.set(run, { session, control: { paused: false, stopped: false } });
  post({ kind: 'setup', run, setup: session.setup });
  const report = session.testPass();
  post({ kind: 'test', run, report });
  return report;
}

addEventListener('message', (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  switch (m.kind) {
    case 'start':
      start(m.run, m.options, m.cifar).catch((e: unknown) => post({ kind: 'error', run: m.run, message: messageOf(e) }));
      break;
    case 'pause':
    case 'resume': {
      const entry = runs.get(m.run);
      if (entry !== undefined) entry.control.paused = m.kind === 'pause';
      break;
    }
    case 'stop':
      end(m.run);
      break;
    case 'export':
      try {
        const bytes = sessionOf(m.run).exportWeights();
        post({ kind: 'reply', request: m.request, value: bytes }, [bytes.buffer]);
      } catch (e) {
        post({ kind: 'error', request: m.request, message: messageOf(e) });
      }
      break;
    case 'load':
      load(m.run, m.bytes, m.options, m.cifar).then(
        (report) => post({ kind: 'reply', request: m.request, value: report }),
        (e: unknown) => post({ kind: 'error', request: m.request, message: messageOf(e) }),
      );
      break;
  }
});
