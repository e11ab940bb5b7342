/** Rows for the math primitives (src/autograd/ops). */
import { composite, row, type OpRow } from './row.js';
import * as g from '../../src/index.js';
import * as P from '../../src/autograd/ops/index.js';

export const MATH_ROWS: OpRow[] = [
  row(P.add, { name: '[2, 3]', shapes: { a: [2, 3], b: [2, 3] } }),
  row(P.add, { name: 'scalars', shapes: { a: [], b: [] } }),
  // alpha: an optimiser's update (θ − lr·g); 0.1 and 0.9 are not float32 values, so a kernel that
  // forgot to take α as a float32 would differ from the reference
  row(P.add, { name: 'alpha -0.1 [3, 7]', shapes: { a: [3, 7], b: [3, 7] }, attrs: { alpha: -0.1 } }),
  row(P.add, { name: 'alpha 0.9 [2, 5]', shapes: { a: [2, 5], b: [2, 5] }, attrs: { alpha: 0.9 } }),
  row(P.sub, { name: '[4]', shapes: { a: [4], b: [4] } }),
  row(P.mul, { name: '[2, 2, 3]', shapes: { a: [2, 2, 3], b: [2, 2, 3] } }),
  row(P.div, { name: 'positive divisor', shapes: { a: [3, 2], b: [3, 2] }, gen: { b: 'positive' } }),
  row(P.neg, { name: '[5]', shapes: { x: [5] } }),
  row(P.exp, { name: '[2, 3]', shapes: { x: [2, 3] } }),
  row(P.log, { name: 'positive', shapes: { x: [2, 3] }, gen: { x: 'positive' } }),
  row(P.sqrt, { name: 'positive', shapes: { x: [6] }, gen: { x: 'positive' } }),
  row(P.pow, { name: 'square', shapes: { x: [5] }, attrs: { exponent: 2 } }),
  row(P.pow, { name: 'cube of negatives', shapes: { x: [5] }, attrs: { exponent: 3 } }),
  row(P.pow, { name: 'p = -0.5 of positives', shapes: { x: [4] }, attrs: { exponent: -0.5 }, gen: { x: 'positive' } }),
  row(P.matmul, { name: '2-D [3, 4] @ [4, 2]', shapes: { a: [3, 4], b: [4, 2] } }),
  row(P.matmul, { name: 'batched [2, 3, 4] @ [2, 4, 5]', shapes: { a: [2, 3, 4], b: [2, 4, 5] } }),
  // Whole 4×8 tiles of the webasm SIMD kernel plus ragged edges in M, N and K (src/tensor/backends/wasm/gemm.ts).
  row(P.matmul, { name: '2-D [13, 20] @ [20, 17] (SIMD tiles and edges)', shapes: { a: [13, 20], b: [20, 17] }, gpuTol: { atol: 1e-4, rtol: 1e-4 } }),
  // b stored transposed (a Linear layer's x @ wᵀ, w [out, in]): b [N, K].
  row(P.matmul, { name: 'transposeB: 2-D [3, 4] @ [2, 4]ᵀ', shapes: { a: [3, 4], b: [2, 4] }, attrs: { transposeB: true } }),
  row(P.matmul, { name: 'transposeB: batched [2, 3, 4] @ [2, 5, 4]ᵀ', shapes: { a: [2, 3, 4], b: [2, 5, 4] }, attrs: { transposeB: true } }),
  row(P.matmul, { name: 'transposeB: 2-D [13, 20] @ [17, 20]ᵀ (SIMD tiles and edges)', shapes: { a: [13, 20], b: [17, 20] }, attrs: { transposeB: true }, gpuTol: { atol: 1e-4, rtol: 1e-4 } }),
  row(P.sum, { name: 'all axes', shapes: { x: [2, 3, 4] }, attrs: { axes: [0, 1, 2], keepDims: false } }),
  row(P.sum, { name: 'axis 1 keepDims', shapes: { x: [2, 3, 4] }, attrs: { axes: [1], keepDims: true } }),
  row(P.sum, { name: 'axes 0 and 2', shapes: { x: [2, 3, 4] }, attrs: { axes: [0, 2], keepDims: false } }),
  row(P.max, { name: 'axis 1', shapes: { x: [3, 4] }, attrs: { axes: [1], keepDims: false }, gen: { x: 'distinct' } }),
  row(P.max, { name: 'axes 0 and 2 keepDims', shapes: { x: [2, 3, 4] }, attrs: { axes: [0, 2], keepDims: true }, gen: { x: 'distinct' } }),
  row(P.max, { name: 'all axes', shapes: { x: [2, 5] }, attrs: { axes: [0, 1], keepDims: false }, gen: { x: 'distinct' } }),
  row(P.expand, { name: '[3, 1] to [2, 3, 4]', shapes: { x: [3, 1] }, attrs: { shape: [2, 3, 4] } }),
  row(P.expand, { name: 'scalar to [2, 3]', shapes: { x: [] }, attrs: { shape: [2, 3] } }),
  // Long innermost runs: webasm copies them in the SIMD kernels' memory, and sums [A, R, B] copies with a SIMD kernel (expand.ts).
  row(P.expand, { name: '[2, 1, 16] to [2, 3, 16] (SIMD copies, blocks summed)', shapes: { x: [2, 1, 16] }, attrs: { shape: [2, 3, 16] } }),
  row(P.expand, { name: '[20] to [3, 20] (SIMD copies, columns summed)', shapes: { x: [20] }, attrs: { shape: [3, 20] } }),
  row(P.expand, { name: '[1, 3, 1] to [2, 3, 16] (SIMD fills and copies)', shapes: { x: [1, 3, 1] }, attrs: { shape: [2, 3, 16] } }),
  row(P.reshape, { name: '[2, 6] to [3, 2, 2]', shapes: { x: [2, 6] }, attrs: { shape: [3, 2, 2] } }),
  row(P.permute, { name: '[2, 3, 4] to [4, 2, 3]', shapes: { x: [2, 3, 4] }, attrs: { axes: [2, 0, 1] } }),
  row(P.permute, { name: 'matrix transpose', shapes: { x: [3, 5] }, attrs: { axes: [1, 0] } }),
  row(P.min, { name: 'axis 1', shapes: { x: [3, 4] }, attrs: { axes: [1], keepDims: false }, gen: { x: 'distinct' } }),
  row(P.min, { name: 'axes 0 and 2 keepDims', shapes: { x: [2, 3, 4] }, attrs: { axes: [0, 2], keepDims: true }, gen: { x: 'distinct' } }),
  row(P.argmax, { name: 'axis 1 (no gradient)', shapes: { x: [3, 5] }, attrs: { axes: [1], keepDims: false }, gen: { x: 'distinct' } }),
  row(P.argmax, { name: 'axis 0 keepDims (no gradient)', shapes: { x: [4, 2, 3] }, attrs: { axes: [0], keepDims: true }, gen: { x: 'distinct' } }),
  row(P.argmax, { name: 'flat index over all axes (no gradient)', shapes: { x: [3, 4] }, attrs: { axes: [0, 1], keepDims: false }, gen: { x: 'distinct' } }),
  row(P.sigmoid, { name: '[2, 3]', shapes: { x: [2, 3] }, gen: { x: { normalAround: 0.5 } } }),
  row(P.tanh, { name: '[2, 3]', shapes: { x: [2, 3] } }),
  row(P.abs, { name: 'away from 0', shapes: { x: [2, 4] }, gen: { x: 'awayFromZero' } }),
  row(P.clamp, { name: 'min and max', shapes: { x: [3, 4] }, attrs: { min: -0.517, max: 0.523 } }),
  row(P.clamp, { name: 'min only', shapes: { x: [6] }, attrs: { min: 0.0137, max: Infinity } }),
  row(P.cat, { name: 'axis 0 [2, 3] + [1, 3]', shapes: { a: [2, 3], b: [1, 3] }, attrs: { axis: 0 } }),
  row(P.cat, { name: 'axis 1 [2, 3, 2] + [2, 4, 2]', shapes: { a: [2, 3, 2], b: [2, 4, 2] }, attrs: { axis: 1 } }),
  row(P.cat, { name: 'last axis [3, 2] + [3, 1]', shapes: { a: [3, 2], b: [3, 1] }, attrs: { axis: 1 } }),
  row(P.slice, { name: '[4, 5] rows 1–3, columns 2–5', shapes: { x: [4, 5] }, attrs: { ranges: [[1, 3], [2, 5]] } }),
  row(P.slice, { name: '[2, 3, 4, 3] inner block', shapes: { x: [2, 3, 4, 3] }, attrs: { ranges: [[1, 2], [0, 2], [1, 4], [1, 2]] } }),
];

