/**
 * conv2d, maxPool2d and avgPool2d: values worked out by hand (on both backends), output shapes,
 * where a max-pool tie sends its gradient, the bias composite, and the bad-input messages.
 * The op-test table (test/op-table/conv-pool.ts) adds gradient checks and gpu-vs-reference rows.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import * as P from '../src/nn/ops/index.js';

const F = g.nn.functional;
const arr = (t: g.Tensor | null): number[] => (t === null ? [] : Array.from(t.toArray()));

/** Elementwise |got − want| ≤ 1e-5 (float32-safe for these small sums). */
function near(got: number[], want: number[], what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-5, `${what}[${i}]: got ${v}, want ${want[i]}`));
}

/** fn throws exactly `message`. */
function throwsMessage(fn: () => unknown, message: string): void {
  try {
    fn();
  } catch (e) {
    assert.is((e as Error).message, message);
    return;
  }
  assert.unreachable(`expected the error: ${message}`);
}

const x3x3 = [1, 2, 3, 4, 5, 6, 7, 8, 9]; //  x = 1 2 3 / 4 5 6 / 7 8 9   (one 3×3 channel)
const w2x2 = [1, 2, 3, 4]; //                 w = 1 2 / 3 4

for (const backend of ['reference', 'gpu'] as const) {
  const o = { backend };

  test(`[${backend}] conv2d of one 3×3 channel with a 2×2 kernel, by hand: values, dx and dw`, () => {
    const x = g.tensor(x3x3, { ...o, shape: [1, 1, 3, 3], requiresGrad: true });
    const w = g.tensor(w2x2, { ...o, shape: [1, 1, 2, 2], requiresGrad: true });
    const y = F.conv2d(x, w);
    assert.equal(y.shape, [1, 1, 2, 2]);
    // y00 = 1·1 + 2·2 + 3·4 + 4·5 = 37     y01 = 1·2 + 2·3 + 3·5 + 4·6 = 47
    // y10 = 1·4 + 2·5 + 3·7 + 4·8 = 67     y11 = 1·5 + 2·6 + 3·8 + 4·9 = 77
    near(arr(y), [37, 47, 67, 77], 'y');
    g.sum(y).backward(); // dy = 1 everywhere
    // dw[ky, kx] = Σ of the x values that w[ky, kx] met: the four 2×2 corners' sums
    //   dw00 = 1+2+4+5 = 12, dw01 = 2+3+5+6 = 16, dw10 = 4+5+7+8 = 24, dw11 = 5+6+8+9 = 28
    near(arr(w.grad), [12, 16, 24, 28], 'dw');
    // dx[iy, ix] = Σ of the weights that touched x[iy, ix]: corners 1 weight, edges 2, centre all 4
    //   row 0: 1, 1+2 = 3, 2     row 1: 1+3 = 4, 1+2+3+4 = 10, 2+4 = 6     row 2: 3, 3+4 = 7, 4
    near(arr(x.grad), [1, 3, 2, 4, 10, 6, 3, 7, 4], 'dx');
  });

  test(`[${backend}] conv2d with stride 2 and padding 1, and a bias, by hand`, () => {
    const x = g.tensor(x3x3, { ...o, shape: [1, 1, 3, 3] });
    const w = g.tensor(w2x2, { ...o, shape: [1, 1, 2, 2], requiresGrad: true });
    const b = g.tensor([10], { ...o, requiresGrad: true });
    const y = F.conv2d(x, w, b, { stride: 2, padding: 1 });
    // Padded to 5×5, OH = OW = ⌊(3 + 2 − 2) / 2⌋ + 1 = 2; windows start at rows/cols −1 and 1.
    // y00 sees only x(0,0) under w11:         4·1                        = 4
    // y01 sees x(0,1), x(0,2) under w10, w11: 3·2 + 4·3                  = 18
    // y10 sees x(1,0), x(2,0) under w01, w11: 2·4 + 4·7                  = 36
    // y11 sees the lower-right 2×2 block:     1·5 + 2·6 + 3·8 + 4·9     = 77      (+ b = 10 each)
    near(arr(y), [14, 28, 46, 87], 'y');
    g.sum(y).backward();
    // x needs no gradient (like a network's input images): conv2d skips dx, x.grad stays null.
    assert.is(x.grad, null);
    // w[ky, kx] meets x(2·oy − 1 + ky, 2·ox − 1 + kx) in window (oy, ox), where that is inside x:
    //   w00: x(1,1) = 5                          w01: x(1,0) + x(1,2) = 4 + 6 = 10
    //   w10: x(0,1) + x(2,1) = 2 + 8 = 10        w11: x(0,0) + x(0,2) + x(2,0) + x(2,2) = 1 + 3 + 7 + 9 = 20
    near(arr(w.grad), [5, 10, 10, 20], 'dw');
    near(arr(b.grad), [4], 'db'); // b reaches all four outputs
  });

  test(`[${backend}] maxPool2d tie: the first maximal element in scan order gets the whole gradient`, () => {
    // One 2×2 window holding 1 3 / 3 2: the two 3s tie; the scan (row by row) meets (0,1) first.
    const x = g.tensor([1, 3, 3, 2], { ...o, shape: [1, 1, 2, 2], requiresGrad: true });
    const y = F.maxPool2d(x, { kernelSize: 2 });
    near(arr(y), [3], 'y');
    y.backward(g.tensor([5], { ...o, shape: [1, 1, 1, 1] }));
    near(arr(x.grad), [0, 5, 0, 0], 'dx');
  });

  test(`[${backend}] maxPool2d overlapping windows: an element that wins twice sums both gradients`, () => {
    // x = 2 5 5 with 1×2 windows, stride 1: window 0 = (2, 5) picks x1; window 1 = (5, 5) ties and
    // picks x1 again (first in scan order), so x1 gets dy0 + dy1 = 1 + 10 and x2 nothing.
    const x = g.tensor([2, 5, 5], { ...o, shape: [1, 1, 1, 3], requiresGrad: true });
    const y = F.maxPool2d(x, { kernelSize: [1, 2], stride: 1 });
    near(arr(y), [5, 5], 'y');
    y.backward(g.tensor([1, 10], { ...o, shape: [1, 1, 1, 2] }));
    near(arr(x.grad), [0, 11, 0], 'dx');
  });

  test(`[${backend}] maxPool2d padding is −∞: it never beats negative inputs`, () => {
    // x = −1 −2 / −3 −4, 2×2 windows, stride 1, padding 1 → 3×3 windows starting at rows/cols −1, 0, 1.
    // A zero-padded max would give 0 at the border; −∞ padding gives the real elements' max.
    const x = g.tensor([-1, -2, -3, -4], { ...o, shape: [1, 1, 2, 2] });
    const y = F.maxPool2d(x, { kernelSize: 2, stride: 1, padding: 1 });
    assert.equal(y.shape, [1, 1, 3, 3]);
    near(arr(y), [-1, -1, -2, -1, -1, -2, -3, -3, -4], 'y');
  });

  test(`[${backend}] avgPool2d by hand: 2×2 windows, and 3×3 stride 2 pad 1 dividing by 9`, () => {
    const x16 = g.tensor(Array.from({ length: 16 }, (_, i) => i + 1), { ...o, shape: [1, 1, 4, 4] });
    // windows of 1..16 laid out 4×4: (1+2+5+6)/4 = 3.5, (3+4+7+8)/4 = 5.5, (9+10+13+14)/4 = 11.5, (11+12+15+16)/4 = 13.5
    near(arr(F.avgPool2d(x16, { kernelSize: 2 })), [3.5, 5.5, 11.5, 13.5], 'y 2×2');

    const x = g.tensor(x3x3, { ...o, shape: [1, 1, 3, 3], requiresGrad: true });
    const y = F.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
    // Each 3×3 window holds one 2×2 corner block of x plus five padding zeros; the divisor stays 9:
    //   (1+2+4+5)/9 = 12/9, (2+3+5+6)/9 = 16/9, (4+5+7+8)/9 = 24/9, (5+6+8+9)/9 = 28/9
    near(arr(y), [12 / 9, 16 / 9, 24 / 9, 28 / 9], 'y 3×3 pad 1');
    g.sum(y).backward();
    // Each window hands 1/9 to each element it covers: corners 1 window, edges 2, the centre 4.
    near(arr(x.grad), [1, 2, 1, 2, 4, 2, 1, 2, 1].map((k) => k / 9), 'dx');
  });

  test(`[${backend}] avgPool2d 8×8 global pool: the mean of each plane, gradient 1/64`, () => {
    const values = Array.from({ length: 2 * 64 }, (_, i) => i); // plane 0: 0..63, plane 1: 64..127
    const x = g.tensor(values, { ...o, shape: [1, 2, 8, 8], requiresGrad: true });
    const y = F.avgPool2d(x, { kernelSize: 8 });
    assert.equal(y.shape, [1, 2, 1, 1]);
    near(arr(y), [31.5, 95.5], 'y'); // (0 + 63) / 2 and (64 + 127) / 2
    g.sum(y).backward();
    near(arr(x.grad), new Array<number>(128).fill(1 / 64), 'dx');
  });
}

