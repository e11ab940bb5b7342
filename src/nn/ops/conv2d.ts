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
 * per gradient element, summing the dw formula above, or the dx formula rewritten as a correlation
 * of dy with the flipped weights (see inputGradient below).
 */
import { defineOp } from '../../autograd/op.js';
import { expectRank, shapeToString, type Shape } from '../../tensor/shape.js';
import type { DeviceArray, Flat, GpuKit, Thread } from '../../tensor/op-def.js';
import { simdKernels } from '../../tensor/backends/wasm/kernels.js';
import { slidingOutputSize, type Pair } from './window.js';

export interface Conv2dAttrs {
  readonly stride: Pair;
  readonly padding: Pair;
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
                  for (let kx = 0; kx < KW; kx++) {
                    const ix = ox * SX - PX + kx;
                    // A padding cell is x = 0, and its product is computed, not skipped: w · 0 is 0
                    // for a finite w but NaN for w = ±∞, as in PyTorch's and the gpu kernels' zero padding.
                    const xv = iy < 0 || iy >= H || ix < 0 || ix >= W ? 0 : x[xPlane + iy * W + ix];
                    s += w[wPlane + ky * KW + kx] * xv;
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

  // In webasm mode the backend runs hand-written SIMD kernels (k.simd(simdKernels): the three products
  // above as matrix products, src/tensor/backends/wasm/kernels.ts), ~20× faster there than the gpu.js
  // kernels below (SmallNet's conv2: 1.8 → 35–46 GFLOP/s), which run in the GL mode (and in
  // webasm with GRADLAB_SIMD=0).
  //
  // The gpu.js kernels keep branches out of their inner loops (gpu.js's webasm mode runs four threads
  // at once in SIMD lanes, and a branch that differs between lanes costs both sides): x is first
  // copied into a zero-padded plane, so a window never leaves its array, and each loop walks its
  // arrays with running indices (one add a step) instead of computing a flat index per product.
  // In webasm that made stride-1 layers 2–3.5× faster than kernels that test bounds per product.
  gpu: {
    forward: (k, { x, w }, { shapes, attrs, outShape }) => {
      const d = dims(shapes, attrs, outShape);
      const simd = k.simd(simdKernels);
      if (simd) return simd.conv2d(x, w, d);
      const HP = d.H + 2 * d.PY, WP = d.W + 2 * d.PX;
      const xp = padded(k, x, d.N * d.C, [d.H, d.W], [1, 1], [d.PY, d.PX], [HP, WP]);
      return correlate(k, xp, w, { ...d, HP, WP });
    },
    backward: (k, { x, w }, dy, { shapes, attrs, outShape, needsGrad }) => {
      const d = dims(shapes, attrs, outShape);
      const simd = k.simd(simdKernels);
      if (simd) {
        return {
          dx: needsGrad.x ? simd.conv2dInputGrad(dy, w, d) : undefined,
          dw: needsGrad.w ? simd.conv2dWeightGrad(dy, x, d) : undefined,
        };
      }
      return {
        dx: needsGrad.x ? inputGradient(k, dy, w, d) : undefined,
        dw: needsGrad.w ? weightGradient(k, dy, x, d) : undefined,
      };
    },
  },
});

// ── gpu kernels ──

type Dims = ReturnType<typeof dims>;

/**
 * `planes` planes of `size` [SH, SW] placed in zero planes of `to` [PH, PW]: source row sy lands on
 * row offset[0] + sy·step[0] (columns likewise), so step 1 pads, a larger step also dilates, and a
 * negative offset crops. Returns src itself when nothing moves.
 */
function padded(k: GpuKit, src: DeviceArray, planes: number, size: Pair, step: Pair, offset: Pair, to: Pair): DeviceArray {
  if (step[0] === 1 && step[1] === 1 && offset[0] === 0 && offset[1] === 0 && to[0] === size[0] && to[1] === size[1]) return src;
  return k.run(
    function (this: Thread, src: Flat) {
      const px = this.thread.x % this.constants.PW;
      const r = Math.floor(this.thread.x / this.constants.PW);
      const py = r % this.constants.PH;
      const plane = Math.floor(r / this.constants.PH);
      const ty = py - this.constants.TOP; // position in the dilated source plane
      const tx = px - this.constants.LEFT;
      const sy = Math.floor(ty / this.constants.DY);
      const sx = Math.floor(tx / this.constants.DX);
      let v = 0;
      if (ty >= 0 && tx >= 0 && sy * this.constants.DY === ty && sx * this.constants.DX === tx && sy < this.constants.SH && sx < this.constants.SW) {
        v = src[(plane * this.constants.SH + sy) * this.constants.SW + sx];
      }
      return v;
    },
    planes * to[0] * to[1],
    [src],
    { SH: size[0], SW: size[1], DY: step[0], DX: step[1], TOP: offset[0], LEFT: offset[1], PH: to[0], PW: to[1] },
  );
}

