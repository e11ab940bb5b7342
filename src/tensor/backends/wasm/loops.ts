/**
 * The memory-bound ops of a training step — batch normalisation and its statistics, relu, frelu,
 * elementwise add (with alpha, the optimiser's updates), sub, mul, dropout's mask, expand (a
 * scalar's fill, long runs' copies, the sum of [A, R, B]'s copies), a matrix transpose, 2×2 max
 * pooling, average pooling over windows of 1 or 2 columns at stride 2 or over whole planes — as the gpu backend runs them in webasm mode (`k.simd(loopKernels)` in the op files,
 * beside the matrix products of ./kernels.ts).
 *
 * Why. Each of these ops touches every element a few times and computes little. As gpu.js webasm
 * kernels they cost three ways: gpu.js copies every argument into the kernel's own wasm memory and
 * the result out again at each call (a SmallNet step spent ~19 % of its time there), its code
 * decodes each element's channel from the flat thread index with divisions, and a per-channel sum
 * takes two kernels because a gpu.js thread cannot scatter. Here each call reads its operands
 * where they live in the SIMD kernels' shared memory (results of earlier kernels, ./arena.ts) or
 * copies them in once (a memcpy), runs the streaming kernels of ./streams.ts over them — four
 * floats a step, each thread its own range of elements or planes (./jobs.ts) — and writes its
 * result there as a new tensor array, which the next kernel reads in place.
 *
 * Plain loops where vectors do not fit: the per-channel kernels walk x by planes when each
 * plane is whole vectors (S = H·W a multiple of 4), by columns when each row of C·S values is
 * ([N, C] input with C a multiple of 4: BatchNorm1d after a Linear layer); otherwise (odd images,
 * odd C) they run as plain JavaScript loops on the calling thread. All compute what the op files'
 * headers define, in their conventions (NaN passes through relu), with per-channel sums combined
 * in float64; gpu-vs-reference.test.ts checks every route against the reference kernels.
 *
 * Layout: NCHW. A per-channel op reads x as [N, C, S] (S = H·W, 1 for [N, C]; N = C = 1 for a
 * parameter shared by the whole layer), src/nn/ops/channels.ts: N·C planes of S floats.
 */
import { layout, share, start } from './kernels.js';
import type { Job } from './jobs.js';
import { PER_CHANNEL, type StreamName } from './streams.js';

// ── running the streaming kernels ──

/** Below this many floats a thread's share is not worth its hand-off (tens of microseconds). */
const MIN_FLOATS_PER_THREAD = 1 << 16;

function threadsFor(floats: number, parts: number): number {
  return Math.max(1, Math.min(start().pool.threads, parts, Math.floor(floats / MIN_FLOATS_PER_THREAD)));
}

/** A result of a call: where the kernel writes it, and the tensor array it is (null: scratch, copied out at the end). */
interface Output {
  at: number;
  readonly size: number;
  readonly view: Float32Array | null;
}

/**
 * Places one call's arrays in the kernels' memory: each input where it already lives (./arena.ts)
 * or copied into the scratch block; each output as a new tensor array there (or in scratch when
 * the memory is full); then scratch regions of the given sizes. Offsets in floats.
 */
function place(inputs: readonly Float32Array[], outputSizes: readonly number[], scratchSizes: readonly number[] = []): { heap: Float32Array; inputs: number[]; outputs: Output[]; scratch: number[] } {
  const { arena, gemm } = start();
  const outputs: Output[] = outputSizes.map((size) => {
    const view = arena.tensor(size);
    return { at: view === null ? -1 : (arena.offsetOf(view) ?? -1), size, view };
  });
  const lives = inputs.map((a) => arena.offsetOf(a));
  const { at } = layout([...inputs.map((a, i) => (lives[i] === null ? a.length : 0)), ...outputs.map((o) => (o.view === null ? o.size : 0)), ...scratchSizes]);
  const heap = gemm.heap; // after every block is taken: the memory may have grown
  const inputAt = inputs.map((a, i) => {
    const home = lives[i];
    if (home !== null) return home;
    heap.set(a, at[i]);
    return at[i];
  });
  outputs.forEach((o, j) => {
    if (o.view === null) o.at = at[inputs.length + j];
  });
  return { heap, inputs: inputAt, outputs, scratch: at.slice(inputs.length + outputs.length) };
}

