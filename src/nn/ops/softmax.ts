/**
 * softmax over the classes of x [N, C] (axis 1, one row per example); g.nn.functional.softmax
 * moves any axis there first.
 *
 *   y[n, c] = exp(x[n, c] − lse_n),    lse_n = log Σ_c' exp(x[n, c'])
 *   dx[n, c] = y[n, c] · (dy[n, c] − Σ_c' dy[n, c'] · y[n, c'])
 *
 * Numerically stable through the row max (rows.ts, shared with logSoftmax and crossEntropy), so
 * logits of ±1000 give 0 and 1, not NaN. Backward saves only y.
 */
import { defineOp } from '../../autograd/op.js';
import type { Flat, Thread } from '../../tensor/op-def.js';
import { expectRows, rowLogSumExpGpu, rowLogSumExpInto } from './rows.js';

export const softmax = defineOp({
  name: 'softmax',
  inputs: ['x'],
  saves: ['y'],
  outputShape({ x }) {
    expectRows('softmax', 'x', x);
    return x;
  },

  reference: {
    forward({ x }, y, { shapes }) {
      const [N, C] = shapes.x;
      const lse = new Float64Array(N);
      rowLogSumExpInto(x, N, C, lse);
      for (let i = 0; i < y.length; i++) y[i] = Math.exp(x[i] - lse[Math.floor(i / C)]);
    },
    backward({ y }, dy, { dx }, { shapes }) {
      const [N, C] = shapes.x;
      for (let n = 0; n < N; n++) {
        const start = n * C;
        let dot = 0;
        for (let c = 0; c < C; c++) dot += dy[start + c] * y[start + c];
        for (let c = 0; c < C; c++) dx[start + c] = y[start + c] * (dy[start + c] - dot);
      }
    },
  },

  gpu: {
    forward: (k, { x }, { shapes }) => {
      const [N, C] = shapes.x;
      const lse = rowLogSumExpGpu(k, x, N, C);
      const y = k.run(
        function (this: Thread, x: Flat, lse: Flat) {
          return Math.exp(x[this.thread.x] - lse[Math.floor(this.thread.x / this.constants.C)]);
        },
        N * C,
        [x, lse],
        { C },
      );
      k.release(lse);
      return y;
    },
    backward: (k, { y }, dy, { shapes }) => {
      const [N, C] = shapes.x;
      const dots = k.run(
        function (this: Thread, y: Flat, dy: Flat) {
          const start = this.thread.x * this.constants.C;
          let s = 0;
          for (let c = 0; c < this.constants.C; c++) s += dy[start + c] * y[start + c];
          return s;
        },
        N,
        [y, dy],
        { C },
      );
      const dx = k.run(
        function (this: Thread, y: Flat, dy: Flat, dots: Flat) {
          const i = this.thread.x;
          return y[i] * (dy[i] - dots[Math.floor(i / this.constants.C)]);
        },
        N * C,
        [y, dy, dots],
        { C },
      );
      k.release(dots);
      return { dx };
    },
  },
});
