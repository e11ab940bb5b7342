/**
 * WebAssembly SIMD kernels that stream over arrays in the SIMD kernels' shared memory, four floats
 * a step: the arithmetic of batch normalisation, the activations, dropout, elementwise arithmetic,
 * 2×2 max pooling, and the convolutions' row copies (./loops.ts lays their operands out and splits
 * the work between the threads; the results stay in the memory, ./arena.ts).
 *
 * Two shapes of loop (and two of their own: the pooling windows, the row copies):
 *   - elementwise, over `bytes` bytes of each array (a multiple of 16: callers round the count up
 *     to whole vectors; the extra lanes fall in the regions' padding and are never read back);
 *   - per plane, over `planes` consecutive planes of `planeBytes` bytes each (a plane is one
 *     channel of one example: x [N, C, S] holds N·C planes of S floats, S a multiple of 4), the
 *     channel of the first plane c0 and counting on modulo C; per-channel values are read from
 *     C-float arrays (mean, scale, …) at that channel; sums are kept in float64 (`summing`).
 *
 * Comparisons give lane masks (all ones where true), so branches become bitwise selects:
 * relu(v) = v AND (v > 0 OR v ≠ v) keeps v where it is positive or NaN and gives +0 elsewhere.
 * Every function takes byte addresses (i32) and returns nothing; one instance per thread over the
 * one shared memory (`streamKernels`).
 */
import { assemble, FunctionBody, I32, V128 } from './assembler.js';

/** An elementwise loop: `arrays` byte addresses and the byte count are its parameters; body(at) runs for each vector (at(array) pushes its address in that array). */
function elementwise(name: string, arrays: number, body: (f: FunctionBody, at: (array: number) => void) => void): FunctionBody {
  const f = new FunctionBody(name, arrays + 1);
  const bytes = arrays;
  const i = f.local(I32);
  f.forRange(i, 0, bytes, 16, () => body(f, (array) => f.get(array).get(i).add()));
  return f;
}

/** relu(x, y, bytes): y = x where x > 0 or x is NaN, else 0. */
function relu(): FunctionBody {
  return elementwise('relu', 2, (f, at) => {
    const v = f.local(V128);
    at(0);
    f.v128Load(0).set(v);
    at(1);
    f.get(v).get(v).v128Zero().f32x4Gt().get(v).get(v).f32x4Ne().v128Or().v128And().v128Store(0);
  });
}

/** reluGrad(x, dy, dx, bytes): dx = dy where x > 0, else 0 (relu's and frelu's dx). */
function reluGrad(): FunctionBody {
  return elementwise('reluGrad', 3, (f, at) => {
    at(2);
    at(1);
    f.v128Load(0);
    at(0);
    f.v128Load(0).v128Zero().f32x4Gt().v128And().v128Store(0);
  });
}

/** add(a, b, y, bytes): y = a + b; sub and mul likewise (`name` the kernel, `op` its instruction). */
function binary(name: 'add' | 'sub' | 'mul', op: (f: FunctionBody) => void): FunctionBody {
  return elementwise(name, 3, (f, at) => {
    at(2);
    at(0);
    f.v128Load(0);
    at(1);
    f.v128Load(0);
    op(f);
    f.v128Store(0);
  });
}

/** maskedScale(x, mask, scale, y, bytes): y = x·mask·scale[0] (dropout, forward and backward; scale a one-float array). */
function maskedScale(): FunctionBody {
  const f = new FunctionBody('maskedScale', 5);
  const [x, mask, scaleAt, y, bytes] = [0, 1, 2, 3, 4];
  const i = f.local(I32), scale = f.local(V128);
  f.get(scaleAt).f32Load(0).f32x4Splat().set(scale);
  f.forRange(i, 0, bytes, 16, () => {
    f.get(y).get(i).add();
    f.get(x).get(i).add().v128Load(0).get(mask).get(i).add().v128Load(0).f32x4Mul().get(scale).f32x4Mul();
    f.v128Store(0);
  });
  return f;
}

/**
 * zeroTimes(x, out, bytes): out (four floats) = Σ x·0, lane by lane — all zeros exactly when every
 * value is finite (0·v is NaN for NaN and ±∞): the convolutions' check of x before their implicit
 * weight-gradient route (./kernels.ts). `bytes` a multiple of 16: the region's padding lanes are
 * read too, so the caller zeroes them.
 */
