/** The autograd engine: topological order, accumulation, noGrad, detach, and its errors. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import type { Flat, Thread } from '../src/tensor/op-def.js';

const arr = (t: g.Tensor | null): number[] => Array.from(t!.toArray());
const leaf = (v: number[]) => g.tensor(v, { dtype: 'float64', requiresGrad: true });

test('diamond y = x·x + x: gradients from both paths add up (dy/dx = 2x + 1)', () => {
  const x = leaf([1, 2, 3]);
  g.sum(g.add(g.mul(x, x), x)).backward();
  assert.equal(arr(x.grad), [3, 5, 7]);
});

test('a tensor used several times accumulates every use', () => {
  const x = leaf([2]);
  const y = g.mul(g.mul(x, x), x); // x³ → 3x² = 12
  y.backward();
  assert.equal(arr(x.grad), [12]);
});

test('.grad accumulates across backward calls, like PyTorch', () => {
  const x = leaf([1, 2]);
  g.sum(g.mul(x, 3)).backward();
  g.sum(g.mul(x, 3)).backward();
  assert.equal(arr(x.grad), [6, 6]);
});

test('a 10,000-op chain backpropagates without overflowing the stack', () => {
  const x = leaf([1]);
  let y = x;
  for (let i = 0; i < 10000; i++) y = g.add(y, 1e-4);
  y.backward();
  assert.equal(arr(x.grad), [1]);
  assert.ok(Math.abs(y.item() - 2) < 1e-9);
});

test('requiresGrad propagates: results of tensors that need no gradient need none', () => {
  const a = g.tensor([1], { dtype: 'float64' });
  const b = leaf([2]);
  assert.is(g.mul(a, a).requiresGrad, false);
  assert.is(g.mul(a, b).requiresGrad, true);
});

test('noGrad records nothing; detach cuts the graph', () => {
  const x = leaf([3]);
  const y = g.noGrad(() => g.mul(x, x));
  assert.is(y.requiresGrad, false);
  const z = g.mul(x.detach(), x); // only the second factor is differentiated: dz/dx = x.detach() = 3
  z.backward();
  assert.equal(arr(x.grad), [3]);
  assert.is(x.detach().requiresGrad, false);
});

test('backward on a non-scalar needs a seed gradient of its shape', () => {
  const x = leaf([1, 2]);
  const y = g.mul(x, 2);
  assert.throws(() => y.backward(), /backward: the tensor is not a scalar \(shape \[2\]\), so it needs a seed gradient of that shape/);
  y.backward(g.tensor([1, 10], { dtype: 'float64' }));
  assert.equal(arr(x.grad), [2, 20]);
});

test('a second backward through freed state is a clear error; retainGraph allows it', () => {
  const x = leaf([1, 2]);
  const y = g.sum(g.mul(x, x));
  y.backward();
  assert.throws(() => y.backward(), /backward: the graph through 'sum' was freed by an earlier backward\(\); pass \{ retainGraph: true \}/);
  const z = g.sum(g.mul(x, x));
  z.backward(undefined, { retainGraph: true });
  z.backward();
  assert.equal(arr(x.grad), [2 + 2 + 2, 4 + 4 + 4]);
});

test('backward on a tensor that requires no grad says why', () => {
  assert.throws(() => g.tensor([1]).backward(), /backward: this tensor does not require grad/);
});

test('the engine checks every backward returns gradients shaped like its inputs, naming the op', () => {
  // A deliberately broken op: its gpu backward returns a gradient of the wrong size.
  const broken = g.defineOp({
    name: 'brokenDouble',
    inputs: ['x'],
    saves: [],
    outputShape: ({ x }) => x,
    reference: {
      forward({ x }, y) {
        for (let i = 0; i < y.length; i++) y[i] = 2 * x[i];
      },
      backward(_, dy, { dx }) {
        for (let i = 0; i < dx.length; i++) dx[i] = 2 * dy[i];
      },
    },
    gpu: {
      forward: (k, { x }) => k.map(function (this: Thread, x: Flat) { return 2 * x[this.thread.x]; }, x),
      backward: (k, _, dy) => ({ dx: k.run(function (this: Thread, dy: Flat) { return dy[0]; }, 1, [dy]) }),
    },
  });
  const x = g.tensor([1, 2, 3], { backend: 'gpu', requiresGrad: true });
  const y = g.sum(broken.apply({ x }));
  assert.throws(() => y.backward(), /backward of 'brokenDouble': the gradient for input 'x' must have 3 elements \(shape \[3\]\); got 1/);
});

test('ops on two backends at once are an error naming both', () => {
  assert.throws(
    () => g.add(g.ones([2]), g.ones([2], { backend: 'gpu' })),
    /add: all inputs must be on one backend; 'a' is on 'reference', 'b' on 'gpu'/,
  );
});

test('setCheckFinite names the first op that produced a NaN', () => {
  g.setCheckFinite(true);
  try {
    assert.throws(() => g.log(g.tensor([-1], { dtype: 'float64' })), /log: produced a non-finite value \(NaN\) at flat index 0/);
  } finally {
    g.setCheckFinite(false);
  }
});

test.run();
