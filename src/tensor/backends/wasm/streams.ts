/**
 * WebAssembly SIMD kernels that stream over arrays in the SIMD kernels' shared memory, four floats
 * a step: the arithmetic of batch normalisation, the activations, dropout, elementwise arithmetic,
 * 2×2 max pooling, and the convolutions' row copies (./loops.ts lays their operands out and splits
 * the work between the threads; the results stay in the memory, ./arena.ts).
 *
 * Two shapes of loop (and two of their own: the pooling windows, the row copies):
 *   - elementwise, over `bytes` bytes of each array (a multiple of 16: callers round the count up
 *     to whole vectors; the extra lanes fall in the regions' padding and are never read back);
 *   - per channel, over x [N, C, S] (N·C planes of S floats, a plane one channel of one example),
 *     reading per-channel values (mean, scale, …) and keeping sums in float64 (`summing`). Each
 *     such kernel is built for two walks: by planes (S a multiple of 4: four floats of one plane
 *     a vector, the plane's channel value splatted to its lanes) and by columns (S not, as for
 *     x [N, C], but C·S so: four consecutive values of a row a vector, going down the N rows, the
 *     per-channel values laid out one per column). `byPlanes` and `byColumns` say how.
 *
 * Comparisons give lane masks (all ones where true), so branches become bitwise selects:
 * relu(v) = v AND (v > 0 OR v ≠ v) keeps v where it is positive or NaN and gives +0 elsewhere.
 * Every function takes byte addresses (i32) and returns nothing; one instance per thread over the
 * one shared memory (`streamKernels`).
 */
import { FunctionBody, I32, kernelsOver, V128 } from './assembler.js';

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

/**
 * An elementwise loop with a scalar: params `arrays` input arrays, then a one-float array holding
 * the scalar, then the output and the byte count; body(at, scalar) pushes each output vector
 * (at(array) pushes the vector's address in input `array`; the scalar is splatted to four lanes).
 */
function withScalar(name: string, arrays: number, body: (f: FunctionBody, at: (array: number) => void, scalar: number) => void): FunctionBody {
  const f = new FunctionBody(name, arrays + 3);
  const [scalarAt, y, bytes] = [arrays, arrays + 1, arrays + 2];
  const i = f.local(I32), scalar = f.local(V128);
  f.get(scalarAt).f32Load(0).f32x4Splat().set(scalar);
  f.forRange(i, 0, bytes, 16, () => {
    f.get(y).get(i).add();
    body(f, (array) => f.get(array).get(i).add(), scalar);
    f.v128Store(0);
  });
  return f;
}

/** maskedScale(x, mask, scale, y, bytes): y = x·mask·scale (dropout, forward and backward). */
function maskedScale(): FunctionBody {
  return withScalar('maskedScale', 2, (f, at, scale) => {
    at(0);
    f.v128Load(0);
    at(1);
    f.v128Load(0).f32x4Mul().get(scale).f32x4Mul();
  });
}

/** addScaled(a, b, alpha, y, bytes): y = a + alpha·b, the product rounded before the sum (add's alpha). */
function addScaled(): FunctionBody {
  return withScalar('addScaled', 2, (f, at, alpha) => {
    at(0);
    f.v128Load(0);
    at(1);
    f.v128Load(0).get(alpha).f32x4Mul().f32x4Add();
  });
}

