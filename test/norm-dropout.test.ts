/**
 * batchNorm, batchStats and dropout: values worked out by hand, the running-statistics update,
 * evaluation mode, 2-D against 4-D, the backward against autograd through the same formula written
 * in math ops, dropout's scaling, keep rate and seeding across backends, and the bad-input messages.
 * The op-test table (test/op-table/norm-dropout.ts) adds gradient checks and gpu-vs-reference rows.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import * as P from '../src/nn/ops/index.js';

g.setGpuMode((process.env.GRADLAB_GPU_MODE ?? 'webasm') as g.GpuMode);

const F = g.nn.functional;
const arr = (t: g.Tensor | null): number[] => (t === null ? [] : Array.from(t.toArray()));
const f64 = { dtype: 'float64' as const, backend: 'reference' as const };

/** Elementwise |got − want| ≤ tol·(1 + |want|): absolute near 0, relative for large values. */
function near(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = 1e-9): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const bound = tol * (1 + Math.abs(want[i]));
    assert.ok(Math.abs(got[i] - want[i]) <= bound, `${what}[${i}]: got ${got[i]}, want ${want[i]} (tolerance ${bound})`);
  }
}

// ── batchNorm ──

// One channel, a batch of four: x = [1, 2, 3, 6] as [N = 4, C = 1], γ = 2, β = 0.5, eps = 1e-5.
//   μ        = (1 + 2 + 3 + 6) / 4 = 3
//   x − μ    = [−2, −1, 0, 3];  squares 4 + 1 + 0 + 9 = 14
//   σ²       = 14 / 4 = 3.5 (biased: training normalises with it);  unbiased 14 / 3 = 4.6667
//   √(σ²+eps)= √3.50001 = 1.8708313660
//   x̂        = [−2, −1, 0, 3] / 1.8708313660 = [−1.0690434404, −0.5345217202, 0, 1.6035651607]
//   y = 2x̂ + 0.5 = [−1.6380868809, −0.5690434404, 0.5, 3.7071303213]
const xHand = [1, 2, 3, 6];
const xhatHand = [-1.0690434404458735, -0.5345217202229368, 0, 1.6035651606688102];

test('batchNorm training on a batch of four, by hand: y = γ·x̂ + β with the biased variance', () => {
  const x = g.tensor(xHand, { ...f64, shape: [4, 1] });
  const y = F.batchNorm(x, { weight: g.tensor([2], f64), bias: g.tensor([0.5], f64), training: true });
  near(arr(y), [-1.638086880891747, -0.5690434404458735, 0.5, 3.7071303213376203], 'y', 1e-12);
});

// Backward of the same batch for dy = [1, 0, 0, 0]:
//   dβ = Σ dy = 1;  dγ = Σ dy·x̂ = x̂₀ = −1.0690434404
//   dx = γ/√(σ²+eps) · (dy − dβ/4 − x̂·dγ/4),  γ/√(σ²+eps) = 2/1.8708313660 = 1.0690434404
//   dx₀ = 1.0690434404 · (1 − 0.25 − 1.1428538694/4)          = 0.4963424700
//   dx₁ = 1.0690434404 · (0 − 0.25 − 0.5714269347/4)          = −0.4199809153
//   dx₂ = 1.0690434404 · (0 − 0.25 − 0)                       = −0.2672608601
//   dx₃ = 1.0690434404 · (0 − 0.25 + 1.7142808041/4)          = 0.1908993053
// Σ dx = 0: moving every x of a channel together does not change x̂.
test('batchNorm training backward on a batch of four, by hand: the paths through μ and σ² included', () => {
  const x = g.tensor(xHand, { ...f64, shape: [4, 1], requiresGrad: true });
  const gamma = g.tensor([2], { ...f64, requiresGrad: true });
  const beta = g.tensor([0.5], { ...f64, requiresGrad: true });
  const y = F.batchNorm(x, { weight: gamma, bias: beta, training: true });
  y.backward(g.tensor([1, 0, 0, 0], { ...f64, shape: [4, 1] }));
  near(arr(x.grad), [0.49634247003589926, -0.4199809152607213, -0.2672608601114684, 0.19089930533629043], 'dx', 1e-12);
  near(arr(gamma.grad), [xhatHand[0]], 'dgamma', 1e-12);
  near(arr(beta.grad), [1], 'dbeta', 1e-12);
});

