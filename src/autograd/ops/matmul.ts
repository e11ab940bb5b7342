/**
 * matmul: matrix product, 2-D [M, K] @ [K, N] → [M, N], or batched [B, M, K] @ [B, K, N] → [B, M, N]
 * (g.matmul reshapes and broadcasts other batch shapes to these). With `transposeB`, b is given
 * transposed — [N, K], or [B, N, K] — and the product is a @ bᵀ: a Linear layer's x @ wᵀ, with w in
 * PyTorch's [out, in] layout, without first copying w into its transpose.
 *
 *   y[m, n]  = Σₖ a[m, k] · b[k, n]
 *   da = dy @ bᵀ    da[m, k] = Σₙ dy[m, n] · b[k, n]
 *   db = aᵀ @ dy    db[k, n] = Σₘ a[m, k] · dy[m, n]
 *
 * where b[k, n] is the element at row k, column n of b — or at row n, column k with transposeB, and
 * db is laid out as b is.
 */
import { defineOp } from '../op.js';
import { shapeToString, type Shape } from '../../tensor/shape.js';
import type { DeviceArray, Flat, GpuKit, Thread } from '../../tensor/op-def.js';
import { simdKernels, type MatmulDims } from '../../tensor/backends/wasm/kernels.js';
import { shown } from '../../util/format.js';

export interface MatmulAttrs {
  /** b is stored transposed: y = a @ bᵀ. Default false. */
  transposeB?: boolean;
}

/** [B, M, K, N] of a product (B = 1 for plain matrices). */
function dims(a: Shape, b: Shape, { transposeB = false }: MatmulAttrs): [number, number, number, number] {
  const N = transposeB ? b[b.length - 2] : b[b.length - 1];
  return a.length === 2 ? [1, a[0], a[1], N] : [a[0], a[1], a[2], N];
}

/** [bk, bn]: b[k, n] of one matrix of b sits at k·bk + n·bn. */
function bStrides(K: number, N: number, { transposeB = false }: MatmulAttrs): [number, number] {
  return transposeB ? [1, K] : [N, 1];
}

