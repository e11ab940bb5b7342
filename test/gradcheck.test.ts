/** The gradient checker itself: it passes correct ops, catches broken ones and names the input. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';

const leaf = (v: number[], shape?: number[]) => g.tensor(v, { dtype: 'float64', requiresGrad: true, shape });

/** mul with a backward that forgets the product rule for b (db = dy instead of dy·a). */
const brokenMul = g.defineOp({
  name: 'brokenMul',
  inputs: ['a', 'b'],
  saves: ['a', 'b'],
  outputShape: ({ a }) => a,
  reference: {
    forward({ a, b }, y) {
      for (let i = 0; i < y.length; i++) y[i] = a[i] * b[i];
    },
    backward({ b }, dy, { da, db }) {
      for (let i = 0; i < da.length; i++) da[i] = dy[i] * b[i];
      for (let i = 0; i < db.length; i++) db[i] = dy[i];
    },
  },
});

/** A backward that ignores dy (always 1): fails the random-upstream and zero-upstream checks. */
const ignoresDy = g.defineOp({
  name: 'ignoresDy',
  inputs: ['x'],
  saves: [],
  outputShape: ({ x }) => x,
  reference: {
    forward({ x }, y) {
      y.set(x);
    },
    backward(_, __, { dx }) {
      dx.fill(1);
    },
  },
});

test('a correct op passes: y = a·b + exp(a)', () => {
  const r = g.gradcheck((a, b) => g.add(g.mul(a, b), g.exp(a)), [leaf([0.5, -1, 2]), leaf([1, 2, -3])]);
  assert.ok(r.ok, r.summary);
  assert.ok(r.maxAbsError < 1e-8);
  assert.equal(r.failures, []);
});

test('a deliberately wrong backward is caught, and the report names the input', () => {
  const r = g.gradcheck((a, b) => brokenMul.apply({ a, b }), [leaf([2, 3]), leaf([5, 7])], { names: ['a', 'b'] });
  assert.not.ok(r.ok);
  assert.ok(r.failures.length > 0);
  assert.ok(r.failures.every((f) => f.input === 'b'), 'only b is wrong');
  const f = r.failures[0];
  assert.equal(f.index, [0]);
  assert.match(f.message, /∂y\/∂b wrong at \[0\] — numerical/);
  // numerical ∂(Σ r·a·b)/∂b₀ = r₀·a₀ = 2·r₀, analytical (broken) = r₀
  assert.ok(Math.abs(f.numerical - 2 * f.analytical) < 1e-6);
});

test('a backward that ignores dy fails the zero-upstream check', () => {
  const r = g.gradcheck((x) => ignoresDy.apply({ x }), [leaf([1, 2])]);
  assert.not.ok(r.ok);
  assert.ok(r.problems.some((p) => /zero upstream gradient gave a non-zero gradient for x0/.test(p)), r.summary);
});

test('float32 inputs are refused with one message saying how to move them to reference float64', () => {
  assert.throws(
    () => g.gradcheck((x) => g.exp(x), [g.tensor([1], { requiresGrad: true, backend: 'reference' })]),
    /gradcheck: input x0 is float32 on 'reference'; gradcheck runs in float64 on the 'reference' backend .*g\.toBackend\(x, 'reference', \{ dtype: 'float64', requiresGrad: true \}\)/,
  );
});

test('inputs with requiresGrad false are held fixed (not differentiated)', () => {
  const labelsLike = g.tensor([3], { dtype: 'float64' });
  const r = g.gradcheck((x, c) => g.mul(x, c), [leaf([2]), labelsLike]);
  assert.ok(r.ok, r.summary);
});

test.run();