function zeroTimes(): FunctionBody {
  const f = new FunctionBody('zeroTimes', 3);
  const [x, out, bytes] = [0, 1, 2];
  const i = f.local(I32), acc = f.local(V128);
  f.v128Zero().set(acc);
  f.forRange(i, 0, bytes, 16, () => f.get(acc).get(x).get(i).add().v128Load(0).v128Zero().f32x4Mul().f32x4Add().set(acc));
  f.get(out).get(acc).v128Store(0);
  return f;
}

/** neg(x, y, bytes): y = −x. */
function neg(): FunctionBody {
  return elementwise('neg', 2, (f, at) => {
    at(1);
    at(0);
    f.v128Load(0).f32x4Neg().v128Store(0);
  });
}

/**
 * A per-plane loop: the first `arrays` params are the kernel's arrays, then planes, C, c0,
 * planeBytes. `plane(channelByte)` runs before each plane (loading its channel's values:
 * channelByte pushes c·4), `vector(at)` for each vector of it (at(array) pushes the vector's
 * address in `array`), `afterPlane(p)` after it.
 */
function perPlane(
  name: string,
  arrays: number,
  body: {
    plane?: (f: FunctionBody, channelByte: () => void) => void;
    vector: (f: FunctionBody, at: (array: number) => void) => void;
    afterPlane?: (f: FunctionBody, planeIndex: number) => void;
  },
): FunctionBody {
  const f = new FunctionBody(name, arrays + 4);
  const [planes, C, c0, planeBytes] = [arrays, arrays + 1, arrays + 2, arrays + 3];
  const p = f.local(I32), c = f.local(I32), j = f.local(I32), base = f.local(I32), at = f.local(I32);
  const vector = (): void => {
    f.get(base).get(j).add().set(at);
    body.vector(f, (array) => f.get(array).get(at).add());
  };
  f.get(c0).set(c);
  f.i32(0).set(base);
  f.forRange(p, 0, planes, 1, () => {
    body.plane?.(f, () => f.get(c).i32(4).mul());
    f.forRange(j, 0, planeBytes, 16, vector);
    body.afterPlane?.(f, p);
    f.addTo(base, () => f.get(planeBytes));
    f.addTo(c, () => f.i32(1));
    f.if(() => f.get(c).get(C).eq(), () => f.i32(0).set(c));
  });
  return f;
}

/** Loads the f32 at array + channelByte, splatted to all four lanes, into `into`. */
function splatAt(f: FunctionBody, array: number, channelByte: () => void, into: number): void {
  f.get(array);
  channelByte();
  f.add().f32Load(0).f32x4Splat().set(into);
}

/**
 * The sum of a per-plane loop, in float64 like the reference's: each vector of terms (`add(f)`
 * pushes one, a v128 of four floats) goes into two float64 pairs of running sums, and after the
 * plane out[p] = their total, a float64 (8 bytes a plane). Float32 running sums would be ~10⁻⁶
 * off over a plane of 10⁴ values: a channel's μ moved that much shifts every value of the
 * channel the same way, and moves a training step's results visibly away from the reference's.
 */
function summing(out: number, add: (f: FunctionBody) => void): { plane: (f: FunctionBody) => void; vector: (f: FunctionBody) => void; afterPlane: (f: FunctionBody, p: number) => void } {
  let low = 0, high = 0, terms = 0;
  return {
    plane: (f) => {
      [low, high, terms] = [f.local(V128), f.local(V128), f.local(V128)];
      f.v128Zero().set(low).v128Zero().set(high);
    },
    vector: (f) => {
      add(f);
      f.set(terms);
      f.get(low).get(terms).f64x2PromoteLow().f64x2Add().set(low);
      f.get(high).get(terms).get(terms).f32x4Shuffle([2, 3, 0, 1]).f64x2PromoteLow().f64x2Add().set(high);
    },
    afterPlane: (f, p) => {
      f.get(out).get(p).i32(8).mul().add();
      f.get(low).get(high).f64x2Add().set(low);
      f.get(low).f64x2ExtractLane(0).get(low).f64x2ExtractLane(1).f64Add().f64Store(0);
    },
  };
}

/** planeSums(x, out, planes, C, c0, planeBytes): out[p] = Σ of plane p of x (out: float64s). */
function planeSums(): FunctionBody {
  let at: (array: number) => void = () => {};
  const sum = summing(1, (f) => {
    at(0);
    f.v128Load(0);
  });
  return perPlane('planeSums', 2, {
    plane: sum.plane,
    vector: (f, vectorAt) => {
      at = vectorAt;
      sum.vector(f);
    },
    afterPlane: sum.afterPlane,
  });
}

