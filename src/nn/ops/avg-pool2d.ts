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
 */
import { defineOp } from '../../autograd/op.js';
import { sizeOf } from '../../tensor/shape.js';
import type { Flat, Thread } from '../../tensor/op-def.js';
import { coveringWindowsSum, poolDims, poolOutputShape, type Pool2dAttrs } from './window.js';

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
    // One thread per y element.
    forward: (k, { x }, { shapes, attrs, outShape }) =>
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
        poolDims(shapes.x, attrs, outShape),
      ),

    // Gather form: thread (plane, iy, ix) sums dy over the windows that cover it, divided by the
    // window area (window.ts: the gather maxPool2d shares).
    backward: (k, _, dy, { shapes, attrs, outShape }) => ({
      dx: coveringWindowsSum(k, dy, poolDims(shapes.x, attrs, outShape), null, attrs.kernelSize[0] * attrs.kernelSize[1]),
    }),
  },
});
