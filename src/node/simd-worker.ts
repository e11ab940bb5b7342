/**
 * A worker thread of ./threads.ts: runs the jobs the main thread posts
 * (src/tensor/backends/wasm/jobs.ts) with its own instance of the GEMM kernel over the shared
 * memory, then counts itself done.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Gemm } from '../tensor/backends/wasm/gemm.js';
import { runJob, type Job } from '../tensor/backends/wasm/jobs.js';

/** What ./threads.ts passes each worker at its start. */
const started: { memory: WebAssembly.Memory; fma: boolean; control: SharedArrayBuffer; port: MessagePort } = workerData;
const { port } = started;
const gemm = new Gemm(started.memory, started.fma); // the main thread's inner loop (V8's flags are the process's)
const words = new Int32Array(started.control);

parentPort?.on('message', (job: Job) => {
  try {
    runJob(gemm, job);
  } catch (e) {
    port.postMessage({ message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  } finally {
    Atomics.sub(words, 0, 1); // PENDING
    Atomics.notify(words, 0);
  }
});