test('batchNorm training updates the running statistics in place, the variance unbiased', () => {
  // runningMean 0 → 0.9·0 + 0.1·3 = 0.3;  runningVar 1 → 0.9·1 + 0.1·(14/3) = 1.3666…
  const runningMean = g.zeros([1], f64);
  const runningVar = g.ones([1], f64);
  F.batchNorm(g.tensor(xHand, { ...f64, shape: [4, 1] }), { runningMean, runningVar, training: true });
  near(arr(runningMean), [0.3], 'runningMean', 1e-12);
  near(arr(runningVar), [0.9 + (0.1 * 14) / 3], 'runningVar', 1e-12);
  // momentum 0.5, a second call on the same batch: 0.5·0.3 + 0.5·3 = 1.65
  F.batchNorm(g.tensor(xHand, { ...f64, shape: [4, 1] }), { runningMean, runningVar, training: true, momentum: 0.5 });
  near(arr(runningMean), [1.65], 'runningMean after a second call', 1e-12);
});

test('batchNorm training update of a 4-D batch: statistics over N·H·W, per channel', () => {
  // x [2, 2, 1, 2]: channel 0 holds 1, 3 (n = 0) and 5, 7 (n = 1): μ = 4, Σ(x − μ)² = 9 + 1 + 1 + 9 = 20, unbiased 20/3;
  // channel 1 holds 0, 0, 2, 2: μ = 1, Σ(x − μ)² = 4, unbiased 4/3.
  const x = g.tensor([1, 3, 0, 0, 5, 7, 2, 2], { ...f64, shape: [2, 2, 1, 2] });
  const runningMean = g.zeros([2], f64);
  const runningVar = g.ones([2], f64);
  F.batchNorm(x, { runningMean, runningVar, training: true, momentum: 1 });
  near(arr(runningMean), [4, 1], 'runningMean', 1e-12);
  near(arr(runningVar), [20 / 3, 4 / 3], 'runningVar', 1e-12);
});

test('batchNorm evaluation normalises with the running statistics, not the batch', () => {
  // runningMean 1, runningVar 4 − eps: y = 2·(x − 1)/2 + 0.5 = x − 0.5
  const y = F.batchNorm(g.tensor(xHand, { ...f64, shape: [4, 1] }), {
    weight: g.tensor([2], f64),
    bias: g.tensor([0.5], f64),
    runningMean: g.tensor([1], f64),
    runningVar: g.tensor([4 - 1e-5], f64),
    training: false,
  });
  near(arr(y), [0.5, 1.5, 2.5, 5.5], 'y', 1e-12);
});

test('batchNorm evaluation leaves the running statistics alone; training: false is the default', () => {
  const runningMean = g.tensor([0.25, -1], f64);
  const runningVar = g.tensor([2, 0.5], f64);
  F.batchNorm(g.randn([3, 2], { seed: 1, ...f64 }), { runningMean, runningVar });
  near(arr(runningMean), [0.25, -1], 'runningMean');
  near(arr(runningVar), [2, 0.5], 'runningVar');
});

test('batchNorm of [N, C] and of [N, C, 1, 1] agree: values, gradients, running statistics', () => {
  const values = g.randn([5, 3], { seed: 2, ...f64 }).toArray();
  const run = (shape: number[]) => {
    const x = g.tensor(values, { ...f64, shape, requiresGrad: true });
    const weight = g.tensor([1.5, -0.5, 2], { ...f64, requiresGrad: true });
    const bias = g.tensor([0.1, 0.2, 0.3], { ...f64, requiresGrad: true });
    const runningMean = g.zeros([3], f64);
    const runningVar = g.ones([3], f64);
    const y = F.batchNorm(x, { weight, bias, runningMean, runningVar, training: true });
    y.backward(g.tensor(Array.from({ length: 15 }, (_, i) => Math.sin(i)), { ...f64, shape }));
    return [y, x.grad, weight.grad, bias.grad, runningMean, runningVar].map(arr);
  };
  const [flat, image] = [run([5, 3]), run([5, 3, 1, 1])];
  ['y', 'dx', 'dweight', 'dbias', 'runningMean', 'runningVar'].forEach((what, i) => near(image[i], flat[i], what, 1e-12));
});

