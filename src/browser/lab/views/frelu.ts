/**
 * View 2, "FReLU and the initialization analysis".
 *
 *   1. frelu(x) = relu(x) + b and its derivatives (Qiu & Cai, eqs. 2–3) for a slider b: for each x
 *      gradlab builds y = frelu(x, b) and runs backward(), so ∂y/∂x and ∂y/∂b are what training uses.
 *   2. The paper's initialization analysis (§2.2), measured: a Monte Carlo of Var[x_l] and
 *      Var[∂Cost/∂x̃_l] through an L-layer fully connected net with He's fan-out init (eq. 5), drawn
 *      against eq. (6), eq. (4) and the recursion `gradlab verify` derives — the same code
 *      (../../../experiments/init-analysis.ts: measureNetwork, analyse). One network per chunk, with
 *      a yield to the event loop between chunks, so the page never freezes; a progress bar shows how far.
 *
 * window.lab.frelu: { curves(b), run(options), last() }
 */
import * as g from '../../index.js';
import { shown } from '../../../util/format.js';
import type { Shell } from '../page.js';
import { lineChart } from '../chart.js';
import { analyse, depth, gaussianReluMean, measureNetwork, type ConfigResult, type NetConfig, type NetworkMoments } from '../../../experiments/init-analysis.js';

/** What the Monte Carlo runs on; every field has a default. */
export interface McOptions {
  b?: number;
  /** L, the number of layers. */
  layers?: number;
  /** The base width w. */
  width?: number;
  /** 'equal': every d_l = w; 'changing': d_l cycles through w, w/2, 3w/2, 3w/4 (c_1 = w). */
  pattern?: 'equal' | 'changing';
  /** Independent networks (≥ 3: the standard errors come from their spread). */
  networks?: number;
  /** Inputs per network. */
  batch?: number;
  seed?: number;
}

/** What one Monte Carlo run gives, per layer (index l − 1); also what lab.frelu.run resolves to. */
export interface McSummary {
  config: NetConfig;
  networks: number;
  batch: number;
  /** Student's t threshold of the agreement rule (|z| ≤ tCrit; alpha 0.001 over the L layers). */
  tCrit: number;
  measured: number[];
  measuredSE: number[];
  derived: number[];
  eq6: number[];
  zDerived: (number | null)[];
  zEq6: (number | null)[];
  gradMeasured: number[];
  gradMeasuredSE: number[];
  eq4: number[];
  derivedGrad: number[];
  zEq4: (number | null)[];
}

const PATTERN_FACTORS = { equal: [1], changing: [1, 0.5, 1.5, 0.75] } as const;

/** [c_1, d_1, …, d_L] for a pattern. */
export function widthsFor(pattern: 'equal' | 'changing', width: number, layers: number): number[] {
  const f = PATTERN_FACTORS[pattern];
  return [width, ...Array.from({ length: layers }, (_, i) => Math.max(1, Math.round(width * f[(i + 1) % f.length])))];
}

function checkNumber(name: string, v: number, lo: number, hi: number, integer: boolean): number {
  if (!Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new Error(`FReLU view: ${name} must be ${integer ? 'an integer' : 'a number'} from ${lo} to ${hi}; got ${v}`);
  }
  return v;
}

/** y = frelu(x, b) and its two derivatives at each x, each from its own graph and backward(). */
export function freluCurves(b: number, xs: readonly number[]): { y: number[]; dydx: number[]; dydb: number[] } {
  const out = { y: [] as number[], dydx: [] as number[], dydb: [] as number[] };
  const f64 = { dtype: 'float64' as const, backend: 'reference' as const, requiresGrad: true };
  for (const x of xs) {
    const xt = g.tensor(x, f64);
    const bt = g.tensor(b, f64);
    const y = g.nn.functional.frelu(xt, bt);
    y.backward();
    out.y.push(y.item());
    out.dydx.push(xt.grad!.item());
    out.dydb.push(bt.grad!.item());
  }
  return out;
}

