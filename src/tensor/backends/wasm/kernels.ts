/**
 * matmul and conv2d on the CPU as matrix products for the SIMD GEMM of ./gemm.ts — what the gpu
 * backend runs for these ops in webasm mode (`k.simd(simdKernels)` in an op's gpu implementation,
 * see GpuKit in src/tensor/op-def.ts; a new kernel is a function here, in `simdKernels`, and its
 * call in the op file). Each call copies its operands into the kernel's shared memory (unless
 * they already live there: results of earlier kernels, ./arena.ts), splits the work between
 * threads (images of a convolution, row tiles of a product: ./jobs.ts, ./threads.ts), and writes
 * a convolution's result as a new tensor array in that memory (a product's is copied out into a
 * new Float32Array). How a convolution becomes matrix products:
 * ./lowering.ts. gpu-vs-reference.test.ts and simd-kernels.test.ts check every one against the
 * reference kernels of src/autograd/ops/matmul.ts and src/nn/ops/conv2d.ts.
 */
import { Arena } from './arena.js';
import { createSharedMemory, Gemm, roundUp, TILE_M, TILE_N } from './gemm.js';
import { streamKernels } from './streams.js';
import { paddedSize, wideSizes, type Job, type Padded } from './jobs.js';
import { packB, padPlanes, placeA, type ConvDims } from './lowering.js';
import { imagesPerGroup, scratchLayout, tileSizes, transformWeights, weightGradFromTransformed, weightGradLayout, winogradFits, XI, type WinogradJob, type WinogradWeightGradJob } from './winograd.js';
import { callingThreadOnly, parseThreads, type SimdThreadPool, type SimdThreadPoolFactory } from './threads.js';

let makePool: SimdThreadPoolFactory = callingThreadOnly;
/** Threads asked for with setSimdThreads (GRADLAB_THREADS in Node), or null: the pool's default. */
let requestedThreads: number | null = null;
let engine: Engine | null = null;

/** The kernels' shared memory with its GEMM, the blocks it is carved into (./arena.ts), and the threads. */
interface Engine {
  gemm: Gemm;
  arena: Arena;
  pool: SimdThreadPool;
}

/** The engine, started on first use. */
export function start(): Engine {
  if (engine === null) {
    const gemm = new Gemm(createSharedMemory());
    engine = { gemm, arena: new Arena(gemm), pool: newPool(gemm) };
  }
  return engine;
}

/** Gives back the memory of a tensor array that lives in the kernels' memory (its tensor was disposed); any other array is ignored. */
export function disposeTensorArray(a: Float32Array): void {
  engine?.arena.dispose(a);
}

function newPool(gemm: Gemm): SimdThreadPool {
  const pool = makePool(gemm);
  if (requestedThreads !== null) pool.threads = requestedThreads;
  return pool;
}

/**
 * Where the SIMD kernels' threads come from (./threads.ts): the platform installs its pool once,
 * before the first kernel runs (src/node/threads.ts in Node); the default runs on the calling thread.
 */
export function setSimdThreadPool(factory: SimdThreadPoolFactory): void {
  makePool = factory;
  if (engine !== null) engine.pool = newPool(engine.gemm);
}

/** Threads the SIMD kernels use (the calling thread included). */
export function simdThreads(): number {
  return start().pool.threads;
}

/** Whether the GEMM runs its fused multiply-add inner loop (./gemm.ts, "two inner loops"). Starts the kernels. */
export function simdFma(): boolean {
  return start().gemm.fma;
}

/** Sets the threads the SIMD kernels use, from 1 (the main thread only) up; default: the pool's (Node: the machine's cores). */
export function setSimdThreads(threads: number): void {
  requestedThreads = parseThreads('setSimdThreads', threads);
  if (engine !== null) engine.pool.threads = requestedThreads;
}

/**
 * Below this much work a thread's share is not worth its hand-off (posting a job and waking the
 * main thread cost tens of microseconds, ~1 MFLOP of kernel time).
 */