test('batchNorm training backward equals autograd through the same formula written in math ops', () => {
  const values = g.randn([3, 2, 2, 2], { seed: 3, ...f64 }).toArray();
  const upstream = g.randn([3, 2, 2, 2], { seed: 4, ...f64 });
  const run = (composite: boolean) => {
    const x = g.tensor(values, { ...f64, shape: [3, 2, 2, 2], requiresGrad: true });
    const gamma = g.tensor([1.5, -0.5], { ...f64, requiresGrad: true });
    const beta = g.tensor([0.1, 0.2], { ...f64, requiresGrad: true });
    let y: g.Tensor;
    if (composite) {
      const axis = [0, 2, 3];
      const mu = g.mean(x, { axis, keepDims: true });
      const centered = g.sub(x, mu);
      const variance = g.mean(g.mul(centered, centered), { axis, keepDims: true });
      const xhat = g.div(centered, g.sqrt(g.add(variance, 1e-5)));
      y = g.add(g.mul(xhat, g.reshape(gamma, [1, 2, 1, 1])), g.reshape(beta, [1, 2, 1, 1]));
    } else {
      y = F.batchNorm(x, { weight: gamma, bias: beta, training: true });
    }
    y.backward(upstream);
    return [y, x.grad, gamma.grad, beta.grad].map(arr);
  };
  const [primitive, composite] = [run(false), run(true)];
  ['y', 'dx', 'dgamma', 'dbeta'].forEach((what, i) => near(primitive[i], composite[i], what, 1e-12));
});

// [2, 3, 40, 40] has 1600 values per (example, channel): beyond gpu.js's silent 1000-iteration cap on
// loops whose bound is an argument, so it checks that the reductions loop to constants.
for (const shape of [[4, 3, 2, 2], [2, 3, 40, 40]]) {
  test(`batchNorm ${JSON.stringify(shape)} on the gpu backend: values, gradients and running statistics equal the reference (float32)`, () => {
    const values = g.randn(shape, { seed: 5 }).toArray();
    const upstream = g.randn(shape, { seed: 6 });
    const results = (['reference', 'gpu'] as const).map((backend) => {
      const x = g.tensor(values, { backend, shape, requiresGrad: true });
      const weight = g.tensor([1, 2, 3], { backend, requiresGrad: true });
      const runningMean = g.zeros([3], { backend });
      const runningVar = g.ones([3], { backend });
      const y = F.batchNorm(x, { weight, runningMean, runningVar, training: true });
      g.sum(g.mul(y, g.toBackend(upstream, backend))).backward();
      return [y, x.grad, weight.grad, runningMean, runningVar].map(arr);
    });
    ['y', 'dx', 'dweight', 'runningMean', 'runningVar'].forEach((what, i) => near(results[1][i], results[0][i], what, 1e-4));
  });
}

test('batchNorm: two training calls on one set of running statistics, then one backward', () => {
  // The second call's in-place update frees the running statistics' old storage (on the gpu, a
  // texture); the first call's graph must not depend on it: training passes constants to the op.
  const [ref, gpu] = (['reference', 'gpu'] as const).map((backend) => {
    const runningMean = g.zeros([3], { backend });
    const runningVar = g.ones([3], { backend });
    const x1 = g.randn([4, 3], { seed: 12, backend, requiresGrad: true });
    const x2 = g.randn([4, 3], { seed: 13, backend, requiresGrad: true });
    const y1 = F.batchNorm(x1, { runningMean, runningVar, training: true });
    const y2 = F.batchNorm(x2, { runningMean, runningVar, training: true });
    g.add(g.sum(g.mul(y1, y1)), g.sum(g.mul(y2, g.randn([4, 3], { seed: 14, backend })))).backward();
    return [x1.grad, x2.grad, runningMean, runningVar].map(arr);
  });
  ['dx1', 'dx2', 'runningMean', 'runningVar'].forEach((what, i) => near(gpu[i], ref[i], what, 1e-4));
});

