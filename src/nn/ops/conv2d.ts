/**
 * conv2d: 2-D convolution (strictly, cross-correlation, as in every deep-learning library), NCHW.
 * No bias here: g.nn.functional.conv2d adds it as a composite (y + b reshaped to [1, O, 1, 1]).
 *
 *   x [N, C, H, W]   w [O, C, KH, KW]   stride (sy, sx)   zero padding (py, px)
 *   y [N, O, OH, OW] with OH = ⌊(H + 2·py − KH) / sy⌋ + 1, OW = ⌊(W + 2·px − KW) / sx⌋ + 1
 *
 *   y[n, o, oy, ox]  = Σ_c Σ_ky Σ_kx  w[o, c, ky, kx] · x[n, c, oy·sy − py + ky, ox·sx − px + kx]
 *
 * where x outside [0, H) × [0, W) reads as 0 (the padding). Each product w·x is one term of y, so
 * backward hands dy[n, o, oy, ox] back along the same (x, w) pairs:
 *
 *   dw[o, c, ky, kx] = Σ_n Σ_oy Σ_ox  dy[n, o, oy, ox] · x[n, c, oy·sy − py + ky, ox·sx − px + kx]
 *   dx[n, c, iy, ix] = Σ_o Σ_ky Σ_kx  dy[n, o, oy, ox] · w[o, c, ky, kx]
 *                      over the (ky, kx) with oy = (iy + py − ky) / sy and ox = (ix + px − kx) / sx
 *                      whole numbers inside [0, OH) × [0, OW)
 *
 * Two derivations of the same backward, checked against each other by gpu-vs-reference.test.ts:
 * the reference backward *scatters* (ConvNetJS style: the forward loop run again, each product's
 * partner receiving dy·weight), while gpu.js cannot scatter, so its kernels *gather* — one thread
 * per gradient element, summing the dx formula or the dw formula above.
 */
import { defineOp } from '../../autograd/op.js';
import { expectRank, shapeToString, sizeOf, type Shape } from '../../tensor/shape.js';
import type { Flat, Thread } from '../../tensor/op-def.js';

/** A (y, x) pair: first the vertical (rows), then the horizontal (columns) value. */
export type Pair = readonly [number, number];

export interface Conv2dAttrs {
  readonly stride: Pair;
  readonly padding: Pair;
}

function isPairOfIntegers(value: unknown, min: number): value is Pair {
  return Array.isArray(value) && value.length === 2 && value.every((v) => Number.isInteger(v) && v >= min);
}