const MIN_FLOP_PER_THREAD = 2e6;

/** How many threads to share `flop` of work divisible into `parts`. */
function threadsFor(flop: number, parts: number): number {
  return Math.max(1, Math.min(start().pool.threads, parts, Math.floor(flop / MIN_FLOP_PER_THREAD)));
}

/** [start, end) of share t of `count` items split as evenly as possible into `shares`. */
export function share(count: number, shares: number, t: number): [number, number] {
  return [Math.floor((count * t) / shares), Math.floor((count * (t + 1)) / shares)];
}

/** Regions start on 64-byte (cache line) boundaries. */
const align = (floats: number): number => roundUp(floats, 16);

/**
 * Lays out consecutive regions of the given float sizes in the scratch block of the kernels'
 * memory (./arena.ts); returns their offsets and the end. The block is the call's own until the
 * next call lays out its operands.
 */
export function layout(sizes: readonly number[]): { at: number[]; end: number } {
  const at: number[] = [];
  let end = 0;
  for (const s of sizes) {
    at.push(end);
    end = align(end + s);
  }
  const base = start().arena.scratch(end);
  return { at: at.map((a) => base + a), end: base + end };
}

/**
 * A result of `size` floats as a new tensor array in the kernels' memory, where the next kernel
 * reads it in place (./arena.ts), or null when the memory is full (the caller then lays it out in
 * scratch and copies it out). Take it before the call's layout: both may grow the memory.
 */
function resultArray(size: number): { array: Float32Array; at: number } | null {
  const { arena } = start();
  const array = arena.tensor(size);
  const at = array === null ? null : arena.offsetOf(array);
  return array === null || at === null ? null : { array, at };
}

/** Where `a` lives in the kernels' memory (a result of an earlier kernel), or null: then it is copied into scratch. */
const homeOf = (a: Float32Array): number | null => start().arena.offsetOf(a);

/** Sizes of a batched matrix product: `batch` times [M×K]·[K×N]. */
export interface MatmulDims {
  readonly batch: number;
  readonly M: number;
  readonly K: number;
  readonly N: number;
  /** a holds each [M×K] matrix transposed ([K×M], row-major). */
  readonly transA: boolean;
  /** b holds each [K×N] matrix transposed ([N×K], row-major). */
  readonly transB: boolean;
}

/**
 * y[i] = a[i] · b[i] for each of the `batch` pairs (a, b possibly stored transposed): matmul's
 * forward and both gradients. A row-major a that lives in the memory is read in place; B is packed
 * into panels by a wasm kernel where its sizes allow (N a multiple of 8; K of 4 if transposed), else
 * in JS; and with M a multiple of 4 and N of 8 the product is written straight into the result's
 * array in the memory, where the next kernel finds it.
 */
