/**
 * The threads the SIMD kernels split their work between (./kernels.ts). A call lays its operands
 * out in the shared memory and hands each thread a job (./jobs.ts): job 0 runs on the calling
 * thread, job i on thread i, and the call returns when all are done — so k.simd calls, like every
 * op, return their result at once (DESIGN.md: the public API is synchronous).
 *
 * Threads are the platform's: Node's worker threads live in src/node/threads.ts, which the Node
 * entry installs (setSimdThreadPool). Without one, the pool below runs every job in turn on the
 * calling thread — the same results, one core.
 */
import type { Gemm } from './gemm.js';
import { runJob, type Job } from './jobs.js';
import { shown } from '../../../util/format.js';

/** A pool of threads that run SIMD jobs over one GEMM kernel's shared memory. */
export interface SimdThreadPool {
  /** Threads in all, the calling thread included: the most jobs one `run` is given. */
  threads: number;
  /** Runs jobs[0] here and jobs[i] on thread i; returns when all are done (throws if one failed). */
  run(jobs: readonly Job[]): void;
}

/** Makes the pool for the kernels' memory (called once, when the SIMD kernels first run). */
export type SimdThreadPoolFactory = (gemm: Gemm) => SimdThreadPool;

export const MAX_THREADS = 64;

/** `value` as a thread count from 1 to MAX_THREADS, or an error naming `where` it came from. */
export function parseThreads(where: string, value: unknown): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new Error(`${where} must be a whole number of threads from 1 to ${MAX_THREADS}; got ${shown(value)}`);
  }
  return n;
}

/** The pool without threads: every job in turn on the calling thread (each job has its own scratch). */
export const callingThreadOnly: SimdThreadPoolFactory = (gemm) => ({
  threads: 1,
  run(jobs) {
    for (const job of jobs) runJob(gemm, job);
  },
});
