/**
 * 3×3 convolutions with fewer multiplications: Winograd's minimal filtering F(2×2, 3×3), as in
 * Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (2015) — the route the gpu
 * backend's webasm mode takes for stride-1, padding-1 3×3 layers (every 3×3 layer of ResNet and
 * SmallNet), for their forward, their input gradient (the forward's computation with the flipped
 * weights) and their weight gradient ("the weight gradient", below; ./kernels.ts picks the
 * routes). The direct route computes each output as 9 products per input channel; this one
 * computes a 2×2 block of outputs from a 4×4 block of inputs with 16 products per channel — 4 per
 * output instead of 9, 2.25× fewer — at the price of three cheap transforms around them.
 *
 * One dimension first. Two outputs of a 3-tap correlation, y0 = d0·g0 + d1·g1 + d2·g2 and
 * y1 = d1·g0 + d2·g1 + d3·g2, take 6 multiplications directly; Winograd's F(2, 3) takes 4:
 *
 *   m0 = (d0 − d2)·g0      m1 = (d1 + d2)·(g0 + g1 + g2)/2
 *   m3 = (d1 − d3)·g2      m2 = (d2 − d1)·(g0 − g1 + g2)/2        y0 = m0 + m1 + m2,  y1 = m1 − m2 − m3
 *
 * In matrices, y = Aᵀ[(G g) ⊙ (Bᵀ d)] with
 *
 *   Bᵀ = | 1  0 −1  0 |     G = | 1    0    0  |     Aᵀ = | 1  1  1  0 |
 *        | 0  1  1  0 |         | ½    ½    ½  |          | 0  1 −1 −1 |
 *        | 0 −1  1  0 |         | ½   −½    ½  |
 *        | 0  1  0 −1 |         | 0    0    1  |
 *
 * and nested once per axis it gives the 2×2 block Y of outputs from the 4×4 block D of inputs and
 * the 3×3 filter g:  Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ D B)]A. Over channels the sums pass through the
 * (linear) output transform, so with U = G g Gᵀ for every filter w[o, c] and V = Bᵀ D B for every
 * input tile of every channel, each of the 16 positions ξ of the 4×4 transformed tile is a
 * matrix product over the channels:
 *
 *   M[ξ] [O × T] = U[ξ] [O × C] · V[ξ] [C × T]           (T: the tiles of the images at hand)
 *
 * and each output block is Aᵀ M A. Those 16 products are the GEMM kernel's work (./gemm.ts): K is
 * C and N the tiles; they hold 16/4 = 4 multiply-adds per output and channel against the direct
 * route's 9. The transforms are additions only (the ½ sit in U, computed once per call in JS).
 *
 * Tiles. Output tile (i, j) is outputs rows 2i, 2i+1 and columns 2j, 2j+1; it reads rows 2i−1 …
 * 2i+2 and columns 2j−1 … 2j+2 of x, i.e. rows 2i … 2i+3 and columns 2j … 2j+3 of x padded by 1
 * (the route's padded images, as the implicit GEMM's). The transform kernels below work on four
 * tiles side by side along a row, one per SIMD lane: loading a padded row from column 2j, the
 * even and odd floats of two vectors are the columns 2j + 2·lane and 2j + 1 + 2·lane — a shuffle
 * each. Hence the route's conditions (./kernels.ts): output height a multiple of 4 and width of 8,
 * so that a row has whole groups of four tiles and an image whole panels of eight (the GEMM's N).
 *
 * Rounding. Sums are taken in another order than the direct route's, and the transforms add and
 * subtract inputs before multiplying: results agree with the reference within float32 rounding
 * of the sums' magnitudes (gpu-vs-reference.test.ts, simd-kernels.test.ts). Non-finite values
 * are another matter: a ±∞ among the inputs meets the transforms' differences (∞ − ∞ = NaN) where
 * the direct sums give ±∞. Any NaN or ±∞ among x or w makes some output non-finite, so the output
 * transform also checks that every output is finite, and where one is not, the caller computes
 * the layer again by the direct route, which agrees with the reference value for value (and
 * likewise for the weight gradient, whose 3×3 results are checked in JS).
 */