export const matmul = defineOp({
  name: 'matmul',
  inputs: ['a', 'b'],
  saves: ['a', 'b'],
  outputShape: ({ a, b }, attrs: MatmulAttrs) => {
    if (attrs.transposeB !== undefined && typeof attrs.transposeB !== 'boolean') throw new Error(`matmul: transposeB must be true or false; got ${shown(attrs.transposeB)}`);
    if (!((a.length === 2 && b.length === 2) || (a.length === 3 && b.length === 3 && a[0] === b[0]))) {
      throw new Error(`matmul: a and b must both be 2-D, or both 3-D with one batch size; got ${shapeToString(a)} and ${shapeToString(b)}`);
    }
    const [, M, K, N] = dims(a, b, attrs);
    const bK = attrs.transposeB ? b[b.length - 1] : b[b.length - 2];
    if (bK !== K) {
      const which = attrs.transposeB ? "b's columns (b is transposed: a @ bᵀ)" : "b's rows";
      throw new Error(`matmul: a's columns must equal ${which} (inner dimensions); got a ${shapeToString(a)} and b ${shapeToString(b)} (${K} vs ${bK})`);
    }
    return a.length === 2 ? [M, N] : [a[0], M, N];
  },

  reference: {
    forward({ a, b }, y, { shapes, attrs }) {
      const [B, M, K, N] = dims(shapes.a, shapes.b, attrs);
      const [bk, bn] = bStrides(K, N, attrs);
      for (let batch = 0; batch < B; batch++) {
        const aOff = batch * M * K, bOff = batch * K * N, yOff = batch * M * N;
        for (let m = 0; m < M; m++) {
          for (let k = 0; k < K; k++) {
            const amk = a[aOff + m * K + k];
            for (let n = 0; n < N; n++) y[yOff + m * N + n] += amk * b[bOff + k * bk + n * bn];
          }
        }
      }
    },
    backward({ a, b }, dy, { da, db }, { shapes, attrs, needsGrad }) {
      const [B, M, K, N] = dims(shapes.a, shapes.b, attrs);
      const [bk, bn] = bStrides(K, N, attrs);
      for (let batch = 0; batch < B; batch++) {
        const aOff = batch * M * K, bOff = batch * K * N, yOff = batch * M * N;
        for (let m = 0; m < M; m++) {
          for (let k = 0; k < K; k++) {
            let s = 0;
            for (let n = 0; n < N; n++) s += dy[yOff + m * N + n] * b[bOff + k * bk + n * bn];
            if (needsGrad.a) da[aOff + m * K + k] = s;
            const amk = a[aOff + m * K + k];
            if (needsGrad.b) for (let n = 0; n < N; n++) db[bOff + k * bk + n * bn] += amk * dy[yOff + m * N + n];
          }
        }
      }
    },
  },

  // The forward and both gradients are each one product of two stored matrices, either of which
  // may be read transposed (`product` below). The backward's transposes are layouts it reads, not copies.
  gpu: {
    forward: (k, { a, b }, { shapes, attrs }) => {
      const [B, M, K, N] = dims(shapes.a, shapes.b, attrs);
      return product(k, a, b, { batch: B, M, K, N, transA: false, transB: attrs.transposeB ?? false });
    },
    backward: (k, { a, b }, dy, { shapes, attrs, needsGrad }) => {
      const [B, M, K, N] = dims(shapes.a, shapes.b, attrs);
      const transposed = attrs.transposeB ?? false;
      return {
        // da [M×K] = dy [M×N] · bᵀ: b as stored [K×N] read transposed, or stored [N×K] read as it is
        da: needsGrad.a ? product(k, dy, b, { batch: B, M, K: N, N: K, transA: false, transB: !transposed }) : undefined,
        // db [K×N] = aᵀ · dy; stored transposed, as b is, it is dbᵀ [N×K] = dyᵀ · a
        db: needsGrad.b
          ? transposed
            ? product(k, dy, a, { batch: B, M: N, K: M, N: K, transA: true, transB: false })
            : product(k, a, dy, { batch: B, M: K, K: M, N, transA: true, transB: false })
          : undefined,
      };
    },
  },
});

/**
 * `batch` products a[i] · b[i] of [M×K] by [K×N] matrices, each operand stored as it is or
 * transposed (MatmulDims). In webasm mode: the hand-written SIMD GEMM (k.simd(simdKernels), see
 * src/tensor/backends/wasm/gemm.ts), ~20× faster there than the gpu.js kernel, which reads a
 * transposed operand through its layout too. Otherwise the gpu.js kernel below, with the operands'
 * strides as constants: a[m, k] at m·AM + k·AK and b[k, n] at k·BK + n·BN within one matrix.
 */
function product(k: GpuKit, a: DeviceArray, b: DeviceArray, d: MatmulDims): DeviceArray {
  const simd = k.simd(simdKernels);
  if (simd) return simd.matmul(a, b, d);
  const { batch, M, K, N, transA, transB } = d;
  return k.run(productKernel, batch * M * N, [a, b], { M, K, N, AM: transA ? 1 : K, AK: transA ? M : 1, BK: transB ? 1 : N, BN: transB ? K : 1 });
}

// One thread per output element. The loop walks both operands with running indices (one add a
// step, no index arithmetic in the loop): gpu.js's webasm mode runs these loops in SIMD lanes, and
// there the per-product index math cost as much as the product itself.
function productKernel(this: Thread, a: Flat, b: Flat): number {
  const n = this.thread.x % this.constants.N;
  const bm = Math.floor(this.thread.x / this.constants.N); // batch·M + m
  const batch = Math.floor(bm / this.constants.M);
  const m = bm - batch * this.constants.M;
  let ai = batch * this.constants.M * this.constants.K + m * this.constants.AM; // a[batch, m, 0], then along k
  let bi = batch * this.constants.K * this.constants.N + n * this.constants.BN; // b[batch, 0, n], then along k
  let s = 0;
  for (let kk = 0; kk < this.constants.K; kk++) {
    s += a[ai] * b[bi];
    ai += this.constants.AK;
    bi += this.constants.BK;
  }
  return s;
}