/** An output as the tensor array it becomes. */
function result(heap: Float32Array, o: Output): Float32Array {
  return o.view ?? heap.slice(o.at, o.at + o.size);
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

// ── the per-channel kernels' two walks ──

interface Layout {
  readonly N: number;
  readonly C: number;
  readonly S: number;
}

/**
 * How the per-channel kernels (batch normalisation, frelu) walk x [N, C, S] (./streams.ts): by planes when S is a
 * multiple of 4; by columns when S is not but a row's C·S values are (x [N, C]: S = 1) — N rows
 * of C·S columns, four columns a vector, down the rows, so a vector holds four channels (or four
 * positions of one) instead of four positions; otherwise null, and plain loops run instead.
 *
 * A walk fixes how per-channel values and sums are laid out in the memory: by planes, C values
 * (read at the plane's channel) and one float64 sum per plane (N·C); by columns, one value per
 * column (C·S, each channel's value repeated S times) and one float64 sum per column.
 */
interface Walk {
  /** Floats of a float32 per-channel array as the kernels read it (twice that for a float64 one). */
  readonly values: number;
  /** Floats of the sums' region (one float64 per plane or per column). */
  readonly sums: number;
  /** Per-channel values as the kernels read them. */
  laidOut(values: ArrayLike<number>): ArrayLike<number>;
  /** The per-channel totals of the sums at `sums`, times `scale`. */
  totals(heap: Float32Array, sums: number, scale: number): Float64Array;
  /** Runs per-channel kernel `kernel`; `args` are float offsets, each read as said. */
  run(kernel: keyof typeof PER_CHANNEL, args: readonly (readonly [number, ArgReads])[]): void;
}

/** How a per-channel kernel's argument is read: x-shaped, per channel (float32 or float64), or the sums (float64s). */
type ArgReads = 'x' | 'channels' | 'channels64' | 'sums';

function walkOf({ N, C, S }: Layout): Walk | null {
  if (S % 4 === 0) {
    return {
      values: C,
      sums: 2 * N * C,
      laidOut: (values) => values,
      totals(heap, sums, scale) {
        const planes = new Float64Array(heap.buffer, sums * 4, N * C);
        const totals = new Float64Array(C);
        for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) totals[c] += planes[n * C + c];
        return totals.map((t) => t * scale);
      },
      run(kernel, args) {
        const threads = threadsFor(N * C * S, N * C);
        const jobs: Job[] = [];
        for (let t = 0; t < threads; t++) {
          const [p0, p1] = share(N * C, threads, t);
          const at = args.map(([a, reads]) => 4 * (reads === 'x' ? a + p0 * S : reads === 'sums' ? a + 2 * p0 : a));
          jobs.push({ kind: 'stream', name: PER_CHANNEL[kernel].planes, args: [...at, p1 - p0, C, p0 % C, S * 4] });
        }
        start().pool.run(jobs);
      },
    };
  }
  const columns = C * S;
  if (columns % 4 !== 0) return null;
  return {
    values: columns,
    sums: 2 * columns,
    laidOut: (values) => Float64Array.from({ length: columns }, (_, j) => values[Math.floor(j / S)]),
    totals(heap, sums, scale) {
      const perColumn = new Float64Array(heap.buffer, sums * 4, columns);
      const totals = new Float64Array(C);
      for (let j = 0; j < columns; j++) totals[Math.floor(j / S)] += perColumn[j];
      return totals.map((t) => t * scale);
    },
    run(kernel, args) {
      const vectors = columns / 4;
      const threads = threadsFor(N * columns, vectors);
      const jobs: Job[] = [];
      for (let t = 0; t < threads; t++) {
        const [v0, v1] = share(vectors, threads, t);
        const j0 = 4 * v0; // the thread's first column
        const at = args.map(([a, reads]) => 4 * (reads === 'sums' || reads === 'channels64' ? a + 2 * j0 : a + j0));
        jobs.push({ kind: 'stream', name: PER_CHANNEL[kernel].columns, args: [...at, N, columns * 4, (v1 - v0) * 16] });
      }
      start().pool.run(jobs);
    },
  };
}