/** Throws unless `value` is a pair of integers ≥ `min`, naming the op and the argument. */
export function checkPair(op: string, arg: string, value: unknown, min: number): Pair {
  if (!isPairOfIntegers(value, min)) {
    throw new Error(`${op}: ${arg} must be a pair [y, x] of integers ≥ ${min}; got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * The output size [OH, OW] of a window `kernel` sliding over the H×W plane of x (NCHW) with the
 * given stride and zero padding; throws when the window does not fit. `kernelFrom` says where the
 * kernel size came from, for the message (e.g. "w [8, 3, 5, 5]").
 */
export function slidingOutputSize(op: string, x: Shape, kernel: Pair, stride: Pair, padding: Pair, kernelFrom: string): Pair {
  checkPair(op, 'stride', stride, 1);
  checkPair(op, 'padding', padding, 0);
  const paddedH = x[2] + 2 * padding[0];
  const paddedW = x[3] + 2 * padding[1];
  if (kernel[0] > paddedH || kernel[1] > paddedW) {
    throw new Error(
      `${op}: the kernel must fit in x padded by [${padding.join(', ')}] (${paddedH}×${paddedW}, from x ${shapeToString(x)}); ` +
        `got a ${kernel[0]}×${kernel[1]} kernel (${kernelFrom})`,
    );
  }
  return [Math.floor((paddedH - kernel[0]) / stride[0]) + 1, Math.floor((paddedW - kernel[1]) / stride[1]) + 1];
}

/** Every size the kernels need, named as in the math above. */
function dims({ x, w }: Readonly<Record<'x' | 'w', Shape>>, { stride, padding }: Conv2dAttrs, outShape: Shape) {
  return {
    N: x[0], C: x[1], H: x[2], W: x[3],
    O: w[0], KH: w[2], KW: w[3],
    OH: outShape[2], OW: outShape[3],
    SY: stride[0], SX: stride[1],
    PY: padding[0], PX: padding[1],
  };
}

export const conv2d = defineOp({
  name: 'conv2d',
  inputs: ['x', 'w'],
  saves: ['x', 'w'], // dw needs x, dx needs w
  outputShape: ({ x, w }, attrs: Conv2dAttrs) => {
    expectRank('conv2d', 'x', x, 4, '(N, C, H, W)');
    expectRank('conv2d', 'w', w, 4, '(outChannels, inChannels, KH, KW)');
    if (w[1] !== x[1]) {
      throw new Error(`conv2d: w must have ${x[1]} input channels to match x ${shapeToString(x)}; got w ${shapeToString(w)}`);
    }
    if (w[2] < 1 || w[3] < 1) throw new Error(`conv2d: w's kernel must be at least 1×1; got w ${shapeToString(w)}`);
    const [OH, OW] = slidingOutputSize('conv2d', x, [w[2], w[3]], attrs.stride, attrs.padding, `w ${shapeToString(w)}`);
    return [x[0], w[0], OH, OW];
  },

  reference: {
    forward({ x, w }, y, { shapes, attrs, outShape }) {
      const { N, C, H, W, O, KH, KW, OH, OW, SY, SX, PY, PX } = dims(shapes, attrs, outShape);
      let yi = 0; // y is walked in its own row-major order
      for (let n = 0; n < N; n++) {
        for (let o = 0; o < O; o++) {
          for (let oy = 0; oy < OH; oy++) {
            for (let ox = 0; ox < OW; ox++, yi++) {
              let s = 0;
              for (let c = 0; c < C; c++) {
                const xPlane = (n * C + c) * H * W;
                const wPlane = (o * C + c) * KH * KW;
                for (let ky = 0; ky < KH; ky++) {
                  const iy = oy * SY - PY + ky;
                  if (iy < 0 || iy >= H) continue; // a padding row: contributes 0
                  for (let kx = 0; kx < KW; kx++) {
                    const ix = ox * SX - PX + kx;
                    if (ix < 0 || ix >= W) continue;
                    s += w[wPlane + ky * KW + kx] * x[xPlane + iy * W + ix];
                  }
                }
              }
              y[yi] = s;
            }
          }
        }
      }
    },
    // Scatter form: the forward loop again; each product w·x sends dy·x to dw and dy·w to dx.
    // dx is skipped when x needs no gradient (a network's first layer: the images).
    backward({ x, w }, dy, { dx, dw }, { shapes, attrs, outShape, needsGrad }) {
      const { N, C, H, W, O, KH, KW, OH, OW, SY, SX, PY, PX } = dims(shapes, attrs, outShape);
      let yi = 0;
      for (let n = 0; n < N; n++) {
        for (let o = 0; o < O; o++) {
          for (let oy = 0; oy < OH; oy++) {
            for (let ox = 0; ox < OW; ox++, yi++) {
              const g = dy[yi];
              for (let c = 0; c < C; c++) {
                const xPlane = (n * C + c) * H * W;
                const wPlane = (o * C + c) * KH * KW;
                for (let ky = 0; ky < KH; ky++) {
                  const iy = oy * SY - PY + ky;
                  if (iy < 0 || iy >= H) continue;
                  for (let kx = 0; kx < KW; kx++) {
                    const ix = ox * SX - PX + kx;
                    if (ix < 0 || ix >= W) continue;
                    if (needsGrad.w) dw[wPlane + ky * KW + kx] += g * x[xPlane + iy * W + ix];
                    if (needsGrad.x) dx[xPlane + iy * W + ix] += g * w[wPlane + ky * KW + kx];
                  }
                }
              }
            }
          }
        }
      }
    },
  },

  gpu: {
    // One thread per y element (n, o, oy, ox): the forward sum, padding cells skipped.
    forward: (k, { x, w }, { shapes, attrs, outShape }) =>
      k.run(
        function (this: Thread, x: Flat, w: Flat) {
          const ox = this.thread.x % this.constants.OW;
          let r = Math.floor(this.thread.x / this.constants.OW);
          const oy = r % this.constants.OH;
          r = Math.floor(r / this.constants.OH);
          const o = r % this.constants.O;
          const n = Math.floor(r / this.constants.O);
          let s = 0;
          for (let c = 0; c < this.constants.C; c++) {
            for (let ky = 0; ky < this.constants.KH; ky++) {
              const iy = oy * this.constants.SY - this.constants.PY + ky;
              if (iy >= 0 && iy < this.constants.H) {
                for (let kx = 0; kx < this.constants.KW; kx++) {
                  const ix = ox * this.constants.SX - this.constants.PX + kx;
                  if (ix >= 0 && ix < this.constants.W) {
                    s +=
                      w[((o * this.constants.C + c) * this.constants.KH + ky) * this.constants.KW + kx] *
                      x[((n * this.constants.C + c) * this.constants.H + iy) * this.constants.W + ix];
                  }
                }
              }
            }
          }
          return s;
        },
        sizeOf(outShape),
        [x, w],
        dims(shapes, attrs, outShape),
      ),

    // Gather form of the scatter above.
    backward: (k, { x, w }, dy, { shapes, attrs, outShape, needsGrad }) => {
      const constants = dims(shapes, attrs, outShape);
      // dx: one thread per x element (n, c, iy, ix), summing over the (o, ky, kx) that read it.
      // The window at output row oy reads row iy through ky = iy + py − oy·sy, so for each ky the
      // output row is oy = (iy + py − ky) / sy — when that is a whole number inside [0, OH).
      const dx = needsGrad.x
        ? k.run(
            function (this: Thread, dy: Flat, w: Flat) {
              const ix = this.thread.x % this.constants.W;
              let r = Math.floor(this.thread.x / this.constants.W);
              const iy = r % this.constants.H;
              r = Math.floor(r / this.constants.H);
              const c = r % this.constants.C;
              const n = Math.floor(r / this.constants.C);
              let s = 0;
              for (let ky = 0; ky < this.constants.KH; ky++) {
                const ty = iy + this.constants.PY - ky;
                const oy = Math.floor(ty / this.constants.SY);
                if (ty >= 0 && oy * this.constants.SY === ty && oy < this.constants.OH) {
                  for (let kx = 0; kx < this.constants.KW; kx++) {
                    const tx = ix + this.constants.PX - kx;
                    const ox = Math.floor(tx / this.constants.SX);
                    if (tx >= 0 && ox * this.constants.SX === tx && ox < this.constants.OW) {
                      for (let o = 0; o < this.constants.O; o++) {
                        s +=
                          dy[((n * this.constants.O + o) * this.constants.OH + oy) * this.constants.OW + ox] *
                          w[((o * this.constants.C + c) * this.constants.KH + ky) * this.constants.KW + kx];
                      }
                    }
                  }
                }
              }
              return s;
            },
            sizeOf(shapes.x),
            [dy, w],
            constants,
          )
        : undefined;
      // dw: one thread per w element (o, c, ky, kx), summing dy·x over every window position.
      const dw = needsGrad.w
        ? k.run(
            function (this: Thread, dy: Flat, x: Flat) {
              const kx = this.thread.x % this.constants.KW;
              let r = Math.floor(this.thread.x / this.constants.KW);
              const ky = r % this.constants.KH;
              r = Math.floor(r / this.constants.KH);
              const c = r % this.constants.C;
              const o = Math.floor(r / this.constants.C);
              let s = 0;
              for (let n = 0; n < this.constants.N; n++) {
                for (let oy = 0; oy < this.constants.OH; oy++) {
                  const iy = oy * this.constants.SY - this.constants.PY + ky;
                  if (iy >= 0 && iy < this.constants.H) {
                    for (let ox = 0; ox < this.constants.OW; ox++) {
                      const ix = ox * this.constants.SX - this.constants.PX + kx;
                      if (ix >= 0 && ix < this.constants.W) {
                        s +=
                          dy[((n * this.constants.O + o) * this.constants.OH + oy) * this.constants.OW + ox] *
                          x[((n * this.constants.C + c) * this.constants.H + iy) * this.constants.W + ix];
                      }
                    }
                  }
                }
              }
              return s;
            },
            sizeOf(shapes.w),
            [dy, x],
            constants,
          )
        : undefined;
      return { dx, dw };
    },
  },
});
