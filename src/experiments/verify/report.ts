/**
 * `gradlab verify`: the paper's mathematics, checked numerically, with a report.
 *
 *   Check 1  eqs. (2)–(3): FReLU's forward and both derivatives on both backends, against the
 *            closed forms and central finite differences, away from the kink and at it.
 *   Check 2  eqs. (4)–(5): the backward variance Var[∂Cost/∂x̃_l], layer by layer, by Monte Carlo.
 *   Check 3  eqs. (6)–(9): the forward variance Var[x_l], layer by layer, against the paper's
 *            recursion, its unrolled and closed forms, and the recursion derived in the report.
 *
 * The formulas and the measurement live in ./init-analysis.ts; this file plans the run, runs check 1,
 * and writes the Markdown report, its SVG figures and the JSON (all atomically).
 */
import { join } from 'node:path';
import * as g from '../../index.js';
import type { BackendName } from '../../tensor/backends/backend.js';
import type { DType } from '../../tensor/dtype.js';
import { randomStream } from '../../tensor/random.js';
import { writeFileAtomic, writeJsonAtomic } from '../../util/fs.js';
import { ProgressBar } from '../../util/progress.js';
import { formatSignificant as fmt, signedPercent } from '../../util/format.js';
import { lineChart, type Series } from '../../util/svg.js';
import {
  analyse, biasOf, depth, measure, type ConfigResult, type Comparison, type EqKey, type LayerResult, type NetConfig,
} from '../init-analysis.js';

const F = g.nn.functional;

// ── the plan: which networks, how many samples ──

export interface PlannedConfig {
  cfg: NetConfig;
  networks: number;
  batch: number;
}

export interface VerifyPlan {
  configs: PlannedConfig[];
  /** Random points per b value in check 1. */
  pointsPerB: number;
}

export const B_VALUES: readonly number[] = [-1, -0.5, 0, 0.5];

/** A file- and seed-friendly tag for b: −1 → 'bm1', 0.5 → 'bp0.5', 0 → 'b0'. */
export function bTag(b: number): string {
  return b < 0 ? `bm${-b}` : b > 0 ? `bp${b}` : 'b0';
}

/** ReLU, then FReLU for each b, on one network shape. */
function family(name: string, base: Omit<NetConfig, 'name' | 'activation' | 'b'>, networks: number, batch: number, bValues = B_VALUES): PlannedConfig[] {
  return [
    { cfg: { ...base, name: `${name}-relu`, activation: 'relu' as const, b: 0 }, networks, batch },
    ...bValues.map((b) => ({ cfg: { ...base, name: `${name}-frelu-${bTag(b)}`, activation: 'frelu' as const, b }, networks, batch })),
  ];
}

/**
 * The default run (a few minutes on 2 cores) and the quick one (under a minute): fully connected
 * nets with equal and with changing widths, and a conv net with changing channel counts (k = 3).
 */
export function defaultPlan(quick: boolean): VerifyPlan {
  if (quick) {
    return {
      pointsPerB: 500,
      configs: [
        ...family('fc-equal', { net: 'fc', widths: [128, 128, 128, 128, 128, 128, 128], kernel: 1 }, 16, 32),
        ...family('fc-changing', { net: 'fc', widths: [96, 128, 64, 160, 96, 128, 80], kernel: 1 }, 16, 32),
        ...family('conv', { net: 'conv', widths: [4, 8, 12, 8, 16], kernel: 3, spatial: 12 }, 24, 6),
      ],
    };
  }
  return {
    pointsPerB: 2000,
    configs: [
      ...family('fc-equal', { net: 'fc', widths: Array(11).fill(256), kernel: 1 }, 24, 64),
      ...family('fc-changing', { net: 'fc', widths: [128, 256, 160, 320, 192, 256, 128, 288, 224, 160, 256], kernel: 1 }, 24, 64),
      ...family('conv', { net: 'conv', widths: [8, 16, 24, 16, 32, 16], kernel: 3, spatial: 16 }, 20, 8),
    ],
  };
}

// ── check 1: eqs. (2) and (3) ──

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

