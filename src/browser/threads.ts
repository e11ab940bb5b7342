/**
 * Web Workers for the SIMD kernels of the webasm mode (the SimdThreadPool of
 * src/tensor/backends/wasm/threads.ts), for a cross-origin-isolated page: every worker runs the
 * GEMM over the one shared WebAssembly.Memory, and the calling thread hands out jobs, runs its own,
 * then blocks on Atomics.wait until all are done — so ops stay synchronous. Atomics.wait is allowed
 * in workers only, never on a page's main thread: the pool is for code that itself runs in a worker
 * (the lab's training worker).
 *
 * In Chromium a worker's messages to the workers it made are not delivered while it blocks, so
 * jobs do not travel as messages: each is written (as JSON) into the worker's slot of a shared
 * buffer, and a generation counter wakes the workers (Atomics.notify), as Emscripten's pthreads do.
 * Messages are used only before training: the workers start, get the memory, and say they are ready
 * (startSimdWorkers, awaited).
 */
import { runJob, type Job } from '../tensor/backends/wasm/jobs.js';
import type { Gemm } from '../tensor/backends/wasm/gemm.js';
import type { SimdThreadPool, SimdThreadPoolFactory } from '../tensor/backends/gpu.js';

/** Control words shared with the workers. */
export const PENDING = 0; // jobs still running
export const FAILED = 1; // set by the first job that failed
export const GENERATION = 2; // bumped for every call; workers wait on it
export const CONTROL_WORDS = 3;
/** Bytes of each worker's job slot (an Int32 length, then the job's JSON) and of the failure message. */
export const SLOT_BYTES = 4096;
/** The longest the calling thread waits for its workers in one call. */
const WAIT_LIMIT_MS = 60_000;

export type ToSimdWorker = { kind: 'init'; memory: WebAssembly.Memory; fma: boolean; control: SharedArrayBuffer; slots: SharedArrayBuffer; index: number };
export type FromSimdWorker = { kind: 'loaded' } | { kind: 'ready' } | { kind: 'failed'; message: string };

class WorkerPool implements SimdThreadPool {
  threads: number;

  constructor(
    private readonly gemm: Gemm,
    private readonly workers: number,
    private readonly control: Int32Array,
    private readonly slots: Uint8Array,
  ) {
    this.threads = workers + 1;
  }

  run(jobs: readonly Job[]): void {
    if (jobs.length === 0) return;
    if (jobs.length > this.workers + 1) throw new Error(`wasm kernels: ${jobs.length} jobs for ${this.workers + 1} threads`);
    const encoder = new TextEncoder();
    const lengths = new Int32Array(this.slots.buffer);
    for (let i = 1; i <= this.workers; i++) {
      const at = (i - 1) * SLOT_BYTES;
      const bytes = i < jobs.length ? encoder.encode(JSON.stringify(jobs[i])) : new Uint8Array(0);
      if (bytes.length > SLOT_BYTES - 4) throw new Error(`wasm kernels: a job of ${bytes.length} bytes does not fit a worker's slot`);
      lengths[at / 4] = bytes.length; // 0: no job for this worker this time
      this.slots.set(bytes, at + 4);
    }
    Atomics.store(this.control, FAILED, 0);
    Atomics.store(this.control, PENDING, this.workers);
    Atomics.add(this.control, GENERATION, 1);
    Atomics.notify(this.control, GENERATION);
    let failure: unknown = null;
    try {
      runJob(this.gemm, jobs[0]);
    } catch (e) {
      failure = e;
    }
    const start = performance.now();
    for (let pending = Atomics.load(this.control, PENDING); pending !== 0; pending = Atomics.load(this.control, PENDING)) {
      if (performance.now() - start > WAIT_LIMIT_MS) throw new Error(`wasm kernels: ${pending} SIMD worker(s) did not finish within ${WAIT_LIMIT_MS / 1000} s; train with threads: 1`);
      Atomics.wait(this.control, PENDING, pending, 1000);
    }
    if (failure !== null) throw failure;
    if (Atomics.load(this.control, FAILED) === 1) throw new Error('wasm kernels: a SIMD worker failed (its console says why)');
  }
}

/** Workers started and waiting for their memory (between startSimdWorkers and the first SIMD op). */
let starting: { workers: Worker[]; control: Int32Array; slots: Uint8Array; ready: Promise<void>[] } | null = null;

function untilMessage(w: Worker, kind: 'loaded' | 'ready'): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    w.addEventListener('message', (e: MessageEvent<FromSimdWorker>) => {
      if (e.data.kind === kind) resolve();
      else if (e.data.kind === 'failed') reject(new Error(`SIMD worker: ${e.data.message}`));
    });
    w.addEventListener('error', (e) => reject(new Error(`SIMD worker did not start: ${e.message}`)));
  });
}

/**
 * Starts `threads − 1` workers from `url` (a bundle of ./simd-worker.ts) and waits until they have
 * loaded; returns the pool factory to install with setSimdThreadPool, and `ready`, to await after
 * the SIMD engine has started (simdThreads()) and handed the workers its memory. Needs
 * cross-origin isolation (SharedArrayBuffer).
 */
export async function startSimdWorkers(url: URL, threads: number): Promise<{ factory: SimdThreadPoolFactory; ready: () => Promise<void> }> {
  if (typeof SharedArrayBuffer === 'undefined') throw new Error('SIMD workers need SharedArrayBuffer: serve the page cross-origin isolated (COOP: same-origin, COEP: require-corp)');
  const workers = Array.from({ length: Math.max(0, threads - 1) }, () => new Worker(url, { type: 'module' }));
  await Promise.all(workers.map((w) => untilMessage(w, 'loaded')));
  const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS));
  const slots = new Uint8Array(new SharedArrayBuffer(SLOT_BYTES * Math.max(1, workers.length)));
  const state = { workers, control, slots, ready: workers.map((w) => untilMessage(w, 'ready')) };
  starting = state;
  const factory: SimdThreadPoolFactory = (gemm) => {
    state.workers.forEach((w, index) => {
      const init: ToSimdWorker = { kind: 'init', memory: gemm.memory, fma: gemm.fma, control: control.buffer, slots: slots.buffer, index };
      w.postMessage(init);
    });
    return new WorkerPool(gemm, workers.length, control, slots);
  };
  return { factory, ready: async () => void (await Promise.all(state.ready)) };
}

/** Whether workers are waiting to be handed the memory. */
export function simdWorkersStarting(): boolean {
  return starting !== null;
}