// ── batch statistics and batch normalisation ──

/**
 * The batch's per-channel μ and biased σ² of x, already at X in the memory, in two passes (μ, then
 * the squared deviations: batch-stats.ts says why not E[x²] − μ²). Leaves μ at MEAN as float32,
 * laid out for the walk.
 */
function meanVarianceSimd(walk: Walk, heap: Float32Array, X: number, SUMS: number, MEAN: number, m: number): { mean: Float64Array; variance: Float64Array } {
  walk.run('sums', [[X, 'x'], [SUMS, 'sums']]);
  const mean = walk.totals(heap, SUMS, 1 / m);
  heap.set(walk.laidOut(mean), MEAN);
  walk.run('sumsCentred', [[X, 'x'], [MEAN, 'channels'], [X, 'x'], [MEAN, 'channels'], [SUMS, 'sums']]);
  return { mean, variance: walk.totals(heap, SUMS, 1 / m) };
}

/** batchStats' forward: [2, C], the means then the variances. */
function batchStats(x: Float32Array, N: number, C: number, S: number): Float32Array {
  const d = { N, C, S };
  const walk = walkOf(d);
  let stats: { mean: Float64Array; variance: Float64Array };
  if (walk !== null) {
    const { heap, inputs: [X], scratch: [SUMS, MEAN] } = place([x], [], [walk.sums, walk.values]);
    stats = meanVarianceSimd(walk, heap, X, SUMS, MEAN, N * S);
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
  const walk = walkOf(d);
  if (walk === null) return plain.batchNorm(x, gamma, beta, runningMean, runningVar, d, training, eps);
  const V = walk.values;
  const { heap, inputs: [X], outputs: [y], scratch: [SUMS, MEAN, MEAN64, SCALE64, BETA64] } = place([x], [x.length], [walk.sums, V, 2 * V, 2 * V, 2 * V]);
  const { mean, variance } = training ? meanVarianceSimd(walk, heap, X, SUMS, MEAN, N * S) : { mean: runningMean, variance: runningVar };
  // the normalisation runs in float64: its per-channel values as float64 arrays (2 floats each)
  const float64 = (at: number, values: ArrayLike<number>): void => new Float64Array(heap.buffer, at * 4, V).set(walk.laidOut(values));
  float64(MEAN64, mean);
  float64(SCALE64, Float64Array.from(variance, (v, c) => gamma[c] / Math.sqrt(v + eps)));
  float64(BETA64, beta);
  walk.run('normalize', [[X, 'x'], [MEAN64, 'channels64'], [SCALE64, 'channels64'], [BETA64, 'channels64'], [y.at, 'x']]);
  return result(heap, y);
}

/**
 * batchNorm's backward: dβ = Σ dy, dγ = Σ dy·x̂ and, when `wantDx`, dx — in training
 *   dx = γ/√(σ² + eps) · (dy − dβ/m − x̂·dγ/m),   x̂ = (x − μ)/√(σ² + eps),
 * in evaluation dx = γ/√(σ² + eps) · dy (src/nn/ops/batch-norm.ts derives both).
 */
function batchNormBackward(x: Float32Array, gamma: Float32Array, runningMean: Float32Array, runningVar: Float32Array, dy: Float32Array, N: number, C: number, S: number, training: boolean, eps: number, wantDx: boolean): Record<string, Float32Array> {
  const d = { N, C, S };
  const walk = walkOf(d);
  if (walk === null) return plain.batchNormBackward(x, gamma, runningMean, runningVar, dy, d, training, eps, wantDx);
  const m = N * S;
  const V = walk.values;
  const { heap, inputs: [X, DY], outputs: [dx], scratch: [SUMS, CENTRED, MEAN, INVSTD, DBM, DGM, SCALE, ZERO] } = place([x, dy], wantDx ? [x.length] : [], [walk.sums, walk.sums, V, V, V, V, V, V]);
  const perChannel = (at: number, values: ArrayLike<number>): void => heap.set(walk.laidOut(values), at);
  heap.fill(0, ZERO, ZERO + V);
  const variance = training ? meanVarianceSimd(walk, heap, X, SUMS, MEAN, m).variance : (perChannel(MEAN, runningMean), runningVar);
  const invStd = Float64Array.from(variance, (v) => 1 / Math.sqrt(v + eps));
  walk.run('sumsWithCentred', [[DY, 'x'], [X, 'x'], [MEAN, 'channels'], [SUMS, 'sums'], [CENTRED, 'sums']]); // Σ dy and Σ dy·(x − μ), one pass
  const dbeta = walk.totals(heap, SUMS, 1);
  const dgamma = walk.totals(heap, CENTRED, 1).map((s, c) => s * invStd[c]); // Σ dy·(x − μ) · 1/√(σ² + eps)
  const grads: Record<string, Float32Array> = { dgamma: Float32Array.from(dgamma), dbeta: Float32Array.from(dbeta) };
  if (!wantDx) return grads;
  perChannel(SCALE, invStd.map((s, c) => gamma[c] * s));
  if (training) {
    perChannel(INVSTD, invStd);
    perChannel(DBM, dbeta.map((s) => s / m));
    perChannel(DGM, dgamma.map((s) => s / m));
    const args = [X, DY, MEAN, INVSTD, DBM, DGM, SCALE].map((a, i): [number, ArgReads] => [a, i < 2 ? 'x' : 'channels']);
    walk.run('bnGrad', [...args, [dx.at, 'x']]);
  } else {
    walk.run('affine', [[DY, 'x'], [ZERO, 'channels'], [SCALE, 'channels'], [ZERO, 'channels'], [dx.at, 'x']]);
  }
  grads.dx = result(heap, dx);
  return grads;
}

// ── activations and addition ──

/** Runs elementwise kernel `name` over the inputs; returns its output (the last region). */
function elementwiseOf(name: StreamName, ...inputs: Float32Array[]): Float32Array {
  const n = inputs[0].length;
  const { heap, inputs: at, outputs: [y] } = place(inputs, [n]);
  elementwise(name, [...at, y.at], n);
  return result(heap, y);
}

/** relu: x where x > 0 or x is NaN, else 0 (src/nn/ops/relu.ts). */
const relu = (x: Float32Array): Float32Array => elementwiseOf('relu', x);
/** relu's and frelu's dx: dy where x > 0, else 0. */
const reluBackward = (x: Float32Array, dy: Float32Array): Float32Array => elementwiseOf('reluGrad', x, dy);
const add = (a: Float32Array, b: Float32Array): Float32Array => elementwiseOf('add', a, b);
const sub = (a: Float32Array, b: Float32Array): Float32Array => elementwiseOf('sub', a, b);
const mul = (a: Float32Array, b: Float32Array): Float32Array => elementwiseOf('mul', a, b);
const neg = (x: Float32Array): Float32Array => elementwiseOf('neg', x);

/** Runs elementwise kernel `name` over the inputs with a scalar (./streams.ts `withScalar`); returns its output. */
function elementwiseWithScalar(name: StreamName, inputs: readonly Float32Array[], scalar: number): Float32Array {
  const n = inputs[0].length;
  const { heap, inputs: at, outputs: [y], scratch: [SCALAR] } = place(inputs, [n], [1]);
  heap[SCALAR] = scalar;
  const vectors = Math.ceil(n / 4);
  const threads = threadsFor(n, vectors);
  const jobs: Job[] = [];
  for (let t = 0; t < threads; t++) {
    const [v0, v1] = share(vectors, threads, t);
    jobs.push({ kind: 'stream', name, args: [...at.map((a) => (a + 4 * v0) * 4), SCALAR * 4, (y.at + 4 * v0) * 4, (v1 - v0) * 16] });
  }
  start().pool.run(jobs);
  return result(heap, y);
}

/** dropout: y = x·mask·scale (mask 0 or 1), forward (x) and backward (dy). */
const maskedScale = (x: Float32Array, mask: Float32Array, scale: number): Float32Array => elementwiseWithScalar('maskedScale', [x, mask], scale);
/** add with alpha: y = a + alpha·b, the product rounded to float32 before the sum (src/autograd/ops/add.ts). */
const addScaled = (a: Float32Array, b: Float32Array, alpha: number): Float32Array => elementwiseWithScalar('addScaled', [a, b], alpha);
/** y = alpha·x (add's db with alpha). */
const scale = (x: Float32Array, alpha: number): Float32Array => elementwiseWithScalar('scale', [x], alpha);

/** The transpose of the R×C matrix x (permute of a matrix, axes [1, 0]: a Linear layer's weight), in 32×32 blocks. */
function transpose(x: Float32Array, R: number, C: number): Float32Array {
  const { heap, inputs: [X], outputs: [y] } = place([x], [x.length]);
  const B = 32;
  for (let r0 = 0; r0 < R; r0 += B) {
    for (let c0 = 0; c0 < C; c0 += B) {
      const r1 = Math.min(R, r0 + B), c1 = Math.min(C, c0 + B);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) heap[y.at + c * R + r] = heap[X + r * C + c];
    }
  }
  return result(heap, y);
}