function stat(errors: readonly number[], bounds: readonly number[]): ErrorStat {
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
  const values = (t: g.Tensor): Float64Array => Float64Array.from(t.toArray());

  const errs = { forward: [] as number[], dx: [] as number[], db: [] as number[], dxFd: [] as number[], dbFd: [] as number[], relu: [] as number[] };
  const bounds = { forward: [] as number[], dx: [] as number[], db: [] as number[], dxFd: [] as number[], dbFd: [] as number[], relu: [] as number[] };

  return g.tidy(() => {
    for (const bv of bValues) {
      const x = Array.from({ length: pointsPerB }, () => {
        const v = rng.normal();
        return round(Math.sign(v) * (gap + Math.abs(v)));
      });
      const r = Array.from({ length: pointsPerB }, () => round(rng.normal()));
      const xT = g.tensor(x, { ...opts, requiresGrad: true });
      const bT = g.tensor(bv, { ...opts, requiresGrad: true });
      const rT = g.tensor(r, opts);
      const yT = F.frelu(xT, bT);
      g.sum(g.mul(rT, yT)).backward(); // Cost = Σ rᵢ yᵢ: x.grad = r·∂y/∂x, b.grad = Σ r·∂y/∂b
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
      g.noGrad(() => {
        const xPlus = x.map((v) => round(v + h)), xMinus = x.map((v) => round(v - h));
        const yPlus = values(F.frelu(g.tensor(xPlus, opts), g.tensor(bv, opts)));
        const yMinus = values(F.frelu(g.tensor(xMinus, opts), g.tensor(bv, opts)));
        x.forEach((_, i) => {
          const step = xPlus[i] - xMinus[i];
          const fd = (r[i] * (yPlus[i] - yMinus[i])) / step;
          errs.dxFd.push(Math.abs(dx[i] - fd));
          bounds.dxFd.push((4 * eps * (1 + Math.abs(yPlus[i]) + Math.abs(yMinus[i])) * Math.abs(r[i])) / step + 4 * eps * Math.abs(r[i]));
        });
        const cost = (b: number): { value: number; scale: number } => {
          const yb = F.frelu(xT, g.tensor(b, opts));
          const scale = values(yb).reduce((s, v, i) => s + Math.abs(r[i] * v), 0);
          return { value: g.sum(g.mul(rT, yb)).item(), scale };
        };
        const bPlus = round(bv + hb), bMinus = round(bv - hb);
        const up = cost(bPlus), down = cost(bMinus);
        errs.dbFd.push(Math.abs(db - (up.value - down.value) / (bPlus - bMinus)));
        bounds.dbFd.push((sumBound * (up.scale + down.scale)) / (bPlus - bMinus) + sumBound * sumAbsR);
      });

      // ReLU is FReLU with b = 0: the two ops must agree exactly, values and gradients.
      if (bv === 0) {
        const x0 = g.tensor(x, { ...opts, requiresGrad: true });
        const yRelu = F.relu(x0);
        g.sum(g.mul(rT, yRelu)).backward();
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
        const xT = g.tensor([x0], { ...opts, requiresGrad: true });
        const bT = g.tensor(bv, { ...opts, requiresGrad: true });
        const yT = F.frelu(xT, bT);
        g.sum(yT).backward();
        const at = (xv: number): number => g.noGrad(() => F.frelu(g.tensor([xv], opts), g.tensor(bv, opts)).item());
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
      mode: backend === 'gpu' ? g.gpuInfo().kernelClass : null,
      points: pointsPerB * bValues.length,
      bValues,
      forward: stat(errs.forward, bounds.forward),
      dxClosed: stat(errs.dx, bounds.dx),
      dbClosed: stat(errs.db, bounds.db),
      dxFiniteDiff: stat(errs.dxFd, bounds.dxFd),
      dbFiniteDiff: stat(errs.dbFd, bounds.dbFd),
      reluEqualsFrelu0: stat(errs.relu, bounds.relu),
      kink,
      kinkOk,
    };
    const ok = [result.forward, result.dxClosed, result.dbClosed, result.dxFiniteDiff, result.dbFiniteDiff, result.reluEqualsFrelu0].every((s) => s.ok) && kinkOk;
    return { ...result, ok };
  });
}

// ── the run ──

export interface VerifyOptions {
  quick?: boolean;
  seed?: number | string;
  /** Folder for verify.md and figures/ (default 'reports'). */
  outDir?: string;
  /** Where to write the JSON; null (the default) for none. */
  jsonPath?: string | null;
  /** Replaces the default plan (tests use small ones). */
  plan?: VerifyPlan;
  /** Backends for check 1 (default both). */
  backends?: readonly BackendName[];
  /** Progress and log lines (default: stderr). */
  log?: NodeJS.WriteStream | null;
}

export interface VerifyResult {
  seed: number | string;
  quick: boolean;
  seconds: number;
  check1: FreluCheck[];
  configs: ConfigResult[];
  /** The library and the derivation hold: check 1 passed everywhere and every derived prediction agrees. */
  ok: boolean;
}

export interface VerifyOutputs {
  report: string;
  figures: string[];
  json: string | null;
}

/** Runs every check, writes the report, its figures and (if asked) the JSON. */
export function runVerify(options: VerifyOptions = {}): { result: VerifyResult; outputs: VerifyOutputs } {
  const quick = options.quick ?? false;
  const seed = options.seed ?? 1;
  const plan = options.plan ?? defaultPlan(quick);
  const outDir = options.outDir ?? 'reports';
  const log = options.log === undefined ? process.stderr : options.log;
  const say = (line: string): void => void log?.write(line + '\n');
  const start = performance.now();

  const check1: FreluCheck[] = [];
  for (const backend of options.backends ?? (['reference', 'gpu'] as const)) {
    say(`verify: eqs. (2)–(3) on the ${backend} backend`);
    try {
      check1.push(checkFrelu(backend, plan.pointsPerB, seed));
    } catch (err) {
      check1.push(failedCheck(backend, err instanceof Error ? err.message : String(err)));
      say(`verify: the ${backend} backend could not run check 1: ${check1[check1.length - 1].error}`);
    }
  }

  const configs: ConfigResult[] = [];
  for (const { cfg, networks, batch } of plan.configs) {
    const bar = log ? new ProgressBar({ label: `verify ${cfg.name}`, total: networks, unit: 'net', stream: log }) : null;
    const runs = measure(cfg, { networks, batch, seed, onNetwork: (done) => bar?.update(done) });
    configs.push(analyse(cfg, runs, batch));
  }

  const ok = check1.every((c) => c.ok) && configs.every((c) => c.agrees.derived && c.agrees.derivedGrad);
  const result: VerifyResult = { seed, quick, seconds: (performance.now() - start) / 1000, check1, configs, ok };

  const figures = renderFigures(result);
  const figurePaths: string[] = [];
  for (const [name, svg] of figures) {
    const path = join(outDir, 'figures', name);
    writeFileAtomic(path, svg);
    figurePaths.push(path);
  }
  const reportPath = join(outDir, 'verify.md');
  writeFileAtomic(reportPath, renderReport(result));
  const jsonPath = options.jsonPath ?? null;
  if (jsonPath !== null) writeJsonAtomic(jsonPath, toJson(result));
  return { result, outputs: { report: reportPath, figures: figurePaths, json: jsonPath } };
}

function failedCheck(backend: BackendName, error: string): FreluCheck {
  const none: ErrorStat = { maxError: NaN, worstRatio: NaN, ok: false };
  return {
    backend, dtype: backend === 'gpu' ? 'float32' : 'float64', mode: null, points: 0, bValues: [],
    forward: none, dxClosed: none, dbClosed: none, dxFiniteDiff: none, dbFiniteDiff: none, reluEqualsFrelu0: none,
    kink: [], kinkOk: false, ok: false, error,
  };
}

// ── JSON ──

/** The machine-readable result (the issue's shape, plus standard errors, z scores and the symmetry data). */
export function toJson(result: VerifyResult): object {
  return {
    tool: 'gradlab verify',
    seed: result.seed,
    quick: result.quick,
    seconds: +result.seconds.toFixed(1),
    ok: result.ok,
    setup: {
      input: 'x̃_1 i.i.d. N(0, 1)',
      init: 'w_l i.i.d. N(0, 2/n̂_l), n̂_l = k²·d_l (eq. 5, fan-out)',
      cost: 'Cost = Σ r ⊙ x_L with r i.i.d. N(0, 1) (random linear readout), so ∂Cost/∂x_L = r',
      widths: '[c_1, d_1, …, d_L]: the input width, then each layer\'s output width',
      variance: 'mean of x_l² (E[x_l] = 0 by symmetry) over inputs and units; conv: interior pixels only',
      standardError: 'sd over independent networks / √networks (paired per network for predictions from a measured anchor)',
      agreement: '|measured − predicted| ≤ tCrit·SE, tCrit = Student t (df = networks − 1) at two-sided alpha / L',
    },
    eq2eq3: result.check1,
    configs: result.configs.map((c) => {
      const L = depth(c.config);
      const last = c.layers[L - 1];
      return {
        name: c.config.name,
        net: c.config.net,
        widths: c.config.widths,
        kernel: c.config.kernel,
        ...(c.config.spatial !== undefined ? { spatial: c.config.spatial } : {}),
        activation: c.config.activation,
        b: biasOf(c.config),
        samples: c.networks * c.batch,
        networks: c.networks,
        inputsPerNetwork: c.batch,
        tCrit: c.tCrit,
        alpha: c.alpha,
        layers: c.layers.map((r) => ({
          l: r.l,
          measuredVar: r.measuredVar,
          measuredVarSE: r.measuredVarSE,
          paperEq6Var: r.eq6.predicted,
          paperEq78Var: r.eq78.predicted,
          paperEq9Var: r.eq9.predicted,
          derivedVar: r.derived.predicted,
          measuredGradVar: r.measuredGradVar,
          measuredGradVarSE: r.measuredGradVarSE,
          paperEq4GradVar: r.eq4.predicted,
          derivedGradVar: r.derivedGrad.predicted,
          z: { eq6: r.eq6.z, eq78: r.eq78.z, eq9: r.eq9.z, derived: r.derived.z, eq4: r.eq4.z, derivedGrad: r.derivedGrad.z, stepPaper: r.stepPaper.z, stepDerived: r.stepDerived.z },
          measuredActSecondMoment: r.measuredActSecondMoment,
          measuredActSecondMomentSE: r.measuredActSecondMomentSE,
          stepPaperActSecondMoment: r.stepPaper.predicted,
          stepDerivedActSecondMoment: r.stepDerived.predicted,
          measuredMean: r.measuredMean,
          measuredMeanSE: r.measuredMeanSE,
          fractionPositive: r.fractionPositive,
          fractionPositiveSE: r.fractionPositiveSE,
          measuredReluMean: r.measuredReluMean,
          gaussianRatio: r.gaussianRatio,
          gaussianRatioSE: r.gaussianRatioSE,
          measuredActMean: r.measuredActMean,
          measuredElementsPerInput: c.countX[r.l - 1],
        })),
        paperEq9Var: last.eq9.predicted,
        eq78UnderEq5Var: c.eq78UnderEq5Last,
        agrees: c.agrees,
      };
    }),
  };
}

// ── figures ──

function familyOf(cfg: NetConfig): string {
  return cfg.name.replace(/-(relu|frelu-b.*)$/, '');
}

function describeB(cfg: NetConfig): string {
  return cfg.activation === 'relu' ? 'ReLU' : `FReLU b = ${cfg.b}`;
}

/** SVG figures by file name: one forward figure per configuration, one backward figure per network family. */
export function renderFigures(result: VerifyResult): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of result.configs) {
    const ls = c.layers.map((r) => r.l);
    const series: Series[] = [
      {
        name: 'measured (±2 SE)', x: ls, y: c.layers.map((r) => r.measuredVar), color: '#000000',
        band: { lower: c.layers.map((r) => r.measuredVar - 2 * r.measuredVarSE), upper: c.layers.map((r) => r.measuredVar + 2 * r.measuredVarSE) },
      },
      { name: 'derived recursion', x: ls, y: c.layers.map((r) => r.derived.predicted), color: '#2ca02c' },
      { name: 'eq. (6) = eqs. (7)–(8)', x: ls, y: c.layers.map((r) => r.eq6.predicted), color: '#d62728', dash: true },
      { name: 'eq. (9)', x: ls, y: c.layers.map((r) => r.eq9.predicted), color: '#1f77b4', dash: '2 3' },
    ];
    out.set(`verify-forward-${c.config.name}.svg`, lineChart(series, {
      title: `Var[x_l], ${c.config.net} ${c.config.widths.join('-')}, ${describeB(c.config)}`,
      xLabel: 'layer l', yLabel: 'Var[x_l]', yScale: 'log', xTicks: ls,
    }));
  }
  const families = [...new Set(result.configs.map((c) => familyOf(c.config)))];
  for (const fam of families) {
    const members = result.configs.filter((c) => familyOf(c.config) === fam);
    const series: Series[] = members.map((c) => ({
      name: describeB(c.config),
      x: c.layers.map((r) => r.l),
      y: c.layers.map((r) => r.measuredGradVar),
      band: { lower: c.layers.map((r) => r.measuredGradVar - 2 * r.measuredGradVarSE), upper: c.layers.map((r) => r.measuredGradVar + 2 * r.measuredGradVarSE) },
    }));
    const first = members[0];
    series.push({ name: 'eqs. (4)–(5) from the readout', x: first.layers.map((r) => r.l), y: first.layers.map((r) => r.derivedGrad.predicted), color: '#000000', dash: true, markers: false });
    out.set(`verify-backward-${fam}.svg`, lineChart(series, {
      title: `Var[∂Cost/∂x̃_l], ${first.config.net} ${first.config.widths.join('-')} (bands: ±2 SE)`,
      xLabel: 'layer l', yLabel: 'Var[∂Cost/∂x̃_l]', yScale: 'linear', xTicks: first.layers.map((r) => r.l),
    }));
  }
  return out;
}

