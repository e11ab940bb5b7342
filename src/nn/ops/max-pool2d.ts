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
 * Backward saves x, not an index tensor: both backends recompute each window's argmax. The
 * reference scatters dy to the argmax of each window; gpu.js cannot scatter, so its backward
 * gathers: each thread takes one x element and sums dy over the windows whose argmax it is.
 */
import { defineOp } from '../../autograd/op.js';
import { expectRank, sizeOf, type Shape } from '../../tensor/shape.js';
import type { Flat, Thread } from '../../tensor/op-def.js';
import { checkPair, slidingOutputSize, type Pair } from './conv2d.js';

export interface Pool2dAttrs {
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
}

/** Checks a pooling window and returns the output shape (shared with avgPool2d). */
export function poolOutputShape(op: string, x: Shape, { kernelSize, stride, padding }: Pool2dAttrs): Shape {
  expectRank(op, 'x', x, 4, '(N, C, H, W)');
  checkPair(op, 'kernelSize', kernelSize, 1);
  checkPair(op, 'padding', padding, 0);
  if (2 * padding[0] > kernelSize[0] || 2 * padding[1] > kernelSize[1]) {
    throw new Error(
      `${op}: padding must be at most half the kernelSize [${kernelSize.join(', ')}] (so every window holds an element of x); ` +
        `got padding [${padding.join(', ')}]`,
    );
  }
  const [OH, OW] = slidingOutputSize(op, x, kernelSize, stride, padding, `kernelSize [${kernelSize.join(', ')}]`);
  return [x[0], x[1], OH, OW];
}

/** Every size the kernels need, named as in the math above. */
export function poolDims(x: Shape, { kernelSize, stride, padding }: Pool2dAttrs, outShape: Shape) {
  return {
    N: x[0], C: x[1], H: x[2], W: x[3],
    KH: kernelSize[0], KW: kernelSize[1],
    OH: outShape[2], OW: outShape[3],
    SY: stride[0], SX: stride[1],
    PY: padding[0], PX: padding[1],
  };
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
                if (x[xPlane + iy * W + ix] > m) m = x[xPlane + iy * W + ix];
              }
            }
            y[yi] = m;
          }
        }
      }
    },
    // Scatter form: find each window's argmax again (strict > keeps the first of a tie) and send it dy.
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
                if (x[xi] > m) {
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

  gpu: {
    // One thread per y element. The first real element seeds the max (GLSL has no −∞ literal).
    forward: (k, { x }, { shapes, attrs, outShape }) =>
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
                  if (found === 0 || v > m) m = v;
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
    // (plane, iy, ix) sums dy over the windows whose argmax it is. The windows covering row iy are
    // oy = ⌊(iy + py)/sy⌋ − j for j < ⌈KH/sy⌉ (those with 0 ≤ oy < OH whose offset ky = iy + py − oy·sy
    // is inside the kernel): one candidate per axis when windows do not overlap.
    backward: (k, { x }, dy, { shapes, attrs, outShape }) => {
      const d = poolDims(shapes.x, attrs, outShape);
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
                  if (argmax < 0 || v > m) {
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
      const dx = k.run(
        function (this: Thread, argmax: Flat, dy: Flat) {
          const ix = this.thread.x % this.constants.W;
          const r = Math.floor(this.thread.x / this.constants.W);
          const iy = r % this.constants.H;
          const plane = Math.floor(r / this.constants.H);
          const me = iy * this.constants.W + ix;
          let s = 0;
          for (let jy = 0; jy < this.constants.CANDIDATES_Y; jy++) {
            const oy = Math.floor((iy + this.constants.PY) / this.constants.SY) - jy;
            const ky = iy + this.constants.PY - oy * this.constants.SY;
            for (let jx = 0; jx < this.constants.CANDIDATES_X; jx++) {
              const ox = Math.floor((ix + this.constants.PX) / this.constants.SX) - jx;
              const kx = ix + this.constants.PX - ox * this.constants.SX;
              if (oy >= 0 && oy < this.constants.OH && ky < this.constants.KH && ox >= 0 && ox < this.constants.OW && kx < this.constants.KW) {
                const window = (plane * this.constants.OH + oy) * this.constants.OW + ox;
                if (argmax[window] === me) s += dy[window];
              }
            }
          }
          return s;
        },
        sizeOf(shapes.x),
        [argmax, dy],
        { ...d, CANDIDATES_Y: Math.ceil(d.KH / d.SY), CANDIDATES_X: Math.ceil(d.KW / d.SX) },
      );
      return { dx };
    },
  },
});
