/**
 * The work one thread does for a SIMD kernel call: a range of images of a convolution, a range of
 * row tiles of a matrix product, or a range of elements or planes of a streaming kernel. The main
 * thread (./kernels.ts, ./loops.ts) lays the operands and the row tables out in the shared memory
 * and gives each thread a job; the same `runJob` runs on the main thread and in the worker
 * threads (./threads.ts). Offsets count floats; each job has its own scratch.
 *
 * Convolutions take one of three routes to the same three products (./lowering.ts derives them):
 *   - stride 1, "implicit GEMM": the images are zero-padded once, and the GEMM's row tables point
 *     straight into the padded planes, so no im2col matrix is ever written. Row (c, ky, kx) of B
 *     starts at plane c, row ky, column kx of the padded image and runs on along the plane; read
 *     as OH rows of WP (the padded width), its element oy·WP + ox is xp[c, oy + ky, ox + kx] —
 *     the im2col entry — for every ox < OW. So the products run over a "wide" output, rows WP long
 *     instead of OW, whose extra columns are computed and dropped;
 *   - any other stride: im2col / col2im into scratch, then plain products;
 *   - 3×3, stride 1, padding 1: Winograd's F(2×2, 3×3), 16 products over transformed tiles
 *     (./winograd.ts, which runs its jobs).
 */
import { Gemm, roundUp, TILE_M, TILE_N } from './gemm.js';
import { loweringKernels, packB, padPlanes, takeRows, type ConvDims } from './lowering.js';
import { streamKernels, type StreamName } from './streams.js';
import { runWinograd, runWinogradWeightGrad, type WinogradJob, type WinogradWeightGradJob } from './winograd.js';

/** A stride-1 correlation over padded images xp [N, C, HP, WP], as the implicit route runs it. */
export interface Padded {
  readonly N: number; readonly C: number; readonly HP: number; readonly WP: number;
  readonly O: number; readonly KH: number; readonly KW: number;
  readonly OH: number; readonly OW: number;
}

/** Wide output positions per image (OH rows of WP) and the sizes the tiles round them to. */
export function wideSizes(p: Padded): { Q: number; Qp: number; Op: number; R: number; Rp: number; Opad: number } {
  const Q = p.OH * p.WP, R = p.C * p.KH * p.KW;
  return { Q, Qp: roundUp(Q, TILE_N), Op: roundUp(p.O, TILE_M), R, Rp: roundUp(R, TILE_M), Opad: roundUp(p.O, TILE_N) };
}

/**
 * Images [n0, n1) of y[n] = W · window(xp[n]): the GEMM's B rows are the padded planes read from
 * the (ky, kx) offsets (table `windows`), the product lands in `tile` [Op × Qp] (wide), and its
 * OW-long pieces are copied into y [N, O, OH, OW].
 */
export interface CorrelateJob {
  readonly kind: 'correlate';
  readonly p: Padded;
  readonly xp: number; readonly w: number; readonly wRows: number; readonly windows: number;
  readonly y: number; readonly tile: number; readonly n0: number; readonly n1: number;
}

/**
 * This thread's share of dwᵀ [Rp × Opad] = Σ over images [n0, n1) of window(xp[n]) · dy[n]ᵀ, the
 * windows now the GEMM's A rows (table `windows`) and dy[n]ᵀ, widened with zero rows at the
 * dropped columns, packed into `dyt` as its B (row table `dytRows`).
 */
export interface CorrelateWeightGradJob {
  readonly kind: 'correlateWeightGrad';
  readonly p: Padded;
  readonly xp: number; readonly windows: number; readonly dy: number;
  readonly dyt: number; readonly dytRows: number; readonly dwt: number;
  readonly n0: number; readonly n1: number;
}

/**
 * Images [n0, n1) of y = conv2d(x, w) through im2col: y[n] = W · cols(x[n]). `xp` is the thread's
 * room for one padded image [C, H + 2·PY, W + 2·PX] (as for the next two).
 */
export interface Im2colJob {
  readonly kind: 'im2col';
  readonly d: ConvDims;
  readonly x: number; readonly w: number; readonly wRows: number; readonly colRows: number;
  readonly y: number; readonly cols: number; readonly tile: number; readonly xp: number; readonly n0: number; readonly n1: number;
}

