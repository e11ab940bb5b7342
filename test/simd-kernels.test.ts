/**
 * The gpu backend's hand-written wasm SIMD kernels (src/tensor/backends/wasm): the GEMM against
 * hand values, its two inner loops (mul then add: bit for bit a plain float32 loop, as its header
 * claims; relaxed SIMD's fused multiply-add: within float32 rounding), and matmul / conv2d
 * with their work split between worker threads against the reference backend — at shapes big
 * enough that the split really happens (the op-test table's shapes are too small to be split).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import { correlateRoute, simdKernels, weightGradRoute } from '../src/tensor/backends/wasm/kernels.js';
import { transformWeights } from '../src/tensor/backends/wasm/winograd.js';
import { createSharedMemory, fmaSupported, Gemm, packedIndex, setSimdFma } from '../src/tensor/backends/wasm/gemm.js';
import { packB } from '../src/tensor/backends/wasm/lowering.js';
import { Pool } from '../src/node/threads.js';
import type { MatmulJob } from '../src/tensor/backends/wasm/jobs.js';
import { randomStream } from '../src/tensor/random.js';

g.setGpuMode('webasm');

function values(n: number, seed: string): Float32Array {
  const rng = randomStream(seed);
  return Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1);
}

function close(label: string, got: Float32Array | Float64Array, want: Float32Array | Float64Array, tol: number): void {
  assert.is(got.length, want.length, `${label}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])))) assert.unreachable(`${label}: element ${i}: got ${got[i]}, want ${want[i]}`);
  }
}

const noTranspose = { transA: false, transB: false };

test('GEMM: [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[19, 22], [43, 50]] (one tile, mostly padding)', () => {
  const y = simdKernels.matmul(Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6, 7, 8), { batch: 1, M: 2, K: 2, N: 2, ...noTranspose });
  assert.equal(Array.from(y), [19, 22, 43, 50]);
});

/** A[M×K] · B[K×N] as a plain float32 loop summing k = 0 … K−1 (each product and sum rounded to float32). */
function float32Product(a: Float32Array, b: Float32Array, M: number, K: number, N: number): Float32Array {
  const c = new Float32Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s = Math.fround(s + Math.fround(a[i * K + k] * b[k * N + j]));
      c[i * N + j] = s;
    }
  }
  return c;
}

/** A[M×K] · B[K×N] in float64: the exact product, near enough. */
function float64Product(a: Float32Array, b: Float32Array, M: number, K: number, N: number): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) c[i * N + j] += a[i * K + k] * b[k * N + j];
  return c;
}

/** A·B run straight on `gemm` (whole tiles: M a multiple of 4, N of 8), A row-major and B packed. */
function gemmProduct(gemm: Gemm, a: Float32Array, b: Float32Array, M: number, K: number, N: number): Float32Array {
  const at = { a: 0, b: M * K, aRows: M * K + K * N, bRows: M * K + K * N + M, c: M * K + K * N + M + K };
  gemm.reserve(at.c + M * N);
  gemm.heap.set(a, at.a);
  for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) gemm.heap[at.b + packedIndex(k, j, K)] = b[k * N + j];
  gemm.writeRows(at.aRows, M, M, (i) => i * K);
  gemm.writeRows(at.bRows, K, K, (k) => 8 * k);
  gemm.gemm({ ...at, bPanel: 8 * K, ldc: N }, M, N, K, false);
  return gemm.heap.slice(at.c, at.c + M * N);
}

test('GEMM: both inner loops — mul then add bit-identical to a plain float32 loop, fused multiply-add within float32 rounding of a float64 product', () => {
  const [M, K, N] = [12, 301, 24];
  const a = values(M * K, 'gemm a'), b = values(K * N, 'gemm b');
  const portable = new Gemm(createSharedMemory(), false);
  assert.is(portable.fma, false);
  assert.equal(Array.from(gemmProduct(portable, a, b, M, K, N)), Array.from(float32Product(a, b, M, K, N)));
  // Node 20's V8 has relaxed SIMD behind a flag, which importing gradlab sets (src/node/gpu-settings.ts).
  assert.ok(fmaSupported(), 'relaxed SIMD should validate once the Node wing has set its V8 flag');
  const fused = new Gemm(createSharedMemory(), true);
  assert.is(fused.fma, true);
  const exact = float64Product(a, b, M, K, N);
  const got = gemmProduct(fused, a, b, M, K, N);
  close('FMA loop vs float64', got, exact, 1e-5);
  // The portable loop, for scale, is as near: the two differ only in rounding.
  close('mul+add loop vs float64', gemmProduct(portable, a, b, M, K, N), exact, 1e-5);
});