function matmul(a: Float32Array, b: Float32Array, { batch, M, K, N, transA, transB }: MatmulDims): Float32Array {
  const { gemm, pool } = start();
  const Mp = roundUp(M, TILE_M), Np = roundUp(N, TILE_N);
  const aHome = transA ? null : homeOf(a), bHome = homeOf(b);
  const wasmPack = N % TILE_N === 0 && (!transB || K % 4 === 0);
  const result = M % TILE_M === 0 && N % TILE_N === 0 ? resultArray(batch * M * N) : null;
  const { at: [AS, BS, B, CS, AROWS, BROWS], end } = layout([aHome === null ? M * K : 0, wasmPack && bHome === null ? b.length : 0, K * Np, result === null ? Mp * Np : 0, Mp, K]);
  gemm.reserve(end);
  gemm.writeRows(AROWS, Mp, M, (i) => i * K); // A row-major (padding rows read row 0)
  gemm.writeRows(BROWS, K, K, (k) => TILE_N * k); // B packed in panels
  const heap = gemm.heap;
  const bFrom = bHome ?? BS;
  if (wasmPack && bHome === null) heap.set(b, BS);
  const threads = threadsFor(2 * M * N * K, Mp / TILE_M);
  const out = result?.array ?? new Float32Array(batch * M * N);
  for (let i = 0; i < batch; i++) {
    let A = AS;
    if (aHome !== null) A = aHome + i * M * K;
    else placeA(heap, AS, K, a, i * M * K, M, K, transA);
    if (wasmPack) gemm.pack(bFrom + i * K * N, B, K, N, transB);
    else packB(heap, B, b, i * K * N, K, N, transB);
    const C = result === null ? CS : result.at + i * M * N;
    const jobs: Job[] = [];
    for (let t = 0; t < threads; t++) {
      const [t0, t1] = share(Mp / TILE_M, threads, t);
      jobs.push({ kind: 'matmul', a: A, aRows: AROWS, b: B, bRows: BROWS, c: C, K, Np, m0: t0 * TILE_M, m1: t1 * TILE_M });
    }
    pool.run(jobs);
    if (result === null) for (let m = 0; m < M; m++) out.set(heap.subarray(C + m * Np, C + m * Np + N), (i * M + m) * N);
  }
  return out;
}

// ── convolutions, stride 1: implicit GEMM over padded images (./jobs.ts) ──

/** FLOP of one of a convolution's three products (forward, dx or dw: each Σ over the same terms). */
const convFlop = (d: ConvDims): number => 2 * d.N * d.O * d.OH * d.OW * d.C * d.KH * d.KW;

/**
 * Copies images x [N, C, H, W] into the heap at `to` as zero-padded planes [N, C, HP, WP] (py rows
 * above and below, px columns left and right), and zeroes `slack` floats after them: the wide
 * products read a few floats past the last plane. A wasm kernel copies the rows, 4 floats a step,
 * from where x lives in the memory (an earlier kernel's result) or else from `scratch` (x.length
 * floats), where x is copied first.
 */
function padInto(heap: Float32Array, to: number, x: Float32Array, scratch: number, N: number, C: number, H: number, W: number, py: number, px: number, slack: number): void {
  const HP = H + 2 * py, WP = W + 2 * px;
  heap.fill(0, to, to + N * C * HP * WP + slack);
  let home = homeOf(x);
  if (home === null) {
    heap.set(x, scratch);
    home = scratch;
  }
  padPlanes(start().gemm.memory, home, to, N * C, H, W, py, px);
}

/** The padded-image geometry of a stride-1 correlation of x [N, C, H, W] with KH×KW windows and padding (py, px). */
function paddedOf(N: number, C: number, H: number, W: number, O: number, KH: number, KW: number, py: number, px: number): Padded {
  const HP = H + 2 * py, WP = W + 2 * px;
  return { N, C, HP, WP, O, KH, KW, OH: HP - KH + 1, OW: WP - KW + 1 };
}

/** Table entry r = (c, ky, kx): where window row r starts in a padded image. */
const windowRow = (p: Padded) => (r: number): number => {
  const kx = r % p.KW, ky = Math.floor(r / p.KW) % p.KH, c = Math.floor(r / (p.KW * p.KH));
  return (c * p.HP + ky) * p.WP + kx;
};

/**
 * y [N, O, OH, OW] = the stride-1 correlation of x [N, C, H, W], zero-padded by (py, px), with
 * the weights wm seen as the matrix [O, C·KH·KW] (row o = w[o] flattened): conv2d's forward, and
 * (with flipped weights over dy) its input gradient.
 */