/**
 * planeSumsCentred(a, aShift, x, mean, out, planes, C, c0, planeBytes):
 * out[p] = Σ (a − aShift[c])·(x − mean[c]) over plane p — σ²'s squared deviations with a = x and
 * aShift = mean; batchNorm's Σ dy·(x − μ) with a = dy and aShift zeros (out: float64s; the
 * terms are float32 products, their sum float64).
 */
function planeSumsCentred(): FunctionBody {
  let shiftA = 0, mu = 0;
  let at: (array: number) => void = () => {};
  const sum = summing(4, (f) => {
    at(0);
    f.v128Load(0).get(shiftA).f32x4Sub();
    at(2);
    f.v128Load(0).get(mu).f32x4Sub().f32x4Mul();
  });
  return perPlane('planeSumsCentred', 5, {
    plane: (f, channelByte) => {
      sum.plane(f);
      shiftA = f.local(V128);
      mu = f.local(V128);
      splatAt(f, 1, channelByte, shiftA);
      splatAt(f, 3, channelByte, mu);
    },
    vector: (f, vectorAt) => {
      at = vectorAt;
      sum.vector(f);
    },
    afterPlane: sum.afterPlane,
  });
}

/** affine(x, shift, scale, offset, y, planes, C, c0, planeBytes): y = (x − shift[c])·scale[c] + offset[c]. */
function affine(): FunctionBody {
  let shift = 0, scale = 0, offset = 0;
  return perPlane('affine', 5, {
    plane: (f, channelByte) => {
      shift = f.local(V128);
      scale = f.local(V128);
      offset = f.local(V128);
      splatAt(f, 1, channelByte, shift);
      splatAt(f, 2, channelByte, scale);
      splatAt(f, 3, channelByte, offset);
    },
    vector: (f, at) => {
      at(4);
      at(0);
      f.v128Load(0).get(shift).f32x4Sub().get(scale).f32x4Mul().get(offset).f32x4Add().v128Store(0);
    },
  });
}

/**
 * normalize(x, shift, scale, offset, y, planes, C, c0, planeBytes): batchNorm's forward,
 * y = (x − shift[c])·scale[c] + offset[c], computed in float64 (the per-channel values are
 * float64 arrays, 8 bytes each) and rounded once to float32, as the reference kernel rounds it:
 * a step's later ops (pooling's argmax, the activations' kinks) then see the same values as the
 * reference's, where float32 arithmetic would move some of them by an ulp.
 */
function normalize(): FunctionBody {
  let shift = 0, scale = 0, offset = 0, v = 0, lo = 0;
  const affine64 = (f: FunctionBody): void => {
    f.get(shift).f64x2Sub().get(scale).f64x2Mul().get(offset).f64x2Add().f32x4DemoteZero();
  };
  return perPlane('normalize', 5, {
    plane: (f, channelByte) => {
      [shift, scale, offset, v, lo] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
      for (const [array, into] of [[1, shift], [2, scale], [3, offset]] as const) {
        f.get(array);
        channelByte();
        f.i32(2).mul().add().f64Load(0).f64x2Splat().set(into); // 8 bytes a value: 2·(c·4)
      }
    },
    vector: (f, at) => {
      at(0);
      f.v128Load(0).set(v);
      f.get(v).f64x2PromoteLow();
      affine64(f);
      f.set(lo);
      at(4);
      f.get(lo);
      f.get(v).get(v).f32x4Shuffle([2, 3, 0, 1]).f64x2PromoteLow();
      affine64(f);
      f.f32x4Shuffle([0, 1, 4, 5]).v128Store(0);
    },
  });
}

/** reluPlus(x, b, y, planes, C, c0, planeBytes): y = relu(x) + b[c] (frelu's forward). */
function reluPlus(): FunctionBody {
  let b = 0, v = 0;
  return perPlane('reluPlus', 3, {
    plane: (f, channelByte) => {
      b = f.local(V128);
      v = f.local(V128);
      splatAt(f, 1, channelByte, b);
    },
    vector: (f, at) => {
      at(0);
      f.v128Load(0).set(v);
      at(2);
      f.get(v).get(v).v128Zero().f32x4Gt().get(v).get(v).f32x4Ne().v128Or().v128And().get(b).f32x4Add().v128Store(0);
    },
  });
}

/**
 * bnGrad(x, dy, mean, invStd, dbm, dgm, scale, dx, planes, C, c0, planeBytes): batchNorm's dx in
 * training, in the reference's order: dx = scale·((dy − dbm) − (x − μ)·invStd·dgm), with
 * dbm = dβ/m, dgm = dγ/m and scale = γ·invStd per channel.
 */
