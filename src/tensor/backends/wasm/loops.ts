/**
 * The memory-bound ops of a training step — batch normalisation and its statistics, relu, frelu,
 * addition, 2×2 max pooling — as the gpu backend runs them in webasm mode (`k.simd(loopKernels)` in the op files,
 * beside the matrix products of ./kernels.ts).
 *
 * Why. Each of these ops touches every element a few times and computes little. As gpu.js webasm
 * kernels they cost three ways: gpu.js copies every argument into the kernel's own wasm memory and
 * the result out again at each call (a SmallNet step spent ~19 % of its time there), its code
 * decodes each element's channel from the flat thread index with divisions, and a per-channel sum
 * takes two kernels because a gpu.js thread cannot scatter. Here each call copies its operands
 * once into the SIMD kernels' shared memory (a memcpy), runs the streaming kernels of ./streams.ts
 * over them — four floats a step, each thread its own range of elements or planes (./jobs.ts) —
 * and copies the result out.
 *
 * Plain loops where vectors do not fit: the per-channel kernels need whole vectors per plane
 * (S = H·W a multiple of 4); otherwise ([N, C] input, odd images) they run as plain JavaScript
 * loops on the calling thread. Both compute what the op files' headers define, in their
 * conventions (NaN passes through relu), with per-channel sums combined in float64;
 * gpu-vs-reference.test.ts checks both routes against the reference kernels.
 *
 * Layout: NCHW. A per-channel op reads x as [N, C, S] (S = H·W, 1 for [N, C]; N = C = 1 for a
 * parameter shared by the whole layer), src/nn/ops/channels.ts: N·C planes of S floats.
 */
import { layout, share, start } from './kernels.js';
import type { Job } from './jobs.js';
import type { StreamName } from './streams.js';

// ── running the streaming kernels ──

/** Below this many floats a thread's share is not worth its hand-off (tens of microseconds). */
const MIN_FLOATS_PER_THREAD = 1 << 16;

function threadsFor(floats: number, parts: number): number {
  return Math.max(1, Math.min(start().pool.threads, parts, Math.floor(floats / MIN_FLOATS_PER_THREAD)));
}

/** Lays out regions of the given float sizes in the kernels' memory (reserving it); their offsets. */
function regions(sizes: readonly number[]): { at: number[]; heap: Float32Array } {
  const { at, end } = layout(sizes);
  const { gemm } = start();
  gemm.reserve(end);
  return { at, heap: gemm.heap };
}

/** Runs elementwise kernel `name` over `count` floats of the arrays at float offsets `arrays`. */
function elementwise(name: StreamName, arrays: readonly number[], count: number): void {
  const vectors = Math.ceil(count / 4); // the last vector's extra lanes fall in the regions' padding
  const threads = threadsFor(count, vectors);
  const jobs: Job[] = [];
  for (let t = 0; t < threads; t++) {
    const [v0, v1] = share(vectors, threads, t);
    jobs.push({ kind: 'stream', name, args: [...arrays.map((a) => (a + 4 * v0) * 4), (v1 - v0) * 16] });
  }
  start().pool.run(jobs);
}

/** How a per-plane kernel's argument is read: one plane after another, one value per channel, one value per plane. */
type Reads = 'planes' | 'channels' | 'perPlane';

/** Runs per-plane kernel `name` over the N·C planes of x [N, C, S]; `args` are float offsets, each read as said. */
function perPlane(name: StreamName, args: readonly (readonly [number, Reads])[], { N, C, S }: Layout): void {
  const threads = threadsFor(N * C * S, N * C);
  const jobs: Job[] = [];
  for (let t = 0; t < threads; t++) {
    const [p0, p1] = share(N * C, threads, t);
    const at = args.map(([a, reads]) => 4 * (reads === 'planes' ? a + p0 * S : reads === 'perPlane' ? a + p0 : a));
    jobs.push({ kind: 'stream', name, args: [...at, p1 - p0, C, p0 % C, S * 4] });
  }
  start().pool.run(jobs);
}

interface Layout {
  readonly N: number;
  readonly C: number;
  readonly S: number;
}

/** Whether the per-channel kernels can run on vectors: whole vectors per plane. */
const vectorPlanes = (S: number): boolean => S % 4 === 0;

/** Per-channel totals, in float64, of per-plane sums at `sums` (N·C of them, plane n·C + c). */
function channelTotals(heap: Float32Array, sums: number, { N, C }: Layout, scale: number): Float64Array {
  const totals = new Float64Array(C);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) totals[c] += heap[sums + n * C + c];
  return totals.map((t) => t * scale);
}

/**
 * The batch's per-channel μ and biased σ² of x, already at X in the memory, in two passes (μ, then
 * the squared deviations: batch-stats.ts says why not E[x²] − μ²). Leaves μ at MEAN as float32.
 */