test('batchNorm training accepts a batch of one image (N·H·W > 1) but not one value per channel', () => {
  const y = F.batchNorm(g.tensor([1, 2, 3, 4], { ...f64, shape: [1, 1, 2, 2] }), { training: true });
  near(arr(y), [-3, -1, 1, 3].map((d) => d / 2 / Math.sqrt(1.25 + 1e-5)), 'y', 1e-12); // μ = 2.5, σ² = 1.25
  assert.throws(
    () => F.batchNorm(g.ones([1, 3]), { training: true }),
    /^batchNorm: expected more than 1 value per channel when training; got x \[1, 3\] \(N·H·W = 1\)/,
  );
  // Evaluation of a single example is fine: it uses the running statistics.
  near(arr(F.batchNorm(g.ones([1, 3]), { runningMean: g.zeros([3]), runningVar: g.ones([3]) })), [1, 1, 1].map((v) => v / Math.sqrt(1 + 1e-5)), 'y', 1e-6);
});

test('batchNorm rejects bad shapes and options with messages that name the argument', () => {
  const x = g.ones([4, 3, 2, 2]);
  assert.throws(() => F.batchNorm(x, { weight: g.ones([4]), training: true }), /^batchNorm: weight must have shape \[3\] \(one value per channel of x \[4, 3, 2, 2\]\); got \[4\]$/);
  assert.throws(() => F.batchNorm(x, { bias: g.ones([3, 1]), training: true }), /^batchNorm: bias must have shape \[3\] .*; got \[3, 1\]$/);
  assert.throws(() => F.batchNorm(g.ones([4, 3, 2]), { training: true }), /^batchNorm: x must be 2-D or 4-D \(N, C\) or \(N, C, H, W\); got \[4, 3, 2\]$/);
  assert.throws(() => F.batchNorm(x, { training: false }), /^batchNorm: evaluation mode \(training: false\) normalises with runningMean and runningVar/);
  assert.throws(() => F.batchNorm(x, { runningMean: g.zeros([3]), training: true }), /^batchNorm: give runningMean and runningVar together, or neither$/);
  assert.throws(() => F.batchNorm(x, { training: true, momentum: 1.5 }), /^batchNorm: momentum must be a number in \[0, 1\]/);
  assert.throws(() => F.batchNorm(x, { training: true, eps: 0 }), /^batchNorm: attrs.eps must be a positive number/);
  // The primitive checks the same things under its own input names.
  const ones3 = g.ones([3]);
  assert.throws(
    () => P.batchNorm.apply({ x, gamma: g.ones([2]), beta: ones3, runningMean: ones3, runningVar: ones3 }, { training: true, eps: 1e-5 }),
    /^batchNorm: gamma must have shape \[3\] \(one value per channel of x \[4, 3, 2, 2\]\); got \[2\]$/,
  );
  assert.throws(
    () => P.batchNorm.apply({ x, gamma: ones3, beta: ones3, runningMean: ones3, runningVar: g.ones([4]) }, { training: false, eps: 1e-5 }),
    /^batchNorm: runningVar must have shape \[3\]/,
  );
});

// ── batchStats (the statistics nn.functional.batchNorm updates its running averages from) ──

// x [2, 1, 1, 2] = [1, 2, 3, 4]: one channel, m = N·H·W = 4 values.
//   μ  = 10 / 4 = 2.5;  x − μ = [−1.5, −0.5, 0.5, 1.5];  σ² = (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25
// Backward with dμ = 1, dσ² = 0.5: dx = dμ/m + dσ²·2(x − μ)/m = 0.25 + 0.25·(x − μ) = [−0.125, 0.125, 0.375, 0.625].
test('batchStats of [1, 2, 3, 4] by hand: μ = 2.5, biased σ² = 1.25, and dx = dμ/m + dσ²·2(x − μ)/m, on both backends', () => {
  for (const backend of ['reference', 'gpu'] as const) {
    const x = g.tensor([1, 2, 3, 4], { shape: [2, 1, 1, 2], dtype: 'float32', backend, requiresGrad: true });
    const stats = P.batchStats.apply({ x });
    assert.equal(stats.shape, [2, 1], `${backend}: shape`);
    near(arr(stats), [2.5, 1.25], `${backend} stats`, 1e-6);
    stats.backward(g.tensor([[1], [0.5]], { dtype: 'float32', backend }));
    near(arr(x.grad), [-0.125, 0.125, 0.375, 0.625], `${backend} dx`, 1e-6);
  }
});