function bnGrad(): FunctionBody {
  let mu = 0, invStd = 0, dbm = 0, dgm = 0, scale = 0;
  return perPlane('bnGrad', 8, {
    plane: (f, channelByte) => {
      [mu, invStd, dbm, dgm, scale] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
      splatAt(f, 2, channelByte, mu);
      splatAt(f, 3, channelByte, invStd);
      splatAt(f, 4, channelByte, dbm);
      splatAt(f, 5, channelByte, dgm);
      splatAt(f, 6, channelByte, scale);
    },
    vector: (f, at) => {
      at(7);
      f.get(scale);
      at(1);
      f.v128Load(0).get(dbm).f32x4Sub();
      at(0);
      f.v128Load(0).get(mu).f32x4Sub().get(invStd).f32x4Mul().get(dgm).f32x4Mul();
      f.f32x4Sub().f32x4Mul().v128Store(0);
    },
  });
}

// ── max pooling, 2×2 windows at stride 2 ──

/**
 * The scan of one row of windows, four windows a step: rows 2·oy and 2·oy + 1 of a plane, eight
 * floats of each (a at `at`, the second row rowBytes further on), give each window's four
 * candidates in scan order — top left, top right, bottom left, bottom right — as the even and odd
 * floats of each row. `m` ends as each window's max (the first maximal candidate, or the first
 * NaN: max-pool2d.ts's convention), `idx` as which candidate it is (0–3, i32 lanes).
 */
function scanWindows(f: FunctionBody, at: number, rowBytes: number, m: number, idx: number): void {
  const c = f.local(V128), take = f.local(V128), row = f.local(I32);
  const EVEN = [0, 2, 4, 6] as const, ODD = [1, 3, 5, 7] as const;
  for (let k = 0; k < 4; k++) {
    // candidate k: row ⌊k/2⌋, the even (k even) or odd floats of its eight
    f.get(at);
    if (k >= 2) f.get(rowBytes).add();
    f.tee(row).v128Load(0).get(row).v128Load(16).f32x4Shuffle(k % 2 === 0 ? EVEN : ODD).set(c);
    if (k === 0) {
      f.get(c).set(m);
      f.i32(0).i32x4Splat().set(idx);
      continue;
    }
    // c beats m: c > m, or c is NaN and m is not
    f.get(c).get(m).f32x4Gt().get(c).get(c).f32x4Ne().get(m).get(m).f32x4Eq().v128And().v128Or().set(take);
    f.get(c).get(m).get(take).v128Bitselect().set(m);
    f.i32(k).i32x4Splat().get(idx).get(take).v128Bitselect().set(idx);
  }
}

/**
 * A loop over `rows` rows of windows (planes·OH of them, consecutive in x and y): params first,
 * then rows and rowBytes (W·4, a multiple of 32); `step(at, half)` runs for every 8 floats of a
 * row pair, `at` the byte address of the top row's eight in x and `half` the byte offset of the
 * four windows' values in their row of y (j/2).
 */
function windowRows(name: string, arrays: number, step: (f: FunctionBody, at: number, half: number, rowBytes: number, xRow: number, yRow: number) => void): FunctionBody {
  const f = new FunctionBody(name, arrays + 2);
  const [rows, rowBytes] = [arrays, arrays + 1];
  const r = f.local(I32), j = f.local(I32), xRow = f.local(I32), yRow = f.local(I32), at = f.local(I32), half = f.local(I32);
  f.i32(0).set(xRow); // byte offsets of the current row pair in x, and its row in y
  f.i32(0).set(yRow);
  f.forRange(r, 0, rows, 1, () => {
    f.forRange(j, 0, rowBytes, 32, () => {
      f.get(0).get(xRow).add().get(j).add().set(at);
      f.get(j).i32(1).shrU().set(half);
      step(f, at, half, rowBytes, xRow, yRow);
    });
    f.get(xRow).get(rowBytes).i32(2).mul().add().set(xRow);
    f.get(yRow).get(rowBytes).i32(1).shrU().add().set(yRow);
  });
  return f;
}

/** maxPool2x2(x, y, rows, rowBytes): y = the max of each 2×2 window at stride 2. */
function maxPool2x2(): FunctionBody {
  return windowRows('maxPool2x2', 2, (f, at, half, rowBytes, _xRow, yRow) => {
    const m = f.local(V128), idx = f.local(V128);
    scanWindows(f, at, rowBytes, m, idx);
    f.get(1).get(yRow).add().get(half).add().get(m).v128Store(0);
  });
}

/**
 * maxPool2x2Grad(x, dy, dx, rows, rowBytes): each window's dy at its argmax, 0 at its other three
 * elements — a scatter without collisions, the windows being disjoint.
 */
