/**
 * The work one thread does for a SIMD kernel call: a range of images of a convolution, or a range
 * of row tiles of a matrix product. The main thread (./kernels.ts) lays the operands out in the
 * shared memory and gives each thread a job; the same `runJob` runs on the main thread and in the
 * workers (./worker.ts). Offsets count floats; every job has its own scratch region.
 */
import type { ConvDims } from '../../op-def.js';
import { Gemm, roundUp, TILE_M, TILE_N } from './gemm.js';
import { col2im, im2col, packB, takeRows } from './lowering.js';

/** Images [n0, n1) of y = conv2d(x, w): y[n] = W · cols(x[n]). W is [Op×R], y is [N×O×P]. */
export interface Conv2dJob {
  readonly kind: 'conv2d';
  readonly d: ConvDims;
  readonly x: number; readonly w: number; readonly y: number;
  readonly scratch: number; readonly n0: number; readonly n1: number;
}

/** Images [n0, n1) of dx: dx[n] = col2im(Wᵀ · dy[n]). wt is Wᵀ [Rp×O]; dx must start zero. */
export interface Conv2dInputGradJob {
  readonly kind: 'conv2dInputGrad';
  readonly d: ConvDims;
  readonly dy: number; readonly wt: number; readonly dx: number;
  readonly scratch: number; readonly n0: number; readonly n1: number;
}

/** This thread's share of dwᵀ [Rp×Opad] = Σ over images [n0, n1) of cols(x[n]) · dy[n]ᵀ. */
export interface Conv2dWeightGradJob {
  readonly kind: 'conv2dWeightGrad';
  readonly d: ConvDims;
  readonly dy: number; readonly x: number; readonly dwt: number;
  readonly scratch: number; readonly n0: number; readonly n1: number;
}

/** Rows [m0, m1) (whole tiles) of C [Mp×Np] = A [Mp×K] · B (packed). */
export interface MatmulJob {
  readonly kind: 'matmul';
  readonly a: number; readonly b: number; readonly c: number;
  readonly K: number; readonly Np: number;
  readonly m0: number; readonly m1: number;
}

export type Job = Conv2dJob | Conv2dInputGradJob | Conv2dWeightGradJob | MatmulJob;

/** Scratch floats a convolution job needs, per thread. */
export function convScratch(kind: 'conv2d' | 'conv2dInputGrad' | 'conv2dWeightGrad', d: ConvDims): number {
  const R = d.C * d.KH * d.KW, P = d.OH * d.OW;
  const Rp = roundUp(R, TILE_M), Pp = roundUp(P, TILE_N), Op = roundUp(d.O, TILE_M), Opad = roundUp(d.O, TILE_N);
  if (kind === 'conv2d') return R * Pp + Op * Pp; // cols (packed) | y tile
  if (kind === 'conv2dInputGrad') return d.O * Pp + Rp * Pp; // dy[n] (packed) | dcols
  return Rp * P + P * Opad; // cols (row-major) | dy[n]ᵀ (packed)
}

export function runJob(g: Gemm, job: Job): void {
  const heap = g.heap;
  if (job.kind === 'matmul') {
    if (job.m1 > job.m0) g.gemm(job.a + job.m0 * job.K, job.b, job.c + job.m0 * job.Np, job.m1 - job.m0, job.Np, job.K, job.K, job.Np, false);
    return;
  }
  const d = job.d;
  const R = d.C * d.KH * d.KW, P = d.OH * d.OW;
  const Rp = roundUp(R, TILE_M), Pp = roundUp(P, TILE_N), Op = roundUp(d.O, TILE_M), Opad = roundUp(d.O, TILE_N);
  switch (job.kind) {
    case 'conv2d': {
      const cols = job.scratch, tile = cols + R * Pp;
      for (let n = job.n0; n < job.n1; n++) {
        im2col(heap, cols, heap, job.x, n, d, true);
        g.gemm(job.w, cols, tile, Op, Pp, R, R, Pp, false);
        takeRows(heap, tile, Pp, job.y + n * d.O * P, d.O, P);
      }
      return;
    }
    case 'conv2dInputGrad': {
      const dyn = job.scratch, dcols = dyn + d.O * Pp;
      for (let n = job.n0; n < job.n1; n++) {
        packB(heap, dyn, heap, job.dy + n * d.O * P, d.O, P, false);
        g.gemm(job.wt, dyn, dcols, Rp, Pp, d.O, d.O, Pp, false);
        col2im(heap, job.dx, heap, dcols, Pp, n, d);
      }
      return;
    }
    case 'conv2dWeightGrad': {
      const cols = job.scratch, dyt = cols + Rp * P;
      heap.fill(0, cols + R * P, dyt); // cols' padding rows
      heap.fill(0, job.dwt, job.dwt + Rp * Opad); // a thread without images contributes 0
      for (let n = job.n0; n < job.n1; n++) {
        im2col(heap, cols, heap, job.x, n, d, false);
        packB(heap, dyt, heap, job.dy + n * d.O * P, P, d.O, true);
        g.gemm(cols, dyt, job.dwt, Rp, Opad, P, P, Opad, n > job.n0);
      }
      return;
    }
  }
}
