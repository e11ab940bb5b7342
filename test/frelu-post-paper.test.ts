/**
 * The authors' later FReLU rules (their code, not the paper; paper/RECIPE.md), off by default:
 *   bGradScale s        db = s · Σ dy  (eq. 3 has s = 1)
 *   bKeepNonPositive    after an optimizer step, a b that became positive returns to its value
 *                       before the step
 * Checked against the scaled definition (numerically, and exactly against the unscaled gradient),
 * on both backends, and the reset rule against hand-computed SGD steps.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';

const F = g.nn.functional;

// Same mode as gpu-vs-reference.test.ts, which may share this process (a mode is chosen once).
g.setGpuMode((process.env.GRADLAB_GPU_MODE ?? 'webasm') as g.GpuMode);

const rng = g.randomStream('frelu post-paper');
const X = Float64Array.from({ length: 2 * 3 * 2 * 2 }, () => rng.normal());
const DY = Float64Array.from({ length: X.length }, () => rng.uniform() * 2 - 1);

/** db of frelu(x, b) for upstream gradient DY, with b of `bShape`, on `backend`. */
function db(backend: g.BackendName, bShape: number[], bGradScale?: number): number[] {
  const dtype = backend === 'gpu' ? 'float32' : 'float64';
  const x = g.tensor(X, { shape: [2, 3, 2, 2], dtype, backend });
  const b = g.full(bShape, -1, { dtype, backend, requiresGrad: true });
  F.frelu(x, b, bGradScale === undefined ? {} : { bGradScale }).backward(g.tensor(DY, { shape: [2, 3, 2, 2], dtype, backend }));
  return Array.from(b.grad!.toArray());
}

for (const bShape of [[], [3]]) {
  const label = bShape.length === 0 ? 'layer-wise b' : 'per-channel b';

  test(`frelu bGradScale 0.1 (${label}, reference float64): db is exactly 0.1 × the paper's db`, () => {
    const paper = db('reference', bShape);
    const scaled = db('reference', bShape, 0.1);
    assert.equal(scaled, paper.map((v) => v * 0.1));
    assert.ok(paper.every((v) => v !== 0), 'a zero gradient would make the check vacuous');
  });

  test(`frelu bGradScale 0.1 (${label}): the scaled gradient is the derivative of c ↦ frelu(x, 0.1·c) (gradcheck)`, () => {
    // The scaled definition: with b = 0.1·c, ∂/∂c = 0.1 · Σ dy — what bGradScale reports as db.
    const x = g.tensor(X, { shape: [2, 3, 2, 2], dtype: 'float64' });
    const c = g.full(bShape, -10, { dtype: 'float64', requiresGrad: true });
    const w = g.tensor(DY, { shape: [2, 3, 2, 2], dtype: 'float64' });
    const report = g.gradcheck((c) => g.sum(g.mul(F.frelu(x, g.mul(c, 0.1)), w)), [c]);
    assert.ok(report.ok, report.summary);
    // …and the scaled op's analytical db at b = 0.1·c equals that derivative.
    c.grad = null;
    g.sum(g.mul(F.frelu(x, g.mul(c, 0.1)), w)).backward();
    const numericalScaled = Array.from(c.grad!.toArray());
    const opScaled = db('reference', bShape, 0.1);
    opScaled.forEach((v, i) => assert.ok(Math.abs(v - numericalScaled[i]) < 1e-12, `db[${i}]: ${v} vs ${numericalScaled[i]}`));
  });

  test(`frelu bGradScale 0.1 (${label}): gpu equals reference`, () => {
    const ref = db('reference', bShape, 0.1);
    const gpu = db('gpu', bShape, 0.1);
    ref.forEach((v, i) => assert.ok(Math.abs(gpu[i] - v) <= 1e-5 + 1e-4 * Math.abs(v), `db[${i}]: gpu ${gpu[i]} vs reference ${v}`));
  });
}

test('frelu: bGradScale must be a finite number', () => {
  const x = g.tensor([1, -1]);
  assert.throws(() => F.frelu(x, g.tensor(-1), { bGradScale: NaN }), /frelu: bGradScale must be a finite number \(1 = the paper's eq\. 3\); got NaN/);
  assert.throws(() => new g.nn.FReLU({ bGradScale: -1 }), /FReLU: bGradScale must be a finite number ≥ 0 \(1 = the paper\); got -1/);
});

/** One plain SGD step (lr 1, no momentum, no decay) on a FReLU layer whose b gets gradient `grad`. */
function stepWithGrad(layer: g.nn.FReLU, grad: number[]): number[] {
  const opt = new g.optim.SGD(layer.namedParameters(), { lr: 1 });
  layer.b.grad = g.tensor(grad, { shape: layer.b.shape, dtype: layer.b.dtype });
  layer.rememberB();
  opt.step();
  const reset = layer.keepBNonPositive();
  const values = Array.from(layer.b.toArray());
  return [...values, reset];
}

test('FReLU bKeepNonPositive: a b that turns positive returns to its value before the step (hand-computed SGD steps)', () => {
  // b = −0.25, db = −0.5: SGD gives −0.25 + 0.5 = 0.25 > 0 → back to −0.25 (one reset).
  const layer = new g.nn.FReLU({ init: -0.25, bKeepNonPositive: true, dtype: 'float64' });
  assert.equal(stepWithGrad(layer, [-0.5]), [-0.25, 1]);
  // db = −0.125: −0.25 + 0.125 = −0.125 ≤ 0 → kept (no reset).
  assert.equal(stepWithGrad(layer, [-0.125]), [-0.125, 0]);
  // db = −0.125 again: −0.125 + 0.125 = 0, not positive → kept.
  assert.equal(stepWithGrad(layer, [-0.125]), [0, 0]);
});

test('FReLU bKeepNonPositive, per-channel b: each element is reset on its own', () => {
  const layer = new g.nn.FReLU({ init: -0.5, perChannel: 3, bKeepNonPositive: true, dtype: 'float64' });
  // −0.5 − (−1) = 0.5 > 0 → −0.5;  −0.5 − (−0.25) = −0.25;  −0.5 − 0.5 = −1.
  assert.equal(stepWithGrad(layer, [-1, -0.25, 0.5]), [-0.5, -0.25, -1, 1]);
});

test('FReLU without bKeepNonPositive (the paper): b may become positive', () => {
  const layer = new g.nn.FReLU({ init: -0.25, dtype: 'float64' });
  assert.equal(stepWithGrad(layer, [-0.5]), [0.25, 0]);
});

test('smallNet passes the post-paper options to every FReLU layer', () => {
  const net = g.models.smallNet({ activation: 'frelu', batchNorm: true, classes: 10, seed: 1, activationOptions: { bGradScale: 0.1, bKeepNonPositive: true } });
  const frelus = net.namedModules().filter(([, m]) => m instanceof g.nn.FReLU);
  assert.is(frelus.length, 4);
  for (const [path, m] of frelus) {
    assert.ok(m instanceof g.nn.FReLU);
    assert.is(m.bGradScale, 0.1, path);
    assert.is(m.bKeepNonPositive, true, path);
  }
  net.dispose();
});

test.run();
