/** Hand-derived values for matmul, reductions (ties documented) and broadcasting. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';

const arr = (t: g.Tensor | null): number[] => Array.from(t!.toArray());
const f64 = { dtype: 'float64' as const };

for (const backend of ['reference', 'gpu'] as const) {
  const o = { backend };

  test(`[${backend}] matmul [2,3]@[3,2] by hand`, () => {
    // [[1,2,3],[4,5,6]] @ [[7,8],[9,10],[11,12]]
    //   = [[1·7+2·9+3·11, 1·8+2·10+3·12], [4·7+5·9+6·11, 4·8+5·10+6·12]] = [[58, 64], [139, 154]]
    const y = g.matmul(g.tensor([[1, 2, 3], [4, 5, 6]], o), g.tensor([[7, 8], [9, 10], [11, 12]], o));
    assert.equal(y.shape, [2, 2]);
    assert.equal(arr(y), [58, 64, 139, 154]);
  });

  test(`[${backend}] batched matmul broadcasts the batch axes`, () => {
    const a = g.tensor([[[1, 0], [0, 1]], [[2, 0], [0, 2]]], o); // [2,2,2]: I and 2I
    const b = g.tensor([[1, 2], [3, 4]], o); // [2,2], broadcast over the batch
    const y = g.matmul(a, g.reshape(b, [1, 2, 2]));
    assert.equal(y.shape, [2, 2, 2]);
    assert.equal(arr(y), [1, 2, 3, 4, 2, 4, 6, 8]);
  });

  test(`[${backend}] sum, mean and max over axes, with keepDims`, () => {
    const x = g.tensor([[1, 5, 3], [4, 2, 6]], o);
    assert.equal(arr(g.sum(x)), [21]);
    assert.equal(arr(g.sum(x, { axis: 0 })), [5, 7, 9]);
    assert.equal(g.sum(x, { axis: 1, keepDims: true }).shape, [2, 1]);
    assert.equal(arr(g.sum(x, { axis: -1 })), [9, 12]);
    assert.equal(arr(g.mean(x, { axis: 1 })), [3, 4]);
    assert.equal(arr(g.max(x, { axis: 1 })), [5, 6]);
    assert.equal(arr(g.max(x)), [6]);
  });

  test(`[${backend}] max ties: the gradient goes to the first maximal element only`, () => {
    const x = g.tensor([[3, 7, 7], [2, 2, 1]], { ...o, requiresGrad: true });
    g.sum(g.max(x, { axis: 1 })).backward();
    assert.equal(arr(x.grad), [0, 1, 0, 1, 0, 0]);
  });

  test(`[${backend}] broadcasting [3,1] + [1,4] gives [3,4]; its backward sums over the broadcast axes`, () => {
    const a = g.tensor([[0], [10], [20]], { ...o, requiresGrad: true });
    const b = g.tensor([[1, 2, 3, 4]], { ...o, requiresGrad: true });
    const y = g.add(a, b);
    assert.equal(y.shape, [3, 4]);
    assert.equal(arr(y), [1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24]);
    g.sum(y).backward();
    assert.equal(arr(a.grad), [4, 4, 4]); // each a[i] reaches 4 outputs
    assert.equal(arr(b.grad), [3, 3, 3, 3]); // each b[j] reaches 3 outputs
  });

  test(`[${backend}] a scalar broadcasts against a tensor`, () => {
    const x = g.tensor([1, 2, 3], { ...o, requiresGrad: true });
    const s = g.tensor(2, { ...o, requiresGrad: true });
    const y = g.mul(x, s);
    assert.equal(arr(y), [2, 4, 6]);
    g.sum(y).backward();
    assert.equal(arr(s.grad), [6]); // Σ x
    assert.equal(arr(x.grad), [2, 2, 2]);
    assert.equal(arr(g.sub(10, x)), [9, 8, 7]);
  });

  test(`[${backend}] transpose, permute, flatten, reshape with -1`, () => {
    const x = g.tensor([[1, 2, 3], [4, 5, 6]], o);
    assert.equal(arr(g.transpose(x)), [1, 4, 2, 5, 3, 6]);
    const p = g.permute(g.reshape(x, [1, 2, 3]), [2, 0, 1]);
    assert.equal(p.shape, [3, 1, 2]);
    assert.equal(arr(p), [1, 4, 2, 5, 3, 6]);
    assert.equal(g.flatten(g.zeros([2, 3, 4], o), 1).shape, [2, 12]);
    assert.equal(g.reshape(x, [-1, 2]).shape, [3, 2]);
  });

  test(`[${backend}] exp, log, sqrt, pow, div by hand`, () => {
    const x = g.tensor([1, 4, 9], o);
    assert.equal(arr(g.sqrt(x)), [1, 2, 3]);
    assert.equal(arr(g.pow(g.tensor([-2, 3], o), 3)), [-8, 27]);
    assert.equal(arr(g.pow(g.tensor([-2, 3], o), 2)), [4, 9]);
    assert.equal(arr(g.div(x, 2)), [0.5, 2, 4.5]);
    assert.ok(Math.abs(g.log(g.exp(g.tensor([0.5], o))).item() - 0.5) < 1e-6);
  });

  test(`[${backend}] pow at a negative base and at ±∞ follows JS's ** (IEEE pow), value and gradient`, () => {
    const x = g.tensor([-4, -Infinity, Infinity, 4], { ...o, requiresGrad: true });
    const y = g.pow(x, 0.5);
    y.sum().backward();
    // (−4)^0.5 is NaN; (−∞)^0.5 = +∞; dx = 0.5·x^(−0.5): NaN at −4, 0.5·(−∞)^(−0.5) = 0.5·0 at −∞, 0 at +∞, 0.25 at 4
    assert.equal(arr(y), [NaN, Infinity, Infinity, 2]);
    assert.equal(arr(x.grad as g.Tensor), [NaN, 0, 0, 0.25]);
    assert.equal(arr(g.pow(g.tensor([-Infinity, Infinity], o), -1)), [-0, 0]);
  });

  test(`[${backend}] clamp passes no gradient at NaN (inside no bounds), all of dy at +∞ with no upper bound`, () => {
    const x = g.tensor([NaN, -Infinity, 0.5, Infinity], { ...o, requiresGrad: true });
    g.clamp(x, { min: -5 }).mul(g.tensor([1, 2, 3, 4], o)).sum().backward();
    assert.equal(arr(x.grad as g.Tensor), [0, 0, 3, 4]);
    const z = g.tensor([NaN, -3, 0.5, 3], { ...o, requiresGrad: true });
    g.clamp(z, { min: -1, max: 1 }).sum().backward();
    assert.equal(arr(z.grad as g.Tensor), [0, 0, 1, 0]);
  });
}

test('pow of a negative base to a fractional exponent is NaN, as in JS', () => {
  assert.ok(Number.isNaN(g.pow(g.tensor([-4], f64), 0.5).item()));
});

test.run();
