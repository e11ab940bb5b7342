/**
 * The initialization analysis of Qiu & Cai's FReLU paper (§2.2, eqs. 4–9), as formulas and as a
 * Monte Carlo measurement on networks built from gradlab's own ops. `gradlab verify` and its tests
 * use this module; the report it writes carries the derivations summarised here.
 *
 * Notation (the paper's, after He et al. 2015). Layer l = 1…L computes x_l = W_l x̃_l (no bias):
 *   x̃_1          the input, i.i.d. N(0, 1) (so E[x̃_1²] = 1)
 *   x̃_l          = frelu(x_{l−1}) = relu(x_{l−1}) + b  for l = 2…L  (ReLU: b = 0)
 *   c_l, d_l      input and output width (channels) of layer l; c_l = d_{l−1}
 *   k             kernel size (a fully connected layer is k = 1)
 *   n_l = k²c_l   fan-in: the products summed into one x_l
 *   n̂_l = k²d_l   fan-out: the products one x̃_l element takes part in
 *   W_l           i.i.d. N(0, Var[w_l]) with Var[w_l] = 2/n̂_l — eq. (5), He's fan-out init
 *   Cost = Σ r ⊙ x_L, a random linear readout (r i.i.d. N(0, 1)), so ∂Cost/∂x_L = r
 *
 * Forward (derived in the report; each line exact unless marked):
 *   Var[x_l]  = n_l Var[w_l] E[x̃_l²]                               W_l independent of x̃_l, E[w] = 0
 *   x_l is symmetric about 0 whatever x̃_l's mean (W_l → −W_l keeps W_l's law), so
 *     P(x_l > 0) = ½,  E[relu(x_l)²] = ½Var[x_l]
 *   E[x̃_l²]  = ½Var[x_{l−1}] + 2b·E[relu(x_{l−1})] + b²
 *            ≈ ½Var[x_{l−1}] + b·√(2Var[x_{l−1}]/π) + b²          x_{l−1} Gaussian (wide layers)
 *   paper eq. (6) drops the cross term 2b·E[relu(x_{l−1})].
 * Backward: Var[∂Cost/∂x̃_l] = ½ n̂_l Var[w_l] Var[∂Cost/∂x̃_{l+1}] (eq. 4), b does not enter.
 */
// Core modules only (not the package index, which also carries the Node data loaders).
import { tidy, type Tensor } from '../tensor/tensor.js';
import { randn, tensor, zeros } from '../tensor/create.js';
import { add, mul, sum } from '../autograd/math.js';
import * as F from '../nn/functional.js';
import { meanAndSE, studentTQuantile } from '../util/stats.js';
import { shown } from '../util/format.js';

// ── 1. The networks ──

export interface NetConfig {
  /** A short unique name: seeds and figure file names derive from it. */
  name: string;
  net: 'fc' | 'conv';
  /** [c_1, d_1, d_2, …, d_L]: the input's width, then each layer's output width (channels). */
  widths: readonly number[];
  /** k: the square kernel's size (1 for fully connected layers). */
  kernel: number;
  /** conv only: the input's height = width in pixels ("same" padding keeps it layer to layer). */
  spatial?: number;
  activation: 'relu' | 'frelu';
  /** FReLU's b (the same b_l = b for every layer); 0 for ReLU. */
  b: number;
}

/** One layer's sizes in the paper's notation and its eq. (5) weight variance. */
export interface LayerShape {
  l: number;
  c: number;
  d: number;
  /** n_l = k²c_l, fan-in. */
  n: number;
  /** n̂_l = k²d_l, fan-out. */
  nHat: number;
  /** Var[w_l] = 2/n̂_l (eq. 5). */
  varW: number;
}

export function depth(cfg: NetConfig): number {
  return cfg.widths.length - 1;
}

/** The b of every FReLU in the network (ReLU is FReLU with b = 0). */
export function biasOf(cfg: NetConfig): number {
  return cfg.activation === 'relu' ? 0 : cfg.b;
}

