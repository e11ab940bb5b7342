/**
 * FReLU as the paper defines it (Qiu & Cai 2017): eq. 2 y = max(x, 0) + b_l, eq. 3 ∂y/∂x = [x > 0]
 * (0 at x = 0) and ∂y/∂b_l = 1 — checked by hand values, against ReLU, against a composite
 * relu(x) + b, numerically, and on both backends.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';

const F = g.nn.functional;

// Same mode as gpu-vs-reference.test.ts, which may share this process (a mode is chosen once).
g.setGpuMode((process.env.GRADLAB_GPU_MODE ?? 'webasm') as g.GpuMode);

const X = [-2, -0.5, 0, 0.5, 2];
const DY = [1, 2, 3, 4, 5];

function near(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, label: string): void {
  assert.is(got.length, want.length, `${label}: length`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= tol, `${label}[${i}]: got ${got[i]}, expected ${want[i]}`);
  }
}

for (const backend of ['reference', 'gpu'] as const) {
  const dtype = backend === 'gpu' ? 'float32' : 'float64';

  test(`frelu (${backend}): eq. 2 forward on hand values, b = 0.25`, () => {
    const y = F.frelu(g.tensor(X, { dtype, backend }), g.tensor(0.25, { dtype, backend }));
    assert.equal(y.shape, [5]);
    // Exact in float32 too: every value is a sum of powers of two.
    assert.equal(Array.from(y.toArray()), [0.25, 0.25, 0.25, 0.75, 2.25]);
  });

  test(`frelu (${backend}): eq. 3 gradients by hand — dx = dy·[x > 0] (0 at x = 0), db = Σ dy`, () => {
    const x = g.tensor(X, { dtype, backend, requiresGrad: true });
    const b = g.tensor(0.25, { dtype, backend, requiresGrad: true });
    F.frelu(x, b).backward(g.tensor(DY, { dtype, backend }));
    assert.equal(Array.from(x.grad!.toArray()), [0, 0, 0, 4, 5]);
    assert.equal(b.grad!.shape, []);
    assert.is(b.grad!.item(), 15);
  });

  test(`frelu (${backend}): with b = 0 it equals relu exactly, values and gradients`, () => {
    const values = Array.from({ length: 24 }, (_, i) => ((i * 7) % 11) - 5.5);
    const seed = Array.from({ length: 24 }, (_, i) => i - 10);
    const x1 = g.tensor(values, { dtype, backend, shape: [2, 3, 4], requiresGrad: true });
    const x2 = g.tensor(values, { dtype, backend, shape: [2, 3, 4], requiresGrad: true });
    const yf = F.frelu(x1, g.tensor(0, { dtype, backend }));
    const yr = F.relu(x2);
    assert.equal(Array.from(yf.toArray()), Array.from(yr.toArray()));
    yf.backward(g.tensor(seed, { dtype, backend, shape: [2, 3, 4] }));
    yr.backward(g.tensor(seed, { dtype, backend, shape: [2, 3, 4] }));
    assert.equal(Array.from(x1.grad!.toArray()), Array.from(x2.grad!.toArray()));
  });

  test(`frelu (${backend}): the primitive agrees with the composite relu(x) + b, values and gradients`, () => {
    const rng = g.randomStream('frelu composite');
    const values = Float64Array.from({ length: 2 * 3 * 4 * 4 }, () => rng.normal());
    const seed = Float64Array.from({ length: values.length }, () => rng.uniform() * 2 - 1);
    const run = (fn: (x: g.Tensor, b: g.Tensor) => g.Tensor) => {
      const x = g.tensor(values, { dtype, backend, shape: [2, 3, 4, 4], requiresGrad: true });
      const b = g.tensor(-0.3, { dtype, backend, requiresGrad: true });
      const y = fn(x, b);
      y.backward(g.tensor(seed, { dtype, backend, shape: y.shape }));
      return { y: y.toArray(), dx: x.grad!.toArray(), db: b.grad!.toArray() };
    };
    const primitive = run((x, b) => F.frelu(x, b));
    const composite = run((x, b) => g.add(F.relu(x), b));
    const tol = dtype === 'float64' ? 1e-12 : 1e-4;
    near(primitive.y, composite.y, tol, 'y');
    near(primitive.dx, composite.dx, tol, 'dx');
    near(primitive.db, composite.db, tol, 'db');
  });

  test(`frelu (${backend}): per-channel b [C] adds b_c on channel c; db_c is the sum of dy over channel c`, () => {
    // x [2, 3, 2] (N = 2, C = 3, 2 elements per channel), all positive so dy passes through.
    const x = g.tensor(Array.from({ length: 12 }, (_, i) => i + 1), { dtype, backend, shape: [2, 3, 2], requiresGrad: true });
    const b = g.tensor([10, 20, 30], { dtype, backend, requiresGrad: true });
    const y = F.frelu(x, b);
    assert.equal(Array.from(y.toArray()), [11, 12, 23, 24, 35, 36, 17, 18, 29, 30, 41, 42]);
    const dy = Array.from({ length: 12 }, (_, i) => i);
    y.backward(g.tensor(dy, { dtype, backend, shape: [2, 3, 2] }));
    // channel 0: dy 0, 1, 6, 7 → 14; channel 1: 2, 3, 8, 9 → 22; channel 2: 4, 5, 10, 11 → 30
    assert.equal(Array.from(b.grad!.toArray()), [14, 22, 30]);
    assert.equal(Array.from(x.grad!.toArray()), dy);
  });
}

test('frelu: eq. 3 holds numerically (gradcheck, float64), scalar and per-channel b', () => {
  const rng = g.randomStream('frelu gradcheck');
  const awayFromZero = (n: number) =>
    Float64Array.from({ length: n }, () => {
      const v = rng.normal();
      return v >= 0 ? v + 0.1 : v - 0.1;
    });
  const x = g.tensor(awayFromZero(2 * 3 * 3 * 3), { dtype: 'float64', backend: 'reference', shape: [2, 3, 3, 3], requiresGrad: true });
  for (const b of [g.tensor(0.4, { dtype: 'float64', requiresGrad: true, backend: 'reference' }), g.tensor([0.1, -0.2, 0.3], { dtype: 'float64', requiresGrad: true, backend: 'reference' })]) {
    const result = g.gradcheck((x, b) => F.frelu(x, b), [x, b], { names: ['x', 'b'] });
    assert.ok(result.ok, result.summary);
  }
});

test('frelu: a b that is neither [] nor [C] is rejected with a clear error', () => {
  const x = g.zeros([2, 3, 4, 4]);
  assert.throws(() => F.frelu(x, g.zeros([4])), /frelu: b must have shape \[\] \(one scalar per layer\) or \[C\] = \[3\] .*x \[2, 3, 4, 4\].*got \[4\]/);
  assert.throws(() => F.frelu(x, g.zeros([1, 3])), /frelu: b must have shape .*got \[1, 3\]/);
  assert.throws(() => F.frelu(g.zeros([5]), g.zeros([5])), /frelu: b must have shape \[\] \(one scalar per layer; x \[5\] has no channel axis\); got \[5\]/);
});

test.run();
