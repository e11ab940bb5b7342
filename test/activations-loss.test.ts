/**
 * The activations and losses of g.nn.functional on hand-derived values (both backends), the
 * stability of logSoftmax/crossEntropy at logits of ±1000, and the errors for bad labels,
 * shapes and options.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import * as P from '../src/nn/ops/index.js';

const F = g.nn.functional;

// Same mode as gpu-vs-reference.test.ts, which may share this process (a mode is chosen once).
g.setGpuMode((process.env.GRADLAB_GPU_MODE ?? 'webasm') as g.GpuMode);

function near(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, label: string): void {
  assert.is(got.length, want.length, `${label}: length`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= tol, `${label}[${i}]: got ${got[i]}, expected ${want[i]} (tolerance ${tol})`);
  }
}

/** y = fn(x) and x's gradient for upstream gradient `dy` (all ones when absent). */
function valueAndGrad(fn: (x: g.Tensor) => g.Tensor, x: g.Tensor, dy?: number[]): { y: number[]; dx: number[] } {
  const y = fn(x);
  y.backward(g.tensor(dy ?? new Array<number>(y.size).fill(1), { dtype: x.dtype, backend: x.backend, shape: y.shape }));
  return { y: Array.from(y.toArray()), dx: Array.from(x.grad!.toArray()) };
}

const E = Math.exp(-1);

