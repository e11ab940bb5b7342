/**
 * g.nn modules: parameter counts of known layers, names, buffers, train()/eval() reaching every
 * child (BN and dropout switch), the state dict (bit-identical round trip, clear errors), the
 * dropout streams, and that parameters survive `tidy`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';

const nn = g.nn;
const F = g.nn.functional;
const ref = { backend: 'reference' as const };
const f64 = { dtype: 'float64' as const, backend: 'reference' as const };
const arr = (t: g.Tensor): number[] => Array.from(t.toArray());

function near(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = 1e-12): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= tol, `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

// ── parameter counts ──

test('parameter counts of known layers', () => {
  assert.is(new nn.Conv2d(3, 16, 3, { bias: false, seed: 1, ...ref }).numParameters(), 16 * 3 * 3 * 3); // 432
  assert.is(new nn.Conv2d(3, 16, 3, { seed: 1, ...ref }).numParameters(), 432 + 16);
  assert.is(new nn.Conv2d(8, 4, [1, 3], { seed: 1, ...ref }).numParameters(), 4 * 8 * 1 * 3 + 4);
  assert.is(new nn.Linear(2048, 512, { seed: 1, ...ref }).numParameters(), 2048 * 512 + 512); // 1,049,088
  assert.is(new nn.Linear(2048, 512, { seed: 1, ...ref }).numParameters(), 1_049_088);
  assert.is(new nn.Linear(10, 3, { bias: false, seed: 1, ...ref }).numParameters(), 30);
  const bn = new nn.BatchNorm2d(16, ref);
  assert.is(bn.numParameters(), 32, 'γ and β');
  assert.is(bn.buffers().reduce((n, t) => n + t.size, 0), 33, 'running mean and variance (16 each) and the batch counter');
  assert.is(new nn.BatchNorm1d(512, ref).numParameters(), 1024);
  assert.is(new nn.PReLU(1, ref).numParameters(), 1, 'one shared slope');
  assert.is(new nn.PReLU(64, ref).numParameters(), 64);
  assert.is(new nn.FReLU(ref).numParameters(), 1, 'one b per layer');
  assert.is(new nn.FReLU({ perChannel: 32, ...ref }).numParameters(), 32);
  for (const m of [new nn.ReLU(), new nn.LeakyReLU(), new nn.ELU(), new nn.MaxPool2d(2), new nn.AvgPool2d(8), new nn.Dropout(0.5, { seed: 1 }), new nn.Flatten()]) {
    assert.is(m.numParameters(), 0, `${m.constructor.name} has no parameters`);
  }
});

test('initial values: BN γ = 1, β = 0, running mean 0 / var 1; PReLU 0.25; FReLU b = −1 of shape []', () => {
  const bn = new nn.BatchNorm2d(3, ref);
  assert.equal(arr(bn.weight), [1, 1, 1]);
  assert.equal(arr(bn.bias), [0, 0, 0]);
  assert.equal(arr(bn.runningMean), [0, 0, 0]);
  assert.equal(arr(bn.runningVar), [1, 1, 1]);
  assert.ok(bn.runningMean.requiresGrad === false && bn.weight.requiresGrad === true);
  assert.equal(arr(new nn.PReLU(1, ref).weight), [0.25]);
  const fr = new nn.FReLU(ref);
  assert.equal([...fr.b.shape], []);
  assert.is(fr.b.item(), -1);
  assert.is(new nn.FReLU({ init: 0.5, ...ref }).b.item(), 0.5);
});

test('Conv2d and Linear default init (PyTorch / Torch): weight and bias inside ±1/√fanIn, seeded', () => {
  const conv = new nn.Conv2d(3, 16, 3, { seed: 4, ...ref });
  const bound = 1 / Math.sqrt(27);
  for (const t of conv.parameters()) assert.ok(arr(t).every((v) => Math.abs(v) <= bound));
  assert.ok(Math.max(...arr(conv.weight).map(Math.abs)) > 0.9 * bound);
  assert.equal(arr(new nn.Conv2d(3, 16, 3, { seed: 4, ...ref }).weight), arr(conv.weight), 'same seed, same weights');
  const fc = new nn.Linear(100, 5, { seed: 4, ...ref });
  assert.ok(arr(fc.weight).every((v) => Math.abs(v) <= 0.1) && arr(fc.bias!).every((v) => Math.abs(v) <= 0.1));
});

// ── forward passes against hand computations ──

test('Linear: y = x @ wᵀ + b (w [out, in]) by hand, and gradcheck of the composite', () => {
  const fc = new nn.Linear(2, 3, f64);
  fc.loadStateDict({ weight: g.tensor([[1, 2], [3, 4], [5, 6]], f64), bias: g.tensor([0.5, -1, 2], f64) });
  const y = fc.forward(g.tensor([[1, -1], [2, 0.5]], f64));
  // row 1: [1−2, 3−4, 5−6] + b = [−0.5, −2, 1]; row 2: [2+1, 6+2, 10+3] + b = [3.5, 7, 15]
  assert.equal(arr(y), [-0.5, -2, 1, 3.5, 7, 15]);
  const x = g.randn([4, 3], { seed: 1, ...f64, requiresGrad: true });
  const w = g.randn([2, 3], { seed: 2, ...f64, requiresGrad: true });
  const b = g.randn([2], { seed: 3, ...f64, requiresGrad: true });
  const r = g.gradcheck((x, w, b) => F.linear(x, w, b), [x, w, b], { names: ['x', 'w', 'b'] });
  assert.ok(r.ok, `linear gradcheck: max abs error ${r.maxAbsError}`);
  assert.throws(() => F.linear(g.zeros([4, 5]), g.zeros([2, 3])), /linear: x must be \[N, 3\].*got \[4, 5\]/);
});

test('Sequential chains its layers; Flatten keeps the batch axis', () => {
  const net = new nn.Sequential(new nn.Flatten(), new nn.Linear(4, 2, { bias: false, ...f64 }), new nn.ReLU());
  net.loadStateDict({ '1.weight': g.tensor([[1, 1, 1, 1], [-1, 0, 0, 0]], f64) });
  const y = net.forward(g.tensor([1, 2, 3, 4, 5, 6, 7, 8], { shape: [2, 1, 2, 2], ...f64 }));
  assert.equal([...y.shape], [2, 2]);
  assert.equal(arr(y), [10, 0, 26, 0]); // relu([10, −1]), relu([26, −5])
  assert.is(net.length, 3);
  assert.ok(net.at(-1) instanceof nn.ReLU);
});

// ── names and registration ──

class Block extends nn.Module {
  conv = this.registerModule('conv', new nn.Conv2d(2, 4, 3, { padding: 1, bias: false, seed: 1, ...f64 }));
  bn = this.registerModule('bn', new nn.BatchNorm2d(4, f64));
  act = this.registerModule('act', new nn.FReLU(f64));
  forward(x: g.Tensor): g.Tensor {
    return this.act.forward(this.bn.forward(this.conv.forward(x)));
  }
}

test('namedParameters / namedBuffers: dotted PyTorch-style names, own first, then children in order', () => {
  const net = new nn.Sequential(new Block(), new nn.Dropout(0.5, { seed: 1 }), new nn.Flatten(), new nn.Linear(64, 3, { seed: 1, ...f64 }));
  assert.equal(net.namedParameters().map(([n]) => n), ['0.conv.weight', '0.bn.weight', '0.bn.bias', '0.act.b', '3.weight', '3.bias']);
  // BatchNorm's buffers carry PyTorch's names, so the keys match a PyTorch module's.
  assert.equal(net.namedBuffers().map(([n]) => n), ['0.bn.running_mean', '0.bn.running_var', '0.bn.num_batches_tracked']);
  assert.equal(Object.keys(net.stateDict()), [
    '0.conv.weight', '0.bn.weight', '0.bn.bias', '0.bn.running_mean', '0.bn.running_var', '0.bn.num_batches_tracked', '0.act.b', '3.weight', '3.bias',
  ]);
  assert.is(net.parameters().length, 6);
  assert.ok(net.parameters().every((p) => p.requiresGrad));
  assert.is(net.numParameters(), 72 + 4 + 4 + 1 + 64 * 3 + 3);
  assert.match(String(net), /\(0\): Block\(\n {4}\(conv\): Conv2d\(2, 4, kernelSize=3, stride=1, padding=1, bias=false\)/);
});

test('registration errors: duplicate names, dotted names, computed tensors as parameters, buffers that need grad', () => {
  class Bad extends nn.Module {
    forward(x: g.Tensor): g.Tensor {
      return x;
    }
  }
  const m = new Bad();
  m.registerParameter('w', g.zeros([2]));
  assert.throws(() => m.registerBuffer('w', g.zeros([2])), /registerBuffer: Bad already has something named 'w'/);
  assert.throws(() => m.registerModule('a.b', new nn.ReLU()), /registerModule: name must be a non-empty string without '\.'; got "a\.b"/);
  assert.throws(() => m.registerParameter('v', g.mul(g.zeros([2], { requiresGrad: true }), 2)), /registerParameter: 'v' must be a leaf tensor/);
  assert.throws(() => m.registerBuffer('r', g.zeros([2], { requiresGrad: true })), /registerBuffer: 'r' must not require gradients/);
});

// ── train() / eval() ──

test('train() and eval() reach every nested child and return the module', () => {
  const net = new nn.Sequential(new Block(), new nn.Sequential(new nn.Dropout(0.5, { seed: 1 })));
  assert.is(net.eval(), net);
  assert.ok(net.namedModules().every(([, m]) => m.training === false), 'all in evaluation mode');
  net.train();
  assert.ok(net.namedModules().every(([, m]) => m.training === true), 'all back in training mode');
  assert.is(net.namedModules().length, 7); // root, Block, conv, bn, act, inner Sequential, Dropout
});

test('BatchNorm2d: training uses batch statistics and moves the running ones; eval uses the running ones', () => {
  const bn = new nn.BatchNorm2d(1, f64);
  // One channel, 4 values: mean 2.5, biased variance 1.25, unbiased 5/3.
  const x = g.tensor([1, 2, 3, 4], { shape: [2, 1, 1, 2], ...f64 });
  const yTrain = bn.forward(x);
  const s = Math.sqrt(1.25 + 1e-5);
  near(arr(yTrain), [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s], 'train output');
  near(arr(bn.runningMean), [0.1 * 2.5], 'running mean');
  near(arr(bn.runningVar), [0.9 + 0.1 * (5 / 3)], 'running var (unbiased)');
  bn.eval();
  const yEval = bn.forward(x);
  const rm = 0.25;
  const rs = Math.sqrt(0.9 + 0.5 / 3 + 1e-5);
  near(arr(yEval), [1, 2, 3, 4].map((v) => (v - rm) / rs), 'eval output');
  near(arr(bn.runningMean), [0.25], 'eval leaves the running mean alone');
  assert.throws(() => bn.forward(g.zeros([2, 1], f64)), /BatchNorm2d: x must be \[N, 1, H, W\]; got \[2, 1\]/);
  assert.throws(() => new nn.BatchNorm1d(3, ref).forward(g.zeros([2, 4], ref)), /BatchNorm1d: x must be \[N, 3\]; got \[2, 4\]/);
});

test('Dropout: training masks change from call to call (scaled by 1/(1−p)); eval is the identity and draws nothing', () => {
  const drop = new nn.Dropout(0.5, { seed: 11 });
  const x = g.ones([200], f64);
  const a = arr(drop.forward(x));
  const b = arr(drop.forward(x));
  assert.ok(a.every((v) => v === 0 || v === 2), 'kept values doubled');
  assert.not.equal(a, b, 'a new mask per call');
  const kept = a.filter((v) => v === 2).length;
  assert.ok(kept > 70 && kept < 130, `about half kept; got ${kept} of 200`);
  drop.eval();
  const state = drop.randomState();
  assert.is(drop.forward(x), x, 'eval returns x itself');
  assert.equal(drop.randomState(), state, 'eval does not advance the stream');
  drop.train();
  const c = arr(drop.forward(x));
  drop.setRandomState(state);
  assert.equal(arr(drop.forward(x)), c, 'a restored stream redraws the same mask');
});

test('randomStates / loadRandomStates: every Dropout of a model, by path; resumed masks equal uninterrupted ones', () => {
  const make = () => new nn.Sequential(new nn.Dropout(0.3, { seed: 1 }), new nn.Sequential(new nn.Dropout(0.5, { seed: 2 })));
  const x = g.ones([50], f64);
  const run = make();
  run.forward(x);
  const saved = run.randomStates();
  assert.equal(Object.keys(saved), ['0', '1.0']);
  const next = arr(run.forward(x));
  const resumed = make();
  resumed.loadRandomStates(saved);
  assert.equal(arr(resumed.forward(x)), next);
  assert.throws(() => resumed.loadRandomStates({ '0': saved['0'] }), /loadRandomStates: .*missing '1\.0'/);
});

// ── the state dict ──

function smallConvNet(seed: number, placement: g.nn.Placement = f64) {
  return new nn.Sequential(
    new nn.Conv2d(3, 4, 3, { padding: 1, seed, ...placement }),
    new nn.BatchNorm2d(4, placement),
    new nn.PReLU(4, placement),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(16, 3, { seed, ...placement }),
    new nn.FReLU(placement),
  );
}

test('stateDict round trip: a fresh model (other seed) loaded with the state gives bit-identical outputs', () => {
  const x = g.randn([2, 3, 4, 4], { seed: 5, ...f64 });
  const a = smallConvNet(1);
  a.forward(x); // training mode: moves BN's running statistics away from 0 / 1
  a.eval();
  const b = smallConvNet(2).eval();
  assert.not.equal(arr(b.forward(x)), arr(a.forward(x)), 'different seeds, different outputs');
  b.loadStateDict(a.stateDict());
  assert.equal(arr(b.forward(x)), arr(a.forward(x)));
  assert.equal(arr(b.namedBuffers()[0][1]), arr(a.namedBuffers()[0][1]), 'running mean copied');
});

test('stateDict is a snapshot: later changes to the model do not reach it; loading keeps the same tensor objects', () => {
  const m = smallConvNet(1);
  const before = m.stateDict();
  const weight = m.parameters()[0];
  const saved = arr(before['0.weight']);
  weight.assign(g.zeros(weight.shape, f64));
  assert.equal(arr(before['0.weight']), saved);
  m.loadStateDict(before);
  assert.is(m.parameters()[0], weight, 'the parameter object is kept (an optimiser holding it stays valid)');
  assert.equal(arr(weight), saved);
  assert.ok(weight.requiresGrad);
});

test('loadStateDict converts across dtypes: a float64 state into a float32 model', () => {
  const a = smallConvNet(1, f64);
  const b = smallConvNet(2, { dtype: 'float32', backend: 'reference' });
  b.loadStateDict(a.stateDict());
  assert.equal(arr(b.parameters()[0]), Array.from(Float32Array.from(a.parameters()[0].toArray())));
  assert.is(b.parameters()[0].dtype, 'float32');
});

test('loadStateDict errors name the missing key, the unexpected key, the wrong shape — and change nothing', () => {
  const m = smallConvNet(1);
  const good = m.stateDict();
  const { ['5.bias']: _dropped, ...missing } = m.stateDict();
  assert.throws(() => m.loadStateDict(missing), /loadStateDict: missing key '5\.bias' \(in the Sequential, not in the state\)/);
  assert.throws(() => m.loadStateDict({ ...good, 'head.weight': g.zeros([1], f64) }), /unexpected key 'head\.weight'/);
  const before = arr(m.parameters()[0]);
  // '0.weight' is well formed (zeros) and comes first: a load that stopped at the first bad key would have changed it.
  const wrong: g.nn.StateDict = { ...good, '0.weight': g.zeros([4, 3, 3, 3], f64), '0.bias': g.zeros([5], f64), '5.weight': g.zeros([16, 3], f64) };
  assert.throws(() => m.loadStateDict(wrong), /'0\.bias' has shape \[4\] in the Sequential; got \[5\]; '5\.weight' has shape \[3, 16\] in the Sequential; got \[16, 3\]/);
  assert.equal(arr(m.parameters()[0]), before, 'nothing loaded when any key is wrong');
  assert.ok(before.some((v) => v !== 0));
});

// ── memory: parameters are kept out of tidy ──

test('parameters and buffers survive tidy; BN running statistics updated inside tidy survive it', () => {
  const bn = g.tidy(() => new nn.BatchNorm2d(2, f64));
  const net = g.tidy(() => new nn.Sequential(new nn.Linear(3, 2, { seed: 1, ...f64 })));
  assert.ok(net.parameters().every((p) => !p.isDisposed) && bn.buffers().every((b) => !b.isDisposed));
  g.tidy(() => {
    bn.forward(g.randn([3, 2, 2, 2], { seed: 1, ...f64 }));
    return net.forward(g.ones([1, 3], f64));
  });
  assert.ok(bn.buffers().every((b) => !b.isDisposed), 'running statistics still alive');
  assert.ok(arr(bn.runningMean).some((v) => v !== 0), 'and updated');
});

test.run();
