/**
 * logSoftmax over the classes of x [N, C] (axis 1, one row per example).
 *
 *   y[n, c] = x[n, c] − lse_n,    lse_n = log Σ_c' exp(x[n, c'])
 *   dx[n, c] = dy[n, c] − softmax[n, c] · Σ_c' dy[n, c'],    softmax = exp(y)
 *
 * Numerically stable: lse_n = m_n + log Σ exp(x − m_n) with m_n the row max, so every exp has an
 * argument ≤ 0 and cannot overflow (logits of ±1000 are fine): rows.ts, shared with crossEntropy.
 * Backward saves only y.
 */
import { defineOp } from '../../autograd/op.js';
import type { Flat, Thread } from '../../tensor/op-def.js';
import { sumGpu } from '../../autograd/ops/reduce.js';
import { expectRows, rowLogSumExpGpu, rowLogSumExpInto } from './rows.js';

export const logSoftmax = defineOp({
  name: 'logSoftmax',
  inputs: ['x'],
  saves: ['y'],
  outputShape({ x }) {
    expectRows('logSoftmax', 'x', x);
    return x;
  },

  reference: {
    forward({ x }, y, { shapes }) {
      const [N, C] = shapes.x;
      const lse = new Float64Array(N);
      rowLogSumExpInto(x, N, C, lse);
      for (let i = 0; i < y.length; i++) y[i] = x[i] - lse[Math.floor(i / C)];
    },
    backward({ y }, dy, { dx }, { shapes }) {
      const [N, C] = shapes.x;
      for (let n = 0; n < N; n++) {
        const start = n * C;
        let total = 0;
        for (let c = 0; c < C; c++) total += dy[start + c];
        for (let c = 0; c < C; c++) dx[start + c] = dy[start + c] - Math.exp(y[start + c]) * total;
      }
    },
  },

  gpu: {
    forward: (k, { x }, { shapes }) => {
      const [N, C] = shapes.x;
      const lse = rowLogSumExpGpu(k, x, N, C);
      const y = k.run(
        function (this: Thread, x: Flat, lse: Flat) {
          return x[this.thread.x] - lse[Math.floor(this.thread.x / this.constants.C)];
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
      const totals = sumGpu(k, dy, shapes.x, [1]); // Σ_c dy per row
      const dx = k.run(
        function (this: Thread, y: Flat, dy: Flat, totals: Flat) {
          const i = this.thread.x;
          return dy[i] - Math.exp(y[i]) * totals[Math.floor(i / this.constants.C)];
        },
        N * C,
        [y, dy, totals],
        { C },
      );
      k.release(totals);
      return { dx };
    },
  },
});