/** n copies of x's one value (expand of a one-element tensor: an optimiser's scalar stretched over a parameter). */
function fill(x: Float32Array, n: number): Float32Array {
  const { heap, outputs: [y] } = place([], [n]);
  heap.fill(x[0], y.at, y.at + n);
  return result(heap, y);
}

/** A new array with a's values (a gradient passed on unchanged: each tensor owns its own array). */
function copy(a: Float32Array): Float32Array {
  const { heap, outputs: [y] } = place([], [a.length]);
  heap.set(a, y.at);
  return result(heap, y);
}

/** frelu: max(x, 0) + b[c] over x [N, C, S] (src/nn/ops/frelu.ts; N = C = 1 for a scalar b). */
function frelu(x: Float32Array, b: Float32Array, N: number, C: number, S: number): Float32Array {
  const d = { N, C, S };
  const walk = walkOf(d);
  if (walk === null) return plain.frelu(x, b, d);
  const { heap, inputs: [X], outputs: [y], scratch: [B] } = place([x], [x.length], [walk.values]);
  heap.set(walk.laidOut(b), B);
  walk.run('reluPlus', [[X, 'x'], [B, 'channels'], [y.at, 'x']]);
  return result(heap, y);
}

/** frelu's db = scale · Σ dy, per channel of dy [N, C, S] (one value for a scalar b). */
function freluBiasGrad(dy: Float32Array, N: number, C: number, S: number, scale: number): Float32Array {
  const d = { N, C, S };
  const walk = walkOf(d);
  if (walk === null) return Float32Array.from(plain.channelSums(dy, d), (s) => s * scale);
  const { heap, inputs: [DY], scratch: [SUMS] } = place([dy], [], [walk.sums]);
  walk.run('sums', [[DY, 'x'], [SUMS, 'sums']]);
  return Float32Array.from(walk.totals(heap, SUMS, scale));
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
  const { heap, inputs: [X], outputs: [y] } = place([x], [x.length / 4]);
  windowRows('maxPool2x2', [[X, 'x'], [y.at, 'y']], (planes * H) / 2, W);
  return result(heap, y);
}