test('GEMM: which inner loop runs is reported (gpuInfo().simdFma, "with FMA" in the summary)', () => {
  const info = g.gpuInfo({ start: true });
  assert.is(info.simdFma, process.env.GRADLAB_FMA !== '0' && fmaSupported());
  assert.is(info.summary?.includes('SIMD GEMM on') ?? false, true, info.summary ?? '');
  assert.is(info.summary?.includes('with FMA') ?? false, info.simdFma, info.summary ?? '');
});

test('GEMM through the matmul kernel (ragged 13×37 · 37×20): as a plain float32 loop (bit for bit with mul then add), and its transposed layouts the same', () => {
  const [M, K, N] = [13, 37, 20];
  const a = values(M * K, 'gemm a'), b = values(K * N, 'gemm b');
  const want = float32Product(a, b, M, K, N);
  const y = simdKernels.matmul(a, b, { batch: 1, M, K, N, ...noTranspose });
  if (g.gpuInfo({ start: true }).simdFma) close('FMA loop', y, want, 1e-5);
  else assert.equal(Array.from(y), Array.from(want));
  const aT = new Float32Array(K * M), bT = new Float32Array(N * K);
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) aT[k * M + i] = a[i * K + k];
  for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) bT[j * K + k] = b[k * N + j];
  assert.equal(Array.from(simdKernels.matmul(aT, bT, { batch: 1, M, K, N, transA: true, transB: true })), Array.from(y));
});

test('the wasm packing of B into panels equals lowering.ts packB, row-major and stored transposed', () => {
  const gemm = new Gemm(createSharedMemory());
  const [K, N] = [12, 24];
  const b = values(K * N, 'pack b');
  const bT = new Float32Array(N * K);
  for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) bT[j * K + k] = b[k * N + j];
  gemm.reserve(4 * K * N);
  for (const [source, transposed] of [[b, false], [bT, true]] as const) {
    gemm.heap.set(source, 0);
    gemm.pack(0, K * N, K, N, transposed);
    const want = new Float32Array(K * N);
    packB(want, 0, source, 0, K, N, transposed);
    assert.equal(Array.from(gemm.heap.subarray(K * N, 2 * K * N)), Array.from(want), transposed ? 'transposed' : 'row-major');
  }
  assert.throws(() => gemm.pack(0, K * N, K, 20, false), /pack needs N a multiple of 8; got K=12, N=20/);
  assert.throws(() => gemm.pack(0, K * N, 10, N, true), /N a multiple of 8 and K of 4; got K=10, N=24/);
});