// ── the report ──

function verdict(c: Comparison): string {
  return c.agrees === null ? 'anchor' : c.agrees ? 'yes' : '**no**';
}

function cell(c: Comparison): string {
  return c.agrees === null ? `${fmt(c.predicted)} (anchor)` : `${fmt(c.predicted)} (${signedPercent(c.relError)}, z ${c.z!.toFixed(1)}, ${verdict(c)})`;
}

/** What an equation is compared with: the gradient variance, E[x̃_l²] (one-step checks) or Var[x_l]. */
function measuredOf(key: EqKey, r: LayerResult): { value: number; se: number } {
  if (key === 'eq4' || key === 'derivedGrad') return { value: r.measuredGradVar, se: r.measuredGradVarSE };
  if (key === 'stepPaper' || key === 'stepDerived') return { value: r.measuredActSecondMoment, se: r.measuredActSecondMomentSE };
  return { value: r.measuredVar, se: r.measuredVarSE };
}

/** Largest |z| of one equation over the given configurations (anchors skipped). */
function maxAbsZ(configs: readonly ConfigResult[], key: EqKey): { z: number; where: string } {
  let best = { z: 0, where: '' };
  for (const c of configs) {
    for (const r of c.layers) {
      const z = r[key].z;
      if (z !== null && Math.abs(z) > Math.abs(best.z)) best = { z, where: `${c.config.name}, l = ${r.l}` };
    }
  }
  return best;
}

