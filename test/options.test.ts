/**
 * No silent wrong results from options: every public function and constructor that takes an
 * options object rejects an unknown key, naming it and the accepted ones; the reductions take a
 * bare axis as PyTorch does (x.sum(1) sums each row, not everything).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';

import * as nn from '../src/nn/index.js';
import * as F from '../src/nn/functional.js';
import { resolveProtocol } from '../src/experiments/reproduce/index.js';
const ref = { backend: 'reference' as const };
const arr = (t: g.Tensor): number[] => Array.from(t.toArray());
/** A value passed where options of type T belong, as a caller without types would (misspelled keys and all). */
const bad = <T,>(value: unknown): T => value as T;

// ── reductions: a bare axis, and PyTorch's spellings refused ──

test('x.sum(1) and g.sum(x, 1) on [2, 3] sum each row (not the total); g.sum(x, -1) is the last axis', () => {
  const x = g.tensor([[1, 2, 3], [4, 5, 6]], ref);
  assert.equal(arr(x.sum(1)), [6, 15]);
  assert.equal(arr(g.sum(x, 1)), [6, 15]);
  assert.equal(arr(g.sum(x, -1)), [6, 15]);
  assert.equal(arr(g.sum(x, 0)), [5, 7, 9]);
  assert.equal(arr(g.sum(x, [0, 1])), [21]);
  assert.equal(x.sum().item(), 21);
});

test('mean, max, min and argmax take a bare axis too; keepDims keeps it', () => {
  const x = g.tensor([[1, 5, 2], [7, 0, 7]], ref);
  assert.equal(arr(g.mean(x, 0)), [4, 2.5, 4.5]);
  assert.equal(arr(x.max(1)), [5, 7]);
  assert.equal(arr(g.min(x, 1)), [1, 0]);
  assert.equal(arr(g.argmax(x, 1)), [1, 0]); // the tie 7, 7 → the first
  assert.equal(g.mean(x, { axis: 0, keepDims: true }).shape, [1, 3]);
  assert.equal(g.argmax(x).item(), 3); // the flat index of the first 7
});

test("g.sum(x, { dim: 1 }) and g.mean(x, { dim: 0 }) are errors that say gradlab calls it axis; keepdim says keepDims", () => {
  const x = g.ones([2, 3], ref);
  assert.throws(() => g.sum(x, bad<g.ReduceOptions>({ dim: 1 })), /^sum: unknown option 'dim' \(gradlab calls it axis\); accepted options: axis, keepDims$/);
  assert.throws(() => g.mean(x, bad<g.ReduceOptions>({ dim: 0 })), /mean: unknown option 'dim' \(gradlab calls it axis\)/);
  assert.throws(() => x.max(bad<g.ReduceOptions>({ axis: 0, keepdim: true })), /max: unknown option 'keepdim' \(gradlab calls it keepDims\); accepted options: axis, keepDims/);
  assert.throws(() => g.argmax(x, bad<{ axis: number }>({ dim: 1 })), /argmax: unknown option 'dim' \(gradlab calls it axis\)/);
  assert.throws(() => F.softmax(x, bad<{ axis: number }>({ dim: 1 })), /softmax: unknown option 'dim' \(gradlab calls it axis\); accepted options: axis/);
  assert.throws(() => F.logSoftmax(x, bad<{ axis: number }>({ dim: 1 })), /logSoftmax: unknown option 'dim' \(gradlab calls it axis\)/);
});

// ── every options-taking function and constructor: one unknown key each ──

const x4 = (): g.Tensor => g.ones([1, 1, 4, 4], ref);
const w = (): g.Tensor => g.ones([1, 1, 3, 3], ref);
const p = (): g.Tensor => g.ones([2], { ...ref, requiresGrad: true });
const records = g.data.syntheticCifar({ dataset: 'cifar10', split: 'test', count: 4, seed: 1 });
const images: g.data.ImageDataset = { length: 4, imageShape: [3, 32, 32], images: records.images, labels: records.labels, classes: 10 };

