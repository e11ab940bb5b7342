/**
 * The Markdown report of `gradlab verify` (verify.md): the summary with a verdict per equation,
 * the setup, the derivations, then one table (and figure) per check and configuration. Every
 * sentence that states a verdict is chosen from this run's numbers (verdicts.ts).
 */
import { formatSignificant as fmt, signedPercent } from '../../util/format.js';
import { biasOf, depth, type ConfigResult, type Comparison, type EqKey } from '../init-analysis.js';
import type { ErrorStat, FreluCheck } from './checks.js';
import type { VerifyResult } from './run.js';
import { describeB, familyOf } from './plan.js';
import { maxAbsZ, measuredOf, minFailingZ, splitByB, worstMiss } from './verdicts.js';

function verdict(c: Comparison): string {
  return c.agrees === null ? 'anchor' : c.agrees ? 'yes' : '**no**';
}

function cell(c: Comparison): string {
  return c.agrees === null ? `${fmt(c.predicted)} (anchor)` : `${fmt(c.predicted)} (${signedPercent(c.relError)}, z ${c.z!.toFixed(1)}, ${verdict(c)})`;
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