export function checkConfig(cfg: NetConfig): void {
  const where = `init-analysis: config '${cfg.name}'`;
  if (cfg.widths.length < 2 || !cfg.widths.every((w) => Number.isInteger(w) && w >= 1)) {
    throw new Error(`${where}: widths must be [c_1, d_1, …, d_L], at least two positive integers; got ${shown(cfg.widths)}`);
  }
  if (!Number.isInteger(cfg.kernel) || cfg.kernel < 1 || cfg.kernel % 2 === 0) {
    throw new Error(`${where}: kernel must be an odd positive integer (so "same" padding is symmetric); got ${cfg.kernel}`);
  }
  if (cfg.net === 'fc' && cfg.kernel !== 1) throw new Error(`${where}: a fully connected net has kernel 1; got ${cfg.kernel}`);
  if (cfg.net === 'conv') {
    const S = cfg.spatial ?? 0;
    const need = 2 * depth(cfg) * margin(cfg) + 1;
    if (!Number.isInteger(S) || S < need) {
      throw new Error(`${where}: spatial must be an integer ≥ ${need} so that the interior measured at every layer is not empty; got ${cfg.spatial}`);
    }
  }
  if (!Number.isFinite(cfg.b)) throw new Error(`${where}: b must be a finite number; got ${cfg.b}`);
}

/** Paper notation for every layer, with the eq. (5) initialisation Var[w_l] = 2/n̂_l. */
export function layerShapes(cfg: NetConfig): LayerShape[] {
  const k2 = cfg.kernel * cfg.kernel;
  return cfg.widths.slice(1).map((d, i) => {
    const c = cfg.widths[i];
    return { l: i + 1, c, d, n: k2 * c, nHat: k2 * d, varW: 2 / (k2 * d) };
  });
}

/** The zero padding that keeps a conv's output the size of its input: p = (k − 1)/2. */
function margin(cfg: NetConfig): number {
  return (cfg.kernel - 1) / 2;
}

// ── 2. Predictions: the paper's equations and the derived ones ──
// Arrays are indexed by layer: element l − 1 belongs to layer l.

/**
 * Eq. (6), run from a given Var[x_1]:  Var[x_l] = (½ n_l Var[x_{l−1}] + n_l b_l²) Var[w_l].
 */
export function paperEq6(cfg: NetConfig, var1: number): number[] {
  const b = biasOf(cfg);
  const out = [var1];
  for (const { n, varW } of layerShapes(cfg).slice(1)) out.push((0.5 * n * out[out.length - 1] + n * b * b) * varW);
  return out;
}

/**
 * Eqs. (7)–(8), the closed form of eq. (6) for a network of L = l layers, evaluated for every l:
 *   Var[x_L] = Var[x_1] ∏_{l=2..L} ½ n_l Var[w_l] + ξ,   ξ = Σ_{k=2..L} b_k² 2^{−(L−k)} ∏_{l=k..L} n_l Var[w_l]
 */
export function paperEq78(cfg: NetConfig, var1: number): number[] {
  const b = biasOf(cfg);
  const layers = layerShapes(cfg);
  return layers.map((_, idx) => {
    const L = idx + 1;
    let product = 1;
    for (let l = 2; l <= L; l++) product *= 0.5 * layers[l - 1].n * layers[l - 1].varW;
    let xi = 0;
    for (let k = 2; k <= L; k++) {
      let p = 1;
      for (let l = k; l <= L; l++) p *= layers[l - 1].n * layers[l - 1].varW;
      xi += b * b * 2 ** -(L - k) * p;
    }
    return var1 * product + xi;
  });
}

/** Eq. (9) as printed, for a network of L = l layers:  (c_2 / d_L)(Var[x_1] + Σ_{k=2..L} b_k²). */
export function paperEq9(cfg: NetConfig, var1: number): number[] {
  const b = biasOf(cfg);
  const layers = layerShapes(cfg);
  const c2 = layers.length > 1 ? layers[1].c : layers[0].d; // c_2 = d_1
  return layers.map(({ d }, idx) => (c2 / d) * (var1 + idx * b * b));
}

/**
 * What eqs. (7)–(8) actually become under eq. (5): with n_l Var[w_l] = 2c_l/d_l and c_l = d_{l−1},
 * ∏_{l=k..L} n_l Var[w_l] = 2^{L−k+1} c_k/d_L, so
 *   Var[x_L] = (c_2 Var[x_1] + 2 Σ_{k=2..L} c_k b_k²) / d_L
 * — eq. (9) drops the factor 2 and writes c_2 for c_k.
 */
export function eq78UnderEq5(cfg: NetConfig, var1: number): number[] {
  const b = biasOf(cfg);
  const layers = layerShapes(cfg);
  const c2 = layers.length > 1 ? layers[1].c : layers[0].d;
  let sum = 0;
  return layers.map(({ c, d }, idx) => {
    if (idx >= 1) sum += c * b * b;
    return (c2 * var1 + 2 * sum) / d;
  });
}

