/**
 * The autograd contract a PyTorch user expects: an in-place change of a tensor the graph saved is
 * an error at backward() (the version counter) on both backends; defineOp mistakes are named;
 * retainGrad and the non-leaf .grad warning; toDot and gradFn; customGrad on both backends and
 * under gradcheck; gradcheck's sample mode, its kink report, and its message for gpu/float32 inputs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import { resetNonLeafGradWarning } from '../src/tensor/tensor.js';

const f64 = { dtype: 'float64' as const, backend: 'reference' as const };
const leaf = (v: number[], backend: g.BackendName = 'reference') =>
  g.tensor(v, { dtype: backend === 'gpu' ? 'float32' : 'float64', backend, requiresGrad: true });
const arr = (t: g.Tensor | null): number[] => (t === null ? [] : Array.from(t.toArray()));

function near(got: ArrayLike<number>, want: readonly number[], what: string, tol = 1e-6): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= tol, `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
}

g.setGpuMode('webasm');

// ── the version counter ──

for (const backend of ['reference', 'gpu'] as const) {
  test(`${backend}: assigning to a tensor that mul saved for backward is an error at backward() naming mul and the tensor`, () => {
    const a = leaf([1, 2], backend);
    const b = leaf([3, 4], backend);
    const y = g.sum(g.mul(a, b));
    a.assign(g.tensor([10, 20], { backend, dtype: a.dtype }));
    assert.is(a.version, 1);
    assert.throws(
      () => y.backward(),
      new RegExp(`^backward: 'mul' saved its input 'a' \\(tensor #${a.id} \\[2\\]\\) for its backward, and it was changed in place afterwards \\(assign; version 1, saved at version 0\\)`),
    );
  });

  test(`${backend}: assigning to an op's saved output (exp saves y) is an error too`, () => {
    const x = leaf([0, 1], backend);
    const y = g.exp(x);
    const loss = g.sum(y);
    y.assign(g.tensor([5, 5], { backend, dtype: y.dtype }));
    assert.throws(() => loss.backward(), /backward: 'exp' saved its output y \(tensor #\d+ \[2\]\) for its backward, and it was changed in place afterwards/);
  });
}

test('a tensor an op did not save may change: add saves nothing, so backward still runs (dy/da = 1)', () => {
  const a = leaf([1, 2]);
  const b = leaf([3, 4]);
  const y = g.sum(g.add(a, b));
  b.assign(g.tensor([0, 0], f64));
  y.backward();
  assert.equal(arr(a.grad), [1, 1]);
});

// ── defineOp's own checks ──

test("defineOp: a saves entry that names no input is an error naming it", () => {
  assert.throws(
    () => g.defineOp({ name: 'typo', inputs: ['x'], saves: ['z' as 'x'], outputShape: ({ x }) => x, reference: { forward() {}, backward() {} } }),
    /^defineOp 'typo': saves names 'z', which is not an input \(inputs: x; 'y' is the output\)$/,
  );
});

test('defineOp: a forward that produces a different size than outputShape says so (gpu kernel; reference returning an array)', () => {
  const wrong = g.defineOp({
    name: 'wrongSize',
    inputs: ['x'],
    saves: [],
    outputShape: ({ x }) => [x[0] * 2],
    reference: {
      forward({ x }) {
        return x; // fills nothing: returns an array as a gpu kernel would
      },
      backward() {},
    },
    gpu: {
      forward: (k, { x }) =>
        k.map(function (this: g.Thread, x: g.Flat) {
          return x[this.thread.x];
        }, x),
      backward: () => ({}),
    },
  });
  assert.throws(() => wrong.apply({ x: g.ones([3], { backend: 'gpu' }) }), /^wrongSize: the forward kernel produced 3 elements, but outputShape says \[6\] \(6 elements\)$/);
  assert.throws(
    () => wrong.apply({ x: g.ones([3], f64) }),
    /^wrongSize: the reference forward must fill y \(6 elements, from outputShape\) in place and return nothing; it returned an array of 3 elements$/,
  );
});

// ── retainGrad and the non-leaf .grad warning ──

test('retainGrad: a computed tensor keeps its gradient (h = 2x, L = Σ h² → dL/dh = 2h = [4, 8])', () => {
  const x = leaf([1, 2]);
  const h = g.mul(x, 2).retainGrad();
  g.sum(g.mul(h, h)).backward();
  assert.equal(arr(h.grad), [4, 8]);
  assert.equal(arr(x.grad), [8, 16]);
  assert.throws(() => g.ones([2], f64).retainGrad(), /retainGrad: tensor #\d+ \[2\] does not require grad/);
});

test('reading .grad of a non-leaf that did not ask warns once, naming its op; .grad stays null', () => {
  resetNonLeafGradWarning();
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (message: string) => warnings.push(message);
  try {
    const x = leaf([1, 2]);
    const h = g.exp(x);
    g.sum(h).backward();
    assert.is(h.grad, null);
    assert.is(h.grad, null);
    assert.is(x.grad !== null, true);
  } finally {
    console.warn = original;
  }
  assert.is(warnings.length, 1);
  assert.match(warnings[0], /reading \.grad of a tensor computed by 'exp' \(not a leaf\).*Call t\.retainGrad\(\) before backward\(\)/);
});

// ── seeing the graph ──

test("a tensor's string shows the op that made it (gradFn: mul); leaves show requiresGrad", () => {
  const x = leaf([1, 2]);
  assert.is(String(g.mul(x, 3)), 'Tensor([2], float64, reference, gradFn: mul) [3, 6]');
  assert.is(String(x), 'Tensor([2], float64, reference, requiresGrad) [1, 2]');
  assert.is(g.mul(x, 3).gradFn, 'mul');
  assert.is(x.gradFn, null);
});

test('toDot: DOT text with op names, shapes, leaves that require grad vs constants vs intermediates; values on request', () => {
  const x = leaf([1, 2]);
  const c = g.tensor([3, 4], f64);
  const loss = g.sum(g.mul(x, c));
  const dot = g.toDot(loss);
  assert.match(dot, /^digraph gradlab \{\n/);
  assert.match(dot, new RegExp(`t${x.id} \\[shape=box, style="filled", fillcolor=lightblue, label="#${x.id} \\[2\\] float64\\\\nleaf, requiresGrad"\\];`));
  assert.match(dot, new RegExp(`t${c.id} \\[shape=box, style="filled", fillcolor=lightgrey, label="#${c.id} \\[2\\] float64\\\\nleaf"\\];`));
  assert.match(dot, new RegExp(`op${loss.id} \\[shape=ellipse, label="sum"\\];`));
  assert.match(dot, /label="mul"/);
  assert.match(dot, new RegExp(`t${x.id} -> op\\d+ \\[label="a"\\];`));
  assert.match(dot, new RegExp(`t${loss.id} \\[shape=box, style="filled,bold", fillcolor=white, label="#${loss.id} \\[\\] float64\\\\nrequiresGrad"\\];`));
  assert.match(g.toDot(loss, { values: 2 }), /\\n\[3, 8\]"\];/); // x·c = [3, 8]
  assert.is(dot.match(/shape=ellipse/g)?.length, 2);
});

// ── customGrad ──

/** y = x², with its gradient written in ops: dx = 2x·dy. */
const square = g.customGrad((x) => ({ value: g.mul(x, x), gradFunc: (dy) => [g.mul(dy, g.mul(x, 2))] }));
/** The same with a deliberately wrong gradient (x·dy: the factor 2 is missing). */
const wrongSquare = g.customGrad((x) => ({ value: g.mul(x, x), gradFunc: (dy) => [g.mul(dy, x)] }));