/** The configuration and layer where a failing equation misses by the largest relative error. */
function worstMiss(configs: readonly ConfigResult[], key: EqKey): { c: ConfigResult; r: LayerResult } | null {
  let best: { c: ConfigResult; r: LayerResult } | null = null;
  for (const c of configs) {
    for (const r of c.layers) {
      if (r[key].agrees === false && (best === null || Math.abs(r[key].relError) > Math.abs(best.r[key].relError))) best = { c, r };
    }
  }
  return best;
}

/** The smallest |z| among the layers where an equation fails: how clearly it fails. */
function minFailingZ(configs: readonly ConfigResult[], key: EqKey): number {
  let m = Infinity;
  for (const c of configs) for (const r of c.layers) if (r[key].agrees === false && r[key].z !== null) m = Math.min(m, Math.abs(r[key].z!));
  return m;
}

function summaryLine(result: VerifyResult, key: EqKey, label: string, what: string): string {
  const agree = result.configs.filter((c) => c.agrees[key]);
  const disagree = result.configs.filter((c) => !c.agrees[key]);
  const zs = maxAbsZ(agree, key);
  const bsAgree = [...new Set(agree.map((c) => biasOf(c.config)))].sort((a, b) => a - b);
  let text = `| ${label} | ${what} | `;
  if (disagree.length === 0) {
    text += `**holds** in all ${result.configs.length} configurations (largest \\|z\\| = ${Math.abs(zs.z).toFixed(2)}, ${zs.where}) |`;
  } else {
    const w = worstMiss(disagree, key)!;
    text += `holds in ${agree.length} of ${result.configs.length} (b ∈ {${bsAgree.join(', ')}}${agree.length ? `, largest \\|z\\| = ${Math.abs(zs.z).toFixed(2)}` : ''}); ` +
      `**fails** in ${disagree.length} — worst: \`${w.c.config.name}\` l = ${w.r.l}: measured ${fmt(measuredOf(key, w.r).value)} ± ${fmt(measuredOf(key, w.r).se)} vs ${fmt(w.r[key].predicted)} (${signedPercent(w.r[key].relError)}); ` +
      `every failing layer is ≥ ${minFailingZ(disagree, key).toFixed(1)} SE off |`;
  }
  return text;
}

function check1Table(checks: readonly FreluCheck[]): string[] {
  const lines = [
    '| backend | dtype / mode | points | eq. (2) y vs closed form | eq. (3) ∂y/∂x vs closed form | ∂y/∂x vs central difference | ∂Cost/∂b vs Σr (closed) | ∂Cost/∂b vs central difference | relu = frelu(·, 0) | kink | verdict |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const c of checks) {
    if (c.error) {
      lines.push(`| ${c.backend} | ${c.dtype} | — | could not run: ${c.error.replace(/\|/g, '\\|')} | | | | | | | **failed** |`);
      continue;
    }
    const e = (s: ErrorStat): string => `${fmt(s.maxError)}${s.ok ? '' : ' **✗**'}`;
    lines.push(
      `| ${c.backend} | ${c.dtype}${c.mode ? ` / ${c.mode}` : ''} | ${c.points} | ${e(c.forward)} | ${e(c.dxClosed)} | ${e(c.dxFiniteDiff)} | ${e(c.dbClosed)} | ${e(c.dbFiniteDiff)} | ${e(c.reluEqualsFrelu0)} | ${c.kinkOk ? 'y = b, ∂y/∂x = 0, ∂y/∂b = 1' : '**wrong**'} | ${c.ok ? 'passes' : '**fails**'} |`,
    );
  }
  return lines;
}

function kinkTable(check: FreluCheck): string[] {
  const lines = ['| b | x | y = frelu(x, b) | ∂y/∂x (autograd) | ∂y/∂b | right slope (f(h) − f(0))/h | left slope (f(0) − f(−h))/h |', '|---|---|---|---|---|---|---|'];
  for (const k of check.kink) {
    lines.push(`| ${fmt(k.b)} | ${Object.is(k.x, -0) ? '−0' : '0'} | ${fmt(k.y)} | ${k.dydx} | ${k.dydb} | ${fmt(k.rightSlope)} | ${fmt(k.leftSlope)} |`);
  }
  return lines;
}

function describeNet(c: ConfigResult): string {
  const cfg = c.config;
  const L = depth(cfg);
  const shape = cfg.net === 'fc'
    ? `fully connected, L = ${L}, widths [c_1, d_1…d_L] = [${cfg.widths.join(', ')}]`
    : `conv k = ${cfg.kernel}, "same" padding, ${cfg.spatial}×${cfg.spatial} input, L = ${L}, channels [c_1, d_1…d_L] = [${cfg.widths.join(', ')}]`;
  return `${shape}; ${describeB(cfg)}; ${c.networks} networks × ${c.batch} inputs; agreement: |z| ≤ ${c.tCrit.toFixed(2)}, z = (measured − predicted)/SE`;
}

function forwardTable(c: ConfigResult): string[] {
  const lines = [
    '| l | measured Var[x_l] ± SE | eq. (6) | eqs. (7)–(8) | eq. (9) | derived |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of c.layers) {
    lines.push(`| ${r.l} | ${fmt(r.measuredVar)} ± ${fmt(r.measuredVarSE)} | ${cell(r.eq6)} | ${cell(r.eq78)} | ${cell(r.eq9)} | ${cell(r.derived)} |`);
  }
  return lines;
}

function backwardTable(c: ConfigResult): string[] {
  const lines = ['| l | measured Var[∂Cost/∂x̃_l] ± SE | eq. (4) from measured l = L | eqs. (4)–(5) from the readout |', '|---|---|---|---|'];
  for (const r of c.layers) lines.push(`| ${r.l} | ${fmt(r.measuredGradVar)} ± ${fmt(r.measuredGradVarSE)} | ${cell(r.eq4)} | ${cell(r.derivedGrad)} |`);
  return lines;
}

/** The step the paper gets wrong, from each network's measured x_{l−1}: E[x̃_l²] against both expressions. */
function crossTermTable(c: ConfigResult): string[] {
  const lines = [
    '| l | Var[x_{l−1}] | E[relu(x_{l−1})] | √(Var[x_{l−1}]/2π) | measured E[x̃_l²] ± SE | eq. (6)\'s step: ½Var + b² | exact step (F3): ½Var + 2b·E[relu] + b² |',
    '|---|---|---|---|---|---|---|',
  ];
  for (let l = 2; l <= c.layers.length; l++) {
    const prev = c.layers[l - 2];
    const r = c.layers[l - 1];
    lines.push(
      `| ${l} | ${fmt(prev.measuredVar)} | ${fmt(prev.measuredReluMean)} | ${fmt(Math.sqrt(prev.measuredVar / (2 * Math.PI)))} | ` +
        `${fmt(r.measuredActSecondMoment)} ± ${fmt(r.measuredActSecondMomentSE)} | ${cell(r.stepPaper)} | ${cell(r.stepDerived)} |`,
    );
  }
  return lines;
}

