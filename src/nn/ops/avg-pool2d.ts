/**
 * avgPool2d: the mean over each KH×KW window, per channel, NCHW.
 *
 *   x [N, C, H, W]   kernelSize (KH, KW)   stride (sy, sx)   padding (py, px)
 *   y [N, C, OH, OW] with OH = ⌊(H + 2·py − KH) / sy⌋ + 1, OW = ⌊(W + 2·px − KW) / sx⌋ + 1
 *
 *   y[n, c, oy, ox]  = (1 / (KH·KW)) · Σ_ky Σ_kx x[n, c, oy·sy − py + ky, ox·sx − px + kx]
 *   dx[n, c, iy, ix] = (1 / (KH·KW)) · Σ dy[n, c, oy, ox] over the windows (oy, ox) covering (iy, ix)
 *
 * Padding cells are zeros that still count in the divisor: always the full window area KH·KW
 * (PyTorch's default, count_include_pad = true), so y is linear in x with one weight 1/(KH·KW).
 * With kernelSize = stride = the whole H×W plane it is the global average pool that ends the
 * ResNets (8×8 → 1×1).
 *
 * The reference backward scatters dy/(KH·KW) over each window; gpu.js cannot scatter, so its
 * backward gathers: each thread takes one x element and sums dy over the windows that cover it.
 *
 * In webasm mode windows of 1 or 2 columns at stride 2, 1 or 2 rows and no padding — 1×1 stride 2
 * (the subsampling of ResNet's option-A shortcut), 2×2 stride 2, 2×1, 1×2 — run as wasm SIMD
 * kernels, four windows a step (k.simd(loopKernels), src/tensor/backends/wasm/loops.ts). Their
 * windows are disjoint and their area a power of two, so the forward's float64 sum times 1/area
 * and the backward's dy·(1/area) equal the reference's divisions bit for bit. So does a window
 * over the whole plane (the global pool; H·W a multiple of 4): a float64 sum per plane, then a
 * fill of dy/(H·W) per plane.
 */
import { defineOp } from '../../autograd/op.js';
import { sizeOf } from '../../tensor/shape.js';
import type { Flat, GpuKit, Thread } from '../../tensor/op-def.js';
import { loopKernels } from '../../tensor/backends/wasm/loops.js';
import { coveringWindowsSum, poolDims, poolOutputShape, type Pool2dAttrs, type PoolDims } from './window.js';