import { FunctionBody, I32, kernelsOver, V128 } from './assembler.js';
import { roundUp, TILE_M, TILE_N, type Gemm } from './gemm.js';
import { padPlanes } from './lowering.js';

/** n floats rounded up to whole 64-byte cache lines (16 floats), where each scratch region starts. */
const line = (floats: number): number => roundUp(floats, 16);

/** The 16 positions of the transformed 4×4 tile, ξ = 4p + q. */
export const XI = 16;

/** G, the filter's transform (the header's matrices), row by row. */
const G = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]] as const;

/**
 * U[ξ][o][c] = (G w[o, c] Gᵀ)[p][q], the weights w [O, C, 3, 3] transformed: 16 matrices [O × C],
 * one after another (the forward's A operands).
 */
export function transformWeights(w: Float32Array, O: number, C: number): Float32Array {
  const u = new Float32Array(XI * O * C);
  const gw = new Float64Array(12); // G·w[o, c]: 4 × 3
  for (let o = 0; o < O; o++) {
    for (let c = 0; c < C; c++) {
      const at = (o * C + c) * 9;
      for (let p = 0; p < 4; p++) {
        for (let kx = 0; kx < 3; kx++) gw[p * 3 + kx] = G[p][0] * w[at + kx] + G[p][1] * w[at + 3 + kx] + G[p][2] * w[at + 6 + kx];
      }
      for (let p = 0; p < 4; p++) {
        for (let q = 0; q < 4; q++) u[((4 * p + q) * O + o) * C + c] = gw[p * 3] * G[q][0] + gw[p * 3 + 1] * G[q][1] + gw[p * 3 + 2] * G[q][2];
      }
    }
  }
  return u;
}

// ── the transforms, as wasm SIMD kernels: four tiles along a row at a time, one per lane ──

/**
 * The loops every transform shares: for each image, each row of tiles and group of four tiles
 * along it, each plane (channel) — `planeStep` planes at a time, and with the planes the outer
 * loop of the three when `planesOutside` (the order that writes or reads the transform's memory
 * in sequence: see `interleaved` and `inputTransform`). `body` runs for each group and plane; `t`
 * is the group's first tile, numbered across the images (image·tilesPerImage + i·tileCols + j),
 * and the locals img, plane, i, j hold where it is.
 */
function forTileGroups(
  f: FunctionBody,
  images: number, planes: number, tileRows: number, tileCols: number,
  body: (where: { img: number; plane: number; i: number; j: number; t: number }) => void,
  planeStep = 1,
  planesOutside = false,
): void {
  const img = f.local(I32), plane = f.local(I32), i = f.local(I32), j = f.local(I32), t = f.local(I32);
  const tiles = (inner: () => void): void => {
    f.forRange(i, 0, tileRows, 1, () => {
      f.forRange(j, 0, tileCols, 4, () => {
        // t = (img·tileRows + i)·tileCols + j
        f.get(img).get(tileRows).mul().get(i).add().get(tileCols).mul().get(j).add().set(t);
        inner();
      });
    });
  };
  f.forRange(img, 0, images, 1, () => {
    if (planesOutside) f.forRange(plane, 0, planes, planeStep, () => tiles(() => body({ img, plane, i, j, t })));
    else tiles(() => f.forRange(plane, 0, planes, planeStep, () => body({ img, plane, i, j, t })));
  });
}

/**
 * How V and M lie in memory: by panels of 8 tiles, then rows (channels c of V, outputs o of M),
 * then the 16 positions ξ, then the 8 tiles —
 *
 *   element (ξ, row, t) at (⌊t/8⌋·rows + row)·128 + ξ·8 + t mod 8      (floats)
 *
 * so that the 16 values a transform makes (or reads) for four tiles lie together in 512 bytes,
 * rather than in 16 places far apart (this layout made the input transform 2.7–3.6× faster here), while
 * for one ξ each operand still is what the GEMM reads: V[ξ] [C × T] its B packed in panels of 8
 * tiles (b = v + 8ξ, row table k ↦ 128k, panels 128·C apart), M[ξ] [Op × T] its C (c = m + 8ξ,
 * row stride 128, panels 128·Op apart). Sets `at` to the byte address of (0, row, t) from `base`.
 */