function symmetryTable(configs: readonly ConfigResult[]): string[] {
  const lines = [
    '| config | max over l of \\|P(x_l > 0) − ½\\| / SE | max over l of \\|E[x_l]\\| / SE | E[x̃_l], l ≥ 2 (min … max) | E[relu(x_l)] / √(Var[x_l]/2π) (min … max) | max over l of \\|ratio − 1\\| / SE | within tolerance |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const c of configs) {
    const rs = c.layers;
    const zPos = Math.max(...rs.map((r) => Math.abs(r.fractionPositive - 0.5) / r.fractionPositiveSE));
    const zMean = Math.max(...rs.map((r) => Math.abs(r.measuredMean) / r.measuredMeanSE));
    const zRatio = Math.max(...rs.map((r) => Math.abs(r.gaussianRatio - 1) / r.gaussianRatioSE));
    const acts = rs.slice(1).map((r) => r.measuredActMean);
    const ratios = rs.map((r) => r.gaussianRatio);
    const ok = Math.max(zPos, zMean, zRatio) <= c.tCrit;
    lines.push(
      `| \`${c.config.name}\` | ${zPos.toFixed(2)} | ${zMean.toFixed(2)} | ${acts.length ? `${fmt(Math.min(...acts))} … ${fmt(Math.max(...acts))}` : '—'} | ` +
        `${fmt(Math.min(...ratios))} … ${fmt(Math.max(...ratios))} | ${zRatio.toFixed(2)} | ${ok ? 'yes' : `**no** (tolerance ${c.tCrit.toFixed(2)})`} |`,
    );
  }
  return lines;
}

/** The b values (ReLU counted as b = 0) of the configurations where an equation agrees, and where it does not. */
function splitByB(configs: readonly ConfigResult[], key: EqKey): { holds: number[]; fails: number[] } {
  const uniq = (cs: readonly ConfigResult[]): number[] => [...new Set(cs.map((c) => biasOf(c.config)))].sort((a, b) => a - b);
  return { holds: uniq(configs.filter((c) => c.agrees[key])), fails: uniq(configs.filter((c) => !c.agrees[key])) };
}

/** The findings in words, each sentence chosen by this run's verdicts (so the text cannot contradict the tables). */
function findings(result: VerifyResult): string[] {
  const cs = result.configs;
  const out: string[] = ['Findings:', ''];
  const bSet = (bs: number[]): string => `b ∈ {${bs.join(', ')}}`;
  const ran = result.check1.filter((c) => !c.error);
  const c1 = result.check1.every((c) => c.ok);
  out.push(c1
    ? `- FReLU as gradlab implements it satisfies eqs. (2)–(3) on ${ran.map((c) => `${c.backend} (${c.dtype})`).join(' and ')}, within rounding, with ∂y/∂x = 0 at the kink.`
    : `- **Check 1 fails** on ${result.check1.filter((c) => !c.ok).map((c) => c.backend).join(' and ')}: see its table.`);
  if (cs.length === 0) return out;
  const eq4 = splitByB(cs, 'eq4');
  out.push(eq4.fails.length === 0
    ? `- The backward analysis, eq. (4) with eq. (5), holds in every configuration, ReLU and FReLU with ${bSet(eq4.holds)}: b does not enter it (B2), and Var[∂Cost/∂x̃_l] stays at 2.`
    : `- Eq. (4) fails for ${bSet(eq4.fails)} (see check 2).`);
  const stepPaper = splitByB(cs, 'stepPaper');
  const stepOk = cs.every((c) => c.agrees.stepDerived);
  out.push(
    `- One layer at a time, from the measured x_{l−1}: eq. (6)'s step E[x̃_l²] = ½Var[x_{l−1}] + b² ` +
      (stepPaper.fails.length ? `fails for ${bSet(stepPaper.fails)}${stepPaper.holds.length ? ` and holds for ${bSet(stepPaper.holds)}` : ''}` : `holds for ${bSet(stepPaper.holds)}`) +
      `; the exact step with the cross term, ½Var[x_{l−1}] + 2b·E[relu(x_{l−1})] + b² (F3), ${stepOk ? 'holds in every configuration' : '**fails** somewhere (see check 3)'}.`,
  );
  const eq6 = splitByB(cs, 'eq6');
  out.push(eq6.fails.length === 0
    ? `- Eq. (6) agrees with the measurement for ${bSet(eq6.holds)}.`
    : `- Eq. (6) fails for ${bSet(eq6.fails)}${eq6.holds.length ? ` and holds for ${bSet(eq6.holds)}` : ''}: it drops the cross term 2b·E[relu(x_{l−1})] of E[x̃_l²] (F3), which is zero only for b = 0. ` +
      'Eqs. (7)–(8) unroll eq. (6) exactly and share its verdicts.');
  const eq9 = splitByB(cs, 'eq9');
  out.push(eq9.fails.length === 0
    ? `- Eq. (9) agrees with the measurement for ${bSet(eq9.holds)}.`
    : `- Eq. (9) fails for ${bSet(eq9.fails)}${eq9.holds.length ? ` and holds for ${bSet(eq9.holds)}` : ''}; beyond eq. (6)'s error it is not what eqs. (7)–(8) give under eq. (5), ` +
      '(c_2 Var[x_1] + 2Σ_k c_k b_k²)/d_L: the factor 2 is lost and c_k becomes c_2.');
  const derivedOk = cs.every((c) => c.agrees.derived);
  out.push(derivedOk
    ? '- The derived recursion, Var[x_l] = n_l Var[w_l](½Var[x_{l−1}] + 2b√(Var[x_{l−1}]/2π) + b²), agrees with the measurement in every configuration and layer.'
    : `- **The derived recursion disagrees** in ${cs.filter((c) => !c.agrees.derived).map((c) => `\`${c.config.name}\``).join(', ')}: see check 3.`);
  // F5: with equal widths and b < 0 the variance settles at πb²/2 — shown where the run has such a net.
  const settled = cs.filter((c) => c.config.activation === 'frelu' && c.config.b < 0 && new Set(c.config.widths).size === 1);
  if (settled.length > 0) {
    const parts = settled.map((c) => {
      const last = c.layers[c.layers.length - 1];
      return `b = ${c.config.b}: measured ${fmt(last.measuredVar)} ± ${fmt(last.measuredVarSE)} at l = ${last.l}, derived ${fmt(last.derived.predicted)}, ` +
        `fixed point πb²/2 = ${fmt((Math.PI * c.config.b ** 2) / 2)}, eq. (6) ${fmt(last.eq6.predicted)}`;
    });
    out.push(`- With equal widths and b < 0, Var[x_l] does not grow by 2b² per layer as eq. (6) says: it converges to the derived recursion's stable fixed point πb²/2 (F5). ${parts.join('; ')}.`);
  }
  return out;
}

