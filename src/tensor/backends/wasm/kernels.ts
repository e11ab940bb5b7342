/**
 * matmul and conv2d on the CPU as matrix products for the SIMD GEMM of ./gemm.ts — what the gpu
 * backend runs for these ops in webasm mode (`k.simd` in an op's gpu implementation, see
 * src/tensor/op-def.ts). Each call copies its operands into the kernel's shared memory, splits the
 * work between threads (images of a convolution, row tiles of a product: ./jobs.ts, ./pool.ts),
 * and copies the result out into a new Float32Array. How a convolution becomes matrix products:
 * ./lowering.ts. gpu-vs-reference.test.ts and simd-threads.test.ts check every one against the
 * reference kernels of src/autograd/ops/matmul.ts and src/nn/ops/conv2d.ts.
 */
import type { ConvDims, MatmulDims, SimdKernels } from '../../op-def.js';
import { createSharedMemory, Gemm, roundUp, TILE_M, TILE_N } from './gemm.js';
import { convScratch, type Job } from './jobs.js';
import { packB, placeA } from './lowering.js';
import { parseThreads, Pool } from './pool.js';

let engine: { gemm: Gemm; pool: Pool } | null = null;
function start(): { gemm: Gemm; pool: Pool } {
  if (engine === null) {
    const gemm = new Gemm(createSharedMemory());
    engine = { gemm, pool: new Pool(gemm) };
  }
  return engine;
}

/** Threads the SIMD kernels use (the main thread included); see ./pool.ts. */
export function simdThreads(): number {
  return start().pool.threads;
}

/** Sets the threads the SIMD kernels use, from 1 (the main thread only) up; GRADLAB_THREADS sets the default. */
export function setSimdThreads(threads: number): void {
  start().pool.threads = parseThreads('setSimdThreads', threads);
}

/**
 * Below this much work a thread's share is not worth its hand-off (posting a job and waking the
 * main thread cost tens of microseconds, ~1 MFLOP of kernel time).
 */
const MIN_FLOP_PER_THREAD = 2e6;

/** How many threads to share `flop` of work divisible into `parts`. */
function threadsFor(flop: number, parts: number): number {
  return Math.max(1, Math.min(start().pool.threads, parts, Math.floor(flop / MIN_FLOP_PER_THREAD)));
}

/** [start, end) of share t of `count` items split as evenly as possible into `shares`. */
function share(count: number, shares: number, t: number): [number, number] {
  return [Math.floor((count * t) / shares), Math.floor((count * (t + 1)) / shares)];
}

/** Regions start on 64-byte (cache line) boundaries. */
const align = (floats: number): number => roundUp(floats, 16);

/** Lays out consecutive regions of the given float sizes; returns their offsets and the end. */
function layout(sizes: readonly number[]): { at: number[]; end: number } {
  const at: number[] = [];
  let end = 0;
  for (const s of sizes) {
    at.push(end);
    end = align(end + s);
  }
  return { at, end };
}

function matmul(a: Float32Array, b: Float32Array, { batch, M, K, N, transA, transB }: MatmulDims): Float32Array {
  const { gemm, pool } = start();
  const Mp = roundUp(M, TILE_M), Np = roundUp(N, TILE_N);
  const { at: [A, B, C], end } = layout([Mp * K, K * Np, Mp * Np]);
  gemm.reserve(end);
  const heap = gemm.heap;
  heap.fill(0, A + M * K, A + Mp * K); // A's padding rows
  const threads = threadsFor(2 * M * N * K, Mp / TILE_M);
  const out = new Float32Array(batch * M * N);
  for (let i = 0; i < batch; i++) {
    placeA(heap, A, K, a, i * M * K, M, K, transA);
    packB(heap, B, b, i * K * N, K, N, transB);
    const jobs: Job[] = [];
    for (let t = 0; t < threads; t++) {
      const [t0, t1] = share(Mp / TILE_M, threads, t);
      jobs.push({ kind: 'matmul', a: A, b: B, c: C, K, Np, m0: t0 * TILE_M, m1: t1 * TILE_M });
    }
    pool.run(jobs);
    for (let m = 0; m < M; m++) out.set(heap.subarray(C + m * Np, C + m * Np + N), (i * M + m) * N);
  }
  return out;
}