/**
 * y[n, o, oy, ox] = Σ_c Σ_ky Σ_kx w[o, c, ky, kx] · xp[n, c, oy·sy + ky, ox·sx + kx] over an already
 * padded xp [N, C, HP, WP]: one thread per y element, no bounds tests. xi walks the window row by
 * row (+1 along a row, then on to the window's next row, then to the next channel's plane); wi
 * walks w[o] in its own order.
 */
function correlate(k: GpuKit, xp: DeviceArray, w: DeviceArray, d: Record<'N' | 'C' | 'O' | 'KH' | 'KW' | 'OH' | 'OW' | 'SY' | 'SX' | 'HP' | 'WP', number>): DeviceArray {
  return k.run(
    function (this: Thread, xp: Flat, w: Flat) {
      const ox = this.thread.x % this.constants.OW;
      let r = Math.floor(this.thread.x / this.constants.OW);
      const oy = r % this.constants.OH;
      r = Math.floor(r / this.constants.OH);
      const o = r % this.constants.O;
      const n = Math.floor(r / this.constants.O);
      let wi = o * this.constants.C * this.constants.KH * this.constants.KW; // w[o, 0, 0, 0]
      let xi = (n * this.constants.C * this.constants.HP + oy * this.constants.SY) * this.constants.WP + ox * this.constants.SX; // xp[n, 0, oy·sy, ox·sx]
      let s = 0;
      for (let c = 0; c < this.constants.C; c++) {
        for (let ky = 0; ky < this.constants.KH; ky++) {
          for (let kx = 0; kx < this.constants.KW; kx++) {
            s += w[wi] * xp[xi];
            wi++;
            xi++;
          }
          xi += this.constants.WP - this.constants.KW; // the window's next row
        }
        xi += (this.constants.HP - this.constants.KH) * this.constants.WP; // the next channel's plane
      }
      return s;
    },
    d.N * d.O * d.OH * d.OW,
    [xp, w],
    { N: d.N, C: d.C, O: d.O, KH: d.KH, KW: d.KW, OH: d.OH, OW: d.OW, SY: d.SY, SX: d.SX, HP: d.HP, WP: d.WP },
  );
}

/**
 * dx as a stride-1 correlation of dy with w flipped and transposed,
 *
 *   dx[n, c, iy, ix] = Σ_o Σ_ky Σ_kx  dyp[n, o, iy + ky, ix + kx] · w[o, c, KH−1−ky, KW−1−kx],
 *
 * where dyp is dy with sy−1 zero rows between its rows (sx−1 zero columns between its columns) and
 * KH−1−py zero rows above (KW−1−px columns left), H + KH − 1 rows and W + KW − 1 columns in all:
 * substitute ky → KH−1−ky in the header's dx formula to see it. Row iy's window then meets exactly
 * the dy rows whose forward window read row iy; where py > KH−1 the negative offset crops instead.
 * With stride 2 three quarters of dyp are zeros, which the correlation multiplies anyway; for a
 * stride-2 layer that makes dx no faster than a gather over the valid (ky, kx) — it keeps one kernel.
 */
