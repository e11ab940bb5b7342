/**
 * maxPool2d: the maximum over each KH×KW window, per channel, NCHW.
 *
 *   x [N, C, H, W]   kernelSize (KH, KW)   stride (sy, sx)   padding (py, px)
 *   y [N, C, OH, OW] with OH = ⌊(H + 2·py − KH) / sy⌋ + 1, OW = ⌊(W + 2·px − KW) / sx⌋ + 1
 *
 *   y[n, c, oy, ox] = max over ky < KH, kx < KW of x[n, c, oy·sy − py + ky, ox·sx − px + kx]
 *   dx[n, c, iy, ix] = Σ dy[n, c, oy, ox] over the windows (oy, ox) whose argmax is (iy, ix)
 *
 * Padding cells count as −∞: they are never chosen. Padding is at most half the kernel (PyTorch's
 * rule), so every window holds at least one real element.
 *
 * Ties: the argmax of a window is its *first* maximal element in scan order (ky, then kx — row by
 * row), and it alone gets the window's dy, as in PyTorch's CPU kernel. Max is not differentiable
 * at a tie, so this is a convention, not a derivative; the gradient checks use distinct values.
 * Overlapping windows (stride < kernel) can pick the same element; it then sums their dy.
 *
 * NaN is never hidden: a window holding NaN gives NaN, and its first NaN is the argmax (PyTorch's
 * max_pool2d does the same; a plain `v > m` would skip NaN, which compares false with everything).
 * So "v replaces the max so far m" is: v > m, or v is NaN while m is not (`beats` below). The gpu
 * kernels have no isNaN and test NaN as `v !== v` (the one NaN test the GL shader compilers keep;
 * GPUJS.md): m === m && (v > m || v !== v).
 *
 * Backward saves x, not an index tensor: both backends recompute each window's argmax. The
 * reference scatters dy to the argmax of each window; gpu.js cannot scatter, so its backward
 * gathers: each thread takes one x element and sums dy over the windows whose argmax it is.
 */
import { defineOp } from '../../autograd/op.js';
import { sizeOf } from '../../tensor/shape.js';
import type { Flat, GpuKit, Thread } from '../../tensor/op-def.js';
import { loopKernels } from '../../tensor/backends/wasm/loops.js';
import { coveringWindowsSum, poolDims, poolOutputShape, type Pool2dAttrs, type PoolDims } from './window.js';

/** Whether v replaces m as a window's max: larger, or the first NaN (see the header). */
function beats(v: number, m: number): boolean {
  return v > m || (Number.isNaN(v) && !Number.isNaN(m));
}