/** [what, call with one unknown key, the key, the accepted keys as listed]. */
const CASES: [string, () => unknown, string, string][] = [
  ['g.tensor', () => g.tensor([1], bad<g.TensorOptions>({ dtyp: 'float64' })), 'dtyp', 'dtype, requiresGrad, backend, shape'],
  ['g.zeros', () => g.zeros([1], bad<g.TensorOptions>({ requires_grad: true })), 'requires_grad', 'dtype, requiresGrad, backend'],
  ['g.ones', () => g.ones([1], bad<g.TensorOptions>({ device: 'gpu' })), 'device', 'dtype, requiresGrad, backend'],
  ['g.full', () => g.full([1], 2, bad<g.TensorOptions>({ device: 'gpu' })), 'device', 'dtype, requiresGrad, backend'],
  ['g.rand', () => g.rand([1], bad<g.RandomOptions>({ seed: 1, lo: 0 })), 'lo', 'dtype, requiresGrad, backend, seed, low, high'],
  ['g.randn', () => g.randn([1], bad<g.RandomOptions>({ seed: 1, sd: 2 })), 'sd', 'dtype, requiresGrad, backend, seed, mean, std'],
  ['g.fromTyped', () => g.fromTyped(new Float32Array(1), [1], bad<g.TensorOptions>({ shape: [1] })), 'shape', 'dtype, requiresGrad, backend'],
  ['g.toBackend', () => g.toBackend(g.ones([1], ref), 'reference', bad<{ dtype: 'float32' }>({ device: 'cpu' })), 'device', 'requiresGrad, dtype'],
  ['g.sum', () => g.sum(g.ones([2], ref), bad<g.ReduceOptions>({ axes: 0 })), 'axes', 'axis, keepDims'],
  ['g.clamp', () => g.clamp(g.ones([2], ref), bad<g.ClampOptions>({ lo: 0 })), 'lo', 'min, max'],
  ['g.cat', () => g.cat([g.ones([2], ref)], bad<{ axis: number }>({ dim: 0 })), 'dim', 'axis'],
  ['g.toDot', () => g.toDot(g.ones([2], ref), bad<g.ToDotOptions>({ value: 3 })), 'value', 'values'],
  ['g.gradcheck', () => g.gradcheck((a) => a, [g.ones([1], { dtype: 'float64', ...ref, requiresGrad: true })], bad<g.GradcheckOptions>({ tol: 1 })), 'tol', 'eps, atol, rtol, seed, names, sample'],
  ['g.backward', () => g.backward(g.sum(p()), undefined, bad<g.BackwardOptions>({ retain_graph: true })), 'retain_graph', 'retainGraph'],
  ['g.gpuInfo', () => g.gpuInfo(bad<{ start: boolean }>({ begin: true })), 'begin', 'start'],
  ['F.conv2d', () => F.conv2d(x4(), w(), null, { pading: 1 } as F.Conv2dOptions), 'pading', 'stride, padding'],
  ['F.maxPool2d', () => F.maxPool2d(x4(), { kernelSize: 2, strides: 2 } as F.Pool2dOptions), 'strides', 'kernelSize, stride, padding'],
  ['F.avgPool2d', () => F.avgPool2d(x4(), bad<F.Pool2dOptions>({ kernel_size: 2 })), 'kernel_size', 'kernelSize, stride, padding'],
  ['F.batchNorm', () => F.batchNorm(g.ones([2, 1], ref), bad<F.BatchNormOptions>({ training: true, running_mean: null })), 'running_mean', 'weight, bias, runningMean, runningVar, training, momentum, eps'],
  ['F.dropout', () => F.dropout(g.ones([2], ref), bad<F.DropoutOptions>({ rate: 0.5 })), 'rate', 'p, training, seed, mask'],
  ['F.leakyRelu', () => F.leakyRelu(g.ones([2], ref), bad<{ negativeSlope: number }>({ negative_slope: 0.1 })), 'negative_slope', 'negativeSlope'],
  ['F.elu', () => F.elu(g.ones([2], ref), bad<{ alpha: number }>({ a: 1 })), 'a', 'alpha'],
  ['F.frelu', () => F.frelu(g.ones([2], ref), g.tensor(0, ref), bad<{ bGradScale: number }>({ bScale: 1 })), 'bScale', 'bGradScale'],
  ['F.softmax', () => F.softmax(g.ones([2, 2], ref), bad<{ axis: number }>({ axes: 1 })), 'axes', 'axis'],
  ['F.logSoftmax', () => F.logSoftmax(g.ones([2, 2], ref), bad<{ axis: number }>({ axes: 1 })), 'axes', 'axis'],
  ['nn.Linear', () => new nn.Linear(2, 2, bad<nn.LinearOptions>({ bias: true, biass: false })), 'biass', 'backend, dtype, bias, seed'],
  ['nn.Conv2d', () => new nn.Conv2d(1, 1, 3, { pading: 1 } as nn.Conv2dOptions), 'pading', 'backend, dtype, stride, padding, bias, seed'],
  ['nn.MaxPool2d', () => new nn.MaxPool2d(2, { strides: 2 } as nn.Pool2dOptions), 'strides', 'stride, padding'],
  ['nn.AvgPool2d', () => new nn.AvgPool2d(2, { pad: 1 } as nn.Pool2dOptions), 'pad', 'stride, padding'],
  ['nn.BatchNorm1d', () => new nn.BatchNorm1d(2, bad<nn.BatchNormOptions>({ affine: false })), 'affine', 'backend, dtype, eps, momentum'],
  ['nn.BatchNorm2d', () => new nn.BatchNorm2d(2, bad<nn.BatchNormOptions>({ track_running_stats: false })), 'track_running_stats', 'backend, dtype, eps, momentum'],
  ['nn.Dropout', () => new nn.Dropout(0.5, bad<nn.DropoutOptions>({ inplace: true })), 'inplace', 'seed'],
  ['nn.PReLU', () => new nn.PReLU(1, bad<nn.PReLUOptions>({ num_parameters: 3 })), 'num_parameters', 'backend, dtype, init'],
  ['nn.FReLU', () => new nn.FReLU(bad<nn.FReLUOptions>({ b: 0 })), 'b', 'backend, dtype, init, perChannel, bGradScale, bKeepNonPositive'],
  ['nn.Softmax', () => new nn.Softmax(bad<nn.SoftmaxOptions>({ dim: 1 })), 'dim', 'axis'],
  ['nn.init.kaimingNormal', () => nn.init.kaimingNormal(w(), bad<nn.init.KaimingOptions>({ seed: 1, nonlinearity: 'relu' })), 'nonlinearity', 'mode, gain, seed'],
  ['nn.init.kaimingUniform', () => nn.init.kaimingUniform(w(), bad<nn.init.KaimingOptions>({ seed: 1, a: 0 })), 'a', 'mode, gain, seed'],
  ['nn.init.xavierUniform', () => nn.init.xavierUniform(w(), bad<{ seed: number }>({ seed: 1, mode: 'fanIn' })), 'mode', 'gain, seed'],
  ['nn.init.uniform', () => nn.init.uniform(w(), bad<{ low: number; high: number; seed: number }>({ low: 0, high: 1, seed: 1, a: 0 })), 'a', 'low, high, seed'],
  ['nn.init.normal', () => nn.init.normal(w(), bad<{ std: number; seed: number }>({ std: 1, seed: 1, sigma: 1 })), 'sigma', 'mean, std, seed'],
  ['models.smallNet', () => g.models.smallNet(bad<g.models.SmallNetOptions>({ activation: 'relu', bn: true })), 'bn', 'backend, dtype, activation, batchNorm, classes, seed, activationOptions'],
  ['models.smallNet activationOptions', () => g.models.smallNet({ activation: 'frelu', activationOptions: { b: 0 } as g.models.ActivationOptions }), 'b', 'negativeSlope, alpha, init, perChannel, bGradScale, bKeepNonPositive'],
  ['models.resnet', () => g.models.resnet(bad<g.models.ResNetOptions>({ depth: 20, activation: 'relu', num_classes: 10 })), 'num_classes', 'backend, dtype, depth, classes, block, activation, seed, activationOptions'],
  ['models.BasicBlock', () => new g.models.BasicBlock(4, 4, 1, bad<g.models.BasicBlockOptions>({ block: 'a', activation: 'relu', stride: 1 })), 'stride', 'backend, dtype, block, activation, activationOptions, seed'],
  ['optim.SGD', () => new g.optim.SGD([p()], bad<g.optim.SGDOptions>({ lr: 0.1, weight_decay: 1e-4 })), 'weight_decay', 'lr, momentum, dampening, nesterov, weightDecay, weightDecayExclude'],
  ['optim.Adam', () => new g.optim.Adam([p()], bad<g.optim.AdamOptions>({ lr: 0.1, amsgrad: true })), 'amsgrad', 'lr, betas, eps, weightDecay'],
  ['optim.AdamW', () => new g.optim.AdamW([p()], bad<g.optim.AdamOptions>({ weight_decay: 0.1 })), 'weight_decay', 'lr, betas, eps, weightDecay'],
  ['optim.MultiStepLR', () => new g.optim.MultiStepLR(new g.optim.SGD([p()], { lr: 0.1 }), bad<g.optim.MultiStepLROptions>({ milestones: [2], last_epoch: 0 })), 'last_epoch', 'milestones, gamma'],
  ['data.DataLoader', () => new g.data.DataLoader(images, bad<g.data.DataLoaderOptions>({ batchSize: 2, batch_size: 2 })), 'batch_size', 'batchSize, shuffle, seed, transform, dropLast, backend, epoch'],
  ['data.DataLoader.batches', () => new g.data.DataLoader(images, { batchSize: 2 }).batches(0, bad<{ from: number }>({ start: 1 })).next(), 'start', 'from'],
  ['data.cifarTransform', () => g.data.cifarTransform('cifar10', bad<{ augment: boolean }>({ augment: true, flip: true })), 'flip', 'augment'],
  ['data.syntheticCifar', () => g.data.syntheticCifar(bad<g.data.SyntheticOptions>({ dataset: 'cifar10', split: 'test', count: 2, n: 2 })), 'n', 'dataset, split, count, seed, noise'],
  ['data.syntheticCifarFiles', () => g.data.syntheticCifarFiles(bad<g.data.SyntheticFilesOptions>({ dataset: 'cifar10', dir: 'x' })), 'dir', 'dataset, train, test, seed, noise'],
  ['data.loadCifar', () => g.data.loadCifar(bad<g.data.LoadCifarOptions>({ dataset: 'cifar10', split: 'test', root: 'data' })), 'root', 'dataset, split, dir, files, label'],
  ['data.cifarFromBytes', () => g.data.cifarFromBytes(bad<g.data.CifarBytes>({ dataset: 'cifar10', split: 'test', parts: [], labels: 'fine' })), 'labels', 'dataset, split, parts, labelNames, coarseLabelNames, label'],
  ['g.defineOp', () => g.defineOp(bad<g.OpDef<'x', 'x', {}>>({ name: 'op', inputs: ['x'], saves: [], nondifferentiable: ['x'], outputShape: () => [], reference: {} })), 'nondifferentiable', 'name, inputs, nonDifferentiable, saves, outputShape, reference, gpu'],
  ['io.saveSafetensors', () => g.io.saveSafetensors('/nonexistent-gradlab/x.safetensors', {}, bad<{ metadata: Record<string, string> }>({ meta: {} })), 'meta', 'metadata'],
  ['io.loadSafetensors', () => g.io.tensorsOf({}, bad<g.io.ToTensorOptions>({ device: 'gpu' })), 'device', 'backend, dtype'],
  ['data.writeSyntheticCifar', () => g.data.writeSyntheticCifar(bad<g.data.WriteSyntheticOptions>({ dataset: 'cifar10', dir: '/nonexistent-gradlab', overwrite: true })), 'overwrite', 'dataset, train, test, seed, noise, dir, force'],
];