/** Images [n0, n1) of dx through col2im: dx[n] = col2im(Wᵀ · dy[n]), added up in a padded image `xp`, its inside copied out. */
export interface Col2imJob {
  readonly kind: 'col2im';
  readonly d: ConvDims;
  readonly dy: number; readonly wt: number; readonly wtRows: number; readonly dyRows: number;
  readonly dx: number; readonly dyn: number; readonly dcols: number; readonly xp: number; readonly n0: number; readonly n1: number;
}

/** This thread's share of dwᵀ [Rp × Opad] = Σ over images [n0, n1) of cols(x[n]) · dy[n]ᵀ, through im2col. */
export interface Im2colWeightGradJob {
  readonly kind: 'im2colWeightGrad';
  readonly d: ConvDims;
  readonly x: number; readonly dy: number; readonly colRows: number; readonly dytRows: number;
  readonly dwt: number; readonly cols: number; readonly dyt: number; readonly xp: number; readonly n0: number; readonly n1: number;
}

/** Row tiles [m0, m1) of C [Mp × Np] = A · B (B packed). */
export interface MatmulJob {
  readonly kind: 'matmul';
  readonly a: number; readonly aRows: number; readonly b: number; readonly bRows: number;
  readonly c: number; readonly K: number; readonly Np: number; readonly m0: number; readonly m1: number;
}

/** One thread's share of a streaming kernel of ./streams.ts: its arguments, byte addresses and sizes (./loops.ts). */
export interface StreamJob {
  readonly kind: 'stream';
  readonly name: StreamName;
  readonly args: readonly number[];
}

export type Job = CorrelateJob | CorrelateWeightGradJob | WinogradJob | WinogradWeightGradJob | Im2colJob | Col2imJob | Im2colWeightGradJob | MatmulJob | StreamJob;

