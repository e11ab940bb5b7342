/**
 * Node's worker threads for the SIMD kernels (the SimdThreadPool of
 * src/tensor/backends/wasm/threads.ts, installed by the Node entry through ./gpu-settings.ts), used
 * synchronously: the main thread hands each worker a job (src/tensor/backends/wasm/jobs.ts), runs
 * its own, then blocks on Atomics.wait until every worker has counted itself done — so k.simd
 * calls, like every op, return their result at once (DESIGN.md: the public API is synchronous).
 * All threads run the same GEMM over one shared WebAssembly.Memory.
 *
 * Threads: GRADLAB_THREADS, or setSimdThreads(), else the machine's available parallelism (the
 * main thread counts as one). Workers start on first use and never keep the process alive.
 * A worker that fails reports why through a message port that the main thread reads synchronously
 * (receiveMessageOnPort); a worker that stops answering altogether ends the wait after
 * WAIT_LIMIT_MS with an error instead of a hang.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { Gemm } from '../tensor/backends/wasm/gemm.js';
import { runJob, type Job } from '../tensor/backends/wasm/jobs.js';
import { MAX_THREADS, type SimdThreadPool } from '../tensor/backends/wasm/threads.js';

/** The longest the main thread waits for its workers in one call. */
const WAIT_LIMIT_MS = 10 * 60 * 1000;

/** Control words shared with the workers. */
const PENDING = 0; // workers still running the current call's jobs
const BROKEN = 1; // set by a worker that could not start

/**
 * How a worker starts: from the built .js files (an ES module import), or — running from source
 * under tsx — from the .ts files, through tsx's ES-module register. (Its CommonJS register works
 * too, but compiles `import { TILE_N }` into a getter call on every use: the worker's packing loops
 * ran 7× slower than the same loops on the main thread.) The statement calls `fail(error)` when the
 * worker cannot start.
 */
function loadWorker(): string {
  const here = import.meta.url;
  const fromSource = here.endsWith('.ts');
  const entry = new URL(fromSource ? './simd-worker.ts' : './simd-worker.js', here);
  if (!fromSource) return `import(${JSON.stringify(entry.href)}).catch(fail);`;
  return `import(${JSON.stringify(tsxEsmApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); }).catch(fail);`;
}

/** The file URL of tsx's ES-module API (`tsx/esm/api` under the import condition), from its package's export map. */
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const packageFile = require.resolve('tsx/package.json');
  const exportMap: unknown = JSON.parse(readFileSync(packageFile, 'utf8')).exports;
  const target: unknown = typeof exportMap === 'object' && exportMap !== null ? Reflect.get(exportMap, './esm/api') : undefined;
  const conditions: unknown = typeof target === 'object' && target !== null ? Reflect.get(target, 'import') : undefined;
  const file: unknown = typeof conditions === 'object' && conditions !== null ? Reflect.get(conditions, 'default') : conditions;
  if (typeof file !== 'string') throw new Error(`wasm kernels: cannot find tsx's ES-module API in ${packageFile} (to run the worker threads from source)`);
  return pathToFileURL(join(dirname(packageFile), file)).href;
}

/** The script a worker thread evaluates: `load`, with `fail` reporting a start that went wrong. */
function workerScript(load: string): string {
  return `
    const { workerData } = require('node:worker_threads');
    function fail(e) {
      workerData.port.postMessage({ message: 'could not start: ' + ((e && e.stack) || e) });
      const control = new Int32Array(workerData.control);
      Atomics.store(control, ${BROKEN}, 1);
      Atomics.notify(control, ${PENDING});
    }
    ${load}`;
}

/**
 * V8 first runs wasm code compiled by its baseline compiler (Liftoff) and recompiles a function
 * with its optimising one (TurboFan) once the function has used up a budget of work. Measured on
 * Node 20: in the worker threads the GEMM stayed on Liftoff code, at half the main thread's speed,
 * through whole training steps — a convolution split over two threads took as long as on one.
 * With a small budget every thread moves its kernels to TurboFan within their first calls (the
 * flag is the process's, and concerns only when wasm code is optimised).
 */