function interleaved(f: FunctionBody, base: number, rows: number, row: number, t: number, at: number): void {
  f.get(t).i32(3).shrU().get(rows).mul().get(row).add().i32(XI * TILE_N).mul(); // (⌊t/8⌋·rows + row)·128
  f.get(t).i32(7).and().add().i32(4).mul().get(base).add().set(at);
}

/**
 * inputTiles(xp, images, C, tileRows, tileCols, v): V = Bᵀ D B for every 4×4 input tile D of every
 * channel of `images` padded images xp [images, C, 2·tileRows + 2, 2·tileCols + 2], into v
 * interleaved (see `interleaved`): the forward's B. inputRows(…, v, rowTiles) makes the same
 * values in rows along the tiles — element (ξ, c, t) at (16c + ξ)·rowTiles + t (floats) — the
 * weight gradient's A (`runWinogradWeightGrad`). Byte addresses.
 */
function inputTransform(layout: 'interleaved' | 'rows'): FunctionBody {
  const f = new FunctionBody(layout === 'interleaved' ? 'inputTiles' : 'inputRows', layout === 'interleaved' ? 6 : 7);
  const [xp, images, C, tileRows, tileCols, v, rowTiles] = [0, 1, 2, 3, 4, 5, 6];
  const rowBytes = f.local(I32), planeBytes = f.local(I32), row = f.local(I32), out = f.local(I32), xiBytes = f.local(I32);
  const d = Array.from({ length: 4 }, () => f.local(V128)); // d[u]: column 2j + 2·lane + u of the row
  // e[r][q]: row r of the tile with Bᵀ applied along it (4 tiles a vector)
  const e = Array.from({ length: 4 }, () => Array.from({ length: 4 }, () => f.local(V128)));
  f.get(tileCols).i32(8).mul().i32(8).add().set(rowBytes); // (2·tileCols + 2)·4
  f.get(tileRows).i32(2).mul().i32(2).add().get(rowBytes).mul().set(planeBytes);
  if (layout === 'rows') f.get(rowTiles).i32(4).mul().set(xiBytes);
  forTileGroups(f, images, C, tileRows, tileCols, ({ img, plane, i, j, t }) => {
    // row = xp + (img·C + plane)·planeBytes + 2i·rowBytes + 2j·4: the tile group's top-left input
    f.get(xp).get(img).get(C).mul().get(plane).add().get(planeBytes).mul().add();
    f.get(i).i32(2).mul().get(rowBytes).mul().add().get(j).i32(8).mul().add().set(row);
    for (let r = 0; r < 4; r++) {
      // columns 2j … 2j+7 and 2j+2 … 2j+9 of padded row r, their even and odd floats: d0 … d3
      for (const [u, offset] of [[0, 0], [1, 0], [2, 8], [3, 8]] as const) {
        f.get(row).v128Load(offset).get(row).v128Load(offset + 16).f32x4Shuffle(u % 2 === 0 ? [0, 2, 4, 6] : [1, 3, 5, 7]).set(d[u]);
      }
      // Bᵀ along the row: e0 = d0 − d2, e1 = d1 + d2, e2 = d2 − d1, e3 = d1 − d3
      f.get(d[0]).get(d[2]).f32x4Sub().set(e[r][0]);
      f.get(d[1]).get(d[2]).f32x4Add().set(e[r][1]);
      f.get(d[2]).get(d[1]).f32x4Sub().set(e[r][2]);
      f.get(d[1]).get(d[3]).f32x4Sub().set(e[r][3]);
      f.addTo(row, () => f.get(rowBytes));
    }
    if (layout === 'interleaved') interleaved(f, v, C, plane, t, out);
    else f.get(plane).i32(XI).mul().get(rowTiles).mul().get(t).add().i32(4).mul().get(v).add().set(out); // v + (16c·rowTiles + t)·4
    // Bᵀ down the columns: V[p][q] = e[0][q] − e[2][q], e[1][q] + e[2][q], e[2][q] − e[1][q], e[1][q] − e[3][q]
    const down: [number, number, 'add' | 'sub'][] = [[0, 2, 'sub'], [1, 2, 'add'], [2, 1, 'sub'], [1, 3, 'sub']];
    for (let p = 0; p < 4; p++) {
      const [a, b, op] = down[p];
      for (let q = 0; q < 4; q++) {
        f.get(out).get(e[a][q]).get(e[b][q]);
        if (op === 'add') f.f32x4Add();
        else f.f32x4Sub();
        if (layout === 'interleaved') {
          f.v128Store(4 * TILE_N * (4 * p + q));
        } else {
          f.v128Store(0);
          f.addTo(out, () => f.get(xiBytes)); // on to ξ + 1, rowTiles floats on
        }
      }
    }
  }, 1, layout === 'rows');
  return f;
}