/** E[relu(x)] for x ~ N(0, v): ½E|x| = √(v / 2π). */
export function gaussianReluMean(v: number): number {
  return Math.sqrt(v / (2 * Math.PI));
}

/**
 * The derived recursion, from the input (E[x̃_1²] = 1):
 *   Var[x_1] = n_1 Var[w_1]
 *   Var[x_l] = n_l Var[w_l] (½Var[x_{l−1}] + 2b·√(Var[x_{l−1}]/2π) + b²)
 */
export function derivedVar(cfg: NetConfig): number[] {
  const b = biasOf(cfg);
  const layers = layerShapes(cfg);
  const out = [layers[0].n * layers[0].varW];
  for (const { n, varW } of layers.slice(1)) {
    const v = out[out.length - 1];
    out.push(n * varW * (0.5 * v + 2 * b * gaussianReluMean(v) + b * b));
  }
  return out;
}

/**
 * Eq. (4) for every layer, run down from a given Var[∂Cost/∂x̃_L]:
 *   Var[∂Cost/∂x̃_l] = Var[∂Cost/∂x̃_L] ∏_{m=l..L−1} ½ n̂_m Var[w_m]
 */
export function paperEq4(cfg: NetConfig, gradVarL: number): number[] {
  const layers = layerShapes(cfg);
  const out = new Array<number>(layers.length);
  out[layers.length - 1] = gradVarL;
  for (let l = layers.length - 1; l >= 1; l--) out[l - 1] = 0.5 * layers[l - 1].nHat * layers[l - 1].varW * out[l];
  return out;
}

/** The derived backward variance from the readout: Var[∂Cost/∂x̃_L] = n̂_L Var[w_L]·Var[r], then eq. (4). */
export function derivedGradVar(cfg: NetConfig): number[] {
  const last = layerShapes(cfg)[depth(cfg) - 1];
  return paperEq4(cfg, last.nHat * last.varW * 1);
}

// ── 3. The Monte Carlo measurement ──

/** What one network (one draw of weights, inputs and readout) gives, per layer (index l − 1). */
export interface NetworkMoments {
  /** E[x_l²] over the measured elements: Var[x_l], as E[x_l] = 0 exactly. */
  x2: number[];
  /** E[x_l] (0 by symmetry). */
  x1: number[];
  /** The fraction of x_l > 0 (½ by symmetry). */
  positive: number[];
  /** E[relu(x_l)] (the cross term's factor; √(Var/2π) for Gaussian x_l). */
  reluMean: number[];
  /** E[x̃_l²] and E[x̃_l] of the layer's input (l = 1: the network input). */
  act2: number[];
  act1: number[];
  /** E[(∂Cost/∂x̃_l)²]: Var[∂Cost/∂x̃_l], as its mean is 0 by the same symmetry. */
  grad2: number[];
  /** E[∂Cost/∂x̃_l]. */
  grad1: number[];
  /** Elements averaged per input for x_l and for ∂Cost/∂x̃_l (conv: the interior only). */
  countX: number[];
  countGrad: number[];
}

interface Moments {
  m1: number;
  m2: number;
  positive: number;
  reluMean: number;
  count: number;
}

/**
 * Moments of an activation-like tensor: [N, C] (every element), or [N, C, H, W] restricted to the
 * pixels at least `border` from each edge (where zero padding has not reached; see measureNetwork).
 */
function momentsOf(t: Tensor, border: number): Moments {
  const a = t.toArray();
  let s1 = 0, s2 = 0, pos = 0, relu = 0, count = 0;
  const add = (v: number): void => {
    s1 += v;
    s2 += v * v;
    if (v > 0) {
      pos++;
      relu += v;
    }
    count++;
  };
  if (t.rank === 2) {
    for (let i = 0; i < a.length; i++) add(a[i]);
  } else {
    const [N, C, H, W] = t.shape;
    for (let nc = 0; nc < N * C; nc++) {
      for (let y = border; y < H - border; y++) {
        for (let x = border; x < W - border; x++) add(a[(nc * H + y) * W + x]);
      }
    }
  }
  return { m1: s1 / count, m2: s2 / count, positive: pos / count, reluMean: relu / count, count: count / t.shape[0] };
}

