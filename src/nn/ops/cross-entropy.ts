/**
 * crossEntropy: softmax cross-entropy of logits [N, C] against integer labels [N], averaged over
 * the batch — log-softmax and the negative log-likelihood fused into one primitive.
 *
 *   y = (1/N) Σ_n −log softmax(logits)[n, label_n] = (1/N) Σ_n (lse_n − logits[n, label_n])
 *   dlogits[n, c] = dy · (softmax[n, c] − [c = label_n]) / N
 *
 * lse_n = log Σ_c exp(logits[n, c]) goes through the row max (rows.ts), so logits of ±1000
 * give a finite loss. labels are class indices stored as floats in the logits' dtype; they get no
 * gradient. The public g.nn.functional.crossEntropy checks their values on the host (integers in
 * [0, C)); the kernels assume valid labels. Backward recomputes softmax from the saved logits.
 */
import { defineOp } from '../../autograd/op.js';
import { expectShape } from '../../tensor/shape.js';
import type { Flat, Thread } from '../../tensor/op-def.js';
import { expectRows, rowLogSumExpGpu, rowLogSumExpInto } from './rows.js';

export const crossEntropy = defineOp({
  name: 'crossEntropy',
  inputs: ['logits', 'labels'],
  nonDifferentiable: ['labels'],
  saves: ['logits', 'labels'],
  outputShape({ logits, labels }) {
    expectRows('crossEntropy', 'logits', logits);
    expectShape('crossEntropy', 'labels', labels, [logits[0]]); // one label per row
    return [];
  },

  reference: {
    forward({ logits, labels }, y, { shapes }) {
      const [N, C] = shapes.logits;
      const lse = new Float64Array(N);
      rowLogSumExpInto(logits, N, C, lse);
      let total = 0;
      for (let n = 0; n < N; n++) total += lse[n] - logits[n * C + labels[n]];
      y[0] = total / N;
    },
    backward({ logits, labels }, dy, { dlogits }, { shapes }) {
      const [N, C] = shapes.logits;
      const lse = new Float64Array(N);
      rowLogSumExpInto(logits, N, C, lse);
      for (let n = 0; n < N; n++) {
        for (let c = 0; c < C; c++) {
          const i = n * C + c;
          const target = c === labels[n] ? 1 : 0;
          dlogits[i] = (dy[0] * (Math.exp(logits[i] - lse[n]) - target)) / N;
        }
      }
    },
  },

  gpu: {
    forward: (k, { logits, labels }, { shapes }) => {
      const [N, C] = shapes.logits;
      const lse = rowLogSumExpGpu(k, logits, N, C);
      const rowLoss = k.run(
        function (this: Thread, logits: Flat, lse: Flat, labels: Flat) {
          const n = this.thread.x;
          return lse[n] - logits[n * this.constants.C + labels[n]];
        },
        N,
        [logits, lse, labels],
        { C },
      );
      const total = k.sumAll(rowLoss, N);
      const y = k.run(
        function (this: Thread, total: Flat) {
          return total[0] / this.constants.N;
        },
        1,
        [total],
        { N },
      );
      k.release(lse);
      k.release(rowLoss);
      k.release(total);
      return y;
    },
    backward: (k, { logits, labels }, dy, { shapes }) => {
      const [N, C] = shapes.logits;
      const lse = rowLogSumExpGpu(k, logits, N, C);
      const dlogits = k.run(
        function (this: Thread, logits: Flat, lse: Flat, labels: Flat, dy: Flat) {
          const i = this.thread.x;
          const n = Math.floor(i / this.constants.C);
          const c = i - n * this.constants.C;
          const target = c === labels[n] ? 1 : 0;
          return (dy[0] * (Math.exp(logits[i] - lse[n]) - target)) / this.constants.N;
        },
        N * C,
        [logits, lse, labels, dy],
        { N, C },
      );
      k.release(lse);
      return { dlogits };
    },
  },
});