/**
 * gradTiles(dy, images, O, tileRows, tileCols, out, rowTiles): dM = A·dY·Aᵀ for every 2×2 tile dY
 * of the output gradient dy [images, O, 2·tileRows, 2·tileCols] — the gradient of the forward's M
 * (dY = Aᵀ M A is linear in M: its transpose maps dY back). dM[ξ] goes out as the weight
 * gradient's B, [T × O] in panels of 8 outputs, the 16 positions interleaved like V and M: element
 * (ξ, t, o) at ((⌊o/8⌋·rowTiles + t)·16 + ξ)·8 + o mod 8 (floats). Four outputs o at a time: the
 * four vectors of one position (lanes: tiles) are transposed into four of one tile each (lanes:
 * outputs), 16 bytes a store. O a multiple of 4. Byte addresses.
 */
function gradTiles(): FunctionBody {
  const f = new FunctionBody('gradTiles', 7);
  const [dy, images, O, tileRows, tileCols, out, rowTiles] = [0, 1, 2, 3, 4, 5, 6];
  const rowBytes = f.local(I32), planeBytes = f.local(I32), from = f.local(I32), to = f.local(I32);
  // y[k][a][b]: output o + k, row a, column b of the four tiles
  const y = Array.from({ length: 4 }, () => [[f.local(V128), f.local(V128)], [f.local(V128), f.local(V128)]]);
  const r = Array.from({ length: 4 }, () => [f.local(V128), f.local(V128)]); // r[k][a]: row a with A applied along it, at this q
  const v = Array.from({ length: 4 }, () => f.local(V128)), lo = f.local(V128), hi = f.local(V128);
  f.get(tileCols).i32(8).mul().set(rowBytes); // 2·tileCols·4
  f.get(tileRows).i32(2).mul().get(rowBytes).mul().set(planeBytes);
  forTileGroups(f, images, O, tileRows, tileCols, ({ img, plane, i, j, t }) => {
    for (let k = 0; k < 4; k++) {
      // from = dy + (img·O + plane + k)·planeBytes + 2i·rowBytes + 2j·4
      f.get(dy).get(img).get(O).mul().get(plane).add().i32(k).add().get(planeBytes).mul().add();
      f.get(i).i32(2).mul().get(rowBytes).mul().add().get(j).i32(8).mul().add().set(from);
      for (let a = 0; a < 2; a++) {
        f.get(from).v128Load(0).set(lo);
        f.get(from).v128Load(16).set(hi);
        f.get(lo).get(hi).f32x4Shuffle([0, 2, 4, 6]).set(y[k][a][0]);
        f.get(lo).get(hi).f32x4Shuffle([1, 3, 5, 7]).set(y[k][a][1]);
        f.addTo(from, () => f.get(rowBytes));
      }
    }
    // to = out + ((⌊plane/8⌋·rowTiles + t)·128 + plane mod 8)·4
    f.get(plane).i32(3).shrU().get(rowTiles).mul().get(t).add().i32(XI * TILE_N).mul().get(plane).i32(7).and().add().i32(4).mul().get(out).add().set(to);
    for (let q = 0; q < 4; q++) {
      // A along each row: r0 = y0, r1 = y0 + y1, r2 = y0 − y1, r3 = −y1 (this q's)
      for (let k = 0; k < 4; k++) {
        for (let a = 0; a < 2; a++) {
          const [y0, y1] = y[k][a];
          if (q === 0) f.get(y0).set(r[k][a]);
          else if (q === 1) f.get(y0).get(y1).f32x4Add().set(r[k][a]);
          else if (q === 2) f.get(y0).get(y1).f32x4Sub().set(r[k][a]);
          else f.get(y1).f32x4Neg().set(r[k][a]);
        }
      }
      for (let p = 0; p < 4; p++) {
        // A down the column: dM[p][q] = r0, r0 + r1, r0 − r1, −r1 — for outputs o … o+3
        for (let k = 0; k < 4; k++) {
          const [r0, r1] = r[k];
          if (p === 0) f.get(r0).set(v[k]);
          else if (p === 1) f.get(r0).get(r1).f32x4Add().set(v[k]);
          else if (p === 2) f.get(r0).get(r1).f32x4Sub().set(v[k]);
          else f.get(r1).f32x4Neg().set(v[k]);
        }
        // transposed: lane l of v[k] is tile t + l's value for output o + k; tile t + l's four go to to + l·512
        f.get(v[0]).get(v[1]).f32x4Shuffle([0, 4, 1, 5]).set(lo); // [v0₀ v1₀ v0₁ v1₁]
        f.get(v[0]).get(v[1]).f32x4Shuffle([2, 6, 3, 7]).set(hi); // [v0₂ v1₂ v0₃ v1₃]
        f.get(v[2]).get(v[3]).f32x4Shuffle([0, 4, 1, 5]).set(v[0]); // [v2₀ v3₀ v2₁ v3₁]
        f.get(v[2]).get(v[3]).f32x4Shuffle([2, 6, 3, 7]).set(v[1]); // [v2₂ v3₂ v2₃ v3₃]
        const at = 4 * TILE_N * (4 * p + q);
        f.get(to).get(lo).get(v[0]).f32x4Shuffle([0, 1, 4, 5]).v128Store(at);
        f.get(to).get(lo).get(v[0]).f32x4Shuffle([2, 3, 6, 7]).v128Store(at + 4 * XI * TILE_N);
        f.get(to).get(hi).get(v[1]).f32x4Shuffle([0, 1, 4, 5]).v128Store(at + 2 * 4 * XI * TILE_N);
        f.get(to).get(hi).get(v[1]).f32x4Shuffle([2, 3, 6, 7]).v128Store(at + 3 * 4 * XI * TILE_N);
      }
    }
  }, 4);
  return f;
}