test('matmul 12×32 · 32×24, batch 2 (whole tiles: B packed by wasm, the product written into the kernels\' memory, A read there in place): as the plain float32 loop, in all four layouts', () => {
  const [M, K, N] = [12, 32, 24];
  const a = values(2 * M * K, 'whole a'), b = values(2 * K * N, 'whole b');
  const want = new Float32Array(2 * M * N);
  for (let i = 0; i < 2; i++) want.set(float32Product(a.subarray(i * M * K, (i + 1) * M * K), b.subarray(i * K * N, (i + 1) * K * N), M, K, N), i * M * N);
  const tr = (x: Float32Array, rows: number, cols: number) => {
    const out = new Float32Array(x.length);
    for (let i = 0; i < 2; i++) for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[i * rows * cols + c * rows + r] = x[i * rows * cols + r * cols + c];
    return out;
  };
  const fma = g.gpuInfo({ start: true }).simdFma;
  // a lives in the kernels' memory when it is an earlier product's result (times the identity here)
  const eye = new Float32Array(K * K);
  for (let k = 0; k < K; k++) eye[k * K + k] = 1;
  const aHome = simdKernels.matmul(a, new Float32Array([...eye, ...eye]), { batch: 2, M, K, N: K, ...noTranspose });
  for (const [label, aa, bb, transA, transB] of [
    ['a in the memory, b row-major', aHome, b, false, false],
    ['a transposed', tr(a, M, K), b, true, false],
    ['b transposed', a, tr(b, K, N), false, true],
    ['both transposed', tr(a, M, K), tr(b, K, N), true, true],
  ] as const) {
    const y = simdKernels.matmul(aa, bb, { batch: 2, M, K, N, transA, transB });
    if (fma) close(label, y, want, 1e-5);
    else assert.equal(Array.from(y), Array.from(want), label);
  }
});

/** conv2d forward, dx and dw on `backend`, with the given upstream gradient. */
function convRun(backend: 'gpu' | 'reference', xs: number[], ws: number[], stride: number, x: Float32Array, w: Float32Array, dyValues: (n: number) => Float32Array) {
  const xt = g.tensor(x, { shape: xs, backend, requiresGrad: true });
  const wt = g.tensor(w, { shape: ws, backend, requiresGrad: true });
  const y = g.nn.functional.conv2d(xt, wt, null, { stride, padding: 1 });
  y.backward(g.tensor(dyValues(y.size), { shape: y.shape, backend }));
  return { y: y.toArray(), dx: xt.grad!.toArray(), dw: wt.grad!.toArray() };
}

for (const stride of [1, 2]) {
  test(`conv2d x [8, 16, 16, 16] * w [32, 16, 3, 3], stride ${stride}: 1 and 2 threads agree with the reference (forward, dx, dw)`, () => {
    const xs = [8, 16, 16, 16], ws = [32, 16, 3, 3];
    const x = values(8 * 16 * 16 * 16, 'conv x'), w = values(32 * 16 * 9, 'conv w');
    const dy = (n: number) => values(n, 'conv dy');
    const ref = convRun('reference', xs, ws, stride, x, w, dy);
    const byThreads = [1, 2].map((threads) => {
      g.setSimdThreads(threads);
      const r = convRun('gpu', xs, ws, stride, x, w, dy);
      assert.is(g.gpuInfo().simdThreads, threads);
      for (const part of ['y', 'dx', 'dw'] as const) close(`${threads} thread(s) ${part}`, r[part], ref[part], 1e-4);
      return r;
    });
    // Each image is one thread's work either way, so y and dx do not depend on the split.
    assert.equal(Array.from(byThreads[1].y), Array.from(byThreads[0].y));
    assert.equal(Array.from(byThreads[1].dx), Array.from(byThreads[0].dx));
  });
}

test("Winograd's weight transform G·g·Gᵀ, by hand: a filter of ones gives the outer product of G's row sums [1, 3/2, 1/2, 1]", () => {
  const [O, C] = [2, 3];
  const u = transformWeights(new Float32Array(O * C * 9).fill(1), O, C);
  const sums = [1, 1.5, 0.5, 1];
  for (let p = 0; p < 4; p++) {
    for (let q = 0; q < 4; q++) {
      for (let i = 0; i < O * C; i++) assert.is(u[(4 * p + q) * O * C + i], sums[p] * sums[q], `U[${p}, ${q}] element ${i}`);
    }
  }
  // one 1 at the filter's centre: G's middle column [0, 1/2, −1/2, 0] in both directions
  const centre = new Float32Array(9);
  centre[4] = 1;
  const uc = transformWeights(centre, 1, 1), mid = [0, 0.5, -0.5, 0];
  assert.equal(Array.from(uc), mid.flatMap((a) => mid.map((b) => a * b)));
});