/** FLOP of one of a convolution's three products (forward, dx or dw: each Σ over the same terms). */
const convFlop = (d: ConvDims): number => 2 * d.N * d.O * d.OH * d.OW * d.C * d.KH * d.KW;

function conv2d(x: Float32Array, w: Float32Array, d: ConvDims): Float32Array {
  const { gemm, pool } = start();
  const R = d.C * d.KH * d.KW, P = d.OH * d.OW, Op = roundUp(d.O, TILE_M);
  const threads = threadsFor(convFlop(d), d.N);
  const scratch = align(convScratch('conv2d', d));
  const { at: [X, W, Y, S], end } = layout([x.length, Op * R, d.N * d.O * P, threads * scratch]);
  gemm.reserve(end);
  const heap = gemm.heap;
  heap.set(x, X);
  heap.fill(0, W, W + Op * R);
  placeA(heap, W, R, w, 0, d.O, R, false);
  const jobs: Job[] = [];
  for (let t = 0; t < threads; t++) {
    const [n0, n1] = share(d.N, threads, t);
    jobs.push({ kind: 'conv2d', d, x: X, w: W, y: Y, scratch: S + t * scratch, n0, n1 });
  }
  pool.run(jobs);
  return heap.slice(Y, Y + d.N * d.O * P);
}

function conv2dInputGrad(dy: Float32Array, w: Float32Array, d: ConvDims): Float32Array {
  const { gemm, pool } = start();
  const R = d.C * d.KH * d.KW, Rp = roundUp(R, TILE_M);
  const dxSize = d.N * d.C * d.H * d.W;
  const threads = threadsFor(convFlop(d), d.N);
  const scratch = align(convScratch('conv2dInputGrad', d));
  const { at: [DY, WT, DX, S], end } = layout([dy.length, Rp * d.O, dxSize, threads * scratch]);
  gemm.reserve(end);
  const heap = gemm.heap;
  heap.set(dy, DY);
  heap.fill(0, WT, WT + Rp * d.O);
  placeA(heap, WT, d.O, w, 0, R, d.O, true);
  heap.fill(0, DX, DX + dxSize);
  const jobs: Job[] = [];
  for (let t = 0; t < threads; t++) {
    const [n0, n1] = share(d.N, threads, t);
    jobs.push({ kind: 'conv2dInputGrad', d, dy: DY, wt: WT, dx: DX, scratch: S + t * scratch, n0, n1 });
  }
  pool.run(jobs);
  return heap.slice(DX, DX + dxSize);
}

/**
 * dw = Σₙ dy[n] · colsᵀ, computed transposed — dwᵀ [R×O] += cols · dy[n]ᵀ — so that cols is the
 * kernel's A (row-major, as im2col writes it) and dy[n]ᵀ, packed straight from dy, its B. Each
 * thread sums its own images into its own dwᵀ; the shares are added here.
 */
function conv2dWeightGrad(dy: Float32Array, x: Float32Array, d: ConvDims): Float32Array {
  const { gemm, pool } = start();
  const R = d.C * d.KH * d.KW, Rp = roundUp(R, TILE_M), Opad = roundUp(d.O, TILE_N);
  const threads = threadsFor(convFlop(d), d.N);
  const scratch = align(convScratch('conv2dWeightGrad', d));
  const part = align(Rp * Opad);
  const { at: [DY, X, DWT, S], end } = layout([dy.length, x.length, threads * part, threads * scratch]);
  gemm.reserve(end);
  const heap = gemm.heap;
  heap.set(dy, DY);
  heap.set(x, X);
  const jobs: Job[] = [];
  for (let t = 0; t < threads; t++) {
    const [n0, n1] = share(d.N, threads, t);
    jobs.push({ kind: 'conv2dWeightGrad', d, dy: DY, x: X, dwt: DWT + t * part, scratch: S + t * scratch, n0, n1 });
  }
  pool.run(jobs);
  const dw = new Float32Array(d.O * R);
  for (let o = 0; o < d.O; o++) {
    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let t = 0; t < threads; t++) s += heap[DWT + t * part + r * Opad + o];
      dw[o * R + r] = s;
    }
  }
  return dw;
}

export const simdKernels: SimdKernels<Float32Array> = { matmul, conv2d, conv2dInputGrad, conv2dWeightGrad };