/**
 * outputTiles(m, images, O, Op, tileRows, tileCols, y, check): Y = Aᵀ M A for every tile, from
 * the 16 products' results M [16, Op, T] in m (interleaved, see `interleaved`), into y [images,
 * O, 2·tileRows, 2·tileCols]; and Σ (y + y')·0 over pairs of its outputs added to the four
 * floats at `check`, which stay zero while every output is finite (0·v is NaN for NaN and ±∞).
 * Byte addresses.
 */
function outputTiles(): FunctionBody {
  const f = new FunctionBody('outputTiles', 8);
  const [m, images, O, Op, tileRows, tileCols, y, check] = [0, 1, 2, 3, 4, 5, 6, 7];
  const finite = f.local(V128);
  f.get(check).v128Load(0).set(finite);
  const rowBytes = f.local(I32), planeBytes = f.local(I32), from = f.local(I32), to = f.local(I32);
  // s[p][b]: row p of the product tile with A applied along it
  const s = Array.from({ length: 4 }, () => [f.local(V128), f.local(V128)]);
  const mq = Array.from({ length: 4 }, () => f.local(V128)), y0 = f.local(V128), y1 = f.local(V128);
  f.get(tileCols).i32(8).mul().set(rowBytes); // 2·tileCols·4
  f.get(tileRows).i32(2).mul().get(rowBytes).mul().set(planeBytes);
  forTileGroups(f, images, O, tileRows, tileCols, ({ img, plane, i, j, t }) => {
    interleaved(f, m, Op, plane, t, from);
    for (let p = 0; p < 4; p++) {
      // row p of the 4×4 product, ξ = 4p … 4p+3
      for (let q = 0; q < 4; q++) f.get(from).v128Load(4 * TILE_N * (4 * p + q)).set(mq[q]);
      // Aᵀ along it: s0 = m0 + m1 + m2, s1 = m1 − m2 − m3
      f.get(mq[0]).get(mq[1]).f32x4Add().get(mq[2]).f32x4Add().set(s[p][0]);
      f.get(mq[1]).get(mq[2]).f32x4Sub().get(mq[3]).f32x4Sub().set(s[p][1]);
    }
    // to = y + (img·O + plane)·planeBytes + 2i·rowBytes + 2j·4
    f.get(y).get(img).get(O).mul().get(plane).add().get(planeBytes).mul().add();
    f.get(i).i32(2).mul().get(rowBytes).mul().add().get(j).i32(8).mul().add().set(to);
    for (let a = 0; a < 2; a++) {
      // Aᵀ down the columns: output row 0 = s0 + s1 + s2, row 1 = s1 − s2 − s3 (columns 0 and 1)
      for (const [b, out] of [[0, y0], [1, y1]] as const) {
        if (a === 0) f.get(s[0][b]).get(s[1][b]).f32x4Add().get(s[2][b]).f32x4Add().set(out);
        else f.get(s[1][b]).get(s[2][b]).f32x4Sub().get(s[3][b]).f32x4Sub().set(out);
      }
      // y0 holds column 2j + 2·lane, y1 column 2j + 1 + 2·lane: interleaved, they are 8 consecutive outputs
      f.get(to).get(y0).get(y1).f32x4Shuffle([0, 4, 1, 5]).v128Store(0);
      f.get(to).get(y0).get(y1).f32x4Shuffle([2, 6, 3, 7]).v128Store(16);
      f.get(finite).get(y0).get(y1).f32x4Add().v128Zero().f32x4Mul().f32x4Add().set(finite);
      f.addTo(to, () => f.get(rowBytes));
    }
  });
  f.get(check).get(finite).v128Store(0);
  return f;
}