/** scale(x, alpha, y, bytes): y = alpha·x (add's db). */
function scale(): FunctionBody {
  return withScalar('scale', 1, (f, at, alpha) => {
    at(0);
    f.v128Load(0).get(alpha).f32x4Mul();
  });
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

// ── per-channel kernels: two walks over x [N, C, S] ──

/** The per-channel values one vector needs, loaded into v128 locals at the start of a plane or column. */
interface ChannelValues {
  /** Each lane's channel value from a float32 per-channel array (the array's param index). */
  f32(array: number): number;
  /** The same from a float64 array: lanes 0–1 and 2–3 as two f64x2 locals. */
  f64(array: number): readonly [number, number];
}

/** What a per-channel kernel does; its walk runs it. */
interface WalkBody {
  /** Before each plane (or column of vectors): loads the per-channel values its vectors use. */
  start?: (f: FunctionBody, values: ChannelValues) => void;
  /** For each vector: at(array) pushes the vector's address in that array. */
  vector: (f: FunctionBody, at: (array: number) => void) => void;
  /** After the plane (column): store(out, low, high) writes sums kept as two f64x2 locals (`summing`). */
  finish?: (f: FunctionBody, store: (out: number, low: number, high: number) => void) => void;
}

/** A walk: builds kernel `name`, whose first `arrays` params are arrays, around a body. */
type Walk = (name: string, arrays: number, body: WalkBody) => FunctionBody;

/**
 * The walk by planes, for S a multiple of 4: the params after the arrays are planes, C, c0,
 * planeBytes. Each plane's channel value is splatted to all four lanes; its sum is one float64,
 * out[p] (8 bytes a plane).
 */
const byPlanes: Walk = (name, arrays, body) => {
  const f = new FunctionBody(name, arrays + 4);
  const [planes, C, c0, planeBytes] = [arrays, arrays + 1, arrays + 2, arrays + 3];
  const p = f.local(I32), c = f.local(I32), j = f.local(I32), base = f.local(I32), at = f.local(I32);
  const channelByte = (): void => {
    f.get(c).i32(4).mul();
  };
  const values: ChannelValues = {
    f32: (array) => {
      const v = f.local(V128);
      f.get(array);
      channelByte();
      f.add().f32Load(0).f32x4Splat().set(v);
      return v;
    },
    f64: (array) => {
      const v = f.local(V128);
      f.get(array);
      channelByte();
      f.i32(2).mul().add().f64Load(0).f64x2Splat().set(v); // 8 bytes a value: 2·(c·4)
      return [v, v];
    },
  };
  const store = (out: number, low: number, high: number): void => {
    f.get(out).get(p).i32(8).mul().add();
    f.get(low).get(high).f64x2Add().set(low);
    f.get(low).f64x2ExtractLane(0).get(low).f64x2ExtractLane(1).f64Add().f64Store(0);
  };
  f.get(c0).set(c);
  f.i32(0).set(base);
  f.forRange(p, 0, planes, 1, () => {
    body.start?.(f, values);
    f.forRange(j, 0, planeBytes, 16, () => {
      f.get(base).get(j).add().set(at);
      body.vector(f, (array) => f.get(array).get(at).add());
    });
    body.finish?.(f, store);
    f.addTo(base, () => f.get(planeBytes));
    f.addTo(c, () => f.i32(1));
    f.if(() => f.get(c).get(C).eq(), () => f.i32(0).set(c));
  });
  return f;
};

/**
 * The walk by columns, for S not a multiple of 4 (S = 1 for x [N, C]) but C·S one: x read as N
 * rows of C·S columns, column j belonging to channel ⌊j/S⌋; the walk goes down the rows four
 * columns at a time. The params after the arrays are rows (N), rowBytes (C·S·4) and bytes (the
 * columns walked, as a byte range of a row). Per-channel arrays come one value per column
 * (./loops.ts repeats each channel's value S times) and are loaded four columns at a time; the
 * sums are one float64 per column, out[j] (8 bytes a column).
 */
const byColumns: Walk = (name, arrays, body) => {
  const f = new FunctionBody(name, arrays + 3);
  const [rows, rowBytes, bytes] = [arrays, arrays + 1, arrays + 2];
  const j = f.local(I32), n = f.local(I32), at = f.local(I32);
  const values: ChannelValues = {
    f32: (array) => {
      const v = f.local(V128);
      f.get(array).get(j).add().v128Load(0).set(v);
      return v;
    },
    f64: (array) => {
      const [low, high] = [f.local(V128), f.local(V128)];
      f.get(array).get(j).i32(1).shl().add().v128Load(0).set(low); // 8 bytes a value: 2·j
      f.get(array).get(j).i32(1).shl().add().v128Load(16).set(high);
      return [low, high];
    },
  };
  const store = (out: number, low: number, high: number): void => {
    f.get(out).get(j).i32(1).shl().add().get(low).v128Store(0);
    f.get(out).get(j).i32(1).shl().add().get(high).v128Store(16);
  };
  f.forRange(j, 0, bytes, 16, () => {
    body.start?.(f, values);
    f.get(j).set(at);
    f.forRange(n, 0, rows, 1, () => {
      body.vector(f, (array) => f.get(array).get(at).add());
      f.addTo(at, () => f.get(rowBytes));
    });
    body.finish?.(f, store);
  });
  return f;
};

/**
 * Sums in float64 like the reference's: each vector of terms (`add(f)` pushes one, a v128 of
 * four floats) goes into two float64 pairs of running sums, lanes 0–1 and 2–3, which the walk
 * stores at `out` (a plane's total, or four columns' sums). Float32 running sums would be ~10⁻⁶
 * off over a plane of 10⁴ values: a channel's μ moved that much shifts every value of the
 * channel the same way, and moves a training step's results visibly away from the reference's.
 */
function summing(out: number, add: (f: FunctionBody) => void): Required<Pick<WalkBody, 'finish'>> & { start: (f: FunctionBody) => void; vector: (f: FunctionBody) => void } {
  let low = 0, high = 0, terms = 0;
  return {
    start: (f) => {
      [low, high, terms] = [f.local(V128), f.local(V128), f.local(V128)];
      f.v128Zero().set(low).v128Zero().set(high);
    },
    vector: (f) => {
      add(f);
      f.set(terms);
      f.get(low).get(terms).f64x2PromoteLow().f64x2Add().set(low);
      f.get(high).get(terms).get(terms).f32x4Shuffle([2, 3, 0, 1]).f64x2PromoteLow().f64x2Add().set(high);
    },
    finish: (_f, store) => store(out, low, high),
  };
}

/** sums(x, out, …walk): out = Σ x over each plane (column) — planeSums, columnSums (out: float64s). */
function sums(name: string, walk: Walk): FunctionBody {
  let at: (array: number) => void = () => {};
  const sum = summing(1, (f) => {
    at(0);
    f.v128Load(0);
  });
  return walk(name, 2, {
    start: sum.start,
    vector: (f, vectorAt) => {
      at = vectorAt;
      sum.vector(f);
    },
    finish: sum.finish,
  });
}

/**
 * sumsCentred(a, aShift, x, mean, out, …walk): out = Σ (a − aShift[c])·(x − mean[c]) over each
 * plane (column) — σ²'s squared deviations with a = x and aShift = mean; batchNorm's
 * Σ dy·(x − μ) with a = dy and aShift zeros (out: float64s; the terms are float32 products,
 * their sum float64).
 */
function sumsCentred(name: string, walk: Walk): FunctionBody {
  let shiftA = 0, mu = 0;
  let at: (array: number) => void = () => {};
  const sum = summing(4, (f) => {
    at(0);
    f.v128Load(0).get(shiftA).f32x4Sub();
    at(2);
    f.v128Load(0).get(mu).f32x4Sub().f32x4Mul();
  });
  return walk(name, 5, {
    start: (f, values) => {
      sum.start(f);
      shiftA = values.f32(1);
      mu = values.f32(3);
    },
    vector: (f, vectorAt) => {
      at = vectorAt;
      sum.vector(f);
    },
    finish: sum.finish,
  });
}

/**
 * sumsWithCentred(a, x, mean, out, outCentred, …walk): out = Σ a and outCentred = Σ a·(x − mean[c])
 * over each plane (column), in one pass — batchNorm's dβ = Σ dy and Σ dy·(x − μ) (dγ before its
 * 1/√(σ² + eps)); the same float32 terms and float64 sums as `sums` and `sumsCentred` with a zero
 * shift, so equal to them bit for bit.
 */
function sumsWithCentred(name: string, walk: Walk): FunctionBody {
  let mu = 0;
  let at: (array: number) => void = () => {};
  const plain = summing(3, (f) => {
    at(0);
    f.v128Load(0);
  });
  const centred = summing(4, (f) => {
    at(0);
    f.v128Load(0);
    at(1);
    f.v128Load(0).get(mu).f32x4Sub().f32x4Mul();
  });
  return walk(name, 5, {
    start: (f, values) => {
      plain.start(f);
      centred.start(f);
      mu = values.f32(2);
    },
    vector: (f, vectorAt) => {
      at = vectorAt;
      plain.vector(f);
      centred.vector(f);
    },
    finish: (f, store) => {
      plain.finish(f, store);
      centred.finish(f, store);
    },
  });
}

/** affine(x, shift, scale, offset, y, …walk): y = (x − shift[c])·scale[c] + offset[c]. */
function affine(name: string, walk: Walk): FunctionBody {
  let shift = 0, scale = 0, offset = 0;
  return walk(name, 5, {
    start: (_f, values) => {
      [shift, scale, offset] = [values.f32(1), values.f32(2), values.f32(3)];
    },
    vector: (f, at) => {
      at(4);
      at(0);
      f.v128Load(0).get(shift).f32x4Sub().get(scale).f32x4Mul().get(offset).f32x4Add().v128Store(0);
    },
  });
}

/**
 * normalize(x, shift, scale, offset, y, …walk): batchNorm's forward,
 * y = (x − shift[c])·scale[c] + offset[c], computed in float64 (the per-channel values are
 * float64 arrays, 8 bytes each) and rounded once to float32, as the reference kernel rounds it:
 * a step's later ops (pooling's argmax, the activations' kinks) then see the same values as the
 * reference's, where float32 arithmetic would move some of them by an ulp.
 */
function normalize(name: string, walk: Walk): FunctionBody {
  let shift: readonly [number, number] = [0, 0], scale = shift, offset = shift;
  let v = 0, lo = 0;
  const affine64 = (f: FunctionBody, half: 0 | 1): void => {
    f.get(shift[half]).f64x2Sub().get(scale[half]).f64x2Mul().get(offset[half]).f64x2Add().f32x4DemoteZero();
  };
  return walk(name, 5, {
    start: (f, values) => {
      [shift, scale, offset] = [values.f64(1), values.f64(2), values.f64(3)];
      [v, lo] = [f.local(V128), f.local(V128)];
    },
    vector: (f, at) => {
      at(0);
      f.v128Load(0).set(v);
      f.get(v).f64x2PromoteLow();
      affine64(f, 0);
      f.set(lo);
      at(4);
      f.get(lo);
      f.get(v).get(v).f32x4Shuffle([2, 3, 0, 1]).f64x2PromoteLow();
      affine64(f, 1);
      f.f32x4Shuffle([0, 1, 4, 5]).v128Store(0);
    },
  });
}

/**
 * bnGrad(x, dy, mean, invStd, dbm, dgm, scale, dx, …walk): batchNorm's dx in training, in the
 * reference's order: dx = scale·((dy − dbm) − (x − μ)·invStd·dgm), with dbm = dβ/m,
 * dgm = dγ/m and scale = γ·invStd per channel.
 */
function bnGrad(name: string, walk: Walk): FunctionBody {
  let mu = 0, invStd = 0, dbm = 0, dgm = 0, scale = 0;
  return walk(name, 8, {
    start: (_f, values) => {
      [mu, invStd, dbm, dgm, scale] = [2, 3, 4, 5, 6].map((array) => values.f32(array));
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

/** reluPlus(x, b, y, …walk): y = relu(x) + b[c] (frelu's forward). */
function reluPlus(name: string, walk: Walk): FunctionBody {
  let b = 0, v = 0;
  return walk(name, 3, {
    start: (f, values) => {
      b = values.f32(1);
      v = f.local(V128);
    },
    vector: (f, at) => {
      at(0);
      f.v128Load(0).set(v);
      at(2);
      f.get(v).get(v).v128Zero().f32x4Gt().get(v).get(v).f32x4Ne().v128Or().v128And().get(b).f32x4Add().v128Store(0);
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

// ── average pooling, windows of 1 or 2 columns at stride 2 ──

/**
 * The rows of windows of an average pooling whose windows do not overlap and step 2 columns:
 * KH ≤ SY rows (1 or 2) and KW ≤ 2 columns (1 or 2), no padding, H a multiple of SY and W = 2·OW
 * — 1×1 stride 2 (subsampling: ResNet's option-A shortcut), 2×2 stride 2, 2×1, 1×2. Params first,
 * then rows (planes·OH, consecutive: row r of windows starts at row r·SY of x), rowBytes (W·4, a
 * multiple of 32), SY, KH, KW and the address of 1/(KH·KW) as a float32 (a power of two: the
 * product is exact). step(at, yAt) runs for every 8 floats of a window row, `at` their byte
 * address in x's first row of the window and `yAt` the byte offset of their four windows in y's
 * row (both from the arrays' start).
 */
function strideTwoRows(name: string, arrays: number, step: (f: FunctionBody, p: { at: number; yAt: number; xRow: number; rowBytes: number; SY: number; KH: number; KW: number; scale: number; j: number }) => void): FunctionBody {
  const f = new FunctionBody(name, arrays + 6);
  const [rows, rowBytes, SY, KH, KW, scaleAt] = [arrays, arrays + 1, arrays + 2, arrays + 3, arrays + 4, arrays + 5];
  const r = f.local(I32), j = f.local(I32), xRow = f.local(I32), yRow = f.local(I32), at = f.local(I32), yAt = f.local(I32), scale = f.local(V128);
  f.get(scaleAt).v128Load32Splat(0).set(scale);
  f.i32(0).set(xRow); // byte offsets of the window row in x (its first row) and of its row in y
  f.i32(0).set(yRow);
  f.forRange(r, 0, rows, 1, () => {
    f.forRange(j, 0, rowBytes, 32, () => {
      f.get(xRow).get(j).add().set(at);
      f.get(yRow).get(j).i32(1).shrU().add().set(yAt);
      step(f, { at, yAt, xRow, rowBytes, SY, KH, KW, scale, j });
    });
    f.get(xRow).get(rowBytes).get(SY).mul().add().set(xRow);
    f.get(yRow).get(rowBytes).i32(1).shrU().add().set(yRow);
  });
  return f;
}

/**
 * avgPoolStride2(x, y, rows, rowBytes, SY, KH, KW, scaleAt): each window's mean, as the reference
 * computes it — a float64 sum taken in scan order (row by row, left then right), times 1/(KH·KW),
 * rounded once to float32 — so equal to it bit for bit. The left and right columns of four
 * windows are the even and odd floats of eight.
 */
function avgPoolStride2(): FunctionBody {
  return strideTwoRows('avgPoolStride2', 2, (f, { at, yAt, rowBytes, KH, KW, scale }) => {
    const lo = f.local(V128), hi = f.local(V128), scale64 = f.local(V128), ky = f.local(I32), row = f.local(I32), terms = f.local(V128);
    const addTerms = (): void => {
      f.set(terms);
      f.get(lo).get(terms).f64x2PromoteLow().f64x2Add().set(lo);
      f.get(hi).get(terms).get(terms).f32x4Shuffle([2, 3, 0, 1]).f64x2PromoteLow().f64x2Add().set(hi);
    };
    f.v128Zero().set(lo).v128Zero().set(hi);
    f.get(0).get(at).add().set(row);
    f.forRange(ky, 0, KH, 1, () => {
      f.get(row).v128Load(0).get(row).v128Load(16).f32x4Shuffle([0, 2, 4, 6]);
      addTerms();
      f.if(() => f.get(KW).i32(2).eq(), () => {
        f.get(row).v128Load(0).get(row).v128Load(16).f32x4Shuffle([1, 3, 5, 7]);
        addTerms();
      });
      f.addTo(row, () => f.get(rowBytes));
    });
    f.get(scale).f64x2PromoteLow().set(scale64); // 1/(KH·KW) as two float64s
    f.get(1).get(yAt).add();
    f.get(lo).get(scale64).f64x2Mul().f32x4DemoteZero();
    f.get(hi).get(scale64).f64x2Mul().f32x4DemoteZero();
    f.f32x4Shuffle([0, 1, 4, 5]).v128Store(0);
  });
}

/**
 * avgPoolStride2Grad(dy, dx, rows, rowBytes, SY, KH, KW, scaleAt): dx = dy/(KH·KW) at each
 * window's elements, 0 at the rest (the rows and columns between windows): the windows are
 * disjoint, so each dx element is written once.
 */
function avgPoolStride2Grad(): FunctionBody {
  return strideTwoRows('avgPoolStride2Grad', 2, (f, { at, yAt, rowBytes, SY, KH, KW, scale }) => {
    const d = f.local(V128), right = f.local(V128), ky = f.local(I32), row = f.local(I32);
    f.get(0).get(yAt).add().v128Load(0).get(scale).f32x4Mul().set(d);
    f.if(() => f.get(KW).i32(2).eq(), () => f.get(d).set(right), () => f.v128Zero().set(right)); // the right column's share
    f.get(1).get(at).add().set(row);
    f.forRange(ky, 0, SY, 1, () => {
      f.if(() => f.get(ky).get(KH).ltS(), () => {
        f.get(row).get(d).get(right).f32x4Shuffle([0, 4, 1, 5]).v128Store(0);
        f.get(row).get(d).get(right).f32x4Shuffle([2, 6, 3, 7]).v128Store(16);
      }, () => {
        f.get(row).v128Zero().v128Store(0);
        f.get(row).v128Zero().v128Store(16);
      });
      f.addTo(row, () => f.get(rowBytes));
    });
  });
}

// ── broadcasting's backward ──

/**
 * sumCopies(dy, dx, blocks, copies, bytes, blockBytes): dx[a, ·] = Σ_r dy[a, r, ·] over `blocks`
 * blocks a, each the sum of `copies` copies r, blockBytes apart in dy (expand's backward with dy
 * [A, R, B]: x [A, 1, B] copied R times). Walks `bytes` bytes of each block (a multiple of 16),
 * summing in float32 from +0 in the order of r, as the reference's sum does: equal bit for bit.
 */
function sumCopies(): FunctionBody {
  const f = new FunctionBody('sumCopies', 6);
  const [dy, dx, blocks, copies, bytes, blockBytes] = [0, 1, 2, 3, 4, 5];
  const a = f.local(I32), j = f.local(I32), r = f.local(I32), from = f.local(I32), to = f.local(I32), acc = f.local(V128), src = f.local(I32);
  f.get(dy).set(from);
  f.get(dx).set(to);
  f.forRange(a, 0, blocks, 1, () => {
    f.forRange(j, 0, bytes, 16, () => {
      f.v128Zero().set(acc);
      f.get(from).get(j).add().set(src);
      f.forRange(r, 0, copies, 1, () => {
        f.get(acc).get(src).v128Load(0).f32x4Add().set(acc);
        f.addTo(src, () => f.get(blockBytes));
      });
      f.get(to).get(j).add().get(acc).v128Store(0);
    });
    f.addTo(from, () => f.get(copies).get(blockBytes).mul());
    f.addTo(to, () => f.get(blockBytes));
  });
  return f;
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

/** The functions by name, as callable exports. */
export type StreamKernels = Readonly<Record<StreamName, (...args: number[]) => void>>;
export type StreamName = (typeof PER_CHANNEL)[keyof typeof PER_CHANNEL][Walked] | 'relu' | 'reluGrad' | 'add' | 'sub' | 'mul' | 'neg' | 'maskedScale' | 'addScaled' | 'scale' | 'maxPool2x2' | 'maxPool2x2Grad' | 'avgPoolStride2' | 'avgPoolStride2Grad' | 'sumCopies' | 'copyPlanes' | 'zeroTimes';

/** The two walks of a per-channel kernel. */
export type Walked = 'planes' | 'columns';

/** The per-channel kernels' names, by what they compute and how they walk x. */
export const PER_CHANNEL = {
  sums: { planes: 'planeSums', columns: 'columnSums' },
  sumsCentred: { planes: 'planeSumsCentred', columns: 'columnSumsCentred' },
  sumsWithCentred: { planes: 'planeSumsWithCentred', columns: 'columnSumsWithCentred' },
  affine: { planes: 'affine', columns: 'affineColumns' },
  normalize: { planes: 'normalize', columns: 'normalizeColumns' },
  bnGrad: { planes: 'bnGrad', columns: 'bnGradColumns' },
  reluPlus: { planes: 'reluPlus', columns: 'reluPlusColumns' },
} as const;

const BUILDERS: Readonly<Record<keyof typeof PER_CHANNEL, (name: string, walk: Walk) => FunctionBody>> = { sums, sumsCentred, sumsWithCentred, affine, normalize, bnGrad, reluPlus };
const WALKS: Readonly<Record<Walked, Walk>> = { planes: byPlanes, columns: byColumns };

/** Every per-channel kernel, both walks. */
function perChannelKernels(): FunctionBody[] {
  return Object.entries(PER_CHANNEL).flatMap(([kernel, names]) =>
    (['planes', 'columns'] as const).map((walked) => BUILDERS[kernel as keyof typeof PER_CHANNEL](names[walked], WALKS[walked])),
  );
}

/** The stream kernels over `memory` (one instance per thread and memory). */
export const streamKernels: (memory: WebAssembly.Memory) => StreamKernels = kernelsOver<StreamName>(() => [
  relu(), reluGrad(), binary('add', (f) => f.f32x4Add()), binary('sub', (f) => f.f32x4Sub()), binary('mul', (f) => f.f32x4Mul()), neg(), maskedScale(), addScaled(), scale(),
  ...perChannelKernels(), maxPool2x2(), maxPool2x2Grad(), avgPoolStride2(), avgPoolStride2Grad(), sumCopies(), copyPlanes(), zeroTimes(),
]);