function maxPool2x2Grad(): FunctionBody {
  return windowRows('maxPool2x2Grad', 3, (f, _at, half, rowBytes, xRow, yRow) => {
    const m = f.local(V128), idx = f.local(V128), d = f.local(V128), to = f.local(I32);
    const e = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
    scanWindows(f, _at, rowBytes, m, idx);
    f.get(1).get(yRow).add().get(half).add().v128Load(0).set(d);
    for (let k = 0; k < 4; k++) f.get(d).get(idx).i32(k).i32x4Splat().i32x4Eq().v128And().set(e[k]);
    // back in x's order: row 0 interleaves candidates 0 and 1, row 1 candidates 2 and 3
    f.get(2).get(xRow).add().get(half).i32(1).shl().add().set(to);
    for (const [row, left, right] of [[0, e[0], e[1]], [1, e[2], e[3]]] as const) {
      if (row === 1) f.addTo(to, () => f.get(rowBytes));
      f.get(to).get(left).get(right).f32x4Shuffle([0, 4, 1, 5]).v128Store(0);
      f.get(to).get(left).get(right).f32x4Shuffle([2, 6, 3, 7]).v128Store(16);
    }
  });
}

// ── copying rows ──

/**
 * copyPlanes(from, to, planes, rows, rowBytes, fromRow, toRow, fromPlane, toPlane): copies `rows`
 * rows of rowBytes bytes in each of `planes` planes, the rows fromRow/toRow bytes apart and the
 * planes fromPlane/toPlane (all byte strides): the convolutions' padding of images into wider
 * planes and their taking of the output's columns out of the wide product (./kernels.ts, ./jobs.ts),
 * 16 bytes a step and 4 at the row's end.
 */
function copyPlanes(): FunctionBody {
  const f = new FunctionBody('copyPlanes', 9);
  const [from, to, planes, rows, rowBytes, fromRow, toRow, fromPlane, toPlane] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const p = f.local(I32), r = f.local(I32), j = f.local(I32), src = f.local(I32), dst = f.local(I32), vectorBytes = f.local(I32);
  f.get(rowBytes).i32(-16).and().set(vectorBytes);
  f.forRange(p, 0, planes, 1, () => {
    f.get(from).get(p).get(fromPlane).mul().add().set(src);
    f.get(to).get(p).get(toPlane).mul().add().set(dst);
    f.forRange(r, 0, rows, 1, () => {
      f.forRange(j, 0, vectorBytes, 16, () => f.get(dst).get(j).add().get(src).get(j).add().v128Load(0).v128Store(0));
      f.get(vectorBytes).set(j);
      f.whileBelow(j, rowBytes, 4, () => f.get(dst).get(j).add().get(src).get(j).add().f32Load(0).f32Store(0));
      f.addTo(src, () => f.get(fromRow));
      f.addTo(dst, () => f.get(toRow));
    });
  });
  return f;
}

const PAGE_LIMIT = 16384; // as the GEMM's memory (./gemm.ts)

/** The functions by name, as callable exports. */
export type StreamKernels = Readonly<Record<StreamName, (...args: number[]) => void>>;
export type StreamName = 'relu' | 'reluGrad' | 'add' | 'sub' | 'mul' | 'neg' | 'maskedScale' | 'planeSums' | 'planeSumsCentred' | 'affine' | 'normalize' | 'reluPlus' | 'bnGrad' | 'maxPool2x2' | 'maxPool2x2Grad' | 'copyPlanes' | 'zeroTimes';

let compiled: WebAssembly.Module | null = null;
const instances = new WeakMap<WebAssembly.Memory, StreamKernels>();

/** The stream kernels over `memory` (one instance per thread and memory). */
export function streamKernels(memory: WebAssembly.Memory): StreamKernels {
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    compiled ??= new WebAssembly.Module(
      assemble([relu(), reluGrad(), binary('add', (f) => f.f32x4Add()), binary('sub', (f) => f.f32x4Sub()), binary('mul', (f) => f.f32x4Mul()), neg(), maskedScale(), planeSums(), planeSumsCentred(), affine(), normalize(), reluPlus(), bnGrad(), maxPool2x2(), maxPool2x2Grad(), copyPlanes(), zeroTimes()], { initialPages: 1, maximumPages: PAGE_LIMIT, shared: true }),
    );
    const exports = new WebAssembly.Instance(compiled, { env: { memory } }).exports;
    kernels = Object.fromEntries(Object.entries(exports).filter(([, v]) => typeof v === 'function')) as StreamKernels;
    instances.set(memory, kernels);
  }
  return kernels;
}
