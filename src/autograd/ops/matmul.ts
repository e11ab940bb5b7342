/**
 * matmul: matrix product, 2-D [M, K] @ [K, N] → [M, N], or batched [B, M, K] @ [B, K, N] → [B, M, N]
 * (g.matmul reshapes and broadcasts other batch shapes to these).
 *
 *   y[m, n]  = Σₖ a[m, k] · b[k, n]
 *   da = dy @ bᵀ    da[m, k] = Σₙ dy[m, n] · b[k, n]
 *   db = aᵀ @ dy    db[k, n] = Σₘ a[m, k] · dy[m, n]
 */
import { defineOp } from '../op.js';
import { shapeToString, type Shape } from '../../tensor/shape.js';
import type { Flat, Thread } from '../../tensor/op-def.js';
import { simdKernels } from '../../tensor/backends/wasm/kernels.js';

/** [B, M, K, N] of a product (B = 1 for plain matrices). */
function dims(a: Shape, b: Shape): [number, number, number, number] {
  return a.length === 2 ? [1, a[0], a[1], b[1]] : [a[0], a[1], a[2], b[2]];
}

export const matmul = defineOp({
  name: 'matmul',
  inputs: ['a', 'b'],
  saves: ['a', 'b'],
  outputShape: ({ a, b }) => {
    if (!((a.length === 2 && b.length === 2) || (a.length === 3 && b.length === 3 && a[0] === b[0]))) {
      throw new Error(`matmul: a and b must both be 2-D, or both 3-D with one batch size; got ${shapeToString(a)} and ${shapeToString(b)}`);
    }
    const [, M, K, N] = dims(a, b);
    if (b[b.length - 2] !== K) {
      throw new Error(`matmul: a's columns must equal b's rows (inner dimensions); got a ${shapeToString(a)} and b ${shapeToString(b)} (${K} vs ${b[b.length - 2]})`);
    }
    return a.length === 2 ? [M, N] : [a[0], M, N];
  },

  reference: {
    forward({ a, b }, y, { shapes }) {
      const [B, M, K, N] = dims(shapes.a, shapes.b);
      for (let batch = 0; batch < B; batch++) {
        const aOff = batch * M * K, bOff = batch * K * N, yOff = batch * M * N;
        for (let m = 0; m < M; m++) {
          for (let k = 0; k < K; k++) {
            const amk = a[aOff + m * K + k];
            for (let n = 0; n < N; n++) y[yOff + m * N + n] += amk * b[bOff + k * N + n];
          }
        }
      }
    },
    backward({ a, b }, dy, { da, db }, { shapes, needsGrad }) {
      const [B, M, K, N] = dims(shapes.a, shapes.b);
      for (let batch = 0; batch < B; batch++) {
        const aOff = batch * M * K, bOff = batch * K * N, yOff = batch * M * N;
        for (let m = 0; m < M; m++) {
          for (let k = 0; k < K; k++) {
            let s = 0;
            for (let n = 0; n < N; n++) s += dy[yOff + m * N + n] * b[bOff + k * N + n];
            if (needsGrad.a) da[aOff + m * K + k] = s;
            const amk = a[aOff + m * K + k];
            if (needsGrad.b) for (let n = 0; n < N; n++) db[bOff + k * N + n] += amk * dy[yOff + m * N + n];
          }
        }
      }
    },
  },

  // One thread per output element. Each loop walks its two arrays with running indices (one add a
  // step, no index arithmetic in the loop): gpu.js's webasm mode runs these loops in SIMD lanes, and
  // there the per-product index math cost as much as the product itself.
  //
  // In webasm mode the backend runs a hand-written SIMD matrix product (k.simd(simdKernels), see
  // src/tensor/backends/wasm/gemm.ts), ~20× faster there than these kernels; the backward's
  // transposes are layouts it reads (transA, transB), not copies here.
  gpu: {
    forward: (k, { a, b }, { shapes }) => {
      const [B, M, K, N] = dims(shapes.a, shapes.b);
      const simd = k.simd(simdKernels);
      if (simd) return simd.matmul(a, b, { batch: B, M, K, N, transA: false, transB: false });
      return k.run(
        function (this: Thread, a: Flat, b: Flat) {
          const n = this.thread.x % this.constants.N;
          const bm = Math.floor(this.thread.x / this.constants.N); // batch·M + m
          const batch = Math.floor(bm / this.constants.M);
          let ai = bm * this.constants.K; // a[batch, m, 0], then along the row
          let bi = batch * this.constants.K * this.constants.N + n; // b[batch, 0, n], then down the column
          let s = 0;
          for (let kk = 0; kk < this.constants.K; kk++) {
            s += a[ai] * b[bi];
            ai++;
            bi += this.constants.N;
          }
          return s;
        },
        B * M * N,
        [a, b],
        { M, K, N },
      );
    },
    backward: (k, { a, b }, dy, { shapes, needsGrad }) => {
      const [B, M, K, N] = dims(shapes.a, shapes.b);
      const simd = k.simd(simdKernels);
      if (simd) {
        return {
          // da [M×K] = dy [M×N] · bᵀ;  db [K×N] = aᵀ · dy
          da: needsGrad.a ? simd.matmul(dy, b, { batch: B, M, K: N, N: K, transA: false, transB: true }) : undefined,
          db: needsGrad.b ? simd.matmul(a, dy, { batch: B, M: K, K: M, N, transA: true, transB: false }) : undefined,
        };
      }
      return {
        da: needsGrad.a
          ? k.run(
              function (this: Thread, dy: Flat, b: Flat) {
                const kk = this.thread.x % this.constants.K;
                const bm = Math.floor(this.thread.x / this.constants.K);
                const batch = Math.floor(bm / this.constants.M);
                let dyi = bm * this.constants.N; // dy[batch, m, 0]
                let bi = (batch * this.constants.K + kk) * this.constants.N; // b[batch, k, 0]
                let s = 0;
                for (let n = 0; n < this.constants.N; n++) {
                  s += dy[dyi] * b[bi];
                  dyi++;
                  bi++;
                }
                return s;
              },
              B * M * K,
              [dy, b],
              { M, K, N },
            )
          : undefined,
        db: needsGrad.b
          ? k.run(
              function (this: Thread, a: Flat, dy: Flat) {
                const n = this.thread.x % this.constants.N;
                const bk = Math.floor(this.thread.x / this.constants.N);
                const kk = bk % this.constants.K;
                const batch = Math.floor(bk / this.constants.K);
                let ai = batch * this.constants.M * this.constants.K + kk; // a[batch, 0, k], down the column
                let dyi = batch * this.constants.M * this.constants.N + n; // dy[batch, 0, n]
                let s = 0;
                for (let m = 0; m < this.constants.M; m++) {
                  s += a[ai] * dy[dyi];
                  ai += this.constants.K;
                  dyi += this.constants.N;
                }
                return s;
              },
              B * K * N,
              [a, dy],
              { M, K, N },
            )
          : undefined,
      };
    },
  },
});