for (const backend of ['reference', 'gpu'] as const) {
  const dtype = backend === 'gpu' ? 'float32' : 'float64';
  const tol = backend === 'gpu' ? 1e-6 : 1e-15;
  const t = (values: number[], shape?: number[], requiresGrad = true) => g.tensor(values, { dtype, backend, shape, requiresGrad });

  test(`relu (${backend}): [-1.5, 0, 2] → [0, 0, 2]; dx = [0, 0, 1] (0 at the kink)`, () => {
    const { y, dx } = valueAndGrad((x) => F.relu(x), t([-1.5, 0, 2]));
    assert.equal(y, [0, 0, 2]);
    assert.equal(dx, [0, 0, 1]);
  });

  test(`leakyRelu (${backend}): slope 0.1 on [-2, 0, 3] → [-0.2, 0, 3], dx = [0.1, 0.1, 1]; default slope 0.01`, () => {
    const { y, dx } = valueAndGrad((x) => F.leakyRelu(x, { negativeSlope: 0.1 }), t([-2, 0, 3]));
    near(y, [-0.2, 0, 3], tol, 'y');
    near(dx, [0.1, 0.1, 1], tol, 'dx');
    near(F.leakyRelu(t([-100, 5])).toArray(), [-1, 5], 1e-5, 'default slope');
  });

  test(`prelu (${backend}): per-channel a [2] on x [1, 2, 2] — y, dx and da_c = Σ x over channel c where x ≤ 0`, () => {
    const x = t([-1, 2, -4, 3], [1, 2, 2]); // channel 0: [-1, 2], channel 1: [-4, 3]
    const a = t([0.5, 0.25]);
    const y = F.prelu(x, a);
    assert.equal(Array.from(y.toArray()), [-0.5, 2, -1, 3]);
    y.backward(t([1, 1, 1, 1], [1, 2, 2], false));
    assert.equal(Array.from(x.grad!.toArray()), [0.5, 1, 0.25, 1]);
    assert.equal(Array.from(a.grad!.toArray()), [-1, -4]);
  });

  test(`prelu (${backend}): shared a [1] — da = Σ dy·x over all x ≤ 0`, () => {
    const x = t([-1, 2, -4, 3], [1, 2, 2]);
    const a = t([0.5]);
    const y = F.prelu(x, a);
    assert.equal(Array.from(y.toArray()), [-0.5, 2, -2, 3]);
    y.backward(t([1, 2, 3, 4], [1, 2, 2], false));
    assert.equal(Array.from(x.grad!.toArray()), [0.5, 2, 1.5, 4]);
    assert.equal(Array.from(a.grad!.toArray()), [-1 * 1 + -4 * 3]);
  });

  test(`elu (${backend}): alpha 1 and 0.5 on [-1, 0, 2]; dx = dy·(y + α) on the negative side`, () => {
    const one = valueAndGrad((x) => F.elu(x), t([-1, 0, 2]));
    near(one.y, [E - 1, 0, 2], tol, 'y (α = 1)');
    near(one.dx, [E, 1, 1], tol, 'dx (α = 1)');
    const half = valueAndGrad((x) => F.elu(x, { alpha: 0.5 }), t([-1, 0, 2]));
    near(half.y, [0.5 * (E - 1), 0, 2], tol, 'y (α = 0.5)');
    near(half.dx, [0.5 * E, 0.5, 1], tol, 'dx (α = 0.5)');
  });

  test(`logSoftmax (${backend}): hand values, rows of exp(y) sum to 1, dx = dy − softmax·Σ dy`, () => {
    const half = valueAndGrad((x) => F.logSoftmax(x), t([0, 0], [1, 2]), [1, 0]);
    near(half.y, [Math.log(0.5), Math.log(0.5)], tol, 'log ½');
    near(half.dx, [0.5, -0.5], tol, 'dx');
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    near(F.logSoftmax(t([1, 2, 3], [1, 3])).toArray(), [1 - lse, 2 - lse, 3 - lse], backend === 'gpu' ? 1e-6 : 1e-14, 'row [1, 2, 3]');
    const big = F.logSoftmax(t([1000, 0, -1000, 3, 1, 2], [2, 3])).toArray();
    near(big.subarray(0, 3), [0, -1000, -2000], 1e-4, 'row [1000, 0, -1000] (stable)');
    for (let r = 0; r < 2; r++) {
      const sum = Array.from(big.subarray(3 * r, 3 * r + 3)).reduce((s, v) => s + Math.exp(v), 0);
      near([sum], [1], 1e-6, `Σ exp over row ${r}`);
    }
  });

  test(`crossEntropy (${backend}): logits ±1000 give finite hand values and gradients`, () => {
    const logits = t([1000, 0, 0, -1000], [2, 2]);
    const loss = F.crossEntropy(logits, [0, 1]);
    assert.equal(loss.shape, []);
    assert.is(loss.item(), 500); // row 0: lse 1000 − 1000 = 0; row 1: lse 0 − (−1000) = 1000; mean 500
    loss.backward();
    // (softmax − onehot) / N: row 0 [1, 0] − [1, 0]; row 1 [1, 0] − [0, 1]
    near(logits.grad!.toArray(), [0, 0, 0.5, -0.5], 1e-12, 'dlogits');
    assert.is(F.crossEntropy(t([1000, 0, 0, -1000], [2, 2], false), [0, 0]).item(), 0);
  });

  test(`crossEntropy (${backend}): uniform logits give log C whatever the labels`, () => {
    const loss = F.crossEntropy(t(new Array<number>(12).fill(0), [3, 4]), [3, 0, 2]);
    near([loss.item()], [Math.log(4)], backend === 'gpu' ? 1e-6 : 1e-15, 'loss');
  });

  test(`crossEntropy (${backend}): equals −mean of the picked logSoftmax entries, values and gradients`, () => {
    const rng = g.randomStream(`crossEntropy composite ${backend}`);
    const values = Array.from({ length: 4 * 5 }, () => 3 * rng.normal());
    const labels = [4, 0, 2, 2];
    const onehot = t(Array.from({ length: 20 }, (_, i) => (i % 5 === labels[Math.floor(i / 5)] ? 1 : 0)), [4, 5], false);
    const fused = valueAndGrad((x) => F.crossEntropy(x, labels), t(values, [4, 5]));
    const composite = valueAndGrad((x) => g.neg(g.mean(g.sum(g.mul(F.logSoftmax(x), onehot), { axis: 1 }))), t(values, [4, 5]));
    const tol = backend === 'gpu' ? 1e-5 : 1e-12;
    near(fused.y, composite.y, tol, 'loss');
    near(fused.dx, composite.dx, tol, 'dlogits');
  });
}

