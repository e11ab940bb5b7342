/**
 * Laying operands out for the GEMM kernel (./gemm.ts), and convolution as matrix products.
 * Every function reads and writes plain float arrays (or, the wasm kernels at the end, the memory)
 * at float offsets — in practice the kernel's memory (`Gemm.heap`), which the worker threads share.
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
 * The heavy work is the three products; im2col and col2im move each value a handful of times
 * (wasm kernels below: in JavaScript they took as long as the products). The route for layers of
 * any stride; stride-1 layers avoid the cols matrix altogether (./jobs.ts, ./winograd.ts).
 */
import { FunctionBody, I32, kernelsOver } from './assembler.js';
import { TILE_N } from './gemm.js';
import { streamKernels } from './streams.js';

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
 * Copies `planes` planes of H×W floats at `from` into the insides of zero-padded planes
 * [H + 2·py, W + 2·px] at `to` (float offsets in `memory`), their borders left as they are (zero:
 * callers zero them once), by the streaming kernels' row copy: how every convolution route pads.
 */
export function padPlanes(memory: WebAssembly.Memory, from: number, to: number, planes: number, H: number, W: number, py: number, px: number): void {
  const HP = H + 2 * py, WP = W + 2 * px;
  streamKernels(memory).copyPlanes(4 * from, 4 * (to + py * WP + px), planes, H, 4 * W, 4 * W, 4 * WP, 4 * H * W, 4 * HP * WP);
}

// ── im2col and col2im as wasm kernels, over zero-padded images ──
//
// Each thread pads its image into its scratch first (./jobs.ts), so the kernels need no bounds
// tests: cols' entry (r, p) for r = (c, ky, kx), p = (oy, ox) is xp[c, oy·sy + ky, ox·sx + kx] of
// the padded image xp [C, HP, WP] — a padding entry is one of its zeros — and col2im adds each dcols
// entry into that same place of a padded dx, whose inside is then copied out. One float a step
// (the strided gathers do not vectorise simply), still several times JavaScript's bounds-checked
// loop with its index arithmetic.

/**
 * im2col(xp, C, HP, WP, KH, KW, SY, SX, OH, OW, to): cols of one padded image into `to`, packed in
 * panels as the GEMM's B (im2colPacked: padding columns up to a whole panel zero) or row-major,
 * rows OH·OW long, as its A (im2colRows). Byte addresses.
 */
function im2colFunction(packed: boolean): FunctionBody {
  const f = new FunctionBody(packed ? 'im2colPacked' : 'im2colRows', 11);
  const [xp, C, HP, WP, KH, KW, SY, SX, OH, OW, to] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const c = f.local(I32), ky = f.local(I32), kx = f.local(I32), r = f.local(I32), oy = f.local(I32), ox = f.local(I32);
  const p = f.local(I32), R = f.local(I32), P = f.local(I32), Pp = f.local(I32), row = f.local(I32);
  f.get(C).get(KH).mul().get(KW).mul().set(R);
  f.get(OH).get(OW).mul().set(P);
  f.get(P).i32(7).add().i32(-8).and().set(Pp);
  // where entry (r, p) goes: packed ((⌊p/8⌋·R + r)·8 + p mod 8), or row-major (r·P + p); bytes
  const at = (): void => {
    if (packed) f.get(p).i32(3).shrU().get(R).mul().get(r).add().i32(8).mul().get(p).i32(7).and().add();
    else f.get(r).get(P).mul().get(p).add();
    f.i32(4).mul().get(to).add();
  };
  f.i32(0).set(r);
  f.forRange(c, 0, C, 1, () => {
    f.forRange(ky, 0, KH, 1, () => {
      f.forRange(kx, 0, KW, 1, () => {
        f.i32(0).set(p);
        f.forRange(oy, 0, OH, 1, () => {
          // row = xp + ((c·HP + oy·SY + ky)·WP + kx)·4: the padded row and column window (oy, 0) reads
          f.get(c).get(HP).mul().get(oy).get(SY).mul().add().get(ky).add().get(WP).mul().get(kx).add().i32(4).mul().get(xp).add().set(row);
          f.forRange(ox, 0, OW, 1, () => {
            at();
            f.get(row).get(ox).get(SX).mul().i32(4).mul().add().f32Load(0).f32Store(0);
            f.addTo(p, () => f.i32(1));
          });
        });
        if (packed) f.whileBelow(p, Pp, 1, () => { at(); f.i32(0).i32Store(0); f.addTo(p, () => f.i32(1)); }); // zero (as bits)
        f.addTo(r, () => f.i32(1));
      });
    });
  });
  return f;
}

/**
 * col2im(from, ld, dxp, C, HP, WP, KH, KW, SY, SX, OH, OW): each entry (r, p) of dcols (at `from`,
 * row-major, rows ld floats apart) added into the place of the padded dx [C, HP, WP] at dxp that
 * im2col read it from, in im2col's order. Byte addresses (ld in floats).
 */
function col2imFunction(): FunctionBody {
  const f = new FunctionBody('col2im', 12);
  const [from, ld, dxp, C, HP, WP, KH, KW, SY, SX, OH, OW] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const c = f.local(I32), ky = f.local(I32), kx = f.local(I32), oy = f.local(I32), ox = f.local(I32);
  const src = f.local(I32), rowStart = f.local(I32), row = f.local(I32), to = f.local(I32);
  f.get(from).set(rowStart);
  f.forRange(c, 0, C, 1, () => {
    f.forRange(ky, 0, KH, 1, () => {
      f.forRange(kx, 0, KW, 1, () => {
        f.get(rowStart).set(src);
        f.forRange(oy, 0, OH, 1, () => {
          f.get(c).get(HP).mul().get(oy).get(SY).mul().add().get(ky).add().get(WP).mul().get(kx).add().i32(4).mul().get(dxp).add().set(row);
          f.forRange(ox, 0, OW, 1, () => {
            f.get(row).get(ox).get(SX).mul().i32(4).mul().add().set(to);
            f.get(to).get(to).f32Load(0).get(src).f32Load(0).f32Add().f32Store(0);
            f.addTo(src, () => f.i32(4));
          });
        });
        f.addTo(rowStart, () => f.get(ld).i32(4).mul()); // the next row of dcols
      });
    });
  });
  return f;
}

/** The im2col and col2im kernels over `memory` (one instance per thread and memory). */
export const loweringKernels = kernelsOver<'im2colPacked' | 'im2colRows' | 'col2im'>(() => [im2colFunction(true), im2colFunction(false), col2imFunction()]);