/** The transform kernels over `memory` (one instance per thread and memory). */
const transformKernels = kernelsOver<'inputTiles' | 'inputRows' | 'outputTiles' | 'gradTiles'>(() => [inputTransform('interleaved'), inputTransform('rows'), outputTiles(), gradTiles()]);

// ── one thread's share of a convolution ──

/** A stride-1, padding-1 3×3 convolution by this route: x [N, C, H, W] → y [N, O, H, W]. */
export interface WinogradDims {
  readonly N: number; readonly C: number; readonly H: number; readonly W: number; readonly O: number;
}

/** Whether the route takes these sizes (see the header's "Tiles"). */
export const winogradFits = (H: number, W: number): boolean => H % 4 === 0 && W % 8 === 0;

/** Tiles per image, and the sizes the product's operands are padded to. */
export function tileSizes(d: WinogradDims): { tileRows: number; tileCols: number; tiles: number; Op: number } {
  const tileRows = d.H / 2, tileCols = d.W / 2;
  return { tileRows, tileCols, tiles: tileRows * tileCols, Op: roundUp(d.O, TILE_M) };
}

/**
 * Where a thread's scratch holds what it works on, for a group of `group` images (offsets in
 * floats from the scratch's start): the images padded by 1 [group, C, H+2, W+2], V [16, C, T],
 * M [16, Op, T] (T = group · tiles) and the four floats of the finiteness check; `size` in all.
 */
export function scratchLayout(d: WinogradDims, group: number): { xp: number; v: number; m: number; check: number; size: number } {
  const { tiles, Op } = tileSizes(d);
  const xp = 0, v = xp + line(group * d.C * (d.H + 2) * (d.W + 2));
  const m = v + XI * d.C * tiles * group, check = m + XI * Op * tiles * group;
  return { xp, v, m, check, size: line(check + 4) };
}

/**
 * Images a thread transforms at once, given its scratch layout for a group (`scratchLayout` for the
 * forward, `weightGradLayout` for dw): as many as keep its scratch within ~1 MiB (its share of the
 * L2 cache), so that the products read and write the transformed tiles in cache; more images a
 * group make the products longer and the calls fewer.
 */
export function imagesPerGroup(d: WinogradDims, layout: (d: WinogradDims, group: number) => { size: number }): number {
  return Math.max(1, Math.min(d.N, Math.floor(2 ** 18 / layout(d, 1).size)));
}