/** Its dx: each window's dy at the window's argmax (the first maximal element in scan order, or its first NaN). */
function maxPool2x2Backward(x: Float32Array, dy: Float32Array, planes: number, H: number, W: number): Float32Array {
  const { heap, inputs: [X, DY], outputs: [dx] } = place([x, dy], [x.length]);
  windowRows('maxPool2x2Grad', [[X, 'x'], [DY, 'y'], [dx.at, 'x']], (planes * H) / 2, W);
  return result(heap, dx);
}

// ── average pooling, windows of 1 or 2 columns at stride 2 ──

/** An average pooling's windows as the stride-2 kernels take them (./streams.ts `strideTwoRows`): x [planes, H, W], SY rows apart, KH × KW. */
interface StrideTwoPooling {
  readonly planes: number;
  readonly H: number;
  readonly W: number;
  readonly SY: number;
  readonly KH: number;
  readonly KW: number;
}

/** Runs `name` over the planes·H/SY rows of windows, each thread its own rows; `args` are x- or y-shaped (W/2 floats per row of windows). */
function strideTwoRows(name: StreamName, args: readonly (readonly [number, 'x' | 'y'])[], { planes, H, W, SY, KH, KW }: StrideTwoPooling, heap: Float32Array, SCALE: number): void {
  heap[SCALE] = 1 / (KH * KW);
  const rows = (planes * H) / SY;
  const threads = threadsFor(planes * H * W, rows);
  const jobs: Job[] = [];
  for (let t = 0; t < threads; t++) {
    const [r0, r1] = share(rows, threads, t);
    const at = args.map(([a, shaped]) => 4 * (a + r0 * (shaped === 'x' ? SY * W : W / 2)));
    jobs.push({ kind: 'stream', name, args: [...at, r1 - r0, W * 4, SY, KH, KW, SCALE * 4] });
  }
  start().pool.run(jobs);
}