function correlate(x: Float32Array, N: number, C: number, H: number, W: number, py: number, px: number, wm: Float32Array, O: number, KH: number, KW: number): Float32Array {
  if (correlateRoute(C, H, W, py, px, KH, KW) === 'winograd') {
    const y = winogradCorrelate(x, N, C, H, W, wm, O);
    if (y !== null) return y;
  }
  const { gemm, pool } = start();
  const p = paddedOf(N, C, H, W, O, KH, KW, py, px);
  const { Qp, Op, R } = wideSizes(p);
  const threads = threadsFor(2 * N * O * p.OH * p.OW * R, N);
  const slack = p.WP + 2 * TILE_N;
  const ySize = N * O * p.OH * p.OW;
  const result = resultArray(ySize);
  const { at: [XS, XP, WM, WROWS, WIN, YS, TILES], end } = layout([homeOf(x) === null ? x.length : 0, N * C * p.HP * p.WP + slack, O * R, Op, R, result === null ? ySize : 0, threads * Op * Qp]);
  const Y = result?.at ?? YS;
  gemm.reserve(end);
  const heap = gemm.heap;
  padInto(heap, XP, x, XS, N, C, H, W, py, px, slack);
  heap.set(wm, WM);
  gemm.writeRows(WROWS, Op, O, (o) => o * R);
  gemm.writeRows(WIN, R, R, windowRow(p));
  const jobs: Job[] = [];
  for (let t = 0; t < threads; t++) {
    const [n0, n1] = share(N, threads, t);
    jobs.push({ kind: 'correlate', p, xp: XP, w: WM, wRows: WROWS, windows: WIN, y: Y, tile: TILES + t * Op * Qp, n0, n1 });
  }
  pool.run(jobs);
  return result?.array ?? heap.slice(Y, Y + ySize);
}

/**
 * Below this many input channels a 3×3 layer stays on the direct route: the products' K is C, and
 * the transforms' cost per product grows as C shrinks (a network's first layer, C = 3).
 */
const WINOGRAD_MIN_CHANNELS = 8;

/**
 * Which route a stride-1 correlation of C channels of H×W images, padded by (py, px), with KH×KW
 * windows takes: Winograd's for 3×3 windows, padding 1, sizes that fit its tiles and at least
 * WINOGRAD_MIN_CHANNELS channels; else the implicit GEMM. (Winograd's route gives way to the
 * implicit one at run time too, where an output comes out non-finite.)
 */
export function correlateRoute(C: number, H: number, W: number, py: number, px: number, KH: number, KW: number): 'winograd' | 'implicit' {
  return KH === 3 && KW === 3 && py === 1 && px === 1 && winogradFits(H, W) && C >= WINOGRAD_MIN_CHANNELS ? 'winograd' : 'implicit';
}

/**
 * correlate's route for 3×3 windows and padding 1 (./winograd.ts): the weights transformed here,
 * each thread's images padded, transformed, multiplied and transformed back in groups that stay
 * in its cache. Returns null, having given its result's memory back, where an output came out
 * non-finite (a NaN or ±∞ among x or w, or an overflow): the direct route then computes the layer
 * as the reference does.
 */
function winogradCorrelate(x: Float32Array, N: number, C: number, H: number, W: number, wm: Float32Array, O: number): Float32Array | null {
  const { gemm, pool, arena } = start();
  const d = { N, C, H, W, O };
  const { Op } = tileSizes(d);
  const group = imagesPerGroup(d, scratchLayout);
  const threads = threadsFor(2 * N * O * H * W * C * 4, N); // 4 multiply-adds an output and channel
  const scratch = scratchLayout(d, group);
  const u = transformWeights(wm, O, C);
  const ySize = N * O * H * W;
  const result = resultArray(ySize);
  const xHome = homeOf(x);
  const { at: [XS, U, UROWS, VROWS, YS, S], end } = layout([xHome === null ? x.length : 0, u.length, Op, C, result === null ? ySize : 0, threads * scratch.size]);
  const X = xHome ?? XS, Y = result?.at ?? YS;
  gemm.reserve(end);
  const heap = gemm.heap;
  if (xHome === null) heap.set(x, X);
  heap.set(u, U);
  gemm.writeRows(UROWS, Op, O, (o) => o * C);
  gemm.writeRows(VROWS, C, C, (k) => XI * TILE_N * k);
  const jobs: WinogradJob[] = [];
  for (let t = 0; t < threads; t++) {
    const [n0, n1] = share(N, threads, t);
    jobs.push({ kind: 'winograd', d, x: X, u: U, uRows: UROWS, vRows: VROWS, scratch: S + t * scratch.size, group, y: Y, n0, n1 });
  }
  pool.run(jobs);
  for (const job of jobs) {
    const check = job.scratch + scratch.check;
    if (heap[check] !== 0 || heap[check + 1] !== 0 || heap[check + 2] !== 0 || heap[check + 3] !== 0) {
      if (result !== null) arena.dispose(result.array);
      return null;
    }
  }
  return result?.array ?? heap.slice(Y, Y + ySize);
}