/**
 * Images [n0, n1) of y = conv2d(x, w) by Winograd's route: x the images [N, C, H, W], u the
 * transformed weights [16, O, C] (`transformWeights`) with row table uRows (o ↦ o·C, then row 0
 * for the padding rows up to Op), vRows V's row table (k ↦ 128k, `interleaved`), scratch this
 * thread's (`scratchLayout` of `group`), y the output [N, O, H, W]. Offsets count floats.
 *
 * The thread pads each group of images into its scratch (the border zeroed once: the copies
 * fill only the inside), where the transform reads them from cache. Its last four scratch
 * floats (`scratchLayout`'s check) end as Σ 0·y over its outputs: all zero exactly when every
 * output is finite (see `runWinograd`'s caller in ./kernels.ts).
 */
export interface WinogradJob {
  readonly kind: 'winograd';
  readonly d: WinogradDims;
  readonly x: number; readonly u: number; readonly uRows: number; readonly vRows: number;
  readonly scratch: number; readonly group: number; readonly y: number;
  readonly n0: number; readonly n1: number;
}

export function runWinograd(g: Gemm, job: WinogradJob): void {
  const { d, group } = job;
  const { tileRows, tileCols, tiles, Op } = tileSizes(d);
  const HP = d.H + 2, WP = d.W + 2;
  const kernels = transformKernels(g.memory);
  const at = scratchLayout(d, group);
  const [xp, v, m, check] = [at.xp, at.v, at.m, at.check].map((offset) => job.scratch + offset);
  g.heap.fill(0, xp, xp + group * d.C * HP * WP);
  g.heap.fill(0, check, check + 4);
  const block = XI * TILE_N; // 128 floats: one row's 16 positions of 8 tiles (`interleaved`)
  for (let n = job.n0; n < job.n1; n += group) {
    const images = Math.min(group, job.n1 - n), T = images * tiles;
    // the images into the padded planes, from row 1, column 1 on
    padPlanes(g.memory, job.x + n * d.C * d.H * d.W, xp, images * d.C, d.H, d.W, 1, 1);
    kernels.inputTiles(4 * xp, images, d.C, tileRows, tileCols, 4 * v);
    for (let xi = 0; xi < XI; xi++) {
      // M[ξ] [Op × T] = U[ξ] [Op × C] · V[ξ] [C × T]
      g.gemm({ a: job.u + xi * d.O * d.C, aRows: job.uRows, b: v + xi * TILE_N, bRows: job.vRows, bPanel: block * d.C, c: m + xi * TILE_N, ldc: block, cPanel: block * Op }, Op, T, d.C, false);
    }
    kernels.outputTiles(4 * m, images, d.O, Op, tileRows, tileCols, 4 * (job.y + n * d.O * d.H * d.W), 4 * check);
  }
}

// ── the weight gradient ──
//
// With M[ξ] = U[ξ]·V[ξ] and dM = A·dY·Aᵀ (`gradTiles`) the gradient of each M, the gradient of each
// U[ξ][o][c] is Σ over the tiles of dM[ξ][o][t]·V[ξ][c][t] — 16 products again, now summing over
// the tiles (K = T, long) — and that of the filter g = w[o, c] is Gᵀ·dU·G, G's transpose taking the
// 4×4 transformed gradient back to 3×3. The products run as dUᵀ[ξ] [C × O] = V[ξ] [C × T] ·
// dM[ξ]ᵀ [T × O]: V in rows along the tiles is the GEMM's A (`inputRows`), dMᵀ its B (`gradTiles`).

/**
 * A weight-gradient job's scratch (offsets in floats from its start) for groups of `group` images:
 * the images padded, V [C rows × 16 positions × T], dM [16 × T × Opad] and this thread's running
 * sum dUᵀ [16, Cp, Opad]; `size` in all.
 */
export function weightGradLayout(d: WinogradDims, group: number): { xp: number; v: number; dm: number; du: number; size: number } {
  const { tiles } = tileSizes(d);
  const T = tiles * group, Cp = roundUp(d.C, TILE_M), Opad = roundUp(d.O, TILE_N);
  const xp = 0, v = xp + line(group * d.C * (d.H + 2) * (d.W + 2));
  const dm = v + line(d.C * XI * T), du = dm + line(XI * T * Opad);
  return { xp, v, dm, du, size: line(du + XI * Cp * Opad) };
}

