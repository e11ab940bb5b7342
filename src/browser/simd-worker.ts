/**
 * One Web Worker of ./threads.ts: gets the shared memory once (a message), builds the GEMM kernel
 * over it, then waits on the generation counter in shared memory and runs the job written into its
 * slot each time the counter moves (src/tensor/backends/wasm/jobs.ts), counting itself done.
 */
import { Gemm } from '../tensor/backends/wasm/gemm.js';
import { runJob, type Job } from '../tensor/backends/wasm/jobs.js';
import { FAILED, GENERATION, PENDING, SLOT_BYTES, type FromSimdWorker, type ToSimdWorker } from './threads.js';

const post = (m: FromSimdWorker): void => postMessage(m);

function serve(gemm: Gemm, control: Int32Array, slots: Uint8Array, index: number): never {
  const decoder = new TextDecoder();
  const lengths = new Int32Array(slots.buffer);
  let seen = Atomics.load(control, GENERATION);
  for (;;) {
    Atomics.wait(control, GENERATION, seen);
    seen = Atomics.load(control, GENERATION);
    const at = index * SLOT_BYTES;
    const length = lengths[at / 4];
    try {
      if (length > 0) {
        const job: Job = JSON.parse(decoder.decode(slots.slice(at + 4, at + 4 + length)));
        runJob(gemm, job);
      }
    } catch (err) {
      Atomics.store(control, FAILED, 1);
      console.error(`SIMD worker ${index + 1}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      Atomics.sub(control, PENDING, 1);
      Atomics.notify(control, PENDING);
    }
  }
}

addEventListener('message', (e: MessageEvent<ToSimdWorker>) => {
  const m = e.data;
  let gemm: Gemm;
  try {
    gemm = new Gemm(m.memory, m.fma); // the main thread's inner loop
  } catch (err) {
    post({ kind: 'failed', message: `its GEMM kernel did not build: ${err instanceof Error ? err.message : String(err)}` });
    return;
  }
  post({ kind: 'ready' });
  // Yield once so 'ready' goes out, then block in the job loop for good.
  setTimeout(() => serve(gemm, new Int32Array(m.control), new Uint8Array(m.slots), m.index), 0);
});

post({ kind: 'loaded' });
