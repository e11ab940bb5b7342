/**
 * A hand-written WebAssembly SIMD matrix product (GEMM), the engine under the gpu backend's
 * heaviest kernels when it runs on the CPU (webasm mode): matmul, and conv2d as matrix products
 * (./lowering.ts, ./jobs.ts).
 *
 *   C[M×N] (+)= A[M×K] · B[K×N]
 *
 * Why by hand. gpu.js's webasm code computes one output per thread, four threads to a SIMD
 * vector, and reads every lane-varying array element with four scalar loads: ~20 instructions per
 * 8 flops, near 1.8 GFLOP/s per core here. The kernel below is the textbook register-blocked one
 * (as in BLIS and XNNPACK): it keeps a 4×8 tile of C in eight 4-lane registers and, for each k,
 * loads 8 floats of B's row k as two vectors, loads each of A's 4 values a[i][k] straight into all
 * four lanes of a vector (v128.load32_splat: one instruction, where f32.load then f32x4.splat took
 * two and ran the kernel ~20 % slower) and adds the 4×8 products — 64 flops for 2 vector loads,
 * 4 splatting loads and 16 vector ops (8 with fused multiply-adds, below).
 * Summation order per element is k = 0, 1, …, K−1 from 0, as in the reference matmul.
 *
 * Two inner loops. Each step of the sum is a multiply then an add. Core wasm SIMD has only the
 * separate f32x4.mul and f32x4.add, so the portable loop does two vector ops per step and rounds
 * twice — bit-identical to a plain float32 loop. Relaxed SIMD adds f32x4.relaxed_madd, a·b + c
 * in one instruction (one x86 vfmadd, one ARM fmla): half the arithmetic instructions of the
 * loop (measured on this project's 2-core x86 under Node 20: GEMM 512³ 54–58 → 64 GFLOP/s, 1024³
 * 58 → 71; training steps up to ~20 % faster). It is "relaxed" because the engine may fuse
 * (round once) or not, so results may differ from the portable loop's in the last bits — within
 * the float32 tolerances the ops are tested to. Not every engine has it (Chrome ≥ 114 does; Node 20 behind a V8 flag, which the Node
 * wing sets), so the module is built with the FMA loop only where a tiny module using it
 * validates (`fmaSupported`), and unless it was turned off (`setSimdFma`, GRADLAB_FMA=0 in Node).
 *
 * Where the operands are: row tables. Row i of A starts at a + aRows[i] and runs along k; row k of
 * B starts at b + bRows[k] and runs along j, in panels of 8 columns bPanel floats apart; C has
 * row stride ldc and its panels of 8 columns cPanel floats apart (8 for a row-major C). (aRows
 * and bRows are int32 tables in the memory; offsets count floats.) The tables let one kernel read
 * its operands in place:
 *   - a row-major A: aRows[i] = i·lda;
 *   - a B packed in panels (`packB`): panel p holds columns 8p … 8p+7 row after row, so
 *     bRows[k] = 8k and bPanel = 8K — each panel is read front to back, 32 bytes a step (read
 *     straight from a row-major B with rows 4 KiB apart, every step lands in the same cache set:
 *     a 1024-wide B ran at half speed);
 *   - a convolution's shifted windows, without copying them into im2col's matrix: with the
 *     image zero-padded, the row of B for (c, ky, kx) is the padded plane c read from row ky,
 *     column kx on (./jobs.ts, "implicit GEMM").
 *
 * Tiles are whole: M a multiple of 4 and N of 8. Callers pad (`roundUp`): padding rows of A and
 * columns of B may hold anything finite or not — they reach only padding rows and columns of C,
 * which are ignored.
 *
 * Memory. The kernel works on one shared WebAssembly.Memory, which worker threads run the same
 * kernel over (./threads.ts). `Gemm.heap` views it as floats and `Gemm.table` as int32; callers
 * write operands and tables into it (`reserve` first, which may grow it), call `gemm`, and read C
 * back. The memory is scratch space reused by every call; tensors stay ordinary Float32Arrays.
 */
import { assemble, FunctionBody, MAX_PAGES, V128, I32 } from './assembler.js';
import { shown } from '../../../util/format.js';

/** Rows and columns of the register tile. */
export const TILE_M = 4;
export const TILE_N = 8;

/** n rounded up to a multiple of `to`. */
export const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

/** Where element (k, j) of a K-row B packed in panels of 8 columns sits (see the header). */
export const packedIndex = (k: number, j: number, K: number): number => ((j >> 3) * K + k) * 8 + (j & 7);