/**
 * This thread's share of dUᵀ [16, Cp, Opad] (in its scratch's `du`) = Σ over images [n0, n1) of
 * V[ξ]·dM[ξ]ᵀ: x the images [N, C, H, W], dy the output gradient [N, O, H, W] (O a multiple of 4),
 * vRows V's row table (c ↦ 16c·T for the group's T = group·tiles, then row 0 up to Cp), dmRows
 * dM's (k ↦ 128k). Offsets count floats.
 */
export interface WinogradWeightGradJob {
  readonly kind: 'winogradWeightGrad';
  readonly d: WinogradDims;
  readonly x: number; readonly dy: number; readonly vRows: number; readonly dmRows: number;
  readonly scratch: number; readonly group: number; readonly n0: number; readonly n1: number;
}

export function runWinogradWeightGrad(g: Gemm, job: WinogradWeightGradJob): void {
  const { d, group } = job;
  const { tileRows, tileCols, tiles } = tileSizes(d);
  const HP = d.H + 2, WP = d.W + 2, rowTiles = group * tiles;
  const Cp = roundUp(d.C, TILE_M), Opad = roundUp(d.O, TILE_N);
  const kernels = transformKernels(g.memory);
  const at = weightGradLayout(d, group);
  const [xp, v, dm, du] = [at.xp, at.v, at.dm, at.du].map((offset) => job.scratch + offset);
  g.heap.fill(0, xp, xp + group * d.C * HP * WP);
  g.heap.fill(0, du, du + XI * Cp * Opad); // a thread without images contributes 0
  const block = XI * TILE_N;
  for (let n = job.n0; n < job.n1; n += group) {
    const images = Math.min(group, job.n1 - n), T = images * tiles;
    padPlanes(g.memory, job.x + n * d.C * d.H * d.W, xp, images * d.C, d.H, d.W, 1, 1);
    kernels.inputRows(4 * xp, images, d.C, tileRows, tileCols, 4 * v, rowTiles);
    kernels.gradTiles(4 * (job.dy + n * d.O * d.H * d.W), images, d.O, tileRows, tileCols, 4 * dm, rowTiles);
    for (let xi = 0; xi < XI; xi++) {
      // dUᵀ[ξ] [Cp × Opad] += V[ξ] [Cp × T] · dM[ξ]ᵀ [T × Opad]
      g.gemm({ a: v + xi * rowTiles, aRows: job.vRows, b: dm + xi * TILE_N, bRows: job.dmRows, bPanel: block * rowTiles, c: du + xi * Cp * Opad, ldc: Opad }, Cp, Opad, T, true);
    }
  }
}

/**
 * dw [O, C, 3, 3] = Gᵀ·dU[o, c]·G from dUᵀ [16, Cp, Opad] (the threads' sums added here, in
 * float64): the weight gradient back from the transformed domain.
 */
export function weightGradFromTransformed(heap: Float32Array, parts: readonly number[], O: number, C: number): Float32Array {
  const Cp = roundUp(C, TILE_M), Opad = roundUp(O, TILE_N);
  const dw = new Float32Array(O * C * 9);
  const du = new Float64Array(XI), gdu = new Float64Array(12); // dU[o, c] 4×4; Gᵀ·dU 3×4
  for (let o = 0; o < O; o++) {
    for (let c = 0; c < C; c++) {
      for (let xi = 0; xi < XI; xi++) {
        let s = 0;
        for (const part of parts) s += heap[part + (xi * Cp + c) * Opad + o];
        du[xi] = s;
      }
      for (let ky = 0; ky < 3; ky++) {
        for (let q = 0; q < 4; q++) gdu[ky * 4 + q] = G[0][ky] * du[q] + G[1][ky] * du[4 + q] + G[2][ky] * du[8 + q] + G[3][ky] * du[12 + q];
      }
      for (let ky = 0; ky < 3; ky++) {
        for (let kx = 0; kx < 3; kx++) {
          dw[((o * C + c) * 3 + ky) * 3 + kx] = gdu[ky * 4] * G[0][kx] + gdu[ky * 4 + 1] * G[1][kx] + gdu[ky * 4 + 2] * G[2][kx] + gdu[ky * 4 + 3] * G[3][kx];
        }
      }
    }
  }
  return dw;
}