function meanVarianceSimd(heap: Float32Array, X: number, SUMS: number, MEAN: number, d: Layout): { mean: Float64Array; variance: Float64Array } {
  const m = d.N * d.S;
  perPlane('planeSums', [[X, 'planes'], [SUMS, 'perPlane']], d);
  const mean = channelTotals(heap, SUMS, d, 1 / m);
  heap.set(mean, MEAN);
  perPlane('planeSumsCentred', [[X, 'planes'], [MEAN, 'channels'], [X, 'planes'], [MEAN, 'channels'], [SUMS, 'perPlane']], d);
  return { mean, variance: channelTotals(heap, SUMS, d, 1 / m) };
}

// ── batch statistics and batch normalisation ──

/** batchStats' forward: [2, C], the means then the variances. */
function batchStats(x: Float32Array, N: number, C: number, S: number): Float32Array {
  const d = { N, C, S };
  let stats: { mean: Float64Array; variance: Float64Array };
  if (vectorPlanes(S)) {
    const { at: [X, SUMS, MEAN], heap } = regions([x.length, N * C, C]);
    heap.set(x, X);
    stats = meanVarianceSimd(heap, X, SUMS, MEAN, d);
  } else {
    stats = plain.meanVariance(x, d);
  }
  const y = new Float32Array(2 * C);
  y.set(stats.mean, 0);
  y.set(stats.variance, C);
  return y;
}

/** batchNorm's forward: y = (x − μ)·γ/√(σ² + eps) + β, with the batch's statistics (training) or the running ones. */
function batchNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, runningMean: Float32Array, runningVar: Float32Array, N: number, C: number, S: number, training: boolean, eps: number): Float32Array {
  const d = { N, C, S };
  if (!vectorPlanes(S)) return plain.batchNorm(x, gamma, beta, runningMean, runningVar, d, training, eps);
  const { at: [X, Y, SUMS, MEAN, SCALE, BETA], heap } = regions([x.length, x.length, N * C, C, C, C]);
  heap.set(x, X);
  const variance = training ? meanVarianceSimd(heap, X, SUMS, MEAN, d).variance : (heap.set(runningMean, MEAN), runningVar);
  heap.set(variance.map((v, c) => gamma[c] / Math.sqrt(v + eps)), SCALE);
  heap.set(beta, BETA);
  perPlane('affine', [[X, 'planes'], [MEAN, 'channels'], [SCALE, 'channels'], [BETA, 'channels'], [Y, 'planes']], d);
  return heap.slice(Y, Y + x.length);
}

/**
 * batchNorm's backward: dβ = Σ dy, dγ = Σ dy·x̂ and, when `wantDx`, dx — in training
 *   dx = γ/√(σ² + eps) · (dy − dβ/m − x̂·dγ/m),   x̂ = (x − μ)/√(σ² + eps),
 * in evaluation dx = γ/√(σ² + eps) · dy (src/nn/ops/batch-norm.ts derives both).
 */
function batchNormBackward(x: Float32Array, gamma: Float32Array, runningMean: Float32Array, runningVar: Float32Array, dy: Float32Array, N: number, C: number, S: number, training: boolean, eps: number, wantDx: boolean): Record<string, Float32Array> {
  const d = { N, C, S };
  if (!vectorPlanes(S)) return plain.batchNormBackward(x, gamma, runningMean, runningVar, dy, d, training, eps, wantDx);
  const m = N * S;
  const { at: [X, DY, DX, SUMS, MEAN, INVSTD, DBM, DGM, SCALE, ZERO], heap } = regions([x.length, x.length, x.length, N * C, C, C, C, C, C, C]);
  heap.set(x, X);
  heap.set(dy, DY);
  heap.fill(0, ZERO, ZERO + C);
  const variance = training ? meanVarianceSimd(heap, X, SUMS, MEAN, d).variance : (heap.set(runningMean, MEAN), runningVar);
  const invStd = Float64Array.from(variance, (v) => 1 / Math.sqrt(v + eps));
  perPlane('planeSums', [[DY, 'planes'], [SUMS, 'perPlane']], d);
  const dbeta = channelTotals(heap, SUMS, d, 1);
  perPlane('planeSumsCentred', [[DY, 'planes'], [ZERO, 'channels'], [X, 'planes'], [MEAN, 'channels'], [SUMS, 'perPlane']], d);
  const dgamma = channelTotals(heap, SUMS, d, 1).map((s, c) => s * invStd[c]); // Σ dy·(x − μ) · 1/√(σ² + eps)
  const grads: Record<string, Float32Array> = { dgamma: Float32Array.from(dgamma), dbeta: Float32Array.from(dbeta) };
  if (!wantDx) return grads;
  heap.set(invStd.map((s, c) => gamma[c] * s), SCALE);
  if (training) {
    heap.set(invStd, INVSTD);
    heap.set(dbeta.map((s) => s / m), DBM);
    heap.set(dgamma.map((s) => s / m), DGM);
    const args = [X, DY, MEAN, INVSTD, DBM, DGM, SCALE].map((a, i): [number, Reads] => [a, i < 2 ? 'planes' : 'channels']);
    perPlane('bnGrad', [...args, [DX, 'planes']], d);
  } else {
    perPlane('affine', [[DY, 'planes'], [ZERO, 'channels'], [SCALE, 'channels'], [ZERO, 'channels'], [DX, 'planes']], d);
  }
  grads.dx = heap.slice(DX, DX + x.length);
  return grads;
}

