/**
 * Check 1 of `gradlab verify`: FReLU's eqs. (2)–(3) on one backend — forward values and both
 * derivatives against the closed forms and central finite differences, away from the kink and at
 * it — with every tolerance a rounding bound of the dtype.
 */
import { tidy, type Tensor } from '../../tensor/tensor.js';
import { tensor } from '../../tensor/create.js';
import { gpuInfo } from '../../tensor/backends/gpu.js';
import { mul, sum } from '../../autograd/math.js';
import { noGrad } from '../../autograd/grad-mode.js';
import * as F from '../../nn/functional.js';
import type { BackendName } from '../../tensor/backends/backend.js';
import type { DType } from '../../tensor/dtype.js';
import { randomStream } from '../../tensor/random.js';
import { B_VALUES } from './plan.js';

export interface ErrorStat {
  /** The largest |computed − expected| over all points. */
  maxError: number;
  /** The largest error as a fraction of its allowed rounding bound (≤ 1 passes). */
  worstRatio: number;
  ok: boolean;
}

export interface KinkRow {
  b: number;
  x: number;
  y: number;
  dydx: number;
  dydb: number;
  /** One-sided differences (f(h) − f(0))/h and (f(0) − f(−h))/h: the kink's two slopes. */
  rightSlope: number;
  leftSlope: number;
}

export interface FreluCheck {
  backend: BackendName;
  dtype: DType;
  /** gpu backend: the gpu.js kernel class that ran (the mode actually used). */
  mode: string | null;
  points: number;
  bValues: number[];
  /** Eq. (2): y = x + b (x > 0), b (x ≤ 0). Eq. (3): ∂y/∂x = [x > 0], ∂y/∂b = 1. */
  forward: ErrorStat;
  dxClosed: ErrorStat;
  dbClosed: ErrorStat;
  dxFiniteDiff: ErrorStat;
  dbFiniteDiff: ErrorStat;
  /** frelu(x, 0) against relu(x), values and gradients (should be identical). */
  reluEqualsFrelu0: ErrorStat;
  kink: KinkRow[];
  kinkOk: boolean;
  ok: boolean;
  error?: string;
}

/** The largest error, and the largest error relative to its bound (≤ 1 passes). */
function errorStat(errors: readonly number[], bounds: readonly number[]): ErrorStat {
  let maxError = 0, worstRatio = 0;
  errors.forEach((e, i) => {
    maxError = Math.max(maxError, e);
    worstRatio = Math.max(worstRatio, bounds[i] > 0 ? e / bounds[i] : e === 0 ? 0 : Infinity);
  });
  return { maxError, worstRatio, ok: worstRatio <= 1 };
}

/**
 * Check 1 on one backend (reference: float64; gpu: float32). FReLU is linear on each side of its
 * kink, so a central difference whose step does not cross 0 has no truncation error: all that
 * remains is rounding, and every tolerance below is a rounding bound with ε the dtype's epsilon —
 * 4ε of the value for one operation, √N·4ε of Σ|terms| for a sum of N terms.
 */