export function runJob(g: Gemm, job: Job): void {
  const heap = g.heap;
  switch (job.kind) {
    case 'stream':
      streamKernels(g.memory)[job.name](...job.args);
      return;
    case 'matmul': {
      if (job.m1 > job.m0) {
        g.gemm({ a: job.a, aRows: job.aRows + job.m0, b: job.b, bRows: job.bRows, bPanel: TILE_N * job.K, c: job.c + job.m0 * job.Np, ldc: job.Np }, job.m1 - job.m0, job.Np, job.K, false);
      }
      return;
    }
    case 'correlate': {
      const { p } = job;
      const { Qp, Op, R } = wideSizes(p);
      const image = p.C * p.HP * p.WP;
      for (let n = job.n0; n < job.n1; n++) {
        g.gemm({ a: job.w, aRows: job.wRows, b: job.xp + n * image, bRows: job.windows, bPanel: TILE_N, c: job.tile, ldc: Qp }, Op, Qp, R, false);
        // The wide rows' first OW columns are y's: O planes of OH rows, copied by a wasm kernel
        // (rows are short: copyWithin's call cost per row was most of the copy, and a JS loop
        // moves one float a step).
        const { O, OH, OW, WP } = p;
        streamKernels(g.memory).copyPlanes(4 * job.tile, 4 * (job.y + n * O * OH * OW), O, OH, 4 * OW, 4 * WP, 4 * OW, 4 * Qp, 4 * OH * OW);
      }
      return;
    }
    case 'winograd':
      runWinograd(g, job);
      return;
    case 'winogradWeightGrad':
      runWinogradWeightGrad(g, job);
      return;
    case 'correlateWeightGrad': {
      const { p } = job;
      const { Q, Rp, Opad } = wideSizes(p);
      const image = p.C * p.HP * p.WP;
      heap.fill(0, job.dwt, job.dwt + Rp * Opad); // a thread without images contributes 0
      for (let n = job.n0; n < job.n1; n++) {
        // dy[n]ᵀ widened and packed: row q = (oy, ox) of the wide output holds dy[n, ·, oy, ox], or
        // zeros where ox ≥ OW; column o sits in panel ⌊o/8⌋ at lane o mod 8. Read dy[n] in its own
        // order (one channel plane after another), write each value to its lane.
        const { O, OH, OW, WP } = p;
        let from = job.dy + n * O * OH * OW;
        for (let o = 0; o < Opad; o++) {
          let at = job.dyt + (o >> 3) * Q * TILE_N + (o & 7); // packedIndex(0, o, Q)
          for (let oy = 0; oy < OH; oy++) {
            for (let ox = 0; ox < WP; ox++, at += TILE_N) heap[at] = o < O && ox < OW ? heap[from++] : 0;
          }
        }
        g.gemm({ a: job.xp + n * image, aRows: job.windows, b: job.dyt, bRows: job.dytRows, bPanel: TILE_N * Q, c: job.dwt, ldc: Opad }, Rp, Opad, Q, n > job.n0);
      }
      return;
    }
    case 'im2col': {
      const { d } = job;
      const R = d.C * d.KH * d.KW, P = d.OH * d.OW, Pp = roundUp(P, TILE_N), Op = roundUp(d.O, TILE_M);
      const { HP, WP } = paddedSize(d);
      heap.fill(0, job.xp, job.xp + d.C * HP * WP); // the border stays zero: the copies fill the inside
      for (let n = job.n0; n < job.n1; n++) {
        padPlanes(g.memory, job.x + n * d.C * d.H * d.W, job.xp, d.C, d.H, d.W, d.PY, d.PX);
        loweringKernels(g.memory).im2colPacked(4 * job.xp, d.C, HP, WP, d.KH, d.KW, d.SY, d.SX, d.OH, d.OW, 4 * job.cols);
        g.gemm({ a: job.w, aRows: job.wRows, b: job.cols, bRows: job.colRows, bPanel: TILE_N * R, c: job.tile, ldc: Pp }, Op, Pp, R, false);
        takeRows(heap, job.tile, Pp, job.y + n * d.O * P, d.O, P);
      }
      return;
    }
    case 'col2im': {
      const { d } = job;
      const R = d.C * d.KH * d.KW, P = d.OH * d.OW, Pp = roundUp(P, TILE_N), Rp = roundUp(R, TILE_M);
      const { HP, WP } = paddedSize(d);
      for (let n = job.n0; n < job.n1; n++) {
        if (P % TILE_N === 0) g.pack(job.dy + n * d.O * P, job.dyn, d.O, P, false);
        else packB(heap, job.dyn, heap, job.dy + n * d.O * P, d.O, P, false);
        g.gemm({ a: job.wt, aRows: job.wtRows, b: job.dyn, bRows: job.dyRows, bPanel: TILE_N * d.O, c: job.dcols, ldc: Pp }, Rp, Pp, d.O, false);
        heap.fill(0, job.xp, job.xp + d.C * HP * WP);
        loweringKernels(g.memory).col2im(4 * job.dcols, Pp, 4 * job.xp, d.C, HP, WP, d.KH, d.KW, d.SY, d.SX, d.OH, d.OW);
        // the inside of the padded dx is dx[n]
        streamKernels(g.memory).copyPlanes(4 * (job.xp + d.PY * WP + d.PX), 4 * (job.dx + n * d.C * d.H * d.W), d.C, d.H, 4 * d.W, 4 * WP, 4 * d.W, 4 * HP * WP, 4 * d.H * d.W);
      }
      return;
    }
    case 'im2colWeightGrad': {
      const { d } = job;
      const R = d.C * d.KH * d.KW, P = d.OH * d.OW, Rp = roundUp(R, TILE_M), Opad = roundUp(d.O, TILE_N);
      const { HP, WP } = paddedSize(d);
      heap.fill(0, job.cols + R * P, job.cols + Rp * P); // cols' padding rows
      heap.fill(0, job.dwt, job.dwt + Rp * Opad);
      heap.fill(0, job.xp, job.xp + d.C * HP * WP);
      for (let n = job.n0; n < job.n1; n++) {
        padPlanes(g.memory, job.x + n * d.C * d.H * d.W, job.xp, d.C, d.H, d.W, d.PY, d.PX);
        loweringKernels(g.memory).im2colRows(4 * job.xp, d.C, HP, WP, d.KH, d.KW, d.SY, d.SX, d.OH, d.OW, 4 * job.cols);
        // dy[n] [O × P] is dy[n]ᵀ [P × O] stored transposed
        if (d.O % TILE_N === 0 && P % 4 === 0) g.pack(job.dy + n * d.O * P, job.dyt, P, d.O, true);
        else packB(heap, job.dyt, heap, job.dy + n * d.O * P, P, d.O, true);
        g.gemm({ a: job.cols, aRows: job.colRows, b: job.dyt, bRows: job.dytRows, bPanel: TILE_N * P, c: job.dwt, ldc: Opad }, Rp, Opad, P, n > job.n0);
      }
      return;
    }
  }
}

/** The padded image of a convolution: H + 2·PY rows of W + 2·PX. */
export const paddedSize = (d: ConvDims): { HP: number; WP: number } => ({ HP: d.H + 2 * d.PY, WP: d.W + 2 * d.PX });