test('conv2d output shapes: ⌊(size + 2·padding − kernel) / stride⌋ + 1 per axis', () => {
  const shapeOf = (x: number[], w: number[], options: g.nn.functional.Conv2dOptions): readonly number[] =>
    g.noGrad(() => F.conv2d(g.zeros(x), g.zeros(w), null, options).shape);
  assert.equal(shapeOf([2, 3, 32, 32], [16, 3, 3, 3], { stride: 2, padding: 1 }), [2, 16, 16, 16]); // 31/2 → 15, +1
  assert.equal(shapeOf([2, 3, 32, 32], [16, 3, 3, 3], { padding: 1 }), [2, 16, 32, 32]); // "same" size
  assert.equal(shapeOf([2, 3, 32, 32], [16, 3, 3, 3], { stride: 2 }), [2, 16, 15, 15]); // 29/2 → 14, +1
  assert.equal(shapeOf([2, 16, 32, 32], [32, 16, 1, 1], { stride: 2 }), [2, 32, 16, 16]); // ResNet shortcut
  assert.equal(shapeOf([1, 2, 5, 7], [3, 2, 3, 3], { stride: 2, padding: 1 }), [1, 3, 3, 4]); // 4/2+1, 6/2+1
  assert.equal(shapeOf([1, 2, 5, 6], [3, 2, 2, 3], { stride: [2, 1], padding: [1, 0] }), [1, 3, 3, 4]); // 5/2+1, 3/1+1
});