/**
 * Which route conv2d's dw takes: Winograd's for stride-1, padding-1 3×3 layers whose sizes fit
 * its tiles and whose outputs come four at a time (O a multiple of 4) — whatever C, as its
 * products sum over the tiles (a network's first layer too); else a direct one (implicit GEMM or
 * im2col, as `conv2dWeightGrad` says). Winograd's gives way at run time where dw is non-finite.
 */
export function weightGradRoute(d: ConvDims): 'winograd' | 'direct' {
  const fits = unitStride(d) && d.KH === 3 && d.KW === 3 && d.PY === 1 && d.PX === 1 && winogradFits(d.H, d.W) && d.O % 4 === 0;
  return fits ? 'winograd' : 'direct';
}

/**
 * conv2d's dw by Winograd's route (./winograd.ts, "the weight gradient"). Returns null where dw came
 * out non-finite (a NaN or ±∞ among x or dy, or an overflow): the direct routes then compute it as
 * the reference does.
 */
function winogradWeightGrad(dy: Float32Array, x: Float32Array, d: ConvDims): Float32Array | null {
  const { gemm, pool } = start();
  const wd = { N: d.N, C: d.C, H: d.H, W: d.W, O: d.O };
  const { tiles } = tileSizes(wd);
  const group = imagesPerGroup(wd, weightGradLayout);
  const threads = threadsFor(2 * d.N * d.O * d.H * d.W * d.C * 4, d.N);
  const scratch = weightGradLayout(wd, group);
  const Cp = roundUp(d.C, TILE_M), rowTiles = group * tiles;
  const xHome = homeOf(x), dyHome = homeOf(dy);
  const { at: [XS, DYS, VROWS, DMROWS, S], end } = layout([xHome === null ? x.length : 0, dyHome === null ? dy.length : 0, Cp, rowTiles, threads * scratch.size]);
  gemm.reserve(end);
  const heap = gemm.heap;
  const X = xHome ?? XS, DY = dyHome ?? DYS;
  if (xHome === null) heap.set(x, X);
  if (dyHome === null) heap.set(dy, DY);
  gemm.writeRows(VROWS, Cp, d.C, (c) => XI * c * rowTiles);
  gemm.writeRows(DMROWS, rowTiles, rowTiles, (k) => XI * TILE_N * k);
  const jobs: WinogradWeightGradJob[] = [];
  for (let t = 0; t < threads; t++) {
    const [n0, n1] = share(d.N, threads, t);
    jobs.push({ kind: 'winogradWeightGrad', d: wd, x: X, dy: DY, vRows: VROWS, dmRows: DMROWS, scratch: S + t * scratch.size, group, n0, n1 });
  }
  pool.run(jobs);
  const dw = weightGradFromTransformed(heap, jobs.map((job) => job.scratch + scratch.du), d.O, d.C);
  return allFinite(dw) ? dw : null;
}