for (const [what, call, key, accepted] of CASES) {
  test(`${what}: an unknown option '${key}' is an error naming it and the accepted options`, () => {
    const escaped = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.throws(call, new RegExp(`unknown option '${escaped(key)}'.*; accepted options: ${escaped(accepted)}$`));
  });
}

test("data.downloadCifar: an unknown option 'folder' rejects, naming it and the accepted options (before any download)", async () => {
  let message = '';
  await g.data.downloadCifar('cifar10', bad<g.data.DownloadOptions>({ folder: '/nonexistent-gradlab' })).catch((e: Error) => (message = e.message));
  assert.is(message, "download: unknown option 'folder'; accepted options: dir, url, keepArchive, retries, onProgress, log, stallMs");
});

test("snake_case spellings of accepted options say gradlab's name: new SGD(params, { weight_decay }) → weightDecay", () => {
  assert.throws(
    () => new g.optim.SGD([p()], bad<g.optim.SGDOptions>({ lr: 0.1, weight_decay: 1e-4 })),
    /^SGD: unknown option 'weight_decay' \(gradlab calls it weightDecay\); accepted options: lr, momentum/,
  );
  assert.throws(() => F.conv2d(x4(), w(), null, { pading: 1 } as F.Conv2dOptions), /^conv2d: unknown option 'pading'; accepted options: stride, padding$/);
});