test('conv2d with bias: analytical gradients of x, w and b equal numerical (float64)', () => {
  const rng = g.randomStream('conv2d bias composite');
  const make = (shape: number[]) =>
    g.tensor(Float64Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rng.normal()), { shape, dtype: 'float64', backend: 'reference', requiresGrad: true });
  const result = g.gradcheck((x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 1 }), [make([1, 2, 4, 4]), make([3, 2, 3, 3]), make([3])], {
    names: ['x', 'w', 'b'],
  });
  assert.ok(result.ok, result.summary);
});

test('conv2d errors name the op, the argument, what was expected and what was given', () => {
  throwsMessage(
    () => F.conv2d(g.zeros([2, 3, 32, 32]), g.zeros([8, 4, 3, 3])),
    'conv2d: w must have 3 input channels to match x [2, 3, 32, 32]; got w [8, 4, 3, 3]',
  );
  throwsMessage(
    () => F.conv2d(g.zeros([1, 3, 2, 2]), g.zeros([8, 3, 5, 5]), null, { padding: 1 }),
    'conv2d: the kernel must fit in x padded by [1, 1] (4×4, from x [1, 3, 2, 2]); got a 5×5 kernel (w [8, 3, 5, 5])',
  );
  throwsMessage(() => F.conv2d(g.zeros([1, 3, 8, 8]), g.zeros([8, 3, 3, 3]), null, { padding: -1 }), 'conv2d: padding must be an integer ≥ 0 or a pair [y, x] of them; got -1');
  throwsMessage(() => F.conv2d(g.zeros([1, 3, 8, 8]), g.zeros([8, 3, 3, 3]), null, { stride: 1.5 }), 'conv2d: stride must be an integer ≥ 1 or a pair [y, x] of them; got 1.5');
  throwsMessage(() => F.conv2d(g.zeros([1, 3, 8, 8]), g.zeros([8, 3, 3, 3]), null, { stride: [2, 0] }), 'conv2d: stride must be an integer ≥ 1 or a pair [y, x] of them; got [2,0]');
  throwsMessage(() => F.conv2d(g.zeros([3, 32, 32]), g.zeros([8, 3, 3, 3])), 'conv2d: x must be 4-D (N, C, H, W); got [3, 32, 32]');
  throwsMessage(() => F.conv2d(g.zeros([1, 3, 8, 8]), g.zeros([8, 3, 3])), 'conv2d: w must be 4-D (outChannels, inChannels, KH, KW); got [8, 3, 3]');
  throwsMessage(
    () => F.conv2d(g.zeros([1, 3, 8, 8]), g.zeros([8, 3, 3, 3]), g.zeros([4])),
    'conv2d: b must have shape [8] (one bias per output channel of w [8, 3, 3, 3]); got [4]',
  );
  // The primitive checks its attributes too (it can be applied directly, as the op-test table does).
  throwsMessage(
    () => P.conv2d.apply({ x: g.zeros([1, 3, 8, 8]), w: g.zeros([8, 3, 3, 3]) }, { stride: [1, 1], padding: [0, -1] }),
    'conv2d: padding must be a pair [y, x] of integers ≥ 0; got [0,-1]',
  );
});