/** avgPool2d's forward over such windows: each window's mean. */
function avgPoolStride2(x: Float32Array, d: StrideTwoPooling): Float32Array {
  const { heap, inputs: [X], outputs: [y], scratch: [SCALE] } = place([x], [(d.planes * d.H * d.W) / (2 * d.SY)], [1]);
  strideTwoRows('avgPoolStride2', [[X, 'x'], [y.at, 'y']], d, heap, SCALE);
  return result(heap, y);
}

/** Its dx: dy/(KH·KW) at each window's elements, 0 between the windows. */
function avgPoolStride2Backward(dy: Float32Array, d: StrideTwoPooling): Float32Array {
  const { heap, inputs: [DY], outputs: [dx], scratch: [SCALE] } = place([dy], [d.planes * d.H * d.W], [1]);
  strideTwoRows('avgPoolStride2Grad', [[DY, 'y'], [dx.at, 'x']], d, heap, SCALE);
  return result(heap, dx);
}

/**
 * avgPool2d's forward with one window over each whole plane (the global average pool that ends the
 * ResNets), x [planes, S] with S a multiple of 4: each plane's float64 sum (the per-channel sums
 * kernel, walked by planes with one channel), divided by S.
 */
function planeMeans(x: Float32Array, planes: number, S: number): Float32Array {
  const walk = walkOf({ N: planes, C: 1, S })!;
  const { heap, inputs: [X], scratch: [SUMS] } = place([x], [], [walk.sums]);
  walk.run('sums', [[X, 'x'], [SUMS, 'sums']]);
  return Float32Array.from(new Float64Array(heap.buffer, SUMS * 4, planes), (sum) => sum / S);
}