test("the stride-1 convolutions' routes: Winograd's for 3×3, padding 1, height a multiple of 4 and width of 8, ≥ 8 channels (dw: outputs a multiple of 4); else the direct ones", () => {
  // ResNet-20's and SmallNet's 3×3 layers after the first
  for (const [C, H] of [[16, 32], [32, 16], [64, 8], [8, 4]]) assert.is(correlateRoute(C, H, H === 4 ? 8 : H, 1, 1, 3, 3), 'winograd', `C ${C}, ${H}×${H}`);
  assert.is(correlateRoute(3, 32, 32, 1, 1, 3, 3), 'implicit', 'the first layer: 3 channels');
  assert.is(correlateRoute(16, 6, 8, 1, 1, 3, 3), 'implicit', 'height 6');
  assert.is(correlateRoute(16, 8, 12, 1, 1, 3, 3), 'implicit', 'width 12');
  assert.is(correlateRoute(16, 8, 8, 0, 0, 3, 3), 'implicit', 'no padding');
  assert.is(correlateRoute(16, 8, 8, 2, 2, 5, 5), 'implicit', '5×5');
  // dw sums over the tiles, not the channels: the first layer's too; but four outputs at a time
  const dims = (C: number, O: number, stride: number) => ({ N: 8, C, H: 32, W: 32, O, KH: 3, KW: 3, OH: 32 / stride, OW: 32 / stride, SY: stride, SX: stride, PY: 1, PX: 1 });
  assert.is(weightGradRoute(dims(3, 16, 1)), 'winograd', 'dw of the first layer');
  assert.is(weightGradRoute(dims(16, 10, 1)), 'direct', '10 outputs');
  assert.is(weightGradRoute(dims(16, 32, 2)), 'direct', 'stride 2');
});

test('conv2d by the Winograd route x [6, 24, 8, 16] * w [20, 24, 3, 3] (groups of images, a ragged last group; dw\'s products padded to 24 columns): as the reference within float32 rounding, forward, dx and dw, 1 and 2 threads; an infinity in x falls back to the direct route', () => {
  const xs = [6, 24, 8, 16], ws = [20, 24, 3, 3];
  const x = values(6 * 24 * 8 * 16, 'winograd x'), w = values(20 * 24 * 9, 'winograd w');
  const dy = (n: number) => values(n, 'winograd dy');
  assert.is(correlateRoute(24, 8, 16, 1, 1, 3, 3), 'winograd');
  assert.is(correlateRoute(20, 8, 16, 1, 1, 3, 3), 'winograd', 'dx: a correlation of dy (20 channels) with the flipped weights');
  const ref = convRun('reference', xs, ws, 1, x, w, dy);
  for (const threads of [1, 2]) {
    g.setSimdThreads(threads);
    const r = convRun('gpu', xs, ws, 1, x, w, dy);
    for (const part of ['y', 'dx', 'dw'] as const) close(`${threads} thread(s) ${part}`, r[part], ref[part], 1e-4);
  }
  // +∞ at x[1, 5, 3, 7] makes the outputs whose 3×3 windows hold it (rows 2–4, columns 6–8 of image
  // 1, every filter) ±∞ in the reference. The transforms' differences would make some of them NaN
  // (∞ − ∞); the route must notice and give way to the direct one, which agrees value for value.
  const xi = x.slice();
  xi[((1 * 24 + 5) * 8 + 3) * 16 + 7] = Infinity;
  const refI = convRun('reference', xs, ws, 1, xi, w, dy), gpuI = convRun('gpu', xs, ws, 1, xi, w, dy);
  let infinite = 0;
  for (let i = 0; i < refI.y.length; i++) {
    if (Number.isFinite(refI.y[i])) continue;
    infinite++;
    assert.ok(Object.is(gpuI.y[i], refI.y[i]), `y element ${i}: got ${gpuI.y[i]}, want ${refI.y[i]}`);
  }
  assert.is(infinite, 20 * 9);
  // and dw: every filter's weights on channel 5 read it (NaN or ±∞ in the reference), the others do not
  for (let i = 0; i < refI.dw.length; i++) {
    const want = refI.dw[i], got = gpuI.dw[i];
    if (Number.isFinite(want)) continue;
    assert.ok(Object.is(got, want), `dw element ${i}: got ${got}, want ${want}`);
  }
  close('dw, finite entries', gpuI.dw.map((v, i) => (Number.isFinite(refI.dw[i]) ? v : 0)), refI.dw.map((v) => (Number.isFinite(v) ? v : 0)), 1e-4);
  g.setSimdThreads(2);
});