test('crossEntropy: labels as Uint8Array, Int32Array, float64 tensor or gpu tensor give the same loss', () => {
  const logits = g.tensor([0.5, -1, 2, 0, 1, 3], { shape: [2, 3] });
  const want = F.crossEntropy(logits, [2, 1]).item();
  assert.is(F.crossEntropy(logits, Uint8Array.from([2, 1])).item(), want);
  assert.is(F.crossEntropy(logits, Int32Array.from([2, 1])).item(), want);
  assert.is(F.crossEntropy(logits, g.tensor([2, 1], { dtype: 'float64' })).item(), want);
  assert.is(F.crossEntropy(logits, g.tensor([2, 1], { backend: 'gpu' })).item(), want);
  const lse0 = Math.log(Math.exp(0.5) + Math.exp(-1) + Math.exp(2));
  const lse1 = Math.log(Math.exp(0) + Math.exp(1) + Math.exp(3));
  near([want], [(lse0 - 2 + lse1 - 1) / 2], 1e-6, 'hand value');
});

test('crossEntropy: bad labels give clear errors (out of range, non-integer, negative, wrong length, wrong rank)', () => {
  const logits = g.zeros([4, 10]);
  assert.throws(() => F.crossEntropy(logits, [1, 2, 12, 3]), (e: Error) => e.message === 'crossEntropy: labels must be integers in [0, 10) for logits [4, 10]; label 12 at index 2');
  assert.throws(() => F.crossEntropy(logits, [0, 1.5, 2, 3]), /labels must be integers in \[0, 10\) for logits \[4, 10\]; label 1\.5 at index 1/);
  assert.throws(() => F.crossEntropy(logits, [0, 1, 2, -1]), /label -1 at index 3/);
  assert.throws(() => F.crossEntropy(logits, g.tensor([0, 1, 10, 3])), /label 10 at index 2/);
  assert.throws(() => F.crossEntropy(logits, [0, 1, 2]), /crossEntropy: labels must have N = 4 entries, one per row of logits \[4, 10\]; got 3/);
  assert.throws(() => F.crossEntropy(logits, g.zeros([4, 1])), /crossEntropy: labels must be 1-D \[N\] = \[4\].*got a tensor \[4, 1\]/);
});

test('crossEntropy and logSoftmax: logits that are not [N, C] give clear errors', () => {
  assert.throws(() => F.crossEntropy(g.zeros([10]), [1]), /crossEntropy: logits must be 2-D \[N, C\].*got \[10\]/);
  assert.throws(() => F.crossEntropy(g.zeros([2, 3, 4]), [1, 2]), /crossEntropy: logits must be 2-D.*got \[2, 3, 4\]/);
  // F.logSoftmax takes any axis of any rank (it moves the axis last); the primitive wants rows.
  assert.throws(() => P.logSoftmax.apply({ x: g.zeros([2, 3, 4]) }), /logSoftmax: x must be 2-D \[N, C\].*got \[2, 3, 4\]/);
  assert.throws(() => F.logSoftmax(g.zeros([2, 0])), /logSoftmax: x needs at least one row and one class; got \[2, 0\]/);
  // The primitive itself checks labels' shape too.
  assert.throws(() => P.crossEntropy.apply({ logits: g.zeros([4, 10]), labels: g.zeros([3]) }), /crossEntropy: labels must have shape \[4\]; got \[3\]/);
});

test('prelu, leakyRelu, elu: bad parameter shapes and options give clear errors', () => {
  const x = g.zeros([2, 3, 2, 2]);
  assert.throws(() => F.prelu(x, g.zeros([4])), /prelu: a must have shape \[1\] \(one shared slope\) or \[C\] = \[3\] \(one slope per channel of x \[2, 3, 2, 2\]\); got \[4\]/);
  assert.throws(() => F.prelu(x, g.zeros([])), /prelu: a must have shape .*got \[\]/);
  assert.throws(() => F.prelu(g.zeros([5]), g.zeros([5])), /prelu: a must have shape \[1\] \(one shared slope; x \[5\] has no channel axis\); got \[5\]/);
  assert.throws(() => F.leakyRelu(x, { negativeSlope: Number.NaN }), /leakyRelu: negativeSlope must be a finite number; got NaN/);
  assert.throws(() => Reflect.apply(F.leakyRelu, undefined, [x, 0.2]), /leakyRelu: options must be an object like \{ negativeSlope: 0\.01 \}; got 0\.2/);
  assert.throws(() => F.elu(x, { alpha: Infinity }), /elu: alpha must be a finite number/);
  assert.throws(() => Reflect.apply(F.relu, undefined, [[1, 2]]), /relu: input 'x' must be a Tensor/);
});

test.run();
