/**
 * Laying operands out for the GEMM kernel (./gemm.ts), and convolution as matrix products.
 * Every function reads and writes plain float arrays at float offsets — in practice the kernel's
 * memory (`Gemm.heap`), which the worker threads share.
 *
 * Convolution as matrix products (im2col, as in Caffe). For one image n, write the input values
 * each output position reads as the columns of a matrix, one row per (c, ky, kx):
 *
 *   cols[(c·KH + ky)·KW + kx, oy·OW + ox] = x[n, c, oy·sy − py + ky, ox·sx − px + kx]   (0 outside x)
 *
 * Then, with w seen as the matrix W [O, C·KH·KW] and y[n], dy[n] as [O, OH·OW]:
 *
 *   y[n]  = W · cols                      forward
 *   dw   += dy[n] · colsᵀ                  weight gradient, summed over the images
 *   dcols = Wᵀ · dy[n], then dx[n] = col2im(dcols): every dcols entry added back to the x element
 *                                          its cols entry was copied from (the input gradient)
 *
 * The heavy work is the three products; im2col and col2im move each value a handful of times.
 */
import { packedIndex, roundUp, TILE_N } from './gemm.js';

/**
 * Sizes of a 2-D convolution, named as in src/nn/ops/conv2d.ts: x [N, C, H, W], w [O, C, KH, KW],
 * y [N, O, OH, OW], stride (SY, SX), zero padding (PY, PX).
 */
export interface ConvDims {
  readonly N: number; readonly C: number; readonly H: number; readonly W: number;
  readonly O: number; readonly KH: number; readonly KW: number;
  readonly OH: number; readonly OW: number;
  readonly SY: number; readonly SX: number;
  readonly PY: number; readonly PX: number;
}

/**
 * Lays the rows×cols matrix in `src` (from float `from`, row-major; or its transpose when
 * `transposed`: then src holds the cols×rows matrix) into `dst` from `to`, row-major with row
 * stride `ld`: the layout of the kernel's A.
 */
export function placeA(dst: Float32Array, to: number, ld: number, src: Float32Array, from: number, rows: number, cols: number, transposed: boolean): void {
  for (let r = 0; r < rows; r++) {
    const row = to + r * ld;
    if (!transposed) dst.set(src.subarray(from + r * cols, from + (r + 1) * cols), row);
    else for (let c = 0; c < cols; c++) dst[row + c] = src[from + c * rows + r];
  }
}

/**
 * Packs the K×N matrix in `src` (from float `from`, row-major; or stored transposed, N×K, when
 * `transposed`) into `dst` from `to` in the kernel's B layout: panels of 8 columns, the columns
 * past N (up to a whole panel) zero.
 */
export function packB(dst: Float32Array, to: number, src: Float32Array, from: number, K: number, N: number, transposed: boolean): void {
  for (let j0 = 0; j0 < N; j0 += TILE_N) {
    const width = Math.min(TILE_N, N - j0);
    let at = to + j0 * K; // the panel's start: packedIndex(0, j0, K)
    for (let k = 0; k < K; k++, at += TILE_N) {
      for (let jj = 0; jj < width; jj++) {
        const j = j0 + jj;
        dst[at + jj] = transposed ? src[from + j * K + k] : src[from + k * N + j];
      }
      for (let jj = width; jj < TILE_N; jj++) dst[at + jj] = 0;
    }
  }
}

/** Copies the rows×cols block at `from` (row stride ld) within `a` to `to`, rows packed (stride cols). */
export function takeRows(a: Float32Array, from: number, ld: number, to: number, rows: number, cols: number): void {
  if (ld === cols) a.copyWithin(to, from, from + rows * cols);
  else for (let r = 0; r < rows; r++) a.copyWithin(to + r * cols, from + r * ld, from + r * ld + cols);
}

/**
 * cols (see the header) of image n of x (in `src` from float `x`) into `dst` from `to`: packed in
 * panels as the kernel's B (`packed`; padding columns zero), or row-major, rows OH·OW long, as its A.
 */
export function im2col(dst: Float32Array, to: number, src: Float32Array, x: number, n: number, d: ConvDims, packed: boolean): void {
  const { C, H, W, KH, KW, OH, OW, SY, SX, PY, PX } = d;
  const R = C * KH * KW, P = OH * OW;
  for (let c = 0; c < C; c++) {
    const plane = x + (n * C + c) * H * W;
    for (let ky = 0; ky < KH; ky++) {
      for (let kx = 0; kx < KW; kx++) {
        const r = (c * KH + ky) * KW + kx;
        let p = 0;
        for (let oy = 0; oy < OH; oy++) {
          const iy = oy * SY - PY + ky;
          const row = plane + iy * W;
          for (let ox = 0; ox < OW; ox++, p++) {
            const ix = ox * SX - PX + kx;
            const v = iy >= 0 && iy < H && ix >= 0 && ix < W ? src[row + ix] : 0;
            dst[to + (packed ? packedIndex(r, p, R) : r * P + p)] = v;
          }
        }
        if (packed) for (; p < roundUp(P, TILE_N); p++) dst[to + packedIndex(r, p, R)] = 0;
      }
    }
  }
}

/**
 * The reverse of im2col: each entry of dcols (in `src` from float `from`, row-major, row stride
 * ld) added into the x element it came from, in image n of dx (in `dst` from float `dx`).
 */
export function col2im(dst: Float32Array, dx: number, src: Float32Array, from: number, ld: number, n: number, d: ConvDims): void {
  const { C, H, W, KH, KW, OH, OW, SY, SX, PY, PX } = d;
  for (let c = 0; c < C; c++) {
    const plane = dx + (n * C + c) * H * W;
    for (let ky = 0; ky < KH; ky++) {
      for (let kx = 0; kx < KW; kx++) {
        let at = from + ((c * KH + ky) * KW + kx) * ld;
        for (let oy = 0; oy < OH; oy++) {
          const iy = oy * SY - PY + ky;
          if (iy >= 0 && iy < H) {
            const row = plane + iy * W;
            for (let ox = 0; ox < OW; ox++) {
              const ix = ox * SX - PX + kx;
              if (ix >= 0 && ix < W) dst[row + ix] += src[at + ox];
            }
          }
          at += OW;
        }
      }
    }
  }
}
