/** Tensors: creation, dtypes, shapes, seeded randomness, and the errors bad input gets. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';

const arr = (t: g.Tensor): number[] => Array.from(t.toArray());

test('tensor infers the shape of nested arrays, row-major', () => {
  const t = g.tensor([[1, 2, 3], [4, 5, 6]]);
  assert.equal(t.shape, [2, 3]);
  assert.is(t.dtype, 'float32');
  assert.equal(arr(t), [1, 2, 3, 4, 5, 6]);
});

test('tensor takes a flat array with a shape, and a scalar', () => {
  assert.equal(g.tensor([1, 2, 3, 4], { shape: [2, 2] }).shape, [2, 2]);
  const s = g.tensor(7);
  assert.equal(s.shape, []);
  assert.is(s.item(), 7);
});

test('float32 rounds, float64 keeps every digit', () => {
  assert.is(g.tensor([0.1]).toArray()[0], Math.fround(0.1));
  assert.is(g.tensor([0.1], { dtype: 'float64' }).toArray()[0], 0.1);
  assert.instance(g.tensor([0.1], { dtype: 'float64' }).toArray(), Float64Array);
});

test('zeros, ones, full', () => {
  assert.equal(arr(g.zeros([2, 2])), [0, 0, 0, 0]);
  assert.equal(arr(g.ones([3])), [1, 1, 1]);
  assert.equal(arr(g.full([2], 2.5, { dtype: 'float64' })), [2.5, 2.5]);
});

test('rand and randn repeat exactly from their seed and differ across seeds', () => {
  assert.equal(arr(g.randn([5], { seed: 3 })), arr(g.randn([5], { seed: 3 })));
  assert.not.equal(arr(g.randn([5], { seed: 3 })), arr(g.randn([5], { seed: 4 })));
  const u = g.rand([1000], { seed: 1, low: 2, high: 3 }).toArray();
  assert.ok(u.every((v) => v >= 2 && v < 3));
});

test('randn has mean 0 and variance 1 (20,000 draws, within 5 standard errors)', () => {
  const v = Array.from(g.randn([20000], { seed: 11, dtype: 'float64' }).toArray());
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1);
  assert.ok(Math.abs(mean) < 5 / Math.sqrt(v.length), `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 5 * Math.sqrt(2 / v.length), `variance ${variance}`);
});

test('random tensors without a seed are an error (every stream is seeded)', () => {
  assert.throws(() => g.randn([2], {} as g.RandomOptions), /randn: options.seed is required/);
});

test('errors name the op, the argument, what was expected and what was given', () => {
  assert.throws(() => g.tensor([1, 2, 3], { shape: [2, 2] }), /tensor: shape \[2, 2\] needs 4 values; got 3/);
  assert.throws(() => g.tensor([[1, 2], [3]]), /tensor: ragged nested array at values\[1\]: expected 2 elements/);
  assert.throws(() => g.zeros([2, -1]), /zeros: shape must be a shape \(an array of non-negative integers\); got \[2,-1\]/);
  assert.throws(() => g.zeros([2], { dtype: 'int8' as g.DType }), /zeros: dtype must be 'float32' or 'float64'; got "int8"/);
  assert.throws(() => g.tensor([1, 2]).item(), /item: only a one-element tensor has an item; this one has shape \[2\]/);
  assert.throws(() => g.add(g.zeros([2, 3]), g.zeros([3, 2])), /add: shapes \[2, 3\] and \[3, 2\] cannot be broadcast together/);
  assert.throws(() => g.add(g.zeros([2]), g.zeros([2], { dtype: 'float64' })), /add: all inputs must have one dtype; 'a' is float32, 'b' is float64/);
  assert.throws(() => g.matmul(g.zeros([2, 3]), g.zeros([4, 2])), /matmul: a's columns must equal b's rows .* a \[2, 3\] and b \[4, 2\] \(3 vs 4\)/);
  assert.throws(() => g.sum(g.zeros([2, 3]), { axis: 2 }), /sum: axis must be an integer in \[-2, 1\] for a 2-D tensor; got 2/);
  assert.throws(() => g.reshape(g.zeros([2, 3]), [4, 2]), /reshape: cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\] \(8 elements\)/);
});

test('float64 on the gpu backend is a clear error that points to reference', () => {
  assert.throws(() => g.zeros([2], { dtype: 'float64', backend: 'gpu' }), /gpu backend runs float32 only.*use the 'reference' backend/);
});

test('a disposed tensor says so when used', () => {
  const t = g.ones([2]);
  t.dispose();
  assert.throws(() => t.toArray(), /was disposed/);
});

test('tidy disposes what was made inside except what it returns', () => {
  const keep = g.ones([2]);
  let inner: g.Tensor | null = null;
  const out = g.tidy(() => {
    inner = g.add(keep, 1);
    return g.mul(inner, 2);
  });
  assert.ok(inner!.isDisposed);
  assert.not.ok(out.isDisposed);
  assert.not.ok(keep.isDisposed);
  assert.equal(arr(out), [4, 4]);
});

test.run();
