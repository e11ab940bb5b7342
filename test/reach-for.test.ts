/**
 * The ops, layers and tools people reach for, against hand-computed values: sigmoid, tanh,
 * softmax, argmax, cat, slice, min, abs, clamp; the Sigmoid, Tanh and Softmax layers; accuracy;
 * data.subset; Adam and AdamW steps; BatchNorm's PyTorch buffer names and old checkpoints.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';

const F = g.nn.functional;
const f64 = { dtype: 'float64' as const, backend: 'reference' as const };
/** A value passed where T belongs, as a caller without types would. */
const bad = <T,>(value: unknown): T => value as T;
const arr = (t: g.Tensor | null): number[] => (t === null ? [] : Array.from(t.toArray()));

function near(got: ArrayLike<number>, want: readonly number[], what: string, tol = 1e-12): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= tol, `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
}

// ── ops ──

test('sigmoid and tanh: values at 0, ±2 and far out (no NaN), and their gradients σ(1−σ), 1 − tanh²', () => {
  const x = g.tensor([0, 2, -2, -1000, 1000], { ...f64, requiresGrad: true });
  near(arr(g.sigmoid(x)), [0.5, 0.8807970779778823, 0.11920292202211755, 0, 1], 'sigmoid');
  near(arr(g.tanh(x)), [0, 0.9640275800758169, -0.9640275800758169, -1, 1], 'tanh');
  g.sum(g.sigmoid(x)).backward();
  near(arr(x.grad), [0.25, 0.10499358540350652, 0.10499358540350652, 0, 0], 'dσ/dx');
  for (const backend of ['reference', 'gpu'] as const) {
    const y = g.tensor([0, 2, -1000, 1000], { backend });
    near(arr(y.sigmoid()), [0.5, 0.8807970779778823, 0, 1], `sigmoid on ${backend}`, 1e-6);
    near(arr(y.tanh()), [0, 0.9640275800758169, -1, 1], `tanh on ${backend}`, 1e-6);
  }
});

test('softmax: rows sum to 1, [0, log 3] → [0.25, 0.75]; any axis; logits of ±1000 give 0 and 1', () => {
  near(arr(F.softmax(g.tensor([[0, Math.log(3)]], f64))), [0.25, 0.75], 'softmax');
  near(arr(F.softmax(g.tensor([[1000, -1000]], f64))), [1, 0], 'large logits');
  // axis 0 of [2, 2]: each column normalised
  near(arr(F.softmax(g.tensor([[0, 0], [Math.log(3), 0]], f64), { axis: 0 })), [0.25, 0.5, 0.75, 0.5], 'axis 0');
  const x = g.randn([2, 3, 4], { seed: 1, ...f64 });
  const s = F.softmax(x, 1);
  near(arr(g.sum(s, 1)), Array(8).fill(1), 'sums along axis 1', 1e-12);
  near(arr(g.exp(F.logSoftmax(x, { axis: 1 }))), arr(s), 'exp(logSoftmax) = softmax', 1e-12);
});

test('argmax: per axis and flat; ties go to the first; no gradient', () => {
  const x = g.tensor([[1, 5, 2], [7, 0, 7]], { ...f64, requiresGrad: true });
  assert.equal(arr(g.argmax(x, { axis: 1 })), [1, 0]);
  assert.equal(arr(g.argmax(x, 0)), [1, 0, 1]);
  assert.equal(g.argmax(x).item(), 3);
  assert.equal(g.argmax(x, { axis: 1, keepDims: true }).shape, [2, 1]);
  assert.is(g.argmax(x, 1).requiresGrad, false);
  assert.equal(arr(g.argmax(g.tensor([[1, 5, 2], [7, 0, 7]], { backend: 'gpu' }), 1)), [1, 0]);
  assert.throws(() => g.argmax(x, bad<{ axis: number }>({ axis: [0, 1] })), /argmax: axis must be one axis \(a number\); got \[0,1\]/);
});

test('cat and slice: values, shapes, and gradients routed back (cat backward = slice, slice backward = pad)', () => {
  const a = g.tensor([[1, 2], [3, 4]], { ...f64, requiresGrad: true });
  const b = g.tensor([[5], [6]], { ...f64, requiresGrad: true });
  const c = g.cat([a, b], { axis: 1 });
  assert.equal(c.shape, [2, 3]);
  assert.equal(arr(c), [1, 2, 5, 3, 4, 6]);
  assert.equal(arr(g.cat([a, a])), [1, 2, 3, 4, 1, 2, 3, 4]);
  g.sum(g.mul(c, g.tensor([[1, 2, 3], [4, 5, 6]], f64))).backward();
  assert.equal(arr(a.grad), [1, 2, 4, 5]);
  assert.equal(arr(b.grad), [3, 6]);

  const x = g.tensor([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]], { ...f64, requiresGrad: true });
  const s = g.slice(x, [[1, 3], [1, -1]]);
  assert.equal(s.shape, [2, 2]);
  assert.equal(arr(s), [5, 6, 9, 10]);
  g.sum(s).backward();
  assert.equal(arr(x.grad), [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0]);
  assert.equal(arr(g.slice(x, [null, [3, 4]])), [3, 7, 11]);
  assert.throws(() => g.slice(x, [[2, 1]]), /slice: range 0 must be \[start, end\) with 0 ≤ start < end ≤ 3 \(axis 0 of x \[3, 4\]\); got \[2,1\]/);
  assert.throws(() => g.cat([a, g.ones([3, 3], f64)], { axis: 1 }), /cat: tensors must match on every axis but axis 1; got \[2, 2\] and \[3, 3\]/);
});

test('min, abs and clamp: values and gradients (clamp passes the gradient on the bounds, abs has 0 at 0)', () => {
  const x = g.tensor([-2, 0, 0.5, 3], { ...f64, requiresGrad: true });
  assert.equal(g.min(x).item(), -2);
  assert.equal(arr(g.abs(x)), [2, 0, 0.5, 3]);
  assert.equal(arr(g.clamp(x, { min: 0, max: 1 })), [0, 0, 0.5, 1]);
  assert.equal(arr(x.clamp({ max: 0.5 })), [-2, 0, 0.5, 0.5]);
  g.sum(g.clamp(x, { min: 0, max: 1 })).backward();
  assert.equal(arr(x.grad), [0, 1, 1, 0]);
  const y = g.tensor([-2, 0, 0.5], { ...f64, requiresGrad: true });
  g.sum(g.abs(y)).backward();
  assert.equal(arr(y.grad), [-1, 0, 1]);
  assert.throws(() => g.clamp(x, {}), /clamp: give min, max or both; got neither/);
  assert.throws(() => g.clamp(x, { min: 2, max: 1 }), /clamp: min and max must be numbers with min ≤ max; got min 2, max 1/);
});

// ── layers, accuracy, subset ──

test('layers Sigmoid, Tanh and Softmax', () => {
  near(arr(new g.nn.Sigmoid().forward(g.tensor([0], f64))), [0.5], 'Sigmoid');
  near(arr(new g.nn.Tanh().forward(g.tensor([0, 2], f64))), [0, 0.9640275800758169], 'Tanh');
  near(arr(new g.nn.Softmax().forward(g.tensor([[0, Math.log(3)]], f64))), [0.25, 0.75], 'Softmax');
  near(arr(new g.nn.Softmax({ axis: 0 }).forward(g.tensor([[0], [Math.log(3)]], f64))), [0.25, 0.75], 'Softmax axis 0');
  assert.is(String(new g.nn.Softmax({ axis: 1 })), 'Softmax(axis=1)');
});

test('accuracy: the fraction of rows whose argmax is the label (2 of 3)', () => {
  assert.is(g.accuracy(g.tensor([[2, 1], [0, 3], [5, 4]]), [0, 1, 1]), 2 / 3);
  assert.is(F.accuracy(g.tensor([[2, 1], [0, 3]]), g.tensor([0, 1])), 1);
  assert.throws(() => g.accuracy(g.tensor([[2, 1]]), [2]), /accuracy: labels must be integers in \[0, 2\) for logits \[1, 2\]; label 2 at index 0/);
});

test('data.subset: the first n images, or chosen indices in order; labels follow', () => {
  const r = g.data.syntheticCifar({ dataset: 'cifar10', split: 'test', count: 10, seed: 1 });
  const ds: g.data.ImageDataset = { length: 10, imageShape: [3, 32, 32], images: r.images, labels: r.labels, classes: 10 };
  const first = g.data.subset(ds, 4);
  assert.is(first.length, 4);
  assert.equal(Array.from(first.labels), Array.from(r.labels.subarray(0, 4)));
  const picked = g.data.subset(ds, [7, 2]);
  assert.equal(Array.from(picked.labels), [r.labels[7], r.labels[2]]);
  assert.equal(Array.from(picked.images.subarray(3072, 3072 + 5)), Array.from(r.images.subarray(2 * 3072, 2 * 3072 + 5)));
  assert.is(new g.data.DataLoader(first, { batchSize: 2 }).length, 2);
  assert.throws(() => g.data.subset(ds, 11), /subset: n must be an integer in \[0, 10\] \(the dataset's length\); got 11/);
  assert.throws(() => g.data.subset(ds, [3, 10]), /subset: indices must be integers in \[0, 10\); got 10 at position 1/);
});

// ── Adam and AdamW, against hand-computed steps ──
// θ₀ = [1, −2], loss Σ c·θ with c = [0.5, 1] → gradient c at every step.
//   step 1: m = 0.1·c, v = 0.001·c², m̂ = c, v̂ = c² → θ −= lr·c/(|c| + eps) ≈ lr·sign(c)
//   step 2: m = 0.19·c, v = 0.001999·c², m̂ = 0.19/0.19·c = c, v̂ = c² → the same step again

function adamRun(make: (params: g.Tensor[]) => g.optim.Adam, steps: number): number[] {
  const theta = g.tensor([1, -2], { ...f64, requiresGrad: true });
  const opt = make([theta]);
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    g.sum(g.mul(theta, g.tensor([0.5, 1], f64))).backward();
    opt.step();
  }
  return arr(theta);
}

test('Adam: two steps of lr 0.1 move each θ by lr·c/(|c| + eps) twice (bias-corrected moments)', () => {
  const step = (c: number) => (0.1 * c) / (Math.abs(c) + 1e-8);
  near(adamRun((p) => new g.optim.Adam(p, { lr: 0.1 }), 2), [1 - 2 * step(0.5), -2 - 2 * step(1)], 'θ after 2 steps', 1e-12);
});

test('Adam with weightDecay 0.1 (L2 in the gradient): first step by hand', () => {
  // g = c + 0.1·θ₀ = [0.6, 0.8]; m̂ = g, v̂ = g² → θ₁ = θ₀ − 0.1·g/(|g| + eps)
  const gr = [0.5 + 0.1 * 1, 1 + 0.1 * -2];
  near(adamRun((p) => new g.optim.Adam(p, { lr: 0.1, weightDecay: 0.1 }), 1), [1 - (0.1 * gr[0]) / (gr[0] + 1e-8), -2 - (0.1 * gr[1]) / (gr[1] + 1e-8)], 'θ₁', 1e-12);
});

test('AdamW (decoupled decay, default 0.01): θ₁ = θ₀·(1 − lr·wd) − lr·c/(|c| + eps); its state round-trips', () => {
  const lr = 0.1;
  const want = [1 * (1 - lr * 0.01) - (lr * 0.5) / (0.5 + 1e-8), -2 * (1 - lr * 0.01) - (lr * 1) / (1 + 1e-8)];
  near(adamRun((p) => new g.optim.AdamW(p, { lr }), 1), want, 'θ₁', 1e-12);
  const theta = g.tensor([1, -2], { ...f64, requiresGrad: true });
  const opt = new g.optim.AdamW([theta], { lr, betas: [0.8, 0.9] });
  g.sum(theta).backward();
  opt.step();
  const state = opt.stateDict();
  assert.is(state.step, 1);
  near(state.firstMoments[0]!, [0.2, 0.2], 'm after one step (1 − β₁)·g');
  near(state.secondMoments[0]!, [0.1, 0.1], 'v after one step (1 − β₂)·g²', 1e-15);
  const again = new g.optim.AdamW([g.tensor([0, 0], { ...f64, requiresGrad: true })], { lr });
  again.loadStateDict(state);
  assert.is(again.stepCount, 1);
  assert.throws(() => new g.optim.Adam([theta], { betas: [0.9, 1] }), /Adam: betas\[1\] must be a number in \[0, 1\); got 1/);
});

// ── BatchNorm buffers: PyTorch's names; old checkpoints still load ──

test("BatchNorm2d's buffers are running_mean, running_var, num_batches_tracked (counts training batches)", () => {
  const bn = new g.nn.BatchNorm2d(2, f64);
  assert.equal(bn.namedBuffers().map(([n]) => n), ['running_mean', 'running_var', 'num_batches_tracked']);
  const x = g.randn([4, 2, 3, 3], { seed: 1, ...f64 });
  bn.forward(x);
  bn.forward(x);
  bn.eval().forward(x);
  assert.is(bn.numBatchesTracked.item(), 2);
  assert.equal(Object.keys(bn.stateDict()), ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
  // A loaded counter is where counting continues (the host count follows the buffer's version).
  bn.loadStateDict({ ...bn.stateDict(), num_batches_tracked: g.tensor(10, f64) });
  bn.train().forward(x);
  assert.is(bn.numBatchesTracked.item(), 11);
});

test('a state dict with the old buffer names (runningMean, runningVar, no counter) still loads', () => {
  const bn = new g.nn.BatchNorm1d(2, f64);
  bn.loadStateDict({
    weight: g.tensor([1, 2], f64),
    bias: g.tensor([0, 0], f64),
    runningMean: g.tensor([0.5, -0.5], f64),
    runningVar: g.tensor([2, 3], f64),
  });
  assert.equal(arr(bn.runningMean), [0.5, -0.5]);
  assert.equal(arr(bn.runningVar), [2, 3]);
  assert.is(bn.numBatchesTracked.item(), 0);
});

test.run();