/** dwᵀ [Rp × Opad] summed over the threads' shares, as dw [O, C·KH·KW]. */
function gatherWeightGrad(heap: Float32Array, DWT: number, part: number, threads: number, O: number, R: number, Opad: number): Float32Array {
  const dw = new Float32Array(O * R);
  for (let o = 0; o < O; o++) {
    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let t = 0; t < threads; t++) s += heap[DWT + t * part + r * Opad + o];
      dw[o * R + r] = s;
    }
  }
  return dw;
}

function correlateWeightGrad(dy: Float32Array, x: Float32Array, d: ConvDims): Float32Array {
  const { gemm, pool } = start();
  const p = paddedOf(d.N, d.C, d.H, d.W, d.O, d.KH, d.KW, d.PY, d.PX);
  const { Q, R, Rp, Opad } = wideSizes(p);
  const threads = threadsFor(convFlop(d), d.N);
  const slack = p.WP + 2 * TILE_N;
  const part = align(Rp * Opad), dytSize = align(Q * Opad);
  const dyHome = homeOf(dy);
  const { at: [XS, XP, DYS, WIN, DYTROWS, DWT, DYT], end } = layout([homeOf(x) === null ? x.length : 0, d.N * d.C * p.HP * p.WP + slack, dyHome === null ? dy.length : 0, Rp, Q, threads * part, threads * dytSize]);
  gemm.reserve(end);
  const heap = gemm.heap;
  padInto(heap, XP, x, XS, d.N, d.C, d.H, d.W, d.PY, d.PX, slack);
  const DY = dyHome ?? DYS;
  if (dyHome === null) heap.set(dy, DY);
  gemm.writeRows(WIN, Rp, R, windowRow(p));
  gemm.writeRows(DYTROWS, Q, Q, (q) => TILE_N * q);
  const jobs: Job[] = [];
  for (let t = 0; t < threads; t++) {
    const [n0, n1] = share(d.N, threads, t);
    jobs.push({ kind: 'correlateWeightGrad', p, xp: XP, windows: WIN, dy: DY, dyt: DYT + t * dytSize, dytRows: DYTROWS, dwt: DWT + t * part, n0, n1 });
  }
  pool.run(jobs);
  return gatherWeightGrad(heap, DWT, part, threads, d.O, R, Opad);
}

// ── convolutions, any stride: im2col / col2im (./lowering.ts) ──

function im2colConv(x: Float32Array, w: Float32Array, d: ConvDims): Float32Array {
  const { gemm, pool } = start();
  const R = d.C * d.KH * d.KW, P = d.OH * d.OW, Op = roundUp(d.O, TILE_M), Pp = roundUp(P, TILE_N);
  const threads = threadsFor(convFlop(d), d.N);
  const { HP, WP } = paddedSize(d);
  const scratch = align(R * Pp + Op * Pp) + align(d.C * HP * WP); // cols (packed) | y tile | padded image
  const result = resultArray(d.N * d.O * P);
  const xHome = homeOf(x);
  const { at: [XS, W, WROWS, COLROWS, YS, S], end } = layout([xHome === null ? x.length : 0, d.O * R, Op, R, result === null ? d.N * d.O * P : 0, threads * scratch]);
  gemm.reserve(end);
  const heap = gemm.heap;
  const X = xHome ?? XS, Y = result?.at ?? YS;
  if (xHome === null) heap.set(x, X);
  heap.set(w, W);
  gemm.writeRows(WROWS, Op, d.O, (o) => o * R);
  gemm.writeRows(COLROWS, R, R, (k) => TILE_N * k);
  const jobs: Job[] = [];
  for (let t = 0; t < threads; t++) {
    const [n0, n1] = share(d.N, threads, t);
    const cols = S + t * scratch;
    jobs.push({ kind: 'im2col', d, x: X, w: W, wRows: WROWS, colRows: COLROWS, y: Y, cols, tile: cols + R * Pp, xp: cols + align(R * Pp + Op * Pp), n0, n1 });
  }
  pool.run(jobs);
  return result?.array ?? heap.slice(Y, Y + d.N * d.O * P);
}