test('batchStats of [N, C]: one row of means and one of variances, per channel', () => {
  // Channel 0 holds 1, 3, 8: μ = 4, σ² = (9 + 1 + 16)/3 = 26/3. Channel 1 holds −1, −1, −1: μ = −1, σ² = 0.
  const stats = P.batchStats.apply({ x: g.tensor([[1, -1], [3, -1], [8, -1]], f64) });
  near(arr(stats), [4, -1, 26 / 3, 0], 'stats', 1e-12);
});

test('batchStats rejects one value per channel and a 3-D x, naming the op and the shape', () => {
  assert.throws(() => P.batchStats.apply({ x: g.ones([1, 3]) }), /^batchStats: expected more than 1 value per channel; got x \[1, 3\] \(N·H·W = 1\), whose variance is undefined$/);
  assert.throws(() => P.batchStats.apply({ x: g.ones([4, 3, 2]) }), /^batchStats: x must be 2-D or 4-D \(N, C\) or \(N, C, H, W\); got \[4, 3, 2\]$/);
});

// ── dropout ──

test('dropout with p = 0 or in evaluation returns x itself (the identity, nothing recorded)', () => {
  const x = g.randn([3, 4], { seed: 6, requiresGrad: true });
  assert.ok(F.dropout(x, { p: 0 }) === x);
  assert.ok(F.dropout(x, { p: 0.5, training: false }) === x);
});

test('dropout keeps x/(1 − p) where the mask is 1 and 0 elsewhere; the gradient is mask/(1 − p)', () => {
  const x = g.randn([1000], { seed: 7, ...f64, requiresGrad: true });
  const mask = P.dropoutMask([1000], 0.25, g.randomStream(3));
  const y = F.dropout(x, { p: 0.25, mask });
  const xs = arr(x);
  near(arr(y), xs.map((v, i) => (mask[i] === 1 ? v / 0.75 : 0)), 'y', 1e-12);
  g.sum(y).backward();
  near(arr(x.grad), Array.from(mask, (m) => m / 0.75), 'dx', 1e-12);
  assert.ok(mask.includes(0) && mask.includes(1), 'the mask drops some elements and keeps others');
});

test('dropout keeps a fraction 1 − p of 100,000 elements, within 5 standard deviations', () => {
  // Kept count ~ Binomial(n, 1 − p): the kept fraction has sd √(p(1 − p)/n) = √(0.21/1e5) ≈ 0.00145,
  // so 5 sd ≈ 0.0072 (a false alarm about once in 1.7 million seeds).
  const n = 100_000;
  const p = 0.3;
  const y = F.dropout(g.ones([n]), { p, seed: 11 }).toArray();
  let kept = 0;
  for (const v of y) {
    if (v !== 0) {
      kept++;
      assert.is(v, Math.fround(1 / 0.7), 'each kept element is scaled by 1/(1 − p)');
    }
  }
  const sd = Math.sqrt((p * (1 - p)) / n);
  assert.ok(Math.abs(kept / n - (1 - p)) <= 5 * sd, `kept fraction ${kept / n}, expected 0.7 ± ${5 * sd}`);
});

test('dropout with the same seed draws the same mask on the reference and gpu backends', () => {
  const [ref, gpu] = (['reference', 'gpu'] as const).map((backend) => {
    const x = g.ones([257], { backend, requiresGrad: true });
    const y = F.dropout(x, { p: 0.5, seed: 42 });
    g.sum(y).backward();
    return { y: arr(y), dx: arr(x.grad) };
  });
  assert.equal(gpu.y, ref.y);
  assert.equal(gpu.dx, ref.dx);
  assert.equal(ref.y, Array.from(P.dropoutMask([257], 0.5, g.randomStream(42)), (m) => 2 * m));
  // A stream argument continues where it is: two calls on one stream draw two different masks.
  const stream = g.randomStream(42);
  const first = arr(F.dropout(g.ones([257]), { p: 0.5, seed: stream }));
  const second = arr(F.dropout(g.ones([257]), { p: 0.5, seed: stream }));
  assert.equal(first, ref.y);
  assert.not.equal(second, first);
});

