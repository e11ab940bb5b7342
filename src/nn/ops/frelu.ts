/**
 * FReLU, the flexible rectified linear unit (Qiu & Cai 2017, eqs. 2–3) — ReLU with a learnable
 * rectified point, not the 2020 "funnel activation" of the same abbreviation.
 *
 *   y  = max(x, 0) + b       eq. 2: x + b if x > 0, b otherwise
 *   dx = dy · [x > 0]        eq. 3: at x = 0 the derivative is taken as 0
 *   db = Σ dy                eq. 3: ∂y/∂b = 1, and b reaches every element of y, so its gradient is the sum
 *
 * b of shape [] is the paper's layer-wise scalar b_l (one value for the whole layer, the default).
 * Post-paper option (the authors' later code, not the paper): attribute bGradScale = s scales b's
 * gradient, db = s · Σ dy (they used s = 0.1 to keep b from running away at large learning rates).
 * The default s = 1 is eq. 3. With s ≠ 1 the analytical db is deliberately not the derivative.
 *
 * b of shape [C] is a per-channel option (channel axis 1, x [N, C] or NCHW): then
 * db_c = Σ dy over every axis but the channel (channels.ts, shared with prelu). With b = 0 FReLU
 * is exactly ReLU.
 */
import { defineOp } from '../../autograd/op.js';
import { shapeToString, sizeOf } from '../../tensor/shape.js';
import type { Flat, Thread } from '../../tensor/op-def.js';
import { loopKernels } from '../../tensor/backends/wasm/loops.js';
import { channelSums, channelSumsGpu, parameterLayout } from './channels.js';

export interface FreluAttrs {
  /** Post-paper: db = bGradScale · Σ dy (default 1, eq. 3). */
  bGradScale?: number;
}

export const frelu = defineOp({
  name: 'frelu',
  inputs: ['x', 'b'],
  saves: ['x'], // backward needs only the sign of x
  outputShape({ x, b }, { bGradScale = 1 }: FreluAttrs) {
    if (typeof bGradScale !== 'number' || !Number.isFinite(bGradScale)) {
      throw new Error(`frelu: bGradScale must be a finite number (1 = the paper's eq. 3); got ${String(bGradScale)}`);
    }
    const C = x.length >= 2 ? x[1] : null;
    const isScalar = b.length === 0;
    const isPerChannel = C !== null && b.length === 1 && b[0] === C;
    if (!isScalar && !isPerChannel) {
      const want =
        C === null
          ? `[] (one scalar per layer; x ${shapeToString(x)} has no channel axis)`
          : `[] (one scalar per layer) or [C] = [${C}] (one value per channel of x ${shapeToString(x)})`;
      throw new Error(`frelu: b must have shape ${want}; got ${shapeToString(b)}`);
    }
    return x;
  },

  reference: {
    forward({ x, b }, y, { shapes }) {
      const { C, S } = parameterLayout(shapes.x, b.length); // C = 1 for a scalar b: always b[0]
      for (let i = 0; i < y.length; i++) y[i] = Math.max(x[i], 0) + b[Math.floor(i / S) % C];
    },
    backward({ x }, dy, { dx, db }, { shapes, attrs }) {
      for (let i = 0; i < dx.length; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
      channelSums(parameterLayout(shapes.x, sizeOf(shapes.b)), db, (i) => dy[i]); // db = Σ dy (per channel)
      const s = attrs.bGradScale ?? 1; // post-paper option; 1 = eq. 3
      if (s !== 1) for (let c = 0; c < db.length; c++) db[c] *= s;
    },
  },

  gpu: {
    // One thread computes one output element.
    forward: (k, { x, b }, { shapes }) => {
      const loops = k.simd(loopKernels); // webasm mode: wasm SIMD streaming kernels (src/tensor/backends/wasm/loops.ts)
      if (loops) {
        const { N, C, S } = parameterLayout(shapes.x, sizeOf(shapes.b));
        return loops.frelu(x, b, N, C, S);
      }
      if (shapes.b.length === 0) {
        return k.map(function (this: Thread, x: Flat, b: Flat) {
          return Math.max(x[this.thread.x], 0) + b[0];
        }, x, b);
      }
      const { C, S } = parameterLayout(shapes.x, sizeOf(shapes.b));
      return k.run(
        function (this: Thread, x: Flat, b: Flat) {
          const c = Math.floor(this.thread.x / this.constants.S) % this.constants.C;
          return Math.max(x[this.thread.x], 0) + b[c];
        },
        sizeOf(shapes.x),
        [x, b],
        { C, S },
      );
    },
    backward: (k, { x }, dy, { shapes, needsGrad, attrs }) => {
      const loops = k.simd(loopKernels);
      if (loops) {
        const { N, C, S } = parameterLayout(shapes.x, sizeOf(shapes.b));
        const dx = loops.reluBackward(x, dy); // frelu's dx is relu's
        return needsGrad.b ? { dx, db: loops.freluBiasGrad(dy, N, C, S, attrs.bGradScale ?? 1) } : { dx };
      }
      const dx = k.map(function (this: Thread, x: Flat, dy: Flat) {
        return x[this.thread.x] > 0 ? dy[this.thread.x] : 0;
      }, x, dy);
      if (!needsGrad.b) return { dx };
      // Scalar b: the backend's shared reduction k.sumAll; per channel (or scaled): channels.ts's two gathers.
      return { dx, db: channelSumsGpu(k, [dy], parameterLayout(shapes.x, sizeOf(shapes.b)), attrs.bGradScale ?? 1) };
    },
  },
});