function col2imInputGrad(dy: Float32Array, w: Float32Array, d: ConvDims): Float32Array {
  const { gemm, pool } = start();
  const R = d.C * d.KH * d.KW, Rp = roundUp(R, TILE_M), P = d.OH * d.OW, Pp = roundUp(P, TILE_N);
  const dxSize = d.N * d.C * d.H * d.W;
  const threads = threadsFor(convFlop(d), d.N);
  const { HP, WP } = paddedSize(d);
  const scratch = align(d.O * Pp + Rp * Pp) + align(d.C * HP * WP); // dy[n] (packed) | dcols | padded dx[n]
  const result = resultArray(dxSize);
  const dyHome = homeOf(dy);
  const { at: [DYS, WT, WTROWS, DYROWS, DXS, S], end } = layout([dyHome === null ? dy.length : 0, R * d.O, Rp, d.O, result === null ? dxSize : 0, threads * scratch]);
  gemm.reserve(end);
  const heap = gemm.heap;
  const DY = dyHome ?? DYS, DX = result?.at ?? DXS;
  if (dyHome === null) heap.set(dy, DY);
  placeA(heap, WT, d.O, w, 0, R, d.O, true);
  gemm.writeRows(WTROWS, Rp, R, (r) => r * d.O);
  gemm.writeRows(DYROWS, d.O, d.O, (k) => TILE_N * k);
  const jobs: Job[] = [];
  for (let t = 0; t < threads; t++) {
    const [n0, n1] = share(d.N, threads, t);
    const dyn = S + t * scratch;
    jobs.push({ kind: 'col2im', d, dy: DY, wt: WT, wtRows: WTROWS, dyRows: DYROWS, dx: DX, dyn, dcols: dyn + d.O * Pp, xp: dyn + align(d.O * Pp + Rp * Pp), n0, n1 });
  }
  pool.run(jobs);
  return result?.array ?? heap.slice(DX, DX + dxSize);
}

function im2colWeightGrad(dy: Float32Array, x: Float32Array, d: ConvDims): Float32Array {
  const { gemm, pool } = start();
  const R = d.C * d.KH * d.KW, Rp = roundUp(R, TILE_M), Opad = roundUp(d.O, TILE_N), P = d.OH * d.OW;
  const threads = threadsFor(convFlop(d), d.N);
  const { HP, WP } = paddedSize(d);
  const scratch = align(Rp * P + P * Opad) + align(d.C * HP * WP); // cols (row-major) | dy[n]ᵀ (packed) | padded image
  const part = align(Rp * Opad);
  const dyHome = homeOf(dy), xHome = homeOf(x);
  const { at: [DYS, XS, COLROWS, DYTROWS, DWT, S], end } = layout([dyHome === null ? dy.length : 0, xHome === null ? x.length : 0, Rp, P, threads * part, threads * scratch]);
  gemm.reserve(end);
  const heap = gemm.heap;
  const DY = dyHome ?? DYS, X = xHome ?? XS;
  if (dyHome === null) heap.set(dy, DY);
  if (xHome === null) heap.set(x, X);
  gemm.writeRows(COLROWS, Rp, Rp, (r) => r * P);
  gemm.writeRows(DYTROWS, P, P, (k) => TILE_N * k);
  const jobs: Job[] = [];
  for (let t = 0; t < threads; t++) {
    const [n0, n1] = share(d.N, threads, t);
    const cols = S + t * scratch;
    jobs.push({ kind: 'im2colWeightGrad', d, x: X, dy: DY, colRows: COLROWS, dytRows: DYTROWS, dwt: DWT + t * part, cols, dyt: cols + Rp * P, xp: cols + align(Rp * P + P * Opad), n0, n1 });
  }
  pool.run(jobs);
  return gatherWeightGrad(heap, DWT, part, threads, d.O, R, Opad);
}