// ── activations and addition ──

/** Runs elementwise kernel `name` over the inputs; returns its output (the last region). */
function elementwiseOf(name: StreamName, ...inputs: Float32Array[]): Float32Array {
  const n = inputs[0].length;
  const { at, heap } = regions([...inputs.map(() => n), n]);
  inputs.forEach((a, i) => heap.set(a, at[i]));
  elementwise(name, at, n);
  const Y = at[inputs.length];
  return heap.slice(Y, Y + n);
}

/** relu: x where x > 0 or x is NaN, else 0 (src/nn/ops/relu.ts). */
const relu = (x: Float32Array): Float32Array => elementwiseOf('relu', x);
/** relu's and frelu's dx: dy where x > 0, else 0. */
const reluBackward = (x: Float32Array, dy: Float32Array): Float32Array => elementwiseOf('reluGrad', x, dy);
const add = (a: Float32Array, b: Float32Array): Float32Array => elementwiseOf('add', a, b);

/** A new array with a's values (a gradient passed on unchanged: each tensor owns its own array). */
const copy = (a: Float32Array): Float32Array => a.slice();

/** frelu: max(x, 0) + b[c] over x [N, C, S] (src/nn/ops/frelu.ts; N = C = 1 for a scalar b). */
function frelu(x: Float32Array, b: Float32Array, N: number, C: number, S: number): Float32Array {
  const d = { N, C, S };
  if (!vectorPlanes(S)) return plain.frelu(x, b, d);
  const { at: [X, B, Y], heap } = regions([x.length, C, x.length]);
  heap.set(x, X);
  heap.set(b, B);
  perPlane('reluPlus', [[X, 'planes'], [B, 'channels'], [Y, 'planes']], d);
  return heap.slice(Y, Y + x.length);
}

/** frelu's db = scale · Σ dy, per channel of dy [N, C, S] (one value for a scalar b). */
function freluBiasGrad(dy: Float32Array, N: number, C: number, S: number, scale: number): Float32Array {
  const d = { N, C, S };
  if (!vectorPlanes(S)) return Float32Array.from(plain.channelSums(dy, d), (s) => s * scale);
  const { at: [DY, SUMS], heap } = regions([dy.length, N * C]);
  heap.set(dy, DY);
  perPlane('planeSums', [[DY, 'planes'], [SUMS, 'perPlane']], d);
  return Float32Array.from(channelTotals(heap, SUMS, d, scale));
}

// ── max pooling, 2×2 windows at stride 2 ──

/**
 * Runs window kernel `name` over the `rows` rows of windows of x [planes, H, W] (rows = planes·H/2,
 * consecutive in x and in y): each argument is x-shaped (two rows of W per row of windows) or
 * y-shaped (W/2 per row), and each thread takes its own rows.
 */
function windowRows(name: StreamName, args: readonly (readonly [number, 'x' | 'y'])[], rows: number, W: number): void {
  const threads = threadsFor(rows * 2 * W, rows);
  const jobs: Job[] = [];
  for (let t = 0; t < threads; t++) {
    const [r0, r1] = share(rows, threads, t);
    const at = args.map(([a, shaped]) => 4 * (a + r0 * (shaped === 'x' ? 2 * W : W / 2)));
    jobs.push({ kind: 'stream', name, args: [...at, r1 - r0, W * 4] });
  }
  start().pool.run(jobs);
}

/** maxPool2d with 2×2 windows at stride 2, no padding, over x [planes, H, W] (H even, W a multiple of 8). */
function maxPool2x2(x: Float32Array, planes: number, H: number, W: number): Float32Array {
  const size = x.length / 4;
  const { at: [X, Y], heap } = regions([x.length, size]);
  heap.set(x, X);
  windowRows('maxPool2x2', [[X, 'x'], [Y, 'y']], (planes * H) / 2, W);
  return heap.slice(Y, Y + size);
}