/** The Markdown report: summary, method, derivations, then one table (and figure) per check and configuration. */
export function renderReport(result: VerifyResult): string {
  const cs = result.configs;
  const md: string[] = [];
  const push = (...lines: string[]): void => void md.push(...lines);
  const maxEq78Gap = Math.max(0, ...cs.flatMap((c) => c.layers.map((r) => Math.abs(r.eq78.predicted - r.eq6.predicted) / Math.abs(r.eq6.predicted))));
  const frelus = cs.filter((c) => biasOf(c.config) !== 0);

  push(
    '# `gradlab verify`: the FReLU paper\'s eqs. (2)–(9), checked numerically',
    '',
    `Qiu & Cai, *Flexible Rectified Linear Units for Improving Convolutional Neural Networks*, §2.1–2.2. ` +
      `Run: \`gradlab verify${result.quick ? ' --quick' : ''} --seed ${result.seed}\`, ${result.seconds.toFixed(0)} s. ` +
      `Monte Carlo networks are built from gradlab's own ops (linear, conv2d, relu, frelu, backward) in float64 on the reference backend; ` +
      `check 1 also runs on the gpu backend (float32).`,
    '',
    '## Summary',
    '',
    '| check | equation | result |',
    '|---|---|---|',
  );
  for (const c of result.check1) {
    push(`| 1 | eqs. (2)–(3) on ${c.backend} (${c.dtype}) | ${c.error ? `**could not run**: ${c.error}` : c.ok ? `**holds**: largest error ${fmt(Math.max(c.forward.maxError, c.dxClosed.maxError, c.dxFiniteDiff.maxError))} (values and ∂y/∂x), ${fmt(Math.max(c.dbClosed.maxError, c.dbFiniteDiff.maxError))} (∂Cost/∂b over ${c.points / c.bValues.length} points), all within rounding; kink convention y = b, ∂y/∂x = 0` : '**fails** (see check 1)'} |`);
  }
  push(
    summaryLine(result, 'eq4', '2', 'eq. (4): Var[∂Cost/∂x̃_l] = Var[∂Cost/∂x̃_L] ∏ ½n̂_m Var[w_m]'),
    summaryLine(result, 'derivedGrad', '2', 'eqs. (4)–(5) from the readout: Var[∂Cost/∂x̃_l] = 2 at every layer'),
    summaryLine(result, 'stepPaper', '3', 'eq. (6)\'s step, one layer from the measured x_{l−1}: E[x̃_l²] = ½Var[x_{l−1}] + b²'),
    summaryLine(result, 'stepDerived', '3', 'the exact step (F3), from the measured x_{l−1}: E[x̃_l²] = ½Var[x_{l−1}] + 2b·E[relu(x_{l−1})] + b²'),
    summaryLine(result, 'eq6', '3', 'eq. (6): Var[x_l] = (½n_l Var[x_{l−1}] + n_l b²) Var[w_l]'),
    summaryLine(result, 'eq78', '3', `eqs. (7)–(8), eq. (6) unrolled (equal to the eq. (6) recursion within ${maxEq78Gap.toExponential(1)} relative)`),
    summaryLine(result, 'eq9', '3', 'eq. (9): (c_2/d_L)(Var[x_1] + Σ b_k²)'),
    summaryLine(result, 'derived', '3', 'derived: Var[x_l] = n_l Var[w_l](½Var[x_{l−1}] + 2b√(Var[x_{l−1}]/2π) + b²)'),
    '',
    ...findings(result),
    '',
    'Every verdict above is computed from this run\'s numbers (the tables below).',
    '',
  );

  push(
    '## Setup',
    '',
    '- **Networks** (the paper\'s notation). Layer l = 1…L computes x_l = W_l x̃_l, no bias. x̃_1 is the input; x̃_l = relu(x_{l−1}) + b for ' +
      'l ≥ 2 (ReLU: b = 0); x_L is not activated. Layer l has c_l input and d_l output channels (c_l = d_{l−1}), kernel k (k = 1 for fully ' +
      'connected layers), fan-in n_l = k²c_l and fan-out n̂_l = k²d_l. The tables\' *widths* are [c_1, d_1, …, d_L].',
    '- **Weights**: i.i.d. N(0, Var[w_l]) with Var[w_l] = 2/n̂_l — eq. (5), ½n̂_l Var[w_l] = 1 — drawn anew for every network.',
    '- **Input**: x̃_1 i.i.d. N(0, 1), so E[x̃_1²] = 1 and Var[x_1] = n_1 Var[w_1] = 2c_1/d_1. (Var[x_1] depends on the input; eqs. (6)–(9) ' +
      'are therefore evaluated from the *measured* Var[x_1] of each network, the derived recursion from the input.)',
    '- **Cost** = Σ r ⊙ x_L over the batch and every output, with r i.i.d. N(0, 1) drawn with the network: a random linear readout, ' +
      'so ∂Cost/∂x_L = r is i.i.d., zero-mean and independent of the network — the top-layer gradient the paper\'s backward analysis assumes.',
    '- **"Var"** is over the joint draw of weights, input and readout. x_l and ∂Cost/∂x̃_l have mean exactly 0 (F2 below), so each is ' +
      'measured as the mean of its square over inputs and units. In a conv net, zero padding p = (k − 1)/2 removes products near the ' +
      'edge, so only the interior is measured: x_l at ≥ l·p pixels from the edge, ∂Cost/∂x̃_l at ≥ (L − l + 1)·p (where every ' +
      'product the analysis counts is present).',
    '- **∂Cost/∂x̃_l** comes from gradlab\'s backward(): a zero leaf added to each x̃_l (same value) receives it as `.grad`.',
    '- **Statistical error**: each configuration runs R independent networks of B inputs; SE = (sd of the R per-network values)/√R, which ' +
      'includes every correlation inside a network (units sharing inputs and weights). Predictions computed from a measured anchor — ' +
      'eqs. (6)–(9) from each network\'s Var[x_1], eq. (4) from its Var[∂Cost/∂x̃_L], the one-step checks from its x_{l−1} — are ' +
      'compared per network (the SE of the paired difference); the anchor layer itself is marked *anchor*.',
    `- **Agreement**: |measured − predicted| ≤ t·SE, t the Student-t quantile with R − 1 degrees of freedom at two-sided level α/L ` +
      `(α = ${cs[0]?.alpha ?? 0.001}, Bonferroni over a configuration's L layers): a true equation is flagged anywhere in a configuration with ` +
      `probability ≤ ${100 * (cs[0]?.alpha ?? 0.001)}%. Table cells read *prediction (relative error (measured − predicted)/predicted, z = (measured − predicted)/SE, agrees)*.`,
    `- **Seeds**: every random stream is seeded from \`${result.seed}/<configuration>/net<i>/{input, W<l>, readout}\` (and \`${result.seed}/frelu-check\`); the same seed reproduces every number.`,
    '',
  );

  push(
    '## Derivations',
    '',
    '### Forward',
    '',
    '**(F1)** x_{l,i} = Σ_{j=1..n_l} w_ij x̃_j. W_l is independent of x̃_l (it is drawn independently of every layer below) and ' +
      'E[w_ij w_ik] = Var[w_l]·[j = k], so E[x_{l,i}²] = Σ_j Σ_k E[w_ij w_ik] E[x̃_j x̃_k] = n_l Var[w_l] E[x̃_l²]. This is exact at any ' +
      'width and for any distribution of x̃_l — the paper\'s first step, confirmed.',
    '',
    '**(F2) Symmetry.** Given x̃_l, replacing W_l by −W_l maps x_l to −x_l and leaves the joint distribution unchanged (W_l is symmetric ' +
      'about 0 and independent of x̃_l). So x_l is symmetric about 0 even though x̃_l = relu(x_{l−1}) + b has a non-zero mean: ' +
      'E[x_l] = 0, P(x_l > 0) = ½, E[relu(x_l)²] = ½Var[x_l] and E[relu(x_l)] = ½E|x_l|, for every b. (Measured: see the symmetry table.)',
    '',
    '**(F3) The step eq. (6) gets wrong.** (relu(x) + b)² = relu(x)² + 2b·relu(x) + b², so, exactly,',
    '',
    '    E[x̃_l²] = ½Var[x_{l−1}] + 2b·E[relu(x_{l−1})] + b².',
    '',
    'The paper writes x̃_l² = max(0, x_{l−1}²) + max(0, 2b_l x_{l−1}) + b_l² and concludes E[x̃_l²] = ½Var[x_{l−1}] + b_l²: the cross ' +
      'term\'s expectation 2b·E[relu(x_{l−1})] = b·E|x_{l−1}| is dropped. It vanishes only for b = 0. (Also, max(0, 2bx) equals 2b·relu(x) only for b ≥ 0.)',
    '',
    '**(F4) Closing the recursion.** For x ~ N(0, v), E[relu(x)] = ∫₀^∞ x e^{−x²/2v} dx / √(2πv) = √(v/2π). With x_{l−1} Gaussian:',
    '',
    '    Var[x_l] = n_l Var[w_l] (½Var[x_{l−1}] + 2b·√(Var[x_{l−1}]/2π) + b²),   Var[x_1] = n_1 Var[w_1]·E[x̃_1²] = n_1 Var[w_1].',
    '',
    'Given x̃_{l−1}, x_{l−1} is exactly Gaussian (Gaussian weights times fixed inputs), but its variance Var[w]·|x̃_{l−1}|² changes ' +
      'from input to input, and these fluctuations compound with depth (their relative size grows roughly like Σ_k 1/n_k). A scale ' +
      'mixture of Gaussians has E|x| below the Gaussian value (Jensen), so the derived recursion is the wide-network limit: at finite ' +
      'width its cross term is slightly too large in magnitude. The symmetry table below measures the ratio E[relu(x_l)] / √(Var[x_l]/2π); ' +
      'at the widths used here it is within a few percent of 1, which moves the derived Var[x_l] by a few percent at most — inside the ' +
      'stated tolerance, and far from eq. (6)\'s misses. The one-step check (F3 with the measured E[relu]) involves no Gaussian assumption.',
    '',
    '**(F5) Under eq. (5)**, n_l Var[w_l] = 2c_l/d_l, so Var[x_l] = (c_l/d_l)(v + 2b√(2v/π) + 2b²) with v = Var[x_{l−1}]. With equal ' +
      'widths and b < 0 the added term 2b√(2v/π) + 2b² is zero at v* = πb²/2 (1.571 for b = −1, 0.393 for b = −0.5), where the map\'s ' +
      'slope is 1 − 2/π < 1: Var[x_l] converges to πb²/2 instead of growing. With b > 0 it grows, √Var[x_l] by about b√(2/π) per layer. ' +
      'Eq. (6) predicts growth by 2b² per layer for either sign.',
    '',
    '### Unrolling: eqs. (7)–(9)',
    '',
    'Eq. (6) is affine, v_l = a_l v_{l−1} + β_l with a_l = ½n_l Var[w_l] and β_l = n_l Var[w_l] b_l². Unrolled, v_L = v_1 ∏_{l=2..L} a_l + ' +
      'Σ_{k=2..L} β_k ∏_{l=k+1..L} a_l, and β_k ∏_{l=k+1..L} a_l = b_k² 2^{−(L−k)} ∏_{l=k..L} n_l Var[w_l]: exactly eqs. (7)–(8). The ' +
      'unrolling is right and inherits eq. (6)\'s error (the tables show eqs. (7)–(8) equal to the eq. (6) recursion).',
    '',
    'Under eq. (5): ∏_{l=2..L} ½n_l Var[w_l] = ∏ c_l/d_l = c_2/d_L, since c_l = d_{l−1} telescopes — for any widths, as eq. (9) says. ' +
      'But ∏_{l=k..L} n_l Var[w_l] = 2^{L−k+1} c_k/d_L, so ξ = (2/d_L) Σ_k c_k b_k² and eqs. (7)–(8) become',
    '',
    '    Var[x_L] = (c_2 Var[x_1] + 2 Σ_{k=2..L} c_k b_k²) / d_L,',
    '',
    'while eq. (9) prints (c_2/d_L)(Var[x_1] + Σ_k b_k²): the factor 2 is lost and c_k is replaced by c_2 (equal only when the widths are). ' +
      'So eq. (9) does not follow from eq. (6) unless every b_k = 0. For ReLU all of eqs. (6)–(9) reduce to Var[x_L] = (c_2/d_L) Var[x_1], which is exact.',
    '',
    '### Backward: eq. (4)',
    '',
    '**(B1)** ∂Cost/∂x̃_{l,j} = Σ w_ij ∂Cost/∂x_{l,i} over the n̂_l products x̃_{l,j} takes part in (the transposed matrix or convolution). ' +
      'If W_l is independent of ∂Cost/∂x_l, Var[∂Cost/∂x̃_l] = n̂_l Var[w_l] E[(∂Cost/∂x_l)²]. This independence is the paper\'s (and He et ' +
      'al.\'s) assumption, not an identity: ∂Cost/∂x_l depends on W_l through the signs of x_l. The measurement tests it.',
    '',
    '**(B2)** By eq. (3), ∂Cost/∂x_l = [x_l > 0]·∂Cost/∂x̃_{l+1}. With the gate independent of ∂Cost/∂x̃_{l+1} (same assumption) and ' +
      'P(x_l > 0) = ½ for every b (F2), E[(∂Cost/∂x_l)²] = ½Var[∂Cost/∂x̃_{l+1}] (its mean is 0 by W_{l+1}\'s symmetry). b does not appear.',
    '',
    '**(B3)** At the top ∂Cost/∂x_L = r, so Var[∂Cost/∂x̃_L] = n̂_L Var[w_L]. Chaining (B1)–(B2) gives eq. (4) for every l, ' +
      'Var[∂Cost/∂x̃_l] = Var[∂Cost/∂x̃_L] ∏_{m=l..L−1} ½n̂_m Var[w_m] (the paper writes l = 2). Under eq. (5) every factor is 1: ' +
      'Var[∂Cost/∂x̃_l] = n̂_L Var[w_L] = 2 at every layer, for any widths and any b.',
    '',
  );

  push('## Check 1: eqs. (2) and (3)', '',
    'Random points x (at least 0.05 from the kink, N(0, 1) pushed outwards) for b ∈ {' + (result.check1[0]?.bValues.map(fmt).join(', ') ?? '') + '}, ' +
      'Cost = Σ rᵢ yᵢ with random rᵢ, so autograd gives x.grad = r·∂y/∂x and b.grad = Σ rᵢ ∂yᵢ/∂b. Closed forms from eqs. (2)–(3); central ' +
      'differences through the library\'s forward with steps 0.025 (x) and 0.5 (b). FReLU is linear on each side of the kink, so these ' +
      'differences have no truncation error: every tolerance is a rounding bound (4ε of a value, √N·4ε of Σ|terms| for a sum of N terms, ' +
      'ε the dtype\'s epsilon). Columns give the largest absolute error.',
    '',
    ...check1Table(result.check1),
    '',
    'At the kink (upstream gradient 1; eq. (2): y = b, eq. (3) convention: ∂y/∂x = 0 at x = 0, the left slope, a subgradient in [0, 1]):',
    '',
  );
  const firstOk = result.check1.find((c) => !c.error);
  for (const c of result.check1) {
    if (c.error) continue;
    push(`*${c.backend} (${c.dtype})*`, '', ...kinkTable(c), '');
  }
  if (!firstOk) push('No backend could run check 1.', '');

  push('## Check 2: backward variance, eqs. (4)–(5)', '',
    'Var[∂Cost/∂x̃_l] layer by layer (l = 1 is the input). "eq. (4) from measured l = L" runs eq. (4) down from each network\'s measured ' +
      'Var[∂Cost/∂x̃_L]; "from the readout" starts from Var[r] = 1 (so it also checks the top step). Figures: all activations of one ' +
      'network shape, bands ±2 SE.',
    '',
  );
  const families = [...new Set(cs.map((c) => familyOf(c.config)))];
  for (const fam of families) {
    push(`![backward variance, ${fam}](figures/verify-backward-${fam}.svg)`, '');
    for (const c of cs.filter((x) => familyOf(x.config) === fam)) {
      push(`### \`${c.config.name}\``, '', describeNet(c), '', ...backwardTable(c), '');
    }
  }

  push('## Check 3: forward variance, eqs. (6)–(9)', '',
    'Eq. (6) is run from each network\'s measured Var[x_1]; eqs. (7)–(8) and (9) are evaluated for the network made of the first l ' +
      'layers (L = l), also from the measured Var[x_1]; the derived recursion starts from the input. Figures: log y axis, measured with ±2 SE.',
    '',
    '### Symmetry of x_l (F2) and the Gaussian step (F4)',
    '',
    'F2 says P(x_l > 0) = ½ and E[x_l] = 0 for every b, although the layer input x̃_l has a mean far from 0 when b ≠ 0; F4 says ' +
      'E[relu(x_l)] ≈ √(Var[x_l]/2π) (ratio 1, slightly below by O(1/n)). Deviations are given in standard errors (per-network spread) ' +
      'and judged with the configuration\'s tolerance.',
    '',
    ...symmetryTable(cs),
    '',
  );
  const showcase = frelus.find((c) => c.config.b < 0) ?? frelus[0];
  if (showcase) {
    push(`### The cross term, measured (\`${showcase.config.name}\`)`, '',
      'One layer at a time, with every input to the formulas measured (per network, so no Gaussian assumption enters): the exact ' +
        'expansion (F3) matches the measured E[x̃_l²]; eq. (6)\'s step, which drops 2b·E[relu(x_{l−1})], does not.',
      '', ...crossTermTable(showcase), '');
  }
  for (const c of cs) {
    push(`### \`${c.config.name}\``, '', describeNet(c), '', ...forwardTable(c), '');
    const L = depth(c.config);
    if (biasOf(c.config) !== 0) {
      const last = c.layers[L - 1];
      push(
        `For L = ${L}: eq. (9) as printed gives ${fmt(last.eq9.predicted)}; eqs. (7)–(8) under eq. (5), (c_2 Var[x_1] + 2Σ c_k b_k²)/d_L, give ` +
          `${fmt(c.eq78UnderEq5Last)} (= eq. (6): ${fmt(last.eq6.predicted)}); the derived recursion ${fmt(last.derived.predicted)}; measured ${fmt(last.measuredVar)} ± ${fmt(last.measuredVarSE)}.`,
        '',
      );
    }
    push(`![Var[x_l], ${c.config.name}](figures/verify-forward-${c.config.name}.svg)`, '');
  }
  return md.join('\n');
}