for (const backend of ['reference', 'gpu'] as const) {
  test(`customGrad on ${backend}: the value is f's, the gradient is gradFunc's (x = [3, -1] → y = [9, 1], dL/dx = [6, -2])`, () => {
    const x = leaf([3, -1], backend);
    const y = square(x);
    assert.equal(arr(y), [9, 1]);
    assert.is(y.gradFn, 'customGrad');
    g.sum(y).backward();
    assert.equal(arr(x.grad), [6, -2]);
  });
}

test('customGrad of two inputs under gradcheck: correct passes; a deliberately wrong gradFunc is caught naming the input', () => {
  const mulSum = g.customGrad((a, b) => ({ value: g.mul(a, b), gradFunc: (dy) => [g.mul(dy, b), g.mul(dy, a)] }));
  const inputs = [g.tensor([0.5, -1, 2], { ...f64, requiresGrad: true }), g.tensor([1, 2, -3], { ...f64, requiresGrad: true })];
  assert.ok(g.gradcheck(mulSum, inputs).ok);
  const r = g.gradcheck(wrongSquare, [g.tensor([1.5, -2], { ...f64, requiresGrad: true })]);
  assert.not.ok(r.ok);
  assert.is(r.failures.length, 2);
  assert.match(r.failures[0].message, /∂y\/∂x0 wrong at \[0\]/);
  near([r.failures[0].numerical / r.failures[0].analytical], [2], 'numerical / analytical', 1e-6);
});