/**
 * Builds one random network of `cfg` from gradlab ops (float64, reference backend), runs `batch`
 * inputs forward, backpropagates Cost = Σ r ⊙ x_L, and returns the per-layer moments.
 *
 * Which elements are measured. In a fully connected net, all. In a conv net with "same" zero
 * padding p = (k − 1)/2, a pixel near the edge sums fewer than n_l nonzero products, so the
 * analysis (which counts n_l and n̂_l terms) holds only in the interior: x_1 at pixels ≥ p from
 * the edge, and x_l — whose window must lie where x̃_l is itself exact — at ≥ l·p. Going down,
 * ∂Cost/∂x̃_L is exact at ≥ p and ∂Cost/∂x̃_l at ≥ (L − l + 1)·p.
 *
 * ∂Cost/∂x̃_l of a computed tensor: the engine keeps gradients for leaves only, so a zero "probe"
 * leaf is added to each x̃_l (x̃_l + 0 has the same value and the same gradient); its .grad is
 * ∂Cost/∂x̃_l. The input is itself a leaf.
 */
export function measureNetwork(cfg: NetConfig, batch: number, seed: string): NetworkMoments {
  checkConfig(cfg);
  const L = depth(cfg);
  const layers = layerShapes(cfg);
  const p = margin(cfg);
  const f64 = { dtype: 'float64' as const };
  return tidy(() => {
    const inputShape = cfg.net === 'fc' ? [batch, cfg.widths[0]] : [batch, cfg.widths[0], cfg.spatial!, cfg.spatial!];
    const input = randn(inputShape, { ...f64, seed: `${seed}/input`, requiresGrad: true });
    const b = tensor(cfg.b, f64); // shape []: the paper's one b_l per layer
    const acts: Tensor[] = [input]; // x̃_l as the activation computed it
    const probes: Tensor[] = [input]; // leaves whose .grad is ∂Cost/∂x̃_l
    const xs: Tensor[] = [];
    let xTilde = input;
    for (const { l, c, d, varW } of layers) {
      const std = Math.sqrt(varW);
      const wSeed = `${seed}/W${l}`;
      // x_l = W_l x̃_l: W_l is d-by-n (PyTorch's [out, in] and [out, in, k, k] layouts).
      const x =
        cfg.net === 'fc'
          ? F.linear(xTilde, randn([d, c], { ...f64, seed: wSeed, std }))
          : F.conv2d(xTilde, randn([d, c, cfg.kernel, cfg.kernel], { ...f64, seed: wSeed, std }), null, { padding: p });
      xs.push(x);
      if (l < L) {
        const act = cfg.activation === 'relu' ? F.relu(x) : F.frelu(x, b);
        const probe = zeros(act.shape, { ...f64, requiresGrad: true });
        acts.push(act);
        probes.push(probe);
        xTilde = add(act, probe);
      }
    }
    const r = randn(xs[L - 1].shape, { ...f64, seed: `${seed}/readout` });
    sum(mul(r, xs[L - 1])).backward();

    const out: NetworkMoments = { x2: [], x1: [], positive: [], reluMean: [], act2: [], act1: [], grad2: [], grad1: [], countX: [], countGrad: [] };
    for (let l = 1; l <= L; l++) {
      const isConv = cfg.net === 'conv';
      const x = momentsOf(xs[l - 1], isConv ? l * p : 0);
      const act = momentsOf(acts[l - 1], isConv ? (l - 1) * p : 0); // x̃_l = frelu(x_{l−1}): x_{l−1}'s pixels
      const grad = momentsOf(probes[l - 1].grad!, isConv ? (L - l + 1) * p : 0);
      out.x2.push(x.m2);
      out.x1.push(x.m1);
      out.positive.push(x.positive);
      out.reluMean.push(x.reluMean);
      out.countX.push(x.count);
      out.act2.push(act.m2);
      out.act1.push(act.m1);
      out.grad2.push(grad.m2);
      out.grad1.push(grad.m1);
      out.countGrad.push(grad.count);
    }
    return out;
  });
}

export interface MeasureOptions {
  /** Independent networks (each: new weights, inputs and readout). Their spread gives the standard errors. */
  networks: number;
  /** Inputs per network. */
  batch: number;
  seed: number | string;
  /** Called after each network with how many are done. */
  onNetwork?: (done: number) => void;
}