const f = (v: number): string => (Math.abs(v) >= 100 || Math.abs(v) < 0.01 ? v.toExponential(2) : v.toFixed(3));
const pct = (v: number): string => `${v >= 0 ? '+' : '−'}${Math.abs(100 * v).toFixed(Math.abs(v) < 0.1 ? 1 : 0)}%`;

export function mount(root: HTMLElement, shell: Shell): Record<string, unknown> {
  root.innerHTML = `
    <h2>FReLU: frelu(x) = relu(x) + b</h2>
    <p class="muted">Eq. (2): frelu(x) = x + b for x &gt; 0, b otherwise. Eq. (3): ∂frelu/∂x = 1 for x &gt; 0, 0 otherwise
    (0 at the kink, as gradlab takes it); ∂frelu/∂b = 1 everywhere, so b's gradient is the sum of the gradients
    arriving at the layer. Each point below is one gradlab graph and one backward().</p>
    <label>b <input id="fr-b" type="range" min="-2" max="2" step="0.05" value="-0.5" aria-describedby="fr-b-value"></label>
    <output id="fr-b-value">−0.5</output>
    <div class="row"><div id="fr-value"></div><div id="fr-deriv"></div></div>
    <h2>The initialization analysis, measured</h2>
    <p class="muted">An L-layer fully connected net x_l = W_l x̃_l, x̃_l = frelu(x_{l−1}), input N(0, 1), W_l ~ N(0, 2/d_l) (He's fan-out
    init, eq. 5), Cost = Σ r ⊙ x_L with a random readout r. Measured over independent networks (new weights, inputs
    and readout each), against the paper's eq. (6) (run from the measured Var[x_1]) and the recursion <code>gradlab verify</code>
    derives, which keeps the term 2b·E[relu(x_{l−1})] that eq. (6) drops.</p>
    <fieldset class="fr-form">
      <legend>network and samples</legend>
      <label>b <input id="fr-mc-b" type="number" step="0.1" value="-1"></label>
      <label>layers L <input id="fr-mc-layers" type="number" min="2" max="30" value="6"></label>
      <label>width w <input id="fr-mc-width" type="number" min="4" max="512" value="128"></label>
      <label>widths <select id="fr-mc-pattern"><option value="equal">equal (w, w, …)</option><option value="changing">changing (w, w/2, 3w/2, 3w/4, …)</option></select></label>
      <label>networks <input id="fr-mc-networks" type="number" min="3" max="1000" value="12"></label>
      <label>inputs per network <input id="fr-mc-batch" type="number" min="1" max="1024" value="32"></label>
      <label>seed <input id="fr-mc-seed" type="number" min="0" value="1"></label>
      <button id="fr-mc-run" type="button">Run Monte Carlo</button>
      <progress id="fr-mc-progress" max="1" value="0" aria-label="Monte Carlo progress"></progress>
      <span id="fr-mc-status" aria-live="polite"></span>
    </fieldset>
    <p id="fr-error" class="warning" role="alert" hidden></p>
    <div class="row">
      <div id="fr-var"></div>
      <div id="fr-finding" class="fr-finding" aria-live="polite"></div>
    </div>
    <div class="row">
      <div id="fr-grad"></div>
      <div id="fr-grad-finding" class="fr-finding"></div>
    </div>
    <div class="fr-table" id="fr-table"></div>`;
  const $ = <T extends HTMLElement>(id: string): T => root.querySelector<T>(`#${id}`)!;

  // ── the curves ──
  const xs = Array.from({ length: 241 }, (_, i) => -3 + i * 0.025);
  const valueChart = lineChart($('fr-value'), {
    title: 'frelu(x) (eq. 2)', x: 'x', series: [{ label: 'frelu(x)' }, { label: 'relu(x)', dash: true, color: '#999999' }], height: 200,
  });
  const derivChart = lineChart($('fr-deriv'), {
    title: 'derivatives (eq. 3)', x: 'x', series: [{ label: '∂y/∂x' }, { label: '∂y/∂b', dash: true }], height: 200,
  });
  const slider = $<HTMLInputElement>('fr-b');
  let curveB = Number(slider.value);
  function drawCurves(): void {
    curveB = Number(slider.value);
    $('fr-b-value').textContent = curveB.toFixed(2).replace('-', '−');
    const c = freluCurves(curveB, xs);
    valueChart.set(xs, [c.y, xs.map((x) => Math.max(x, 0))]);
    derivChart.set(xs, [c.dydx, c.dydb]);
  }
  slider.addEventListener('input', drawCurves);
  drawCurves();

  // ── the Monte Carlo ──
  const varChart = lineChart($('fr-var'), {
    title: 'Var[x_l] (log scale)', x: 'layer l', integerX: true, logY: true, height: 240,
    series: [{ label: 'measured', points: true }, { label: 'derived recursion' }, { label: 'paper eq. (6)', dash: true }],
  });
  const gradChart = lineChart($('fr-grad'), {
    title: 'Var[∂Cost/∂x̃_l] (log scale)', x: 'layer l', integerX: true, logY: true, height: 240,
    series: [{ label: 'measured', points: true }, { label: 'derived' }, { label: 'paper eq. (4)', dash: true }],
  });

  let running: Promise<McSummary> | null = null;
  let last: McSummary | null = null;

  function readForm(): McOptions {
    const num = (id: string): number => Number($<HTMLInputElement>(id).value);
    return {
      b: num('fr-mc-b'), layers: num('fr-mc-layers'), width: num('fr-mc-width'),
      pattern: $<HTMLSelectElement>('fr-mc-pattern').value as 'equal' | 'changing',
      networks: num('fr-mc-networks'), batch: num('fr-mc-batch'), seed: num('fr-mc-seed'),
    };
  }

  async function run(options: McOptions = {}): Promise<McSummary> {
    if (running !== null) throw new Error('FReLU view: a Monte Carlo run is in progress; await it first');
    const b = checkNumber('b', options.b ?? -1, -10, 10, false);
    const L = checkNumber('layers', options.layers ?? 6, 2, 30, true);
    const width = checkNumber('width', options.width ?? 128, 4, 512, true);
    const pattern = options.pattern ?? 'equal';
    if (pattern !== 'equal' && pattern !== 'changing') throw new Error(`FReLU view: pattern must be 'equal' or 'changing'; got ${shown(pattern)}`);
    const networks = checkNumber('networks', options.networks ?? 12, 3, 1000, true);
    const batch = checkNumber('batch', options.batch ?? 32, 1, 1024, true);
    const seed = checkNumber('seed', options.seed ?? 1, 0, 2 ** 31, true);
    const config: NetConfig = { name: `lab-${pattern}`, net: 'fc', widths: widthsFor(pattern, width, L), kernel: 1, activation: 'frelu', b };
    const progress = $<HTMLProgressElement>('fr-mc-progress');
    const button = $<HTMLButtonElement>('fr-mc-run');
    button.disabled = true;
    running = (async () => {
      try {
        const runs: NetworkMoments[] = [];
        const started = performance.now();
        for (let i = 0; i < networks; i++) {
          // One network per chunk, then back to the event loop (input, painting) before the next.
          runs.push(onReference(() => measureNetwork(config, batch, `${seed}/${config.name}/net${i}`)));
          progress.value = (i + 1) / networks;
          $('fr-mc-status').textContent = `${i + 1} of ${networks} networks`;
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
        const summary = summarise(analyse(config, runs, batch));
        const seconds = (performance.now() - started) / 1000;
        $('fr-mc-status').textContent = `${networks} networks × ${batch} inputs in ${seconds.toFixed(1)} s`;
        show(summary);
        shell.log(`FReLU Monte Carlo: b = ${b}, widths ${config.widths.join(',')}, ${networks} networks × ${batch}: ${seconds.toFixed(1)} s`);
        last = summary;
        return summary;
      } finally {
        running = null;
        button.disabled = false;
      }
    })();
    return running;
  }

  function show(s: McSummary): void {
    const ls = s.measured.map((_, i) => i + 1);
    varChart.set(ls, [s.measured, s.derived, s.eq6]);
    gradChart.set(ls, [s.gradMeasured, s.derivedGrad, s.eq4]);
    $('fr-finding').innerHTML = finding(s);
    $('fr-grad-finding').innerHTML = gradFinding(s);
    const rows = s.measured.map(
      (m, i) =>
        `<tr><td>${i + 1}</td><td>${f(m)} ± ${f(s.measuredSE[i])}</td><td>${f(s.derived[i])} <span class="muted">(z ${zText(s.zDerived[i])})</span></td>` +
        `<td>${f(s.eq6[i])} <span class="muted">(z ${zText(s.zEq6[i])})</span></td><td>${f(s.gradMeasured[i])} ± ${f(s.gradMeasuredSE[i])}</td>` +
        `<td>${f(s.eq4[i])} <span class="muted">(z ${zText(s.zEq4[i])})</span></td></tr>`,
    );
    $('fr-table').innerHTML =
      '<div class="ag-scroll"><table><thead><tr><th>l</th><th>Var[x_l] measured ± SE</th><th>derived</th><th>eq. (6)</th><th>Var[∂Cost/∂x̃_l] ± SE</th><th>eq. (4)</th></tr></thead>' +
      `<tbody>${rows.join('')}</tbody></table></div><p class="muted">z = (measured − predicted)/SE; a prediction agrees where |z| ≤ ${s.tCrit.toFixed(2)} ` +
      `(Student's t, ${s.networks - 1} degrees of freedom, α = 0.001 over the ${s.measured.length} layers — the rule of <code>gradlab verify</code>). ` +
      'Eq. (6) and eq. (4) are anchored on the measurement (layer 1, layer L), so z is not given there.</p>';
  }

  $('fr-mc-run').addEventListener('click', () => {
    let options: McOptions;
    try {
      options = readForm();
    } catch (e) {
      return showError(e);
    }
    run(options).then(() => showError(null), showError);
  });
  function showError(e: unknown): void {
    const p = $('fr-error');
    p.hidden = e === null;
    p.textContent = e === null ? '' : e instanceof Error ? e.message : String(e);
  }
  // A first small run, so the charts are never empty.
  const first = run().catch((e: unknown) => (showError(e), null));

  return {
    frelu: {
      curves: (b: number) => freluCurves(checkNumber('b', b, -10, 10, false), xs),
      run,
      ready: () => first,
      last: () => last,
      sliderB: () => curveB,
    },
  };
}

/** gradlab verify measures on the reference backend in float64; the page keeps whatever backend it had. */
function onReference<T>(f: () => T): T {
  const before = g.currentBackend();
  g.setBackend('reference');
  try {
    return f();
  } finally {
    g.setBackend(before);
  }
}

function summarise(r: ConfigResult): McSummary {
  const col = <T>(pick: (l: ConfigResult['layers'][number]) => T): T[] => r.layers.map(pick);
  return {
    config: r.config,
    networks: r.networks,
    batch: r.batch,
    tCrit: r.tCrit,
    measured: col((l) => l.measuredVar),
    measuredSE: col((l) => l.measuredVarSE),
    derived: col((l) => l.derived.predicted),
    eq6: col((l) => l.eq6.predicted),
    zDerived: col((l) => l.derived.z),
    zEq6: col((l) => l.eq6.z),
    gradMeasured: col((l) => l.measuredGradVar),
    gradMeasuredSE: col((l) => l.measuredGradVarSE),
    eq4: col((l) => l.eq4.predicted),
    derivedGrad: col((l) => l.derivedGrad.predicted),
    zEq4: col((l) => l.eq4.z),
  };
}

function zText(z: number | null): string {
  return z === null ? '—' : z.toFixed(1);
}

/** The verify report's finding, with this run's numbers. */
function finding(s: McSummary): string {
  const L = depth(s.config);
  const b = s.config.b;
  const last = L - 1;
  const relEq6 = (s.measured[last] - s.eq6[last]) / s.eq6[last];
  const relDerived = (s.measured[last] - s.derived[last]) / s.derived[last];
  const agreesDerived = s.zDerived.every((z) => z === null || Math.abs(z) <= s.tCrit);
  const agreesEq6 = s.zEq6.every((z) => z === null || Math.abs(z) <= s.tCrit);
  const v = s.measured[last > 0 ? last - 1 : 0];
  const out = [
    `<p><strong>Layer ${L}</strong>: measured Var[x_${L}] = ${f(s.measured[last])} ± ${f(s.measuredSE[last])}; ` +
      `the derived recursion predicts ${f(s.derived[last])} (the measurement is ${pct(relDerived)} from it, z ${zText(s.zDerived[last])}); ` +
      `eq. (6) predicts ${f(s.eq6[last])} (${pct(relEq6)}, z ${zText(s.zEq6[last])}). ` +
      `Over all ${L} layers the derived recursion ${agreesDerived ? 'agrees' : '<strong>does not agree</strong>'} and eq. (6) ${agreesEq6 ? 'agrees' : '<strong>does not agree</strong>'} (|z| ≤ ${s.tCrit.toFixed(2)}).</p>`,
    '<p>Why. (relu(x) + b)² = relu(x)² + 2b·relu(x) + b², so E[x̃_l²] = ½Var[x_{l−1}] + 2b·E[relu(x_{l−1})] + b². ' +
      'Eq. (6) keeps ½Var + b² and drops the cross term 2b·E[relu(x_{l−1})] = b·E|x_{l−1}|, which is zero only for b = 0. ' +
      `The derived recursion keeps it, with E[relu(x)] = √(Var/2π) for Gaussian x` +
      (L > 1 ? ` (at layer ${L - 1} here: 2b·√(Var/2π) = ${f(2 * b * gaussianReluMean(v))} beside b² = ${f(b * b)}).` : '.') + '</p>',
  ];
  if (s.config.widths.every((w) => w === s.config.widths[0]) && b < 0) {
    out.push(
      `<p>With equal widths and b &lt; 0 the derived recursion has a stable fixed point Var = πb²/2 = ${f((Math.PI * b * b) / 2)}: ` +
        `the variance settles there, while eq. (6) adds 2b² = ${f(2 * b * b)} per layer.</p>`,
    );
  } else if (b === 0) {
    out.push('<p>With b = 0 (ReLU) the cross term vanishes and eq. (6) is exact: both curves should agree.</p>');
  }
  return out.join('');
}

function gradFinding(s: McSummary): string {
  const agrees = s.zEq4.every((z) => z === null || Math.abs(z) <= s.tCrit);
  return (
    '<p>Backward, eq. (4): Var[∂Cost/∂x̃_l] = ½ n̂_l Var[w_l] Var[∂Cost/∂x̃_{l+1}]; b does not enter, because ∂frelu/∂x does not depend on b. ' +
    `With eq. (5), ½ n̂_l Var[w_l] = 1: the gradient variance stays ${f(s.eq4[0])} at every layer. ` +
    `Measured, eq. (4) ${agrees ? 'agrees at every layer' : '<strong>does not agree</strong> everywhere'} (|z| ≤ ${s.tCrit.toFixed(2)}); ` +
    `layer 1: ${f(s.gradMeasured[0])} ± ${f(s.gradMeasuredSE[0])}.</p>`
  );
}