test('dropout without a seed draws from the default stream, which manualSeed resets', () => {
  const x = g.ones([64]);
  g.manualSeed(123);
  const a = arr(F.dropout(x, { p: 0.5 }));
  const b = arr(F.dropout(x, { p: 0.5 }));
  g.manualSeed(123);
  assert.equal(arr(F.dropout(x, { p: 0.5 })), a);
  assert.not.equal(b, a);
  g.manualSeed(0);
});

test('dropout with p = 0.999 stays finite: kept elements are x·1000', () => {
  const x = g.randn([10_000], { seed: 8, ...f64, requiresGrad: true });
  const mask = P.dropoutMask([10_000], 0.999, g.randomStream(9));
  const y = F.dropout(x, { p: 0.999, mask });
  const kept = Array.from(mask).filter((m) => m === 1).length;
  assert.ok(kept > 0, 'some element is kept');
  near(arr(y), arr(x).map((v, i) => v * mask[i] * 1000), 'y', 1e-9);
  g.sum(y).backward();
  assert.ok(arr(x.grad).every(Number.isFinite));
});

test('dropout rejects p = 1, p outside [0, 1), bad masks and a mask of the wrong shape', () => {
  const x = g.ones([2, 3]);
  assert.throws(() => F.dropout(x, { p: 1 }), /^dropout: p = 1 would drop every element .*; p must be in \[0, 1\)$/);
  assert.throws(() => F.dropout(x, { p: -0.1 }), /^dropout: p \(the probability of dropping an element\) must be a number in \[0, 1\); got -0.1$/);
  assert.throws(() => F.dropout(x, { p: 1.5, training: false }), /^dropout: p .* must be a number in \[0, 1\); got 1.5$/);
  assert.throws(() => F.dropout(x, { p: 0.5, mask: [1, 0, 1] }), /^dropout: mask must hold x.size = 6 values \(x \[2, 3\]\); got 3$/);
  assert.throws(() => F.dropout(x, { p: 0.5, mask: [1, 0, 1, 0.5, 1, 1] }), /^dropout: mask values must be 0 \(drop\) or 1 \(keep\); got 0.5 at index 3$/);
  assert.throws(() => F.dropout(x, { p: 0.5, mask: [1, 0, 1, 0, 1, 1], seed: 1 }), /^dropout: give seed or mask, not both/);
  assert.throws(() => P.dropout.apply({ x, mask: g.ones([3, 2]) }, { p: 0.5 }), /^dropout: mask must have the shape of x \[2, 3\]; got \[3, 2\]$/);
  assert.throws(() => P.dropoutMask([4], 1, g.randomStream(0)), /^dropoutMask: p = 1 would drop every element/);
});

test('a stream\'s bernoulli draws what a loop of uniform() < q draws, and leaves the stream where that loop does', () => {
  // bernoulli runs Alea's step itself (src/tensor/random.ts): any slip in it changes these masks
  for (const [seed, q, n] of [[1, 0.5, 10_000], ['smallnet/dropout0', 0.8, 4097], [7, 0.3, 1]] as const) {
    const fast = g.randomStream(seed), slow = g.randomStream(seed);
    fast.normal(); // a Box–Muller spare pending, which bernoulli leaves alone
    slow.normal();
    const mask = new Float32Array(n);
    fast.bernoulli(mask, q);
    assert.equal(Array.from(mask), Array.from({ length: n }, () => (slow.uniform() < q ? 1 : 0)), `seed ${seed}`);
    assert.equal(fast.state(), slow.state());
    assert.equal([fast.uniform(), fast.normal(), fast.normal()], [slow.uniform(), slow.normal(), slow.normal()]);
  }
});

test('dropoutMask and dropout give the values their doc comments show', () => {
  assert.equal(Array.from(P.dropoutMask([2, 3], 0.5, g.randomStream(1))), [0, 1, 1, 0, 1, 1]);
  assert.equal(arr(F.dropout(g.ones([2, 4]), { p: 0.5, seed: 1 })), [0, 2, 2, 0, 2, 2, 2, 2]);
});

test.run();