/** Where A, B and C are: the header's row tables. Offsets count floats (or int32s, for the tables). */
export interface Operands {
  readonly a: number;
  readonly aRows: number;
  readonly b: number;
  readonly bRows: number;
  readonly bPanel: number;
  readonly c: number;
  readonly ldc: number;
  /**
   * How far apart C's panels of 8 columns start (default 8: C row-major). Winograd's route
   * (./winograd.ts) writes its 16 products interleaved, each panel of one product 128 floats
   * from the next.
   */
  readonly cPanel?: number;
}

/**
 * gemm(a, aRows, b, bRows, bPanel, c, ldc, cPanel, M, N, K, accumulate): the kernel's source,
 * instruction by instruction. Addresses and the strides bPanel, ldc, cPanel are in bytes here
 * (`Gemm.gemm` converts).
 */
function gemmFunction(fma: boolean): FunctionBody {
  const f = new FunctionBody('gemm', 12);
  const [a, aRows, b, bRows, bPanel, c, ldc, cPanel, M, N, K, accumulate] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const i = f.local(I32), j = f.local(I32), k = f.local(I32);
  const bj = f.local(I32), cj = f.local(I32), row = f.local(I32), pb = f.local(I32), pc = f.local(I32);
  const pa = Array.from({ length: TILE_M }, () => f.local(I32)); // &a[i + r][k] for the tile's rows r
  const acc = Array.from({ length: TILE_M * 2 }, () => f.local(V128)); // C tile row r: acc[2r], acc[2r + 1]
  const b0 = f.local(V128), b1 = f.local(V128), s = f.local(V128);

  // Column panels of 8 outside, so B's panel (K × 8 floats) stays in cache while every row tile
  // of A passes over it.
  f.forRange(j, 0, N, TILE_N, () => {
    // bj = b + (j/8)·bPanel: where this panel's rows start, before each row's own offset
    f.get(b).get(j).i32(3).shrU().get(bPanel).mul().add().set(bj);
    // cj = c + (j/8)·cPanel: where this panel of C starts
    f.get(c).get(j).i32(3).shrU().get(cPanel).mul().add().set(cj);
    f.forRange(i, 0, M, TILE_M, () => {
      // pa[r] = a + aRows[i + r] (floats → bytes);  pc = cj + i·ldc
      for (let r = 0; r < TILE_M; r++) f.get(a).get(aRows).get(i).i32(4).mul().add().i32Load(r * 4).i32(4).mul().add().set(pa[r]);
      f.get(cj).get(i).get(ldc).mul().add().set(pc);

      // The C tile starts as C (accumulate) or 0; row r of the tile is at pc + r·ldc.
      f.if(
        () => f.get(accumulate),
        () => {
          for (let r = 0; r < TILE_M; r++) {
            f.get(pc).get(ldc).i32(r).mul().add().v128Load(0).set(acc[2 * r]);
            f.get(pc).get(ldc).i32(r).mul().add().v128Load(16).set(acc[2 * r + 1]);
          }
        },
        () => {
          for (const v of acc) f.v128Zero().set(v);
        },
      );

      // for k = 0 … K−1: the 4×8 tile += a[i..i+3][k] ⊗ b[k][j..j+7]
      f.get(bRows).set(row);
      f.get(K).set(k);
      f.repeat(k, () => {
        f.get(bj).get(row).i32Load(0).i32(4).mul().add().set(pb); // pb = bj + bRows[k] (floats → bytes)
        f.get(pb).v128Load(0).set(b0);
        f.get(pb).v128Load(16).set(b1);
        for (let r = 0; r < TILE_M; r++) {
          f.get(pa[r]).v128Load32Splat(0).set(s);
          if (fma) {
            // acc += s·b, one fused multiply-add each (see the header: two inner loops)
            f.get(s).get(b0).get(acc[2 * r]).f32x4RelaxedMadd().set(acc[2 * r]);
            f.get(s).get(b1).get(acc[2 * r + 1]).f32x4RelaxedMadd().set(acc[2 * r + 1]);
          } else {
            f.get(acc[2 * r]).get(s).get(b0).f32x4Mul().f32x4Add().set(acc[2 * r]);
            f.get(acc[2 * r + 1]).get(s).get(b1).f32x4Mul().f32x4Add().set(acc[2 * r + 1]);
          }
          f.addTo(pa[r], () => f.i32(4));
        }
        f.addTo(row, () => f.i32(4)); // the table's next entry
      });

      for (let r = 0; r < TILE_M; r++) {
        f.get(pc).get(ldc).i32(r).mul().add().get(acc[2 * r]).v128Store(0);
        f.get(pc).get(ldc).i32(r).mul().add().get(acc[2 * r + 1]).v128Store(16);
      }
    });
  });
  return f;
}