/** Its dx: each window's dy at the window's argmax (the first maximal element in scan order, or its first NaN). */
function maxPool2x2Backward(x: Float32Array, dy: Float32Array, planes: number, H: number, W: number): Float32Array {
  const { at: [X, DY, DX], heap } = regions([x.length, dy.length, x.length]);
  heap.set(x, X);
  heap.set(dy, DY);
  windowRows('maxPool2x2Grad', [[X, 'x'], [DY, 'y'], [DX, 'x']], (planes * H) / 2, W);
  return heap.slice(DX, DX + x.length);
}

// ── the same as plain loops, for planes that are not whole vectors ──

const plain = {
  /** Σ x over each channel of x [N, C, S], in float64. */
  channelSums(x: Float32Array, { N, C, S }: Layout): Float64Array {
    const sums = new Float64Array(C);
    for (let n = 0, i = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        for (const end = i + S; i < end; i++) sums[c] += x[i];
      }
    }
    return sums;
  },

  /** Σ a·(x − μ[c]) over each channel, a shifted by μ too when `centreA` (σ²'s squared deviations). */
  channelSumsCentred(a: Float32Array, centreA: boolean, x: Float32Array, mean: Float64Array, { N, C, S }: Layout): Float64Array {
    const sums = new Float64Array(C);
    for (let n = 0, i = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const mu = mean[c], shift = centreA ? mu : 0;
        for (const end = i + S; i < end; i++) sums[c] += (a[i] - shift) * (x[i] - mu);
      }
    }
    return sums;
  },

  meanVariance(x: Float32Array, d: Layout): { mean: Float64Array; variance: Float64Array } {
    const m = d.N * d.S;
    const mean = plain.channelSums(x, d).map((s) => s / m);
    return { mean, variance: plain.channelSumsCentred(x, true, x, mean, d).map((s) => s / m) };
  },

  statistics(x: Float32Array, runningMean: Float32Array, runningVar: Float32Array, d: Layout, training: boolean): { mean: Float64Array; variance: Float64Array } {
    return training ? plain.meanVariance(x, d) : { mean: Float64Array.from(runningMean), variance: Float64Array.from(runningVar) };
  },

  batchNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, runningMean: Float32Array, runningVar: Float32Array, d: Layout, training: boolean, eps: number): Float32Array {
    const { mean, variance } = plain.statistics(x, runningMean, runningVar, d, training);
    const y = new Float32Array(x.length);
    for (let n = 0, i = 0; n < d.N; n++) {
      for (let c = 0; c < d.C; c++) {
        const mu = mean[c], scale = gamma[c] / Math.sqrt(variance[c] + eps);
        for (const end = i + d.S; i < end; i++) y[i] = (x[i] - mu) * scale + beta[c];
      }
    }
    return y;
  },

  batchNormBackward(x: Float32Array, gamma: Float32Array, runningMean: Float32Array, runningVar: Float32Array, dy: Float32Array, d: Layout, training: boolean, eps: number, wantDx: boolean): Record<string, Float32Array> {
    const m = d.N * d.S;
    const { mean, variance } = plain.statistics(x, runningMean, runningVar, d, training);
    const invStd = variance.map((v) => 1 / Math.sqrt(v + eps));
    const dbeta = plain.channelSums(dy, d);
    const dgamma = plain.channelSumsCentred(dy, false, x, mean, d).map((s, c) => s * invStd[c]);
    const grads: Record<string, Float32Array> = { dgamma: Float32Array.from(dgamma), dbeta: Float32Array.from(dbeta) };
    if (!wantDx) return grads;
    const dx = new Float32Array(x.length);
    for (let n = 0, i = 0; n < d.N; n++) {
      for (let c = 0; c < d.C; c++) {
        const mu = mean[c], is = invStd[c], scale = gamma[c] * is, dbm = dbeta[c] / m, dgm = dgamma[c] / m;
        for (const end = i + d.S; i < end; i++) dx[i] = training ? scale * (dy[i] - dbm - (x[i] - mu) * is * dgm) : dy[i] * scale;
      }
    }
    grads.dx = dx;
    return grads;
  },

  frelu(x: Float32Array, b: Float32Array, { N, C, S }: Layout): Float32Array {
    const y = new Float32Array(x.length);
    for (let n = 0, i = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        for (const end = i + S; i < end; i++) y[i] = Math.max(x[i], 0) + b[c];
      }
    }
    return y;
  },
};

/** The kernels the op files ask the kit for (GpuKit.simd), in webasm mode. */
export const loopKernels = { batchStats, batchNorm, batchNormBackward, relu, reluBackward, frelu, freluBiasGrad, add, copy, maxPool2x2, maxPool2x2Backward };
