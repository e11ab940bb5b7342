/**
 * Sliding windows over the H×W planes of NCHW tensors, shared by conv2d, maxPool2d and avgPool2d:
 * [y, x] pairs and their checks, the output size of a window sliding with a stride over a padded
 * plane, the pooling ops' attributes and sizes, and the gather that both poolings' gpu backward
 * passes are written as.
 *
 *   x [N, C, H, W]   window (KH, KW)   stride (sy, sx)   zero padding (py, px)
 *   output (oy, ox) reads x[·, ·, oy·sy − py + ky, ox·sx − px + kx] for ky < KH, kx < KW
 *   OH = ⌊(H + 2·py − KH) / sy⌋ + 1,   OW = ⌊(W + 2·px − KW) / sx⌋ + 1
 */
import { expectRank, shapeToString, type Shape } from '../../tensor/shape.js';
import type { DeviceArray, Flat, GpuKit, Thread } from '../../tensor/op-def.js';
import { shown } from '../../util/format.js';

/** A (y, x) pair: first the vertical (rows), then the horizontal (columns) value. */
export type Pair = readonly [number, number];

function isPairOfIntegers(value: unknown, min: number): value is Pair {
  return Array.isArray(value) && value.length === 2 && value.every((v) => Number.isInteger(v) && v >= min);
}

/** Throws unless `value` is a pair of integers ≥ `min`, naming the op and the argument. */
export function checkPair(op: string, arg: string, value: unknown, min: number): Pair {
  if (!isPairOfIntegers(value, min)) {
    throw new Error(`${op}: ${arg} must be a pair [y, x] of integers ≥ ${min}; got ${shown(value)}`);
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

// ── pooling ──

export interface Pool2dAttrs {
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
}

/** Checks a pooling window and returns the output shape [N, C, OH, OW] (maxPool2d, avgPool2d). */
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

/** Every size a pooling kernel needs, named as in the header. */
export function poolDims(x: Shape, { kernelSize, stride, padding }: Pool2dAttrs, outShape: Shape) {
  return {
    N: x[0], C: x[1], H: x[2], W: x[3],
    KH: kernelSize[0], KW: kernelSize[1],
    OH: outShape[2], OW: outShape[3],
    SY: stride[0], SX: stride[1],
    PY: padding[0], PX: padding[1],
  };
}

export type PoolDims = ReturnType<typeof poolDims>;

/**
 * A pooling layer's dx in gather form, one thread per x element (plane, iy, ix) — gpu.js cannot
 * scatter dy into the windows as the reference backward does:
 *
 *   dx[plane, iy, ix] = (1 / divisor) · Σ dy[plane, oy, ox] over the windows (oy, ox) covering (iy, ix)
 *
 * The windows covering row iy are oy = ⌊(iy + py)/sy⌋ − j for j < ⌈KH/sy⌉, those with 0 ≤ oy < OH
 * whose offset ky = iy + py − oy·sy is inside the kernel (columns likewise): one candidate per
 * axis when windows do not overlap. They are visited in order of rising ky, kx.
 *
 * maxPool2d passes `argmax`, each window's chosen element (its flat position in the plane): then
 * only that element takes the window's dy, and divisor is 1. avgPool2d passes null and the window
 * area KH·KW. (A gpu.js kernel has a fixed argument list, so without argmax dy fills its slot,
 * unread.)
 */
export function coveringWindowsSum(k: GpuKit, dy: DeviceArray, d: PoolDims, argmax: DeviceArray | null, divisor: number): DeviceArray {
  return k.run(
    function (this: Thread, dy: Flat, argmax: Flat) {
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
            if (this.constants.ARGMAX === 0 || argmax[window] === me) s += dy[window];
          }
        }
      }
      return s / this.constants.DIVISOR;
    },
    d.N * d.C * d.H * d.W,
    [dy, argmax ?? dy],
    { ...d, CANDIDATES_Y: Math.ceil(d.KH / d.SY), CANDIDATES_X: Math.ceil(d.KW / d.SX), ARGMAX: argmax === null ? 0 : 1, DIVISOR: divisor },
  );
}
