/**
 * bench/tfjs.ts times TensorFlow.js (wasm) on the same work as gradlab: these tests check that it
 * computes the same numbers as gradlab's reference backend on small seeded inputs — GEMM; conv2d
 * forward and backward through the NCHW↔NHWC conversions and the Conv2DBackpropFilter shim, at
 * stride 1 and 2 (the peers found the shim wrong at stride 2); the SmallNet it translates, its
 * logits and every parameter's gradient; batch norm's training mode and running statistics — and
 * that each TF.js workload pairs with a gradlab workload of the same id and work.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import * as g from '../src/index.js';
import { buildModel, workloads } from '../bench/workloads.js';
import { conv2dBackward, conv2dForward, forward, fromHWIO, fromNHWC, initTfjs, tfTensor, tfjsWorkloads, toHWIO, toNHWC, translate } from '../bench/tfjs.js';

const F = g.nn.functional;
const randn = (shape: number[], seed: string, requiresGrad = false): g.Tensor => g.randn(shape, { seed, backend: 'reference', requiresGrad });

/** Elementwise |got − want| ≤ tol·max(1, max|want|): float32 sums in different orders. */
function near(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  let scale = 1;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol * scale)) assert.unreachable(`${what}[${i}]: TF.js ${got[i]}, gradlab ${want[i]} (tolerance ${tol * scale})`);
  }
}

const values = (t: g.Tensor | null, what: string): Float32Array => {
  if (t === null) throw new Error(`${what}: gradlab computed no gradient`);
  return Float32Array.from(t.toArray());
};

test.before(async () => {
  const info = await initTfjs();
  assert.is(info.backend, 'wasm');
});

test('GEMM: tf.matMul equals gradlab matmul on [5,7]·[7,6]', () => {
  const a = randn([5, 7], 'a');
  const b = randn([7, 6], 'b');
  const got = tf.tidy(() => tf.matMul(tfTensor(a), tfTensor(b)).dataSync());
  near(got, g.matmul(a, b).toArray(), 1e-4, 'a·b');
});

for (const [stride, size] of [[1, 8], [2, 8], [2, 7]] as const) {
  test(`conv2d 3×3 pad 1 stride ${stride}, x[2,3,${size},${size}]: forward, dx and dW (shim) equal gradlab's through NHWC`, () => {
    const x = randn([2, 3, size, size], 'x', true);
    const w = randn([4, 3, 3, 3], 'w', true);
    const y = F.conv2d(x, w, null, { stride, padding: 1 });
    const dy = randn([...y.shape], 'dy');
    y.backward(dy);
    const [tx, tw, tdy] = [toNHWC(x), toHWIO(w), toNHWC(dy)];
    const ty = conv2dForward(tx, tw, stride);
    assert.equal(ty.shape, [y.shape[0], y.shape[2], y.shape[3], y.shape[1]], 'output shape, NHWC');
    near(fromNHWC(ty), y.toArray(), 1e-4, 'y');
    const { dx, dw } = conv2dBackward(tx, tw, tdy, stride, true);
    if (dx === null) throw new Error('conv2dBackward computed no dx');
    near(fromNHWC(dx), values(x.grad, 'dx'), 1e-4, 'dx');
    near(fromHWIO(dw), values(w.grad, 'dW'), 1e-4, 'dW');
    tf.dispose([tx, tw, tdy, ty, dx, dw]);
  });
}

test('SmallNet (BN) translated to TF.js: the same logits and gradients as gradlab, evaluation mode, batch 2', () => {
  const { model } = buildModel('smallnet', 'reference');
  model.eval(); // no dropout masks to match; BN on the running statistics
  const net = translate(model);
  const images = randn([2, 3, 32, 32], 'images');
  const labels = [3, 71];
  const logits = model.forward(images);
  const loss = F.crossEntropy(logits, labels);
  loss.backward();

  const x = toNHWC(images);
  const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), 100);
  const tfLogits = forward(net, x, false);
  near(tfLogits.dataSync(), logits.toArray(), 1e-4, 'logits');
  const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(oneHot, forward(net, x, false)), net.trainable);
  near(value.dataSync(), loss.toArray(), 1e-5, 'loss');

  const params = model.namedParameters();
  assert.is(net.trainable.length, params.length, 'one TF.js variable per gradlab parameter');
  params.forEach(([name, p], i) => {
    const grad = grads[net.trainable[i].name];
    const got = tf.tidy(() => (p.rank === 4 ? fromHWIO(grad as tf.Tensor4D) : p.rank === 2 ? tf.transpose(grad).dataSync() : grad.dataSync()));
    near(got, values(p.grad, name), 1e-4, `∂loss/∂${name}`);
  });
  tf.dispose([x, oneHot, tfLogits, value, ...Object.values(grads), ...net.variables]);
});

test('batch norm in training mode, translated: the same Σ y·dy, gradients and running statistics as gradlab after one step', () => {
  const model = new g.nn.Sequential(new g.nn.BatchNorm2d(3, { backend: 'reference' }), new g.nn.Flatten(1));
  model.train();
  const net = translate(model);
  const images = randn([4, 3, 5, 5], 'images');
  const y = model.forward(images);
  g.sum(g.mul(y, randn([...y.shape], 'dy'))).backward();

  const x = toNHWC(images);
  const dy = tfTensor(randn([...y.shape], 'dy'));
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(forward(net, x, true), dy)), net.trainable);
  const [gamma, beta, runningMean, runningVar] = net.variables;
  near(grads[gamma.name].dataSync(), values(model.parameters()[0].grad, 'dγ'), 1e-4, 'dγ');
  near(grads[beta.name].dataSync(), values(model.parameters()[1].grad, 'dβ'), 1e-4, 'dβ');
  near(runningMean.dataSync(), model.buffers()[0].toArray(), 1e-5, 'running mean');
  near(runningVar.dataSync(), model.buffers()[1].toArray(), 1e-5, 'running variance (unbiased)');
  near(value.dataSync(), g.sum(g.mul(y, randn([...y.shape], 'dy'))).toArray(), 1e-4, 'Σ y·dy');
  tf.dispose([x, dy, value, ...Object.values(grads), ...net.variables]);
});

test('every TF.js workload has a gradlab workload of the same id and work (batch 128)', () => {
  const theirs = new Map(workloads(128).map((w) => [w.id, w.work]));
  const ours = tfjsWorkloads(128);
  assert.is(ours.length, 21, '4 GEMM, 8 conv layers × forward and backward, the SmallNet step');
  for (const w of ours) assert.is(w.work, theirs.get(w.id), w.id);
});

test.run();