function inputGradient(k: GpuKit, dy: DeviceArray, w: DeviceArray, d: Dims): DeviceArray {
  const HP = d.H + d.KH - 1, WP = d.W + d.KW - 1;
  const dyp = padded(k, dy, d.N * d.O, [d.OH, d.OW], [d.SY, d.SX], [d.KH - 1 - d.PY, d.KW - 1 - d.PX], [HP, WP]);
  const wt = k.run(
    function (this: Thread, w: Flat) {
      // wt[c, o, ky, kx] = w[o, c, KH−1−ky, KW−1−kx]
      const kx = this.thread.x % this.constants.KW;
      let r = Math.floor(this.thread.x / this.constants.KW);
      const ky = r % this.constants.KH;
      r = Math.floor(r / this.constants.KH);
      const o = r % this.constants.O;
      const c = Math.floor(r / this.constants.O);
      return w[((o * this.constants.C + c) * this.constants.KH + this.constants.KH - 1 - ky) * this.constants.KW + this.constants.KW - 1 - kx];
    },
    d.O * d.C * d.KH * d.KW,
    [w],
    { O: d.O, C: d.C, KH: d.KH, KW: d.KW },
  );
  // The roles swap: dy's O channels are the input channels, x's C channels the outputs.
  return correlate(k, dyp, wt, { N: d.N, C: d.O, O: d.C, KH: d.KH, KW: d.KW, OH: d.H, OW: d.W, SY: 1, SX: 1, HP, WP });
}

/**
 * dw[o, c, ky, kx] = Σ_n Σ_oy Σ_ox dy[n, o, oy, ox] · xp[n, c, oy·sy + ky, ox·sx + kx], the header's
 * dw formula over the padded x, in two gathers: one thread per (chunk of NB images, w element)
 * sums its chunk, dyi and xi walking their planes; then one thread per w element adds the chunks.
 * Chunks keep the planes a thread walks (NB·(OH·OW + HP·WP) floats, ≤ 64 KiB) in the CPU's cache
 * while the threads of neighbouring (ky, kx) walk them again; one sum over the whole batch made a
 * ResNet-20 layer at batch 128 (1.1 MB of planes a thread) twice as slow as at batch 32.
 */
function weightGradient(k: GpuKit, dy: DeviceArray, x: DeviceArray, d: Dims): DeviceArray {
  const HP = d.H + 2 * d.PY, WP = d.W + 2 * d.PX;
  const xp = padded(k, x, d.N * d.C, [d.H, d.W], [1, 1], [d.PY, d.PX], [HP, WP]);
  const wSize = d.O * d.C * d.KH * d.KW;
  const perImage = d.OH * d.OW + HP * WP;
  let NB = Math.max(1, Math.min(d.N, Math.floor(16384 / perImage)));
  while (d.N % NB !== 0) NB--; // a divisor of N, so every chunk is full
  const partial = k.run(
    function (this: Thread, dy: Flat, xp: Flat) {
      const kx = this.thread.x % this.constants.KW;
      let r = Math.floor(this.thread.x / this.constants.KW);
      const ky = r % this.constants.KH;
      r = Math.floor(r / this.constants.KH);
      const c = r % this.constants.C;
      r = Math.floor(r / this.constants.C);
      const o = r % this.constants.O;
      const chunk = Math.floor(r / this.constants.O);
      let s = 0;
      for (let i = 0; i < this.constants.NB; i++) {
        const n = chunk * this.constants.NB + i;
        let dyi = (n * this.constants.O + o) * this.constants.OH * this.constants.OW; // dy[n, o, 0, 0]
        let xi = ((n * this.constants.C + c) * this.constants.HP + ky) * this.constants.WP + kx; // xp[n, c, ky, kx]
        for (let oy = 0; oy < this.constants.OH; oy++) {
          for (let ox = 0; ox < this.constants.OW; ox++) {
            s += dy[dyi] * xp[xi];
            dyi++;
            xi += this.constants.SX;
          }
          xi += this.constants.SY * this.constants.WP - this.constants.OW * this.constants.SX; // the next window row
        }
      }
      return s;
    },
    (d.N / NB) * wSize,
    [dy, xp],
    { NB, C: d.C, O: d.O, KH: d.KH, KW: d.KW, OH: d.OH, OW: d.OW, SY: d.SY, SX: d.SX, HP, WP },
  );
  return k.run(
    function (this: Thread, partial: Flat) {
      let i = this.thread.x;
      let s = 0;
      for (let chunk = 0; chunk < this.constants.CHUNKS; chunk++) {
        s += partial[i];
        i += this.constants.W_SIZE;
      }
      return s;
    },
    wSize,
    [partial],
    { CHUNKS: d.N / NB, W_SIZE: wSize },
  );
}