// ── the three products of conv2d, by route ──

const unitStride = (d: ConvDims): boolean => d.SY === 1 && d.SX === 1;

/** y = conv2d(x, w) (no bias), the forward of src/nn/ops/conv2d.ts. */
function conv2d(x: Float32Array, w: Float32Array, d: ConvDims): Float32Array {
  return unitStride(d) ? correlate(x, d.N, d.C, d.H, d.W, d.PY, d.PX, w, d.O, d.KH, d.KW) : im2colConv(x, w, d);
}

/**
 * conv2d's dx, from dy and w. For a stride-1 layer it is itself a stride-1 correlation: of dy,
 * padded by (KH−1−py, KW−1−px), with the weights flipped in both axes and their in/out channels
 * swapped,
 *   wf[c, o, ky, kx] = w[o, c, KH−1−ky, KW−1−kx]
 * (src/nn/ops/conv2d.ts derives it). It needs py ≤ KH−1 and px ≤ KW−1; otherwise col2im.
 */
function conv2dInputGrad(dy: Float32Array, w: Float32Array, d: ConvDims): Float32Array {
  if (!unitStride(d) || d.PY > d.KH - 1 || d.PX > d.KW - 1) return col2imInputGrad(dy, w, d);
  const { O, C, KH, KW } = d;
  const wf = new Float32Array(w.length);
  for (let o = 0; o < O; o++) {
    for (let c = 0; c < C; c++) {
      for (let ky = 0; ky < KH; ky++) {
        for (let kx = 0; kx < KW; kx++) wf[((c * O + o) * KH + ky) * KW + kx] = w[((o * C + c) * KH + KH - 1 - ky) * KW + KW - 1 - kx];
      }
    }
  }
  return correlate(dy, d.N, O, d.OH, d.OW, KH - 1 - d.PY, KW - 1 - d.PX, wf, C, KH, KW);
}

/**
 * conv2d's dw, from dy and x. The implicit route's wide output multiplies the dropped columns' zero
 * dy by real x values (./jobs.ts), which is harmless for finite x but turns a NaN or ±∞ there into
 * NaN in weights whose real windows never read it; so x with any non-finite value takes the
 * im2col route, whose products are exactly the reference's (one pass over x decides: ~1 % of a step).
 */
function conv2dWeightGrad(dy: Float32Array, x: Float32Array, d: ConvDims): Float32Array {
  if (weightGradRoute(d) === 'winograd') {
    const dw = winogradWeightGrad(dy, x, d);
    if (dw !== null) return dw;
  }
  return unitStride(d) && allFinite(x) ? correlateWeightGrad(dy, x, d) : im2colWeightGrad(dy, x, d);
}

/** Whether every value is finite: 0·v is 0 for finite v and NaN for NaN and ±∞. */
function allFinite(values: Float32Array): boolean {
  const home = homeOf(values);
  if (home !== null) {
    // values lives in the kernels' memory: a wasm kernel sums 0·v four lanes at a time (the block's
    // padding past the last vector is zeroed first, as the kernel reads whole vectors)
    const { gemm } = start();
    const [OUT] = layout([4]).at;
    const heap = gemm.heap;
    const whole = Math.ceil(values.length / 4) * 4;
    heap.fill(0, home + values.length, home + whole);
    streamKernels(gemm.memory).zeroTimes(4 * home, 4 * OUT, 4 * whole);
    return heap[OUT] === 0 && heap[OUT + 1] === 0 && heap[OUT + 2] === 0 && heap[OUT + 3] === 0;
  }
  let zero = 0;
  for (let i = 0; i < values.length; i++) zero += values[i] * 0;
  return zero === 0;
}

/** The kernels an op's gpu implementation may ask the kit for (GpuKit.simd); each returns a new array. */
export const simdKernels = { matmul, conv2d, conv2dInputGrad, conv2dWeightGrad };