export function checkFrelu(backend: BackendName, pointsPerB: number, seed: number | string): FreluCheck {
  const dtype: DType = backend === 'gpu' ? 'float32' : 'float64';
  const eps = dtype === 'float32' ? 2 ** -23 : 2 ** -52;
  const round = dtype === 'float32' ? Math.fround : (v: number) => v;
  const rng = randomStream(`${seed}/frelu-check`); // the same points on both backends (rounded for float32)
  const bValues = [...B_VALUES, round(rng.normal())];
  const opts = { dtype, backend };
  const gap = 0.05; // points are at least this far from the kink
  const h = 0.025; // finite-difference step in x: never crosses 0
  const hb = 0.5; // in b every step is exact: y is linear in b
  const values = (t: Tensor): Float64Array => Float64Array.from(t.toArray());

  const errs = { forward: [] as number[], dx: [] as number[], db: [] as number[], dxFd: [] as number[], dbFd: [] as number[], relu: [] as number[] };
  const bounds = { forward: [] as number[], dx: [] as number[], db: [] as number[], dxFd: [] as number[], dbFd: [] as number[], relu: [] as number[] };

  return tidy(() => {
    for (const bv of bValues) {
      const x = Array.from({ length: pointsPerB }, () => {
        const v = rng.normal();
        return round(Math.sign(v) * (gap + Math.abs(v)));
      });
      const r = Array.from({ length: pointsPerB }, () => round(rng.normal()));
      const xT = tensor(x, { ...opts, requiresGrad: true });
      const bT = tensor(bv, { ...opts, requiresGrad: true });
      const rT = tensor(r, opts);
      const yT = F.frelu(xT, bT);
      sum(mul(rT, yT)).backward(); // Cost = Σ rᵢ yᵢ: x.grad = r·∂y/∂x, b.grad = Σ r·∂y/∂b
      const y = values(yT), dx = values(xT.grad!), db = bT.grad!.item();
      const sumAbsR = r.reduce((s, v) => s + Math.abs(v), 0);
      const sumBound = Math.sqrt(pointsPerB) * 4 * eps;

      // Eq. (2) and eq. (3) closed forms, in float64 from the same (rounded) inputs.
      x.forEach((xi, i) => {
        const want = xi > 0 ? xi + bv : bv;
        errs.forward.push(Math.abs(y[i] - want));
        bounds.forward.push(4 * eps * (1 + Math.abs(want)));
        errs.dx.push(Math.abs(dx[i] - (xi > 0 ? r[i] : 0)));
        bounds.dx.push(4 * eps * Math.abs(r[i]));
      });
      const dbWant = r.reduce((s, v) => s + v, 0); // Σ rᵢ · 1
      errs.db.push(Math.abs(db - dbWant));
      bounds.db.push(sumBound * sumAbsR);

      // Central differences through the library's own forward, with the steps actually taken.
      noGrad(() => {
        const xPlus = x.map((v) => round(v + h)), xMinus = x.map((v) => round(v - h));
        const yPlus = values(F.frelu(tensor(xPlus, opts), tensor(bv, opts)));
        const yMinus = values(F.frelu(tensor(xMinus, opts), tensor(bv, opts)));
        x.forEach((_, i) => {
          const step = xPlus[i] - xMinus[i];
          const fd = (r[i] * (yPlus[i] - yMinus[i])) / step;
          errs.dxFd.push(Math.abs(dx[i] - fd));
          bounds.dxFd.push((4 * eps * (1 + Math.abs(yPlus[i]) + Math.abs(yMinus[i])) * Math.abs(r[i])) / step + 4 * eps * Math.abs(r[i]));
        });
        const cost = (b: number): { value: number; scale: number } => {
          const yb = F.frelu(xT, tensor(b, opts));
          const scale = values(yb).reduce((s, v, i) => s + Math.abs(r[i] * v), 0);
          return { value: sum(mul(rT, yb)).item(), scale };
        };
        const bPlus = round(bv + hb), bMinus = round(bv - hb);
        const up = cost(bPlus), down = cost(bMinus);
        errs.dbFd.push(Math.abs(db - (up.value - down.value) / (bPlus - bMinus)));
        bounds.dbFd.push((sumBound * (up.scale + down.scale)) / (bPlus - bMinus) + sumBound * sumAbsR);
      });

      // ReLU is FReLU with b = 0: the two ops must agree exactly, values and gradients.
      if (bv === 0) {
        const x0 = tensor(x, { ...opts, requiresGrad: true });
        const yRelu = F.relu(x0);
        sum(mul(rT, yRelu)).backward();
        const yr = values(yRelu), dr = values(x0.grad!);
        x.forEach((_, i) => {
          errs.relu.push(Math.abs(yr[i] - y[i]), Math.abs(dr[i] - dx[i]));
          bounds.relu.push(0, 0);
        });
      }
    }

    // The kink: x = 0 (and −0), upstream gradient 1. Eq. (2): y = b; eq. (3) convention: ∂y/∂x = 0.
    const kink: KinkRow[] = [];
    let kinkOk = true;
    for (const bv of bValues) {
      for (const x0 of [0, -0]) {
        const xT = tensor([x0], { ...opts, requiresGrad: true });
        const bT = tensor(bv, { ...opts, requiresGrad: true });
        const yT = F.frelu(xT, bT);
        sum(yT).backward();
        const at = (xv: number): number => noGrad(() => F.frelu(tensor([xv], opts), tensor(bv, opts)).item());
        const y0 = yT.item();
        const row: KinkRow = {
          b: bv, x: x0, y: y0, dydx: xT.grad!.item(), dydb: bT.grad!.item(),
          rightSlope: (at(h) - y0) / round(h), leftSlope: (y0 - at(-h)) / round(h),
        };
        kinkOk &&= row.y === bv && row.dydx === 0 && row.dydb === 1;
        kinkOk &&= Math.abs(row.rightSlope - 1) <= 8 * eps * (1 + Math.abs(bv)) / h && Math.abs(row.leftSlope) <= 8 * eps * (1 + Math.abs(bv)) / h;
        kink.push(row);
      }
    }

    const result: Omit<FreluCheck, 'ok'> = {
      backend, dtype,
      mode: backend === 'gpu' ? gpuInfo().kernelClass : null,
      points: pointsPerB * bValues.length,
      bValues,
      forward: errorStat(errs.forward, bounds.forward),
      dxClosed: errorStat(errs.dx, bounds.dx),
      dbClosed: errorStat(errs.db, bounds.db),
      dxFiniteDiff: errorStat(errs.dxFd, bounds.dxFd),
      dbFiniteDiff: errorStat(errs.dbFd, bounds.dbFd),
      reluEqualsFrelu0: errorStat(errs.relu, bounds.relu),
      kink,
      kinkOk,
    };
    const ok = [result.forward, result.dxClosed, result.dbClosed, result.dxFiniteDiff, result.dbFiniteDiff, result.reluEqualsFrelu0].every((s) => s.ok) && kinkOk;
    return { ...result, ok };
  });
}

/** The result of a backend that could not run check 1 at all (e.g. no gpu.js mode works here). */
export function failedCheck(backend: BackendName, error: string): FreluCheck {
  const none: ErrorStat = { maxError: NaN, worstRatio: NaN, ok: false };
  return {
    backend, dtype: backend === 'gpu' ? 'float32' : 'float64', mode: null, points: 0, bValues: [],
    forward: none, dxClosed: none, dbClosed: none, dxFiniteDiff: none, dbFiniteDiff: none, reluEqualsFrelu0: none,
    kink: [], kinkOk: false, ok: false, error,
  };
}