test('options that are not objects are refused with what was given', () => {
  assert.throws(() => g.tensor([1], bad<g.TensorOptions>('float64')), /tensor: options must be an object with keys among dtype, requiresGrad, backend, shape; got "float64"/);
});

// ── NaN and ±Infinity in an option are shown as themselves (JSON would print null) ──

test('a NaN option is named NaN in the error, not null: SGD, Adam, dropout, maxPool2d, Linear, reproduce lrs', () => {
  const w = g.tensor([1, 2], { ...ref, requiresGrad: true });
  assert.throws(() => new g.optim.SGD([w], { lr: NaN }), /SGD: lr must be a number ≥ 0; got NaN$/);
  assert.throws(() => new g.optim.Adam([w], { lr: NaN }), /got NaN$/);
  assert.throws(() => F.dropout(g.ones([2, 2], ref), { p: NaN }), /got NaN/);
  assert.throws(() => F.maxPool2d(g.ones([1, 1, 4, 4], ref), { kernelSize: NaN }), /NaN/);
  assert.throws(() => new nn.Linear(Infinity, 2), /got Infinity/);
  assert.throws(() => resolveProtocol({ table: 'table1', lrs: [NaN, 0.1] }), /lrs must be positive numbers; got \[NaN,0\.1\]/);
});

test.run();