export const avgPool2d = defineOp({
  name: 'avgPool2d',
  inputs: ['x'],
  saves: [], // y is linear in x: backward needs only the window geometry
  outputShape: ({ x }, attrs: Pool2dAttrs) => poolOutputShape('avgPool2d', x, attrs),

  reference: {
    forward({ x }, y, { shapes, attrs, outShape }) {
      const { N, C, H, W, KH, KW, OH, OW, SY, SX, PY, PX } = poolDims(shapes.x, attrs, outShape);
      const area = KH * KW;
      let yi = 0;
      for (let plane = 0; plane < N * C; plane++) {
        const xPlane = plane * H * W;
        for (let oy = 0; oy < OH; oy++) {
          for (let ox = 0; ox < OW; ox++, yi++) {
            let s = 0;
            for (let ky = 0; ky < KH; ky++) {
              const iy = oy * SY - PY + ky;
              if (iy < 0 || iy >= H) continue; // a padding row adds 0
              for (let kx = 0; kx < KW; kx++) {
                const ix = ox * SX - PX + kx;
                if (ix < 0 || ix >= W) continue;
                s += x[xPlane + iy * W + ix];
              }
            }
            y[yi] = s / area;
          }
        }
      }
    },
    // Scatter form: each window hands dy/(KH·KW) to every real element it covers.
    backward(_, dy, { dx }, { shapes, attrs, outShape }) {
      const { N, C, H, W, KH, KW, OH, OW, SY, SX, PY, PX } = poolDims(shapes.x, attrs, outShape);
      const area = KH * KW;
      let yi = 0;
      for (let plane = 0; plane < N * C; plane++) {
        const xPlane = plane * H * W;
        for (let oy = 0; oy < OH; oy++) {
          for (let ox = 0; ox < OW; ox++, yi++) {
            const share = dy[yi] / area;
            for (let ky = 0; ky < KH; ky++) {
              const iy = oy * SY - PY + ky;
              if (iy < 0 || iy >= H) continue;
              for (let kx = 0; kx < KW; kx++) {
                const ix = ox * SX - PX + kx;
                if (ix < 0 || ix >= W) continue;
                dx[xPlane + iy * W + ix] += share;
              }
            }
          }
        }
      }
    },
  },

  gpu: {
    // One thread per y element (or the SIMD kernels: see the header).
    forward: (k, { x }, { shapes, attrs, outShape }) => {
      const d = poolDims(shapes.x, attrs, outShape);
      return (
        simdPooling(k, d)?.avgPoolStride2(x, strideTwo(d)) ??
        wholePlanes(k, d)?.planeMeans(x, d.N * d.C, d.H * d.W) ??
        k.run(
          function (this: Thread, x: Flat) {
            const ox = this.thread.x % this.constants.OW;
            const r = Math.floor(this.thread.x / this.constants.OW);
            const oy = r % this.constants.OH;
            const plane = Math.floor(r / this.constants.OH);
            let s = 0;
            for (let ky = 0; ky < this.constants.KH; ky++) {
              const iy = oy * this.constants.SY - this.constants.PY + ky;
              if (iy >= 0 && iy < this.constants.H) {
                for (let kx = 0; kx < this.constants.KW; kx++) {
                  const ix = ox * this.constants.SX - this.constants.PX + kx;
                  if (ix >= 0 && ix < this.constants.W) s += x[(plane * this.constants.H + iy) * this.constants.W + ix];
                }
              }
            }
            return s / (this.constants.KH * this.constants.KW);
          },
          sizeOf(outShape),
          [x],
          d,
        )
      );
    },

    // Gather form: thread (plane, iy, ix) sums dy over the windows that cover it, divided by the
    // window area (window.ts: the gather maxPool2d shares).
    backward: (k, _, dy, { shapes, attrs, outShape }) => {
      const d = poolDims(shapes.x, attrs, outShape);
      const dx = simdPooling(k, d)?.avgPoolStride2Backward(dy, strideTwo(d)) ?? wholePlanes(k, d)?.planeMeansBackward(dy, d.N * d.C, d.H * d.W);
      return { dx: dx ?? coveringWindowsSum(k, dy, d, null, d.KH * d.KW) };
    },
  },
});

/**
 * The SIMD kernels in webasm mode, for windows of KW ≤ 2 columns at stride 2 and KH ≤ 2 rows, no
 * more than the vertical stride, without padding, over planes of H a multiple of that stride and
 * W a multiple of 8 (whole vectors of windows); else null.
 */
function simdPooling(k: GpuKit, d: PoolDims) {
  const fits = d.SX === 2 && d.KW <= 2 && d.KH <= 2 && d.KH <= d.SY && d.PY === 0 && d.PX === 0 && d.H % d.SY === 0 && d.W % 8 === 0;
  return fits ? k.simd(loopKernels) : null;
}

/** The windows as those kernels take them. */
function strideTwo(d: PoolDims) {
  return { planes: d.N * d.C, H: d.H, W: d.W, SY: d.SY, KH: d.KH, KW: d.KW };
}

/** The SIMD kernels in webasm mode for one window over each whole plane, without padding, H·W a multiple of 4; else null. */
function wholePlanes(k: GpuKit, d: PoolDims) {
  const fits = d.KH === d.H && d.KW === d.W && d.PY === 0 && d.PX === 0 && (d.H * d.W) % 4 === 0;
  return fits ? k.simd(loopKernels) : null;
}