export const maxPool2d = defineOp({
  name: 'maxPool2d',
  inputs: ['x'],
  saves: ['x'], // the argmax is recomputed from x
  outputShape: ({ x }, attrs: Pool2dAttrs) => poolOutputShape('maxPool2d', x, attrs),

  reference: {
    forward({ x }, y, { shapes, attrs, outShape }) {
      const { N, C, H, W, KH, KW, OH, OW, SY, SX, PY, PX } = poolDims(shapes.x, attrs, outShape);
      let yi = 0;
      for (let plane = 0; plane < N * C; plane++) {
        const xPlane = plane * H * W;
        for (let oy = 0; oy < OH; oy++) {
          for (let ox = 0; ox < OW; ox++, yi++) {
            let m = -Infinity;
            for (let ky = 0; ky < KH; ky++) {
              const iy = oy * SY - PY + ky;
              if (iy < 0 || iy >= H) continue; // padding: −∞, never the max
              for (let kx = 0; kx < KW; kx++) {
                const ix = ox * SX - PX + kx;
                if (ix < 0 || ix >= W) continue;
                if (beats(x[xPlane + iy * W + ix], m)) m = x[xPlane + iy * W + ix];
              }
            }
            y[yi] = m;
          }
        }
      }
    },
    // Scatter form: find each window's argmax again (strict > keeps the first of a tie) and send it dy.
    // The first real element seeds the argmax (as on gpu), so a window of −∞ alone still has one.
    backward({ x }, dy, { dx }, { shapes, attrs, outShape }) {
      const { N, C, H, W, KH, KW, OH, OW, SY, SX, PY, PX } = poolDims(shapes.x, attrs, outShape);
      let yi = 0;
      for (let plane = 0; plane < N * C; plane++) {
        const xPlane = plane * H * W;
        for (let oy = 0; oy < OH; oy++) {
          for (let ox = 0; ox < OW; ox++, yi++) {
            let m = -Infinity;
            let argmax = -1;
            for (let ky = 0; ky < KH; ky++) {
              const iy = oy * SY - PY + ky;
              if (iy < 0 || iy >= H) continue;
              for (let kx = 0; kx < KW; kx++) {
                const ix = ox * SX - PX + kx;
                if (ix < 0 || ix >= W) continue;
                const xi = xPlane + iy * W + ix;
                if (argmax < 0 || beats(x[xi], m)) {
                  m = x[xi];
                  argmax = xi;
                }
              }
            }
            dx[argmax] += dy[yi];
          }
        }
      }
    },
  },

  // In webasm mode the common 2×2 stride-2 pooling (SmallNet's) runs wasm SIMD kernels instead,
  // four windows a step (k.simd(loopKernels), src/tensor/backends/wasm/loops.ts): the windows are
  // disjoint, so there the backward writes each dx element once.
  gpu: {
    // One thread per y element. The first real element seeds the max (GLSL has no −∞ literal).
    forward: (k, { x }, { shapes, attrs, outShape }) =>
      simdPooling(k, poolDims(shapes.x, attrs, outShape))?.maxPool2x2(x, shapes.x[0] * shapes.x[1], shapes.x[2], shapes.x[3]) ??
      k.run(
        function (this: Thread, x: Flat) {
          const ox = this.thread.x % this.constants.OW;
          const r = Math.floor(this.thread.x / this.constants.OW);
          const oy = r % this.constants.OH;
          const plane = Math.floor(r / this.constants.OH);
          let m = 0;
          let found = 0;
          for (let ky = 0; ky < this.constants.KH; ky++) {
            const iy = oy * this.constants.SY - this.constants.PY + ky;
            if (iy >= 0 && iy < this.constants.H) {
              for (let kx = 0; kx < this.constants.KW; kx++) {
                const ix = ox * this.constants.SX - this.constants.PX + kx;
                if (ix >= 0 && ix < this.constants.W) {
                  const v = x[(plane * this.constants.H + iy) * this.constants.W + ix];
                  if (found === 0 || (m === m && (v > m || v !== v))) m = v; // beats(v, m), without isNaN
                  found = 1;
                }
              }
            }
          }
          return m;
        },
        sizeOf(outShape),
        [x],
        poolDims(shapes.x, attrs, outShape),
      ),

    // Gather form, in two kernels. First each window's argmax (its flat position in the plane, the
    // same scan and strict > as the reference), one thread per window; then one thread per x element
    // sums dy over the windows whose argmax it is (window.ts: the gather avgPool2d shares).
    backward: (k, { x }, dy, { shapes, attrs, outShape }) => {
      const d = poolDims(shapes.x, attrs, outShape);
      const simd = simdPooling(k, d);
      if (simd) return { dx: simd.maxPool2x2Backward(x, dy, d.N * d.C, d.H, d.W) };
      const argmax = k.run(
        function (this: Thread, x: Flat) {
          const ox = this.thread.x % this.constants.OW;
          const r = Math.floor(this.thread.x / this.constants.OW);
          const oy = r % this.constants.OH;
          const plane = Math.floor(r / this.constants.OH);
          let m = 0;
          let argmax = -1;
          for (let ky = 0; ky < this.constants.KH; ky++) {
            const iy = oy * this.constants.SY - this.constants.PY + ky;
            if (iy >= 0 && iy < this.constants.H) {
              for (let kx = 0; kx < this.constants.KW; kx++) {
                const ix = ox * this.constants.SX - this.constants.PX + kx;
                if (ix >= 0 && ix < this.constants.W) {
                  const v = x[(plane * this.constants.H + iy) * this.constants.W + ix];
                  if (argmax < 0 || (m === m && (v > m || v !== v))) {
                    m = v;
                    argmax = iy * this.constants.W + ix;
                  }
                }
              }
            }
          }
          return argmax;
        },
        sizeOf(outShape),
        [x],
        d,
      );
      const dx = coveringWindowsSum(k, dy, d, argmax, 1);
      return { dx };
    },
  },
});

/** The SIMD kernels in webasm mode, for 2×2 windows at stride 2 without padding over images of even height and a width a multiple of 8 (whole vectors of windows); else null. */
function simdPooling(k: GpuKit, d: PoolDims) {
  const fits = d.KH === 2 && d.KW === 2 && d.SY === 2 && d.SX === 2 && d.PY === 0 && d.PX === 0 && d.H % 2 === 0 && d.W % 8 === 0;
  return fits ? k.simd(loopKernels) : null;
}