/**
 * packRows(b, to, K, N) and packColumns(b, to, K, N): the B operand packed in panels (the header's
 * `packB` layout: panel p holds columns 8p … 8p+7 row after row) at `to`, from B [K × N] stored
 * row-major at b (packRows: two vectors a row of a panel), or stored transposed, [N × K] (packColumns:
 * 4×4 blocks transposed in registers, four rows of a panel from four loads). Whole panels and, for
 * packColumns, K a multiple of 4: callers pack other sizes in JS (./lowering.ts packB). Byte
 * addresses. What the matmul kernel (./kernels.ts) packs with: packing a 1M-float weight in JS
 * took ~3–5 ms, longer than its product.
 */
function packFunction(transposed: boolean): FunctionBody {
  const f = new FunctionBody(transposed ? 'packColumns' : 'packRows', 4);
  const [b, to, K, N] = [0, 1, 2, 3];
  const j = f.local(I32), k = f.local(I32), from = f.local(I32), at = f.local(I32);
  const v = Array.from({ length: 4 }, () => f.local(V128)), lo = f.local(V128), hi = f.local(V128);
  f.get(to).set(at);
  f.forRange(j, 0, N, TILE_N, () => {
    if (!transposed) {
      // row k of the panel: b[k][j … j+7], N floats on per row
      f.get(b).get(j).i32(4).mul().add().set(from);
      f.forRange(k, 0, K, 1, () => {
        f.get(at).get(from).v128Load(0).v128Store(0);
        f.get(at).get(from).v128Load(16).v128Store(16);
        f.addTo(from, () => f.get(N).i32(4).mul());
        f.addTo(at, () => f.i32(4 * TILE_N));
      });
    } else {
      f.forRange(k, 0, K, 4, () => {
        for (let half = 0; half < 2; half++) {
          // v[r] = b[j + 4·half + r][k … k+3] (lane l: row k + l of column j + 4·half + r)
          for (let r = 0; r < 4; r++) f.get(b).get(j).i32(4 * half + r).add().get(K).mul().get(k).add().i32(4).mul().add().v128Load(0).set(v[r]);
          // transposed: lane r of the vector for row k + l is v[r][l]
          f.get(v[0]).get(v[1]).f32x4Shuffle([0, 4, 1, 5]).set(lo);
          f.get(v[0]).get(v[1]).f32x4Shuffle([2, 6, 3, 7]).set(hi);
          f.get(v[2]).get(v[3]).f32x4Shuffle([0, 4, 1, 5]).set(v[0]);
          f.get(v[2]).get(v[3]).f32x4Shuffle([2, 6, 3, 7]).set(v[1]);
          const row = (l: number): number => 4 * (TILE_N * l + 4 * half); // row k + l's lanes 4·half …
          f.get(at).get(lo).get(v[0]).f32x4Shuffle([0, 1, 4, 5]).v128Store(row(0));
          f.get(at).get(lo).get(v[0]).f32x4Shuffle([2, 3, 6, 7]).v128Store(row(1));
          f.get(at).get(hi).get(v[1]).f32x4Shuffle([0, 1, 4, 5]).v128Store(row(2));
          f.get(at).get(hi).get(v[1]).f32x4Shuffle([2, 3, 6, 7]).v128Store(row(3));
        }
        f.addTo(at, () => f.i32(4 * 4 * TILE_N)); // four rows of the panel on
      });
    }
  });
  return f;
}

const PAGE_BYTES = 65536;

type GemmExport = (...args: number[]) => void;
type PackExport = (b: number, to: number, K: number, N: number) => void;

/** The compiled kernel, with the FMA inner loop and without (each built on first use). */
const compiled = new Map<boolean, WebAssembly.Module>();

let fmaSupport: boolean | null = null;

/**
 * Whether this engine has relaxed SIMD's f32x4.relaxed_madd: whether a module of one function
 * using it validates. Asked once, when the first kernel is built (in Node, after the Node wing has
 * set V8's flag for it).
 */
export function fmaSupported(): boolean {
  if (fmaSupport === null) {
    const probe = new FunctionBody('probe', 0);
    const v = probe.local(V128);
    probe.v128Zero().v128Zero().v128Zero().f32x4RelaxedMadd().set(v);
    fmaSupport = WebAssembly.validate(assemble([probe], { initialPages: 1, maximumPages: 1, shared: false }));
  }
  return fmaSupport;
}

let fmaWanted = true;

/**
 * Whether the kernel may use the FMA inner loop where the engine has it (default true;
 * GRADLAB_FMA=0 in Node). Read when the SIMD kernels start, at their first op.
 */
export function setSimdFma(enabled: boolean): void {
  if (typeof enabled !== 'boolean') throw new Error(`setSimdFma: expected true or false; got ${shown(enabled)}`);
  fmaWanted = enabled;
}

/** Whether a kernel built now uses the FMA inner loop: wanted and supported. */
export function gemmUsesFma(): boolean {
  return fmaWanted && fmaSupported();
}

/** A memory for the kernel, shared so that worker threads (./threads.ts) run it over the same floats. */
export function createSharedMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
}