/** Runs `networks` independent networks; every random stream is seeded from (seed, cfg.name, network). */
export function measure(cfg: NetConfig, options: MeasureOptions): NetworkMoments[] {
  if (!Number.isInteger(options.networks) || options.networks < 3) {
    throw new Error(`measure: networks must be an integer ≥ 3 (standard errors come from their spread); got ${options.networks}`);
  }
  if (!Number.isInteger(options.batch) || options.batch < 1) throw new Error(`measure: batch must be a positive integer; got ${options.batch}`);
  const runs: NetworkMoments[] = [];
  for (let i = 0; i < options.networks; i++) {
    runs.push(measureNetwork(cfg, options.batch, `${options.seed}/${cfg.name}/net${i}`));
    options.onNetwork?.(i + 1);
  }
  return runs;
}

// ── 4. Statistics: the agreement rule (means, standard errors and Student's t: ../util/stats.ts) ──

/**
 * The agreement rule: a prediction agrees with the measurement at a layer when
 * |measured − predicted| ≤ tCrit · SE, SE from the spread over `networks` independent networks.
 * tCrit is Student's t (df = networks − 1) at two-sided level alpha / comparisons (Bonferroni), so
 * a true equation is flagged anywhere in a family of `comparisons` layers with probability ≤ alpha.
 */
export function agreementThreshold(networks: number, comparisons: number, alpha: number): number {
  return studentTQuantile(1 - alpha / (2 * Math.max(1, comparisons)), networks - 1);
}

// ── 5. Comparing predictions with the measurement ──

/** One prediction at one layer, against the measurement. */
export interface Comparison {
  predicted: number;
  /** (measured − predicted) / predicted. */
  relError: number;
  /** Standard error of (measured − predicted): of the measurement, or of the paired difference
   *  when the prediction is computed from a measured anchor (eq. 6 from Var[x_1], eq. 4 from Var[∂/∂x̃_L]). */
  se: number;
  /** (measured − predicted) / se; null at the anchor itself. */
  z: number | null;
  /** |z| ≤ tCrit; null at the anchor. */
  agrees: boolean | null;
}

export interface LayerResult {
  l: number;
  measuredVar: number;
  measuredVarSE: number;
  measuredGradVar: number;
  measuredGradVarSE: number;
  /** Symmetry (F2): E[x_l] = 0 and P(x_l > 0) = ½, with standard errors. */
  measuredMean: number;
  measuredMeanSE: number;
  fractionPositive: number;
  fractionPositiveSE: number;
  /** The Gaussian step (F4): E[relu(x_l)] and its ratio to √(Var[x_l]/2π) (1 for Gaussian x_l), per network averaged. */
  measuredReluMean: number;
  gaussianRatio: number;
  gaussianRatioSE: number;
  /** The layer's input: E[x̃_l] and E[x̃_l²]. */
  measuredActMean: number;
  measuredActSecondMoment: number;
  measuredActSecondMomentSE: number;
  /** One step from each network's measured x_{l−1} (F3): E[x̃_l²] against eq. (6)'s ½Var + b² and the exact
   *  ½Var + 2b·E[relu] + b² (l = 1: the input, E[x̃_1²] = 1 for both). */
  stepPaper: Comparison;
  stepDerived: Comparison;
  eq6: Comparison;
  eq78: Comparison;
  eq9: Comparison;
  derived: Comparison;
  eq4: Comparison;
  derivedGrad: Comparison;
}

export interface ConfigResult {
  config: NetConfig;
  layerShapes: LayerShape[];
  networks: number;
  batch: number;
  /** Measured elements per input, per layer (x_l) — shows the conv interior's size. */
  countX: number[];
  countGrad: number[];
  /** Agreement: |z| ≤ tCrit (see agreementThreshold; the family is the config's L layers). */
  tCrit: number;
  alpha: number;
  layers: LayerResult[];
  /** Eqs. (7)–(8) evaluated under eq. (5), for the last layer, from the measured Var[x_1]. */
  eq78UnderEq5Last: number;
  /** Per equation: every (non-anchor) layer agrees. */
  agrees: Record<EqKey, boolean>;
}

/** The comparisons made at every layer, one per equation. */
export const EQ_KEYS = ['eq4', 'derivedGrad', 'stepPaper', 'stepDerived', 'eq6', 'eq78', 'eq9', 'derived'] as const;
export type EqKey = (typeof EQ_KEYS)[number];

const column = (runs: readonly NetworkMoments[], key: keyof NetworkMoments, l: number): number[] => runs.map((r) => r[key][l - 1]);

