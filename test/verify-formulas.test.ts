/**
 * The formulas of the initialization analysis (src/experiments/init-analysis.ts) on hand-computed
 * values: the paper's eqs. (4)–(9), the derived recursion, and the statistics behind the verdicts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  agreementThreshold, derivedGradVar, derivedVar, eq78UnderEq5, gaussianReluMean, layerShapes, paperEq4, paperEq6, paperEq78,
  paperEq9, type NetConfig,
} from '../src/experiments/init-analysis.js';
import { meanAndSE, studentTCdf, studentTQuantile } from '../src/util/stats.js';

const close = (got: number, want: number, tol: number, label: string): void =>
  assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${label}: got ${got}, expected ${want}`);

const fcEqual = (b: number, L = 3, width = 4): NetConfig => ({ name: 't', net: 'fc', widths: Array(L + 1).fill(width), kernel: 1, activation: 'frelu', b });
const changing: NetConfig = { name: 't', net: 'conv', widths: [3, 8, 5, 12, 6], kernel: 3, spatial: 20, activation: 'frelu', b: -1 };

test('layerShapes: n = k²c (fan-in), n̂ = k²d (fan-out), Var[w] = 2/n̂ (eq. 5)', () => {
  assert.equal(layerShapes(changing)[1], { l: 2, c: 8, d: 5, n: 72, nHat: 45, varW: 2 / 45 });
  assert.equal(layerShapes(fcEqual(0))[0], { l: 1, c: 4, d: 4, n: 4, nHat: 4, varW: 0.5 });
});

test('eq. (6) and eq. (9) on hand values: equal widths, eq. (5), b = −1, Var[x_1] = 2', () => {
  // Eq. (6) with n Var[w] = 2: v_l = v_{l−1} + 2b² → 2, 4, 6. Eq. (9): (c_2/d_L)(v_1 + Σ_{k=2..L} b²) → 2, 3, 4.
  assert.equal(paperEq6(fcEqual(-1), 2), [2, 4, 6]);
  assert.equal(paperEq9(fcEqual(-1), 2), [2, 3, 4]);
  assert.equal(paperEq6({ ...fcEqual(-1), activation: 'relu' }, 2), [2, 2, 2], 'ReLU ignores b');
});

test('eqs. (7)–(8) are eq. (6) unrolled, and under eq. (5) they equal (c_2 Var[x_1] + 2Σ c_k b_k²)/d_L', () => {
  const eq6 = paperEq6(changing, 1.7);
  const eq78 = paperEq78(changing, 1.7);
  const under5 = eq78UnderEq5(changing, 1.7);
  eq6.forEach((v, i) => {
    close(eq78[i], v, 1e-12, `eqs. (7)–(8) vs eq. (6), layer ${i + 1}`);
    close(under5[i], v, 1e-12, `closed form under eq. (5) vs eq. (6), layer ${i + 1}`);
  });
  // By hand for L = 4: c = [3, 8, 5, 12], d = [8, 5, 12, 6]: (8·1.7 + 2(8 + 5 + 12)·1)/6.
  close(under5[3], (8 * 1.7 + 2 * 25) / 6, 1e-12, 'hand value');
  // Eq. (9) as printed is different whenever b ≠ 0: (c_2/d_L)(Var[x_1] + 3b²) = (8/6)(1.7 + 3).
  close(paperEq9(changing, 1.7)[3], (8 / 6) * 4.7, 1e-12, 'eq. (9) hand value');
  assert.ok(Math.abs(paperEq9(changing, 1.7)[3] - under5[3]) > 1, 'eq. (9) does not follow from eq. (6) for b ≠ 0');
});

test('for ReLU, eqs. (6)–(9) all reduce to (c_2/d_L) Var[x_1] (telescoping), equal to the derived recursion', () => {
  const relu: NetConfig = { ...changing, activation: 'relu' };
  const v1 = derivedVar(relu)[0];
  assert.is(v1, (2 * 3) / 8, 'Var[x_1] = n_1 Var[w_1] = 2c_1/d_1');
  const want = [8, 5, 12, 6].map((d) => (8 / d) * v1);
  for (const [name, got] of [['eq6', paperEq6(relu, v1)], ['eq78', paperEq78(relu, v1)], ['eq9', paperEq9(relu, v1)], ['derived', derivedVar(relu)]] as const) {
    got.forEach((v, i) => close(v, want[i], 1e-12, `${name} layer ${i + 1}`));
  }
});

test('derived recursion: hand value at layer 2, and the fixed point πb²/2 for b < 0 with equal widths', () => {
  // v_1 = 2; v_2 = 2(½·2 + 2·(−1)·√(2/2π) + 1) = 4 − 4/√π.
  close(derivedVar(fcEqual(-1))[1], 4 - 4 / Math.sqrt(Math.PI), 1e-14, 'layer 2');
  const deep = derivedVar(fcEqual(-1, 60));
  close(deep[59], Math.PI / 2, 1e-9, 'b = −1 converges to π/2');
  close(derivedVar(fcEqual(-0.5, 60))[59], Math.PI / 8, 1e-9, 'b = −0.5 converges to π/8');
  const up = derivedVar(fcEqual(0.5, 10));
  assert.ok(up[9] > up[8] && up[8] > up[7], 'b > 0 keeps growing');
});

test('E[relu(x)] for x ~ N(0, v) is √(v/2π) (checked by quadrature)', () => {
  const v = 2.7;
  let integral = 0;
  const dx = 1e-4;
  for (let x = dx / 2; x < 12 * Math.sqrt(v); x += dx) integral += (x * Math.exp(-(x * x) / (2 * v)) * dx) / Math.sqrt(2 * Math.PI * v);
  close(gaussianReluMean(v), integral, 1e-7, 'E[relu(x)]');
});

test('eq. (4): from the top layer down by ½n̂ Var[w] = 1 under eq. (5); from the readout: 2 at every layer', () => {
  assert.equal(paperEq4(changing, 3), [3, 3, 3, 3]);
  assert.equal(derivedGradVar(changing), [2, 2, 2, 2]);
});

test('statistics: mean and standard error; Student t quantiles against tables; the agreement threshold', () => {
  const { mean, se } = meanAndSE([1, 2, 3, 4]);
  assert.is(mean, 2.5);
  close(se, Math.sqrt(5 / 3 / 4), 1e-15, 'SE = sd/√n');
  close(studentTQuantile(0.975, 10), 2.228139, 1e-6, 't_10, 97.5%');
  close(studentTQuantile(0.995, 5), 4.032143, 1e-6, 't_5, 99.5%');
  close(studentTQuantile(0.975, 1), Math.tan(Math.PI * 0.475), 1e-6, 't_1 is Cauchy');
  close(studentTQuantile(0.975, 1e7), 1.959964, 1e-5, 't_∞ is normal');
  close(studentTCdf(-2, 3), 0.0696630, 1e-6, 'CDF');
  // 20 networks, 10 layers, α = 0.001: the two-sided 1 − 0.0001 quantile of t_19.
  close(agreementThreshold(20, 10, 0.001), studentTQuantile(1 - 0.00005, 19), 1e-12, 'threshold');
  assert.ok(agreementThreshold(20, 10, 0.001) > agreementThreshold(200, 10, 0.001), 'fewer networks, wider tolerance');
});

test.run();