test('customGrad: gradFunc must return one gradient per input, shaped like it', () => {
  const short = g.customGrad((a, b) => ({ value: g.add(a, b), gradFunc: (dy) => [dy] }));
  assert.throws(() => g.sum(short(leaf([1]), leaf([2]))).backward(), /customGrad: gradFunc must return an array of 2 gradients, one per input; got 1/);
  const misshapen = g.customGrad((a) => ({ value: g.sum(a), gradFunc: (dy) => [dy] }));
  assert.throws(() => misshapen(leaf([1, 2])).backward(), /customGrad: gradFunc's gradient 0 \(for input 0\) must be a Tensor of the input's shape \[2\], float64 on 'reference'; got \[\] float64 on 'reference'/);
});

// ── gradcheck: sample, kinks, gpu/float32 inputs ──

test('gradcheck { sample: N } checks N elements per input (and still catches a wrong gradient)', () => {
  const x = g.randn([20, 10], { seed: 1, ...f64, requiresGrad: true });
  const ok = g.gradcheck((x) => g.exp(x), [x], { sample: 5 });
  assert.ok(ok.ok, ok.summary);
  assert.is(ok.checked, 5);
  const all = g.gradcheck((x) => g.exp(x), [x]);
  assert.is(all.checked, 200);
  const bad = g.gradcheck(wrongSquare, [x], { sample: 7 });
  assert.is(bad.checked, 7);
  assert.is(bad.failures.length, 7);
  assert.throws(() => g.gradcheck((x) => x, [x], { sample: 0 }), /gradcheck: sample must be an integer ≥ 1 \(elements checked per input\); got 0/);
});

test('gradcheck at a ReLU kink: the element is reported as a non-differentiable point, not a wrong gradient', () => {
  const x = g.tensor([1e-7, 1.5, -2], { ...f64, requiresGrad: true }); // 1e-7 lies within eps = 1e-6 of relu's kink
  const r = g.gradcheck((x) => g.nn.functional.relu(x), [x]);
  assert.ok(r.ok, r.summary);
  assert.is(r.kinks.length, 1);
  assert.equal(r.kinks[0].index, [0]);
  assert.match(r.kinks[0].message, /^x0\[0\] = 1\.00000e-7 lies within eps = 0\.000001 of a non-differentiable point \(a kink, or a tie of max\): one-sided derivatives/);
  assert.match(r.summary, /1 element at non-differentiable points not judged/);
});

test('gradcheck at a tie of max: reported as a kink; a gradient outside the one-sided derivatives is still wrong', () => {
  const x = g.tensor([2, 2, -1], { ...f64, requiresGrad: true });
  const r = g.gradcheck((x) => g.max(x), [x]);
  assert.ok(r.ok, r.summary);
  assert.ok(r.kinks.length >= 1);
  // |x| with a backward of 5·sign(x): at 0 it returns 0 (between −1 and 1, a kink); at 1 it is wrong.
  const brokenAbs = g.customGrad((x) => ({ value: g.abs(x), gradFunc: (dy) => [g.mul(dy, g.mul(g.sub(g.abs(g.add(x, 1)), 1), 5))] }));
  const r2 = g.gradcheck(brokenAbs, [g.tensor([0, 1], { ...f64, requiresGrad: true })]);
  assert.not.ok(r2.ok);
  assert.equal(r2.failures.map((f) => f.index), [[1]]);
});

test('gradcheck: a gpu input gets one message saying how to move it to reference float64', () => {
  const x = g.tensor([1, 2], { backend: 'gpu', requiresGrad: true });
  assert.throws(
    () => g.gradcheck((x) => g.exp(x), [x]),
    /^gradcheck: input x0 is float32 on 'gpu'; gradcheck runs in float64 on the 'reference' backend \(float32 rounding swamps finite differences\)\. Move it there with g\.toBackend\(x, 'reference', \{ dtype: 'float64', requiresGrad: true \}\)/,
  );
  const moved = g.toBackend(x, 'reference', { dtype: 'float64', requiresGrad: true });
  assert.is(moved.dtype, 'float64');
  assert.ok(g.gradcheck((x) => g.exp(x), [moved]).ok);
});

test.run();