test('matmul [96, 300] @ [300, 200] with 2 threads (row tiles split) agrees with the reference, forward and both gradients', () => {
  const a = values(96 * 300, 'mm a'), b = values(300 * 200, 'mm b'), dy = values(96 * 200, 'mm dy');
  g.setSimdThreads(2);
  const run = (backend: 'gpu' | 'reference') => {
    const at = g.tensor(a, { shape: [96, 300], backend, requiresGrad: true });
    const bt = g.tensor(b, { shape: [300, 200], backend, requiresGrad: true });
    const y = g.matmul(at, bt);
    y.backward(g.tensor(dy, { shape: [96, 200], backend }));
    return { y: y.toArray(), da: at.grad!.toArray(), db: bt.grad!.toArray() };
  };
  const gpu = run('gpu'), ref = run('reference');
  for (const part of ['y', 'da', 'db'] as const) close(part, gpu[part], ref[part], 1e-4);
});

/** A 4×8 product over a fresh memory: A = 1s, B = 2s (packed), K = 3 → every C element is 6. */
function tinyProduct(gemm: Gemm): MatmulJob {
  gemm.reserve(1024);
  gemm.heap.fill(1, 0, 12);
  gemm.heap.fill(2, 16, 40);
  gemm.writeRows(64, 4, 4, (i) => 3 * i); // A's rows
  gemm.writeRows(80, 3, 3, (k) => 8 * k); // B's rows, packed
  return { kind: 'matmul', a: 0, aRows: 64, b: 16, bRows: 80, c: 128, K: 3, Np: 8, m0: 0, m1: 4 };
}

test('a worker that cannot start: a clear error, then every threaded call refuses; one thread still works', () => {
  const gemm = new Gemm(createSharedMemory());
  const pool = new Pool(gemm, "fail(new Error('no code here'))");
  pool.threads = 2;
  const job = tinyProduct(gemm);
  const empty = { ...job, m0: 4, m1: 4 };
  assert.throws(() => pool.run([job, empty]), /worker threads cannot be used \(could not start: Error: no code here[\s\S]*GRADLAB_THREADS=1/);
  assert.throws(() => pool.run([job, empty]), /worker threads cannot be used/);
  pool.run([job]);
  assert.equal(Array.from(gemm.heap.subarray(128, 160)), new Array<number>(32).fill(6));
});

test("a job that fails in a worker is reported with the worker's message, and the pool stays usable", () => {
  const gemm = new Gemm(createSharedMemory());
  const pool = new Pool(gemm);
  pool.threads = 2;
  const job = tinyProduct(gemm);
  assert.throws(() => pool.run([job, { ...job, K: 0 }]), /a worker thread failed: .*wasm gemm: M must be a multiple of 4 and N of 8, K ≥ 1; got M=4, N=8, K=0/);
  pool.run([{ ...job, m1: 0 }, job]); // now the worker computes the product
  assert.equal(Array.from(gemm.heap.subarray(128, 160)), new Array<number>(32).fill(6));
});

test('setSimdThreads, setSimdKernels and setSimdFma refuse bad values with a clear error', () => {
  // @ts-expect-error: a string is not a boolean
  assert.throws(() => setSimdFma('no'), /setSimdFma: expected true or false; got "no"/);
  assert.throws(() => g.setSimdThreads(0), /setSimdThreads must be a whole number of threads from 1 to 64; got 0/);
  assert.throws(() => g.setSimdThreads(1.5), /setSimdThreads must be a whole number/);
  // @ts-expect-error: a string is not a boolean
  assert.throws(() => g.setSimdKernels('yes'), /setSimdKernels: expected true or false; got "yes"/);
});

test.run();