/** Compares a per-network prediction (or a fixed one) with per-network measurements at one layer. */
function compare(measured: readonly number[], predicted: readonly number[] | number, tCrit: number, anchor: boolean): Comparison {
  const pred = typeof predicted === 'number' ? measured.map(() => predicted) : predicted;
  const diff = meanAndSE(measured.map((m, i) => m - pred[i]));
  const p = meanAndSE(pred).mean;
  if (anchor) return { predicted: p, relError: diff.mean / p, se: diff.se, z: null, agrees: null };
  const z = diff.mean / diff.se;
  return { predicted: p, relError: diff.mean / p, se: diff.se, z, agrees: Math.abs(z) <= tCrit };
}

/** Every prediction against the measurement, layer by layer, with the agreement verdicts. */
export function analyse(cfg: NetConfig, runs: readonly NetworkMoments[], batch: number, alpha = 0.001): ConfigResult {
  const L = depth(cfg);
  const R = runs.length;
  const b = biasOf(cfg);
  // Per network, the anchored predictions (eqs. 6–9 from that network's Var[x_1], eq. 4 from its
  // Var[∂Cost/∂x̃_L]); they are affine in the anchor, so their mean is the prediction from the mean.
  const eq6 = runs.map((r) => paperEq6(cfg, r.x2[0]));
  const eq78 = runs.map((r) => paperEq78(cfg, r.x2[0]));
  const eq9 = runs.map((r) => paperEq9(cfg, r.x2[0]));
  const eq4 = runs.map((r) => paperEq4(cfg, r.grad2[L - 1]));
  const derived = derivedVar(cfg);
  const derivedGrad = derivedGradVar(cfg);
  // One threshold for every comparison of this config: a family of L layers per equation.
  const tCrit = agreementThreshold(R, L, alpha);

  const layers: LayerResult[] = [];
  for (let l = 1; l <= L; l++) {
    const x2 = column(runs, 'x2', l);
    const grad2 = column(runs, 'grad2', l);
    const at = (per: number[][]): number[] => per.map((p) => p[l - 1]);
    const mx = meanAndSE(x2);
    const mg = meanAndSE(grad2);
    const mean = meanAndSE(column(runs, 'x1', l));
    const positive = meanAndSE(column(runs, 'positive', l));
    const ratio = meanAndSE(runs.map((r) => r.reluMean[l - 1] / gaussianReluMean(r.x2[l - 1])));
    const act2 = meanAndSE(column(runs, 'act2', l));
    layers.push({
      l,
      measuredVar: mx.mean,
      measuredVarSE: mx.se,
      measuredGradVar: mg.mean,
      measuredGradVarSE: mg.se,
      measuredMean: mean.mean,
      measuredMeanSE: mean.se,
      fractionPositive: positive.mean,
      fractionPositiveSE: positive.se,
      measuredReluMean: meanAndSE(column(runs, 'reluMean', l)).mean,
      gaussianRatio: ratio.mean,
      gaussianRatioSE: ratio.se,
      measuredActMean: meanAndSE(column(runs, 'act1', l)).mean,
      measuredActSecondMoment: act2.mean,
      measuredActSecondMomentSE: act2.se,
      stepPaper: compare(column(runs, 'act2', l), l === 1 ? 1 : runs.map((r) => 0.5 * r.x2[l - 2] + b * b), tCrit, false),
      stepDerived: compare(column(runs, 'act2', l), l === 1 ? 1 : runs.map((r) => 0.5 * r.x2[l - 2] + 2 * b * r.reluMean[l - 2] + b * b), tCrit, false),
      eq6: compare(x2, at(eq6), tCrit, l === 1),
      eq78: compare(x2, at(eq78), tCrit, l === 1),
      eq9: compare(x2, at(eq9), tCrit, l === 1),
      derived: compare(x2, derived[l - 1], tCrit, false),
      eq4: compare(grad2, at(eq4), tCrit, l === L),
      derivedGrad: compare(grad2, derivedGrad[l - 1], tCrit, false),
    });
  }
  const agrees = Object.fromEntries(EQ_KEYS.map((key) => [key, layers.every((r) => r[key].agrees !== false)])) as Record<EqKey, boolean>;
  const var1 = meanAndSE(column(runs, 'x2', 1)).mean;
  return {
    config: cfg,
    layerShapes: layerShapes(cfg),
    networks: R,
    batch,
    countX: runs[0].countX,
    countGrad: runs[0].countGrad,
    tCrit,
    alpha,
    layers,
    eq78UnderEq5Last: eq78UnderEq5(cfg, var1)[L - 1],
    agrees,
  };
}