/**
 * The GEMM kernel over one (shared) memory: one per thread, all over the same memory. `fma`: which
 * inner loop (the header's "two inner loops"); worker threads are given the main thread's choice.
 */
export class Gemm {
  private readonly kernel: GemmExport;
  private readonly packs: { rows: PackExport; columns: PackExport };
  private view: Float32Array;
  private ints: Int32Array;

  constructor(
    readonly memory: WebAssembly.Memory,
    readonly fma: boolean = gemmUsesFma(),
  ) {
    let module = compiled.get(fma);
    if (module === undefined) {
      module = new WebAssembly.Module(assemble([gemmFunction(fma), packFunction(false), packFunction(true)], { initialPages: 1, maximumPages: MAX_PAGES, shared: true }));
      compiled.set(fma, module);
    }
    const { gemm, packRows, packColumns } = new WebAssembly.Instance(module, { env: { memory } }).exports;
    if (typeof gemm !== 'function' || typeof packRows !== 'function' || typeof packColumns !== 'function') {
      throw new Error('wasm gemm: the assembled module does not export gemm, packRows and packColumns');
    }
    this.kernel = gemm as GemmExport;
    this.packs = { rows: packRows as PackExport, columns: packColumns as PackExport };
    this.view = new Float32Array(memory.buffer);
    this.ints = new Int32Array(memory.buffer);
  }

  /** The memory as floats (a new view after the memory grew, from any thread). */
  get heap(): Float32Array {
    if (this.view.length * 4 !== this.memory.buffer.byteLength) this.view = new Float32Array(this.memory.buffer);
    return this.view;
  }

  /** The memory as int32s, for the row tables (same offsets as `heap`). */
  get table(): Int32Array {
    if (this.ints.length * 4 !== this.memory.buffer.byteLength) this.ints = new Int32Array(this.memory.buffer);
    return this.ints;
  }

  /**
   * Writes a row table at int offset `at`: entry r = row(r) for the `rows` real rows, then 0 (row 0
   * again) for the padding rows up to `count`.
   */
  writeRows(at: number, count: number, rows: number, row: (r: number) => number): void {
    const t = this.table;
    for (let r = 0; r < count; r++) t[at + r] = r < rows ? row(r) : 0;
  }

  /** Makes the memory hold at least `floats` floats (main thread, between kernel runs). */
  reserve(floats: number): void {
    const needed = Math.ceil((floats * 4) / PAGE_BYTES);
    const have = this.memory.buffer.byteLength / PAGE_BYTES;
    if (needed > have) {
      if (needed > MAX_PAGES) {
        throw new Error(`wasm gemm: this product needs ${((floats * 4) / 2 ** 30).toFixed(2)} GiB of kernel memory, over its 1 GiB; use a smaller batch`);
      }
      this.memory.grow(needed - have);
    }
  }

  /**
   * Packs B [K × N] at float offset `from` (row-major, or stored transposed [N × K] when
   * `transposed`) into panels at `to` (`packFunction`). N must be a multiple of 8, and K of 4 when
   * transposed; both regions must be in the memory.
   */
  pack(from: number, to: number, K: number, N: number, transposed: boolean): void {
    if (N % TILE_N !== 0 || (transposed && K % 4 !== 0)) {
      throw new Error(`wasm gemm: pack needs N a multiple of ${TILE_N}${transposed ? ' and K of 4' : ''}; got K=${K}, N=${N}`);
    }
    const size = this.heap.length;
    if (from + K * N > size || to + K * N > size) throw new Error(`wasm gemm: pack reaches past the memory (${size} floats); reserve() first`);
    (transposed ? this.packs.columns : this.packs.rows)(from * 4, to * 4, K, N);
  }

  /** C (+)= A·B with the operands where `o` says (see the header). M must be a multiple of 4 and N of 8. */
  gemm(o: Operands, M: number, N: number, K: number, accumulate: boolean): void {
    if (M % TILE_M !== 0 || N % TILE_N !== 0 || K < 1) {
      throw new Error(`wasm gemm: M must be a multiple of ${TILE_M} and N of ${TILE_N}, K ≥ 1; got M=${M}, N=${N}, K=${K}`);
    }
    const size = this.heap.length;
    const cPanel = o.cPanel ?? TILE_N;
    if (o.aRows + M > size || o.bRows + K > size || o.c + (M - 1) * o.ldc + (N / TILE_N - 1) * cPanel + TILE_N > size) {
      throw new Error(`wasm gemm: a table or C reaches past the memory (${size} floats); reserve() first`);
    }
    this.kernel(o.a * 4, o.aRows * 4, o.b * 4, o.bRows * 4, o.bPanel * 4, o.c * 4, o.ldc * 4, cPanel * 4, M, N, K, accumulate ? 1 : 0);
  }
}
