/**
 * SGD and MultiStepLR against hand computations of the recipe's formulas:
 *   g += wd·θ;  v = μ·v + (1 − dampening)·g  (v = g on the first step);  g += μ·v (Nesterov) or g = v;  θ −= lr·g
 * Every case uses θ₀ = [1, −2] and the loss Σ c·θ with c = [0.5, 1], so the gradient is c at every step.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import { Adam, AdamW, SGD, MultiStepLR } from '../src/optim/index.js';

function param(values: number[], backend: g.BackendName = 'reference', dtype: g.DType = 'float64'): g.Tensor {
  return g.tensor(values, { dtype, backend, requiresGrad: true });
}

/** Sets θ.grad = c by backpropagating Σ c·θ. */
function backprop(theta: g.Tensor, c: number[]): void {
  g.sum(g.mul(theta, g.tensor(c, { dtype: theta.dtype, backend: theta.backend }))).backward();
}

function near(got: ArrayLike<number>, want: number[], tol: number, label: string): void {
  assert.is(got.length, want.length, `${label}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol)) assert.unreachable(`${label}: element ${i} is ${got[i]}, expected ${want[i]} (tolerance ${tol})`);
  }
}

const C = [0.5, 1];

test('SGD Nesterov + weight decay: two steps equal the hand computation of the recipe step', () => {
  const theta = param([1, -2]);
  const opt = new SGD([theta], { lr: 0.5, momentum: 0.9, nesterov: true, weightDecay: 0.1 });
  // step 1: g = c + 0.1·θ = [0.6, 0.8]; v = g; g += 0.9·v → [1.14, 1.52]; θ −= 0.5·g → [0.43, −2.76]
  backprop(theta, C);
  opt.step();
  near(theta.toArray(), [0.43, -2.76], 1e-12, 'after step 1');
  // step 2: g = c + 0.1·θ = [0.543, 0.724]; v = 0.9·[0.6, 0.8] + g = [1.083, 1.444];
  //         g += 0.9·v → [1.5177, 2.0236]; θ −= 0.5·g → [−0.32885, −3.7718]
  opt.zeroGrad();
  backprop(theta, C);
  opt.step();
  near(theta.toArray(), [-0.32885, -3.7718], 1e-12, 'after step 2');
  assert.is(opt.stepCount, 2);
  near(opt.stateDict().momentumBuffers[0]!, [1.083, 1.444], 1e-12, 'momentum buffer');
});

test('SGD plain momentum with dampening: v = g first, then v = μ·v + (1 − dampening)·g', () => {
  const theta = param([1, -2]);
  const opt = new SGD([theta], { lr: 0.5, momentum: 0.9, dampening: 0.1 });
  // step 1: v = g = [0.5, 1] (no dampening on the first step); θ = [0.75, −2.5]
  backprop(theta, C);
  opt.step();
  near(theta.toArray(), [0.75, -2.5], 1e-12, 'after step 1');
  // step 2: v = 0.9·[0.5, 1] + 0.9·[0.5, 1] = [0.9, 1.8]; θ = [0.3, −3.4]
  opt.zeroGrad();
  backprop(theta, C);
  opt.step();
  near(theta.toArray(), [0.3, -3.4], 1e-12, 'after step 2');
});

test('SGD without momentum: θ −= lr·(g + wd·θ)', () => {
  const theta = param([1, -2]);
  const opt = new SGD([theta], { lr: 0.5, weightDecay: 0.1 });
  backprop(theta, C);
  opt.step();
  near(theta.toArray(), [0.7, -2.4], 1e-12, 'after one step'); // g = [0.6, 0.8]
  assert.is(opt.stateDict().momentumBuffers[0], null);
});

test('SGD weightDecayExclude: the named parameter gets no decay, the others do', () => {
  const w = param([1, -2]);
  const b = param([1, -2]);
  const pairs: [string, g.Tensor][] = [['conv.weight', w], ['act.b', b]]; // as model.namedParameters() gives them
  const opt = new SGD(pairs, { lr: 0.5, weightDecay: 0.1, weightDecayExclude: (name) => name.endsWith('.b') });
  assert.equal(opt.decayedNames, ['conv.weight']);
  assert.equal(new SGD({ 'conv.weight': w, 'act.b': b }, { lr: 0.5, weightDecay: 0.1 }).decayedNames, ['conv.weight', 'act.b']);
  backprop(w, C);
  backprop(b, C);
  opt.step();
  near(w.toArray(), [0.7, -2.4], 1e-12, 'decayed');
  near(b.toArray(), [0.75, -2.5], 1e-12, 'excluded'); // θ −= 0.5·c
});

test('SGD skips parameters without a gradient; zeroGrad clears gradients', () => {
  const a = param([1, 2]);
  const b = param([3, 4]);
  const opt = new SGD([a, b], { lr: 1, momentum: 0.9 });
  backprop(a, [1, 1]);
  opt.step();
  near(a.toArray(), [0, 1], 0, 'a moved');
  near(b.toArray(), [3, 4], 0, 'b untouched');
  opt.zeroGrad();
  assert.is(a.grad, null);
  assert.is(b.grad, null);
});

test('SGD stateDict/loadStateDict: a restored optimiser continues exactly like the original', () => {
  const a = param([1, -2]);
  const opt = new SGD([a], { lr: 0.5, momentum: 0.9, nesterov: true, weightDecay: 0.1 });
  for (let i = 0; i < 2; i++) {
    opt.zeroGrad();
    backprop(a, C);
    opt.step();
  }
  const b = param(Array.from(a.toArray()));
  const restored = new SGD([b], { lr: 99, momentum: 0.9, nesterov: true, weightDecay: 0.1 });
  restored.loadStateDict(opt.stateDict());
  assert.is(restored.lr, 0.5);
  assert.is(restored.stepCount, 2);
  for (const [o, p] of [[opt, a], [restored, b]] as const) {
    o.zeroGrad();
    backprop(p, C);
    o.step();
  }
  assert.equal(Array.from(b.toArray()), Array.from(a.toArray()));
  assert.throws(() => restored.loadStateDict({ step: 0, lr: 0.1, momentumBuffers: [] }), /1 parameters/);
});

test('SGD on the gpu backend equals the reference backend (float32, 3 Nesterov steps)', () => {
  g.setGpuMode((process.env.GRADLAB_GPU_MODE ?? 'webasm') as g.GpuMode);
  const init = Array.from({ length: 12 }, (_, i) => Math.sin(i + 1));
  const c = Array.from({ length: 12 }, (_, i) => Math.cos(3 * i));
  const results = (['reference', 'gpu'] as const).map((backend) => {
    const theta = param(init, backend, 'float32');
    const opt = new SGD([theta], { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      backprop(theta, c);
      opt.step();
    }
    return theta.toArray();
  });
  near(results[1], Array.from(results[0]), 1e-6, 'gpu vs reference');
});

/**
 * The recipe's update written out as the math ops it reads as, a + s·b being add(a, mul(b, s)):
 * what SGD computed before each line became one op (add with alpha).
 */
function longFormSteps(theta: g.Tensor, grads: g.Tensor[], o: { lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number }): Float32Array {
  let v: g.Tensor | null = null;
  for (const grad of grads) {
    g.noGrad(() => {
      let d = grad;
      if (o.weightDecay !== 0) d = g.add(d, g.mul(theta, o.weightDecay));
      v = v === null ? d : g.add(g.mul(v, o.momentum), o.dampening === 0 ? d : g.mul(d, 1 - o.dampening));
      d = o.nesterov ? g.add(d, g.mul(v, o.momentum)) : v;
      theta.assign(g.sub(theta, g.mul(d, o.lr)));
    });
  }
  return theta.toArray() as Float32Array;
}

test("SGD's one-op updates give the long form's float32 values bit for bit: reference, gpu with and without the SIMD kernels", () => {
  g.setGpuMode((process.env.GRADLAB_GPU_MODE ?? 'webasm') as g.GpuMode);
  const n = 2 ** 17 + 3; // the SIMD kernels split it between two threads, and its last vector is partial
  const init = Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1));
  const gradValues = [1, 2, 3].map((k) => Float32Array.from({ length: n }, (_, i) => Math.cos(k * i) * 0.3));
  const settings = [
    { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 1e-4 },
    { lr: 0.01, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0 },
    { lr: 0.3, momentum: 0.7, dampening: 0.2, nesterov: false, weightDecay: 5e-4 },
  ];
  for (const [backend, simd] of [['reference', true], ['gpu', true], ['gpu', false]] as const) {
    g.setSimdKernels(simd);
    for (const o of settings) {
      const grads = gradValues.map((v) => g.tensor(v, { backend }));
      const want = longFormSteps(g.tensor(init, { backend }), grads, o);
      const theta = g.tensor(init, { backend, requiresGrad: true });
      const opt = new SGD([theta], o);
      for (const grad of grads) {
        theta.grad = g.tensor(grad.toArray(), { backend });
        opt.step();
        opt.zeroGrad();
      }
      const got = theta.toArray();
      const label = `${backend}${backend === 'gpu' ? (simd ? ' (SIMD kernels)' : ' (gpu.js kernels)') : ''}, ${JSON.stringify(o)}`;
      for (let i = 0; i < n; i++) {
        if (!Object.is(got[i], want[i])) assert.unreachable(`${label}: θ[${i}] is ${got[i]}, the long form gives ${want[i]}`);
      }
    }
  }
  g.setSimdKernels(true);
});

/**
 * Adam's and AdamW's update written out as the math ops it reads as, a + s·b being
 * add(a, mul(b, s)) and θ − s·b being sub(θ, mul(b, s)): what they computed before each such line
 * became one op (add with alpha).
 */
function adamLongFormSteps(theta: g.Tensor, grads: g.Tensor[], o: { decoupled: boolean; lr: number; betas: [number, number]; eps: number; weightDecay: number }): Float32Array {
  const [b1, b2] = o.betas;
  const wd = o.weightDecay;
  let m: g.Tensor | null = null;
  let v: g.Tensor | null = null;
  grads.forEach((grad, step) => {
    const t = step + 1;
    g.noGrad(() => {
      let d = grad;
      if (wd !== 0 && !o.decoupled) d = g.add(d, g.mul(theta, wd));
      m = m === null ? g.mul(d, 1 - b1) : g.add(g.mul(m, b1), g.mul(d, 1 - b1));
      v = v === null ? g.mul(g.mul(d, d), 1 - b2) : g.add(g.mul(v, b2), g.mul(g.mul(d, d), 1 - b2));
      const mHat = g.div(m, 1 - b1 ** t);
      const vHat = g.div(v, 1 - b2 ** t);
      const base = o.decoupled && wd !== 0 ? g.mul(theta, 1 - o.lr * wd) : theta;
      theta.assign(g.sub(base, g.mul(g.div(mHat, g.add(g.sqrt(vHat), o.eps)), o.lr)));
    });
  });
  return theta.toArray() as Float32Array;
}

test("Adam's and AdamW's one-op updates give the long form's float32 values bit for bit: reference, gpu with and without the SIMD kernels", () => {
  g.setGpuMode((process.env.GRADLAB_GPU_MODE ?? 'webasm') as g.GpuMode);
  const n = 2 ** 17 + 3; // the SIMD kernels split it between two threads, and its last vector is partial
  const init = Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1));
  // gradients of both signs and of sizes 1e-4 to 0.3, so m̂/(√v̂ + eps) is not ±1 everywhere
  const gradValues = [1, 2, 3].map((k) => Float32Array.from({ length: n }, (_, i) => Math.cos(k * i) * 0.3 * 10 ** -((i * k) % 4)));
  const settings = [
    { decoupled: false, lr: 1e-3, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 0 },
    { decoupled: false, lr: 0.03, betas: [0.8, 0.99] as [number, number], eps: 1e-6, weightDecay: 5e-4 },
    { decoupled: true, lr: 1e-3, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 0.01 },
    { decoupled: true, lr: 0.1, betas: [0.7, 0.95] as [number, number], eps: 1e-3, weightDecay: 0.3 },
  ];
  for (const [backend, simd] of [['reference', true], ['gpu', true], ['gpu', false]] as const) {
    g.setSimdKernels(simd);
    for (const o of settings) {
      const grads = gradValues.map((values) => g.tensor(values, { backend }));
      const want = adamLongFormSteps(g.tensor(init, { backend }), grads, o);
      const theta = g.tensor(init, { backend, requiresGrad: true });
      const { decoupled, ...options } = o;
      const opt = decoupled ? new AdamW([theta], options) : new Adam([theta], options);
      for (const grad of grads) {
        theta.grad = g.tensor(grad.toArray(), { backend });
        opt.step();
        opt.zeroGrad();
      }
      const got = theta.toArray();
      const label = `${decoupled ? 'AdamW' : 'Adam'} on ${backend}${backend === 'gpu' ? (simd ? ' (SIMD kernels)' : ' (gpu.js kernels)') : ''}, ${JSON.stringify(options)}`;
      let moved = 0;
      for (let i = 0; i < n; i++) {
        if (!Object.is(got[i], want[i])) assert.unreachable(`${label}: θ[${i}] is ${got[i]}, the long form gives ${want[i]}`);
        if (got[i] !== init[i]) moved++;
      }
      assert.ok(moved > n / 2, `${label}: only ${moved} of ${n} parameters moved`);
      opt.dispose();
    }
  }
  g.setSimdKernels(true);
});

test('SGD rejects bad options with a message naming them', () => {
  const a = param([1]);
  assert.throws(() => new SGD([a], { lr: 0.1, nesterov: true }), /Nesterov momentum needs momentum > 0/);
  assert.throws(() => new SGD([a], { lr: -1 }), /lr must be a number ≥ 0; got -1/);
  assert.throws(() => new SGD([g.tensor([1])], { lr: 0.1 }), /does not require grad/);
  assert.throws(() => new SGD([a, a], { lr: 0.1 }), /appears twice/);
});

test('MultiStepLR: 1-based epochs — 0.1 for 1–80, 0.01 from 81, 0.001 from 122', () => {
  const opt = new SGD([param([1])], { lr: 0.1 });
  const sched = new MultiStepLR(opt, { milestones: [81, 122], gamma: 0.1 });
  const cases: [number, number][] = [[1, 0.1], [80, 0.1], [81, 0.01], [121, 0.01], [122, 0.001], [164, 0.001]];
  for (const [epoch, lr] of cases) near([sched.lrAt(epoch)], [lr], 1e-15, `lrAt(${epoch})`);
  assert.is(opt.lr, 0.1);
  const seen: number[] = [opt.lr];
  for (let epoch = 2; epoch <= 122; epoch++) {
    sched.step();
    seen.push(opt.lr);
  }
  assert.is(sched.epoch, 122);
  near([seen[79], seen[80], seen[120], seen[121]], [0.1, 0.01, 0.01, 0.001], 1e-15, 'rates set by step() at epochs 80, 81, 121, 122');
  assert.throws(() => sched.lrAt(0), /epochs count from 1/);
  assert.throws(() => new MultiStepLR(opt, { milestones: [122, 81] }), /strictly increasing/);
});

test('MultiStepLR stateDict/loadStateDict restores the epoch and sets the rate', () => {
  const opt = new SGD([param([1])], { lr: 0.1 });
  const sched = new MultiStepLR(opt, { milestones: [2, 3] });
  sched.step();
  sched.step();
  const state = sched.stateDict();
  assert.equal(state, { epoch: 3, baseLr: 0.1, milestones: [2, 3], gamma: 0.1 });
  const opt2 = new SGD([param([1])], { lr: 0.1 });
  const sched2 = new MultiStepLR(opt2, { milestones: [2, 3] });
  sched2.loadStateDict(state);
  assert.is(sched2.epoch, 3);
  near([opt2.lr], [0.001], 1e-15, 'restored rate');
});

test.run();