test('pooling errors name the op, the argument, what was expected and what was given', () => {
  throwsMessage(
    () => F.maxPool2d(g.zeros([1, 1, 4, 4]), { kernelSize: 2, padding: 2 }),
    'maxPool2d: padding must be at most half the kernelSize [2, 2] (so every window holds an element of x); got padding [2, 2]',
  );
  throwsMessage(
    () => F.avgPool2d(g.zeros([1, 1, 4, 4]), { kernelSize: [5, 2] }),
    'avgPool2d: the kernel must fit in x padded by [0, 0] (4×4, from x [1, 1, 4, 4]); got a 5×2 kernel (kernelSize [5, 2])',
  );
  throwsMessage(() => F.maxPool2d(g.zeros([4, 4]), { kernelSize: 2 }), 'maxPool2d: x must be 4-D (N, C, H, W); got [4, 4]');
  throwsMessage(() => F.avgPool2d(g.zeros([1, 1, 4, 4]), { kernelSize: 0 }), 'avgPool2d: kernelSize must be an integer ≥ 1 or a pair [y, x] of them; got 0');
  // The primitive takes [y, x] pairs only; a three-number "pair" is caught before any kernel runs.
  const wrongPair: readonly number[] = [1, 2, 3];
  const untyped: g.AnyOp = P.maxPool2d; // any op is an AnyOp: its attributes typed as a plain object
  throwsMessage(
    () => untyped.apply({ x: g.zeros([1, 1, 4, 4]) }, { kernelSize: [2, 2], stride: wrongPair, padding: [0, 0] }),
    'maxPool2d: stride must be a pair [y, x] of integers ≥ 1; got [1,2,3]',
  );
});

test.run();