/** Its dx: dy[p]/S at every element of plane p (a fill per plane). */
function planeMeansBackward(dy: Float32Array, planes: number, S: number): Float32Array {
  const { heap, outputs: [dx] } = place([], [planes * S]);
  for (let p = 0; p < planes; p++) heap.fill(dy[p] / S, dx.at + p * S, dx.at + (p + 1) * S);
  return result(heap, dx);
}

// ── broadcasting: expand and its backward ──

/**
 * A broadcast written as alternating groups of axes (src/autograd/ops/expand.ts `broadcastGroups`):
 * each group either runs along x (`stretched` false: x's elements in order) or repeats what is
 * inside it `size` times (x has size 1 there). [128, 1, 4096] → [128, 2, 4096] is
 * [128 along, 2 repeated, 4096 along].
 */
export interface BroadcastGroup {
  readonly size: number;
  readonly stretched: boolean;
}

/**
 * expand's forward in the kernels' memory, from the innermost group out: a group along x copies
 * x's run (or lays out each of its inner blocks in turn), a repeated group fills (innermost) or
 * copies its first block size − 1 times — memcpy and memset over the memory (TypedArray
 * copyWithin and fill), one call per innermost run, so worth it when the runs are long.
 */
function broadcast(x: Float32Array, groups: readonly BroadcastGroup[]): Float32Array {
  const ySize = groups.reduce((n, g) => n * g.size, 1);
  const { heap, inputs: [X], outputs: [y] } = place([x], [ySize]);
  // floats of y and of x inside one element of each group
  const yInner = groups.map((_, i) => groups.slice(i + 1).reduce((n, g) => n * g.size, 1));
  const xInner = groups.map((_, i) => groups.slice(i + 1).reduce((n, g) => n * (g.stretched ? 1 : g.size), 1));
  const lay = (level: number, from: number, to: number): void => {
    const { size, stretched } = groups[level];
    if (level === groups.length - 1) {
      if (stretched) heap.fill(heap[from], to, to + size);
      else heap.copyWithin(to, from, from + size);
    } else if (stretched) {
      lay(level + 1, from, to);
      for (let i = 1; i < size; i++) heap.copyWithin(to + i * yInner[level], to, to + yInner[level]);
    } else {
      for (let i = 0; i < size; i++) lay(level + 1, from + i * xInner[level], to + i * yInner[level]);
    }
  };
  lay(0, X, y.at);
  return result(heap, y);
}

/**
 * expand's backward for dy [A, R, B] from x [A, 1, B] (B a multiple of 4): dx[a, ·] = Σ_r dy[a, r, ·],
 * each thread its own blocks a — or, with fewer blocks than threads, its own columns of them.
 */
function sumCopiesOf(dy: Float32Array, A: number, R: number, B: number): Float32Array {
  const { heap, inputs: [DY], outputs: [dx] } = place([dy], [A * B]);
  const byBlocks = A >= start().pool.threads;
  const parts = byBlocks ? A : B / 4;
  const threads = threadsFor(dy.length, parts);
  const jobs: Job[] = [];
  for (let t = 0; t < threads; t++) {
    const [p0, p1] = share(parts, threads, t);
    const args = byBlocks ? [DY + p0 * R * B, dx.at + p0 * B, p1 - p0, R, B * 4, B * 4] : [DY + 4 * p0, dx.at + 4 * p0, A, R, (p1 - p0) * 16, B * 4];
    jobs.push({ kind: 'stream', name: 'sumCopies', args: args.map((v, i) => (i < 2 ? 4 * v : v)) });
  }
  start().pool.run(jobs);
  return result(heap, dx);
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
export const loopKernels = { batchStats, batchNorm, batchNormBackward, relu, reluBackward, frelu, freluBiasGrad, add, addScaled, scale, sub, mul, neg, fill, copy, maskedScale, transpose, maxPool2x2, maxPool2x2Backward, avgPoolStride2, avgPoolStride2Backward, planeMeans, planeMeansBackward, broadcast, sumCopies: sumCopiesOf };