function optimiseWasmSoon(): void {
  setFlagsFromString('--wasm-tiering-budget=1000');
}

interface PoolWorker {
  worker: Worker;
  /** Where the worker reports failures. */
  port: MessagePort;
}

export class Pool implements SimdThreadPool {
  private readonly workers: PoolWorker[] = [];
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  /** Why the workers cannot be used any more (one failed to start, or stopped answering), or null. */
  private broken: string | null = null;
  /** Threads in all, the main thread included. */
  threads: number;

  /** `load`: how a worker loads its code (see loadWorker; tests pass one that fails). */
  constructor(
    private readonly gemm: Gemm,
    private readonly load: string = loadWorker(),
  ) {
    this.threads = Math.min(availableParallelism(), MAX_THREADS);
    optimiseWasmSoon();
  }

  private spawn(): PoolWorker {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(workerScript(this.load), {
      eval: true,
      workerData: { memory: this.gemm.memory, fma: this.gemm.fma, control: this.control.buffer, port: port2 },
      transferList: [port2],
    });
    worker.unref();
    port1.unref();
    return { worker, port: port1 };
  }

  private unusable(): Error {
    return new Error(`wasm kernels: the worker threads cannot be used (${this.broken}); set GRADLAB_THREADS=1 (or setSimdThreads(1)) to run on the main thread only`);
  }

  /** Runs jobs[0] here and jobs[i] on worker i; returns when all are done. */
  run(jobs: readonly Job[]): void {
    if (jobs.length === 0) return;
    if (jobs.length > this.threads) throw new Error(`wasm kernels: ${jobs.length} jobs for ${this.threads} threads`);
    if (jobs.length > 1 && this.broken !== null) throw this.unusable();
    while (this.workers.length < jobs.length - 1) this.workers.push(this.spawn());
    Atomics.store(this.control, PENDING, jobs.length - 1);
    for (let i = 1; i < jobs.length; i++) this.workers[i - 1].worker.postMessage(jobs[i]);
    let failure: unknown = null;
    try {
      runJob(this.gemm, jobs[0]);
    } catch (e) {
      failure = e;
    }
    const start = Date.now();
    let timedOut = false;
    for (;;) {
      const pending = Atomics.load(this.control, PENDING);
      if (pending === 0 || Atomics.load(this.control, BROKEN) === 1) break;
      if (Date.now() - start > WAIT_LIMIT_MS) {
        timedOut = true;
        break;
      }
      Atomics.wait(this.control, PENDING, pending, 1000);
    }
    const reports: string[] = [];
    for (const w of this.workers.slice(0, jobs.length - 1)) {
      for (let m = receiveMessageOnPort(w.port); m !== undefined; m = receiveMessageOnPort(w.port)) {
        const message: unknown = m.message;
        const text = typeof message === 'object' && message !== null ? String(Reflect.get(message, 'message')) : String(message);
        reports.push(text.split('\n').slice(0, 3).join('\n')); // the error and where it came from, not the whole stack
      }
    }
    // A worker that never started, or never finished, leaves its share undone and the count of
    // running jobs wrong: from now on only the main thread computes.
    if (Atomics.load(this.control, BROKEN) === 1) this.broken ??= reports[0] ?? 'a worker thread could not start';
    if (timedOut) this.broken ??= `a worker thread did not finish within ${WAIT_LIMIT_MS / 60000} minutes`;
    if (jobs.length > 1 && this.broken !== null) throw this.unusable();
    if (failure !== null) throw failure;
    if (reports.length > 0) throw new Error(`wasm kernels: a worker thread failed: ${reports[0]}`);
  }
}

/** The SimdThreadPoolFactory of Node (src/tensor/backends/wasm/threads.ts): a pool of worker threads. */
export const nodeThreadPool = (gemm: Gemm): SimdThreadPool => new Pool(gemm);