/** customGrad's example: y = x², its gradient written in ops (checked like any row, on both backends). */
const square = g.customGrad((x) => ({ value: g.mul(x, x), gradFunc: (dy) => [g.mul(dy, g.mul(x, 2))] }));

/** Composite rows: broadcasting through the public functions, and graphs of several ops. */
export const MATH_COMPOSITE_ROWS: OpRow[] = [
  composite({ name: 'broadcast [3, 1] + [1, 4]', shapes: { a: [3, 1], b: [1, 4] }, fn: ({ a, b }) => g.add(a, b) }),
  composite({ name: 'broadcast scalar · tensor', shapes: { s: [], x: [2, 3] }, fn: ({ s, x }) => g.mul(s, x) }),
  composite({ name: 'broadcast [2, 3, 4] / [4] (positive)', shapes: { a: [2, 3, 4], b: [4] }, gen: { b: 'positive' }, fn: ({ a, b }) => g.div(a, b) }),
  composite({ name: 'broadcast [3] − [2, 1]', shapes: { a: [3], b: [2, 1] }, fn: ({ a, b }) => g.sub(a, b) }),
  composite({ name: 'diamond y = x·x + x', shapes: { x: [2, 3] }, fn: ({ x }) => g.add(g.mul(x, x), x) }),
  composite({ name: 'mean over axis 1', shapes: { x: [3, 4] }, fn: ({ x }) => g.mean(x, { axis: 1 }) }),
  composite({ name: 'batched matmul with a broadcast batch', shapes: { a: [2, 3, 4], b: [4, 2] }, fn: ({ a, b }) => g.matmul(a, g.reshape(b, [1, 4, 2])) }),
  composite({ name: 'g.cat of three along axis 1', shapes: { a: [2, 1], b: [2, 3], c: [2, 2] }, fn: ({ a, b, c }) => g.cat([a, b, c], { axis: 1 }) }),
  composite({ name: 'g.slice with a negative end and a whole axis', shapes: { x: [3, 4] }, fn: ({ x }) => g.slice(x, [null, [1, -1]]) }),
  composite({ name: 'g.min over the last axis (bare axis -1)', shapes: { x: [2, 5] }, gen: { x: 'distinct' }, fn: ({ x }) => g.min(x, -1) }),
  composite({ name: 'g.clamp then g.abs', shapes: { x: [2, 3] }, gen: { x: 'distinct' }, fn: ({ x }) => g.abs(g.clamp(x, { max: 0.0113 })) }),
  composite({ name: 'F.softmax over axis 0 of [3, 2, 2] (axis moved last and back)', shapes: { x: [3, 2, 2] }, fn: ({ x }) => g.nn.functional.softmax(x, { axis: 0 }) }),
  composite({ name: 'F.logSoftmax over axis 1 of [2, 3, 2] (bare axis)', shapes: { x: [2, 3, 2] }, fn: ({ x }) => g.nn.functional.logSoftmax(x, 1) }),
  composite({ name: 'customGrad y = x² with gradFunc 2x·dy', shapes: { x: [2, 3] }, fn: ({ x }) => square(x) }),
    composite({ name: 'softmax-like: exp(x) / Σ exp(x)', shapes: { x: [2, 3] }, fn: ({ x }) => g.div(g.exp(x), g.sum(g.exp(x), { axis: 1, keepDims: true })) }),
];
