/**
 * The webasm mode's streaming kernels (src/tensor/backends/wasm/loops.ts, streams.ts): batchNorm,
 * batchStats, relu, frelu, add, sub, mul, dropout, a matrix's permute, expand (a scalar's, long
 * runs' copies and their sums), 2×2 max pooling and average pooling (at stride 2, global) — the per-channel ones walked by planes and by columns — forward and every
 * gradient, on 1 and 2 threads against the
 * reference backend — at sizes big enough that the work is split between the threads (the op-test
 * table's shapes are too small to be split), with the planes' channels counted on from a thread's
 * first plane.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import { avgPool2d, batchNorm, batchStats, conv2d, dropout, frelu, maxPool2d, relu } from '../src/nn/ops/index.js';
import { permute } from '../src/autograd/ops/permute.js';
import { add } from '../src/autograd/ops/add.js';
import { sub } from '../src/autograd/ops/sub.js';
import { mul } from '../src/autograd/ops/mul.js';
import { expand } from '../src/autograd/ops/expand.js';
import { randomStream } from '../src/tensor/random.js';
import type { Tensor } from '../src/tensor/tensor.js';

g.setGpuMode('webasm');

function values(n: number, seed: string, around = 0): Float32Array {
  const rng = randomStream(seed);
  return Float32Array.from({ length: n }, () => around + rng.normal());
}

function close(label: string, got: Float32Array | Float64Array, want: Float32Array | Float64Array, tol: number): void {
  assert.is(got.length, want.length, `${label}: length`);
  for (let i = 0; i < want.length; i++) {
    if (got[i] === want[i] || (Number.isNaN(got[i]) && Number.isNaN(want[i]))) continue; // ±∞ and NaN must match as they are
    if (!(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])))) assert.unreachable(`${label}: element ${i}: got ${got[i]}, want ${want[i]}`);
  }
}

/** An op applied to fresh tensors on `backend`; returns y and the gradient of every input that takes one. */
type Case = (t: (name: string, v: Float32Array, shape: number[], grad?: boolean) => Tensor) => Tensor;

function run(backend: 'gpu' | 'reference', apply: Case): Record<string, Float32Array | Float64Array> {
  const inputs: Record<string, Tensor> = {};
  const y = apply((name, v, shape, grad = true) => (inputs[name] = g.tensor(v, { shape, backend, requiresGrad: grad })));
  const out: Record<string, Float32Array | Float64Array> = { y: y.toArray() as Float32Array };
  if (Object.values(inputs).some((t) => t.requiresGrad)) {
    y.backward(g.tensor(values(y.size, 'dy'), { shape: y.shape, backend }));
    for (const [name, t] of Object.entries(inputs)) if (t.requiresGrad) out[`d${name}`] = t.grad!.toArray() as Float32Array;
  }
  return out;
}

/**
 * [N, C, H, W] with N·C·H·W = 208,896 floats, over three times the least a thread takes; the second
 * thread's first plane (102 of 204) is channel 6, not 0.
 */
const X = [17, 12, 32, 32];
const N_X = 17 * 12 * 32 * 32;

const pool2x2 = { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] } as const;

const cases: Record<string, Case> = {
  'batchNorm training': (t) =>
    batchNorm.apply(
      { x: t('x', values(N_X, 'x', 3), X), gamma: t('gamma', values(12, 'gamma'), [12]), beta: t('beta', values(12, 'beta'), [12]), runningMean: t('rm', values(12, 'rm'), [12], false), runningVar: t('rv', values(12, 'rv', 2).map(Math.abs), [12], false) },
      { training: true, eps: 1e-5 },
    ),
  'batchNorm evaluation': (t) =>
    batchNorm.apply(
      { x: t('x', values(N_X, 'x', 3), X), gamma: t('gamma', values(12, 'gamma'), [12]), beta: t('beta', values(12, 'beta'), [12]), runningMean: t('rm', values(12, 'rm'), [12], false), runningVar: t('rv', values(12, 'rv', 2).map(Math.abs), [12], false) },
      { training: false, eps: 1e-5 },
    ),
  'batchStats': (t) => batchStats.apply({ x: t('x', values(N_X, 'x', 3), X, false) }),
  'relu': (t) => relu.apply({ x: t('x', values(N_X, 'x'), X) }),
  'frelu, scalar b': (t) => frelu.apply({ x: t('x', values(N_X, 'x'), X), b: t('b', Float32Array.of(-0.5), []) }),
  'frelu, b per channel': (t) => frelu.apply({ x: t('x', values(N_X, 'x'), X), b: t('b', values(12, 'b'), [12]) }),
  'add': (t) => add.apply({ a: t('a', values(N_X, 'a'), X), b: t('b', values(N_X, 'b'), X) }),
  'sub': (t) => sub.apply({ a: t('a', values(N_X, 'a'), X), b: t('b', values(N_X, 'b'), X) }),
  'mul': (t) => mul.apply({ a: t('a', values(N_X, 'a'), X), b: t('b', values(N_X, 'b'), X) }),
  'dropout p = 0.3': (t) => dropout.apply({ x: t('x', values(N_X, 'x'), X), mask: t('mask', values(N_X, 'mask').map((v) => (v > -0.5 ? 1 : 0)), X, false) }, { p: 0.3 }),
  'permute of a [612, 341] matrix': (t) => permute.apply({ x: t('x', values(612 * 341, 'x'), [612, 341]) }, { axes: [1, 0] }),
  // conv2d reading an earlier kernel's result in place: its padding copies rows of 11 floats (two
  // vectors and three floats) out of the kernels' memory, and its dx pads dy the same way.
  'conv2d of relu(x), 11 wide': (t) =>
    conv2d.apply({ x: relu.apply({ x: t('x', values(40 * 6 * 13 * 11, 'x'), [40, 6, 13, 11]) }), w: t('w', values(8 * 6 * 9, 'w'), [8, 6, 3, 3]) }, { stride: [1, 1], padding: [1, 1] }),
  // The same with one NaN, in the corner of image 0's first channel, in relu's output: only the 4 weights
  // whose windows read the corner get NaN in dw, and conv2d's check that x is finite (a wasm kernel for
  // an x in the kernels' memory) must send dw down the route whose products are the reference's.
  'conv2d of relu(x) with a NaN in a corner': (t) =>
    conv2d.apply({ x: relu.apply({ x: t('x', values(40 * 6 * 13 * 11, 'x').map((v, i) => (i === 0 ? NaN : v)), [40, 6, 13, 11]) }), w: t('w', values(8 * 6 * 9, 'w'), [8, 6, 3, 3]) }, { stride: [1, 1], padding: [1, 1] }),
  'expand of a scalar': (t) => expand.apply({ x: t('x', Float32Array.of(-1.5), []) }, { shape: X }),
  'maxPool2d 2×2 stride 2': (t) => maxPool2d.apply({ x: t('x', values(N_X, 'x'), X) }, pool2x2),
  // Values rounded to whole numbers: most windows hold ties, and the first maximum (scan order) takes dy.
  'maxPool2d 2×2 stride 2, ties': (t) => maxPool2d.apply({ x: t('x', values(N_X, 'x').map(Math.round), X) }, pool2x2),
  // NaN at every 7th element and ±∞ at every 11th and 13th: every position in a window, pairs of NaNs
  // in some; a window's first NaN is its max and takes dy, whatever else it holds.
  'maxPool2d 2×2 stride 2, NaN and ±∞': (t) => maxPool2d.apply({ x: t('x', withNonFinite(values(N_X, 'x')), X) }, pool2x2),
  'relu, NaN and ±∞': (t) => relu.apply({ x: t('x', withNonFinite(values(N_X, 'x')), X) }),
  // dx's zeros between the windows are written, not left from fresh memory: a block of x's size, full of values, is given back first
  'avgPool2d 1×1 stride 2, dx in a reused block': (t) => {
    add.apply({ a: t('a', values(N_X, 'a'), X, false), b: t('b', values(N_X, 'b'), X, false) }).dispose();
    return avgPool2d.apply({ x: t('x', values(N_X, 'x'), X) }, { kernelSize: [1, 1], stride: [2, 2], padding: [0, 0] });
  },
  'avgPool2d 2×2 stride 2': (t) => avgPool2d.apply({ x: t('x', values(N_X, 'x'), X) }, pool2x2),
  'avgPool2d global 32×32': (t) => avgPool2d.apply({ x: t('x', values(N_X, 'x'), X) }, { kernelSize: [32, 32], stride: [32, 32], padding: [0, 0] }),
  // ResNet's option-A shortcut: [N, 1, L] copied twice (the SIMD sum of the copies, by blocks), and the mask [1, 2, 1] filled out
  'expand [17, 1, 12288] to [17, 2, 12288]': (t) => expand.apply({ x: t('x', values(N_X, 'x'), [17, 1, 12 * 1024]) }, { shape: [17, 2, 12 * 1024] }),
  'expand [1, 2, 1] to [17, 2, 12288]': (t) => expand.apply({ x: t('x', values(2, 'x'), [1, 2, 1]) }, { shape: [17, 2, 12 * 1024] }),
};

function withNonFinite(v: Float32Array): Float32Array {
  return v.map((x, i) => (i % 7 === 3 ? NaN : i % 11 === 5 ? Infinity : i % 13 === 6 ? -Infinity : x));
}

/**
 * Batch normalisation walked by columns (x [N, C] and images whose planes are not whole vectors):
 * [300, 520] is 156,000 floats, the second thread's first column 260; [140, 12, 9, 9] is 136,080
 * floats of 972 columns, the second thread's first column 484, in the middle of channel 5.
 */
const byColumns: Record<string, Case> = {};
for (const shape of [[300, 520], [140, 12, 9, 9]]) {
  const [n, C] = [shape.reduce((a, b) => a * b), shape[1]];
  const bn = (training: boolean): Case => (t) =>
    batchNorm.apply(
      { x: t('x', values(n, 'x', 3), shape), gamma: t('gamma', values(C, 'gamma'), [C]), beta: t('beta', values(C, 'beta'), [C]), runningMean: t('rm', values(C, 'rm'), [C], false), runningVar: t('rv', values(C, 'rv', 2).map(Math.abs), [C], false) },
      { training, eps: 1e-5 },
    );
  byColumns[`batchNorm training on x [${shape.join(', ')}]`] = bn(true);
  byColumns[`batchNorm evaluation on x [${shape.join(', ')}]`] = bn(false);
  byColumns[`batchStats on x [${shape.join(', ')}]`] = (t) => batchStats.apply({ x: t('x', values(n, 'x', 3), shape, false) });
  byColumns[`frelu, b per channel, on x [${shape.join(', ')}]`] = (t) => frelu.apply({ x: t('x', values(n, 'x'), shape), b: t('b', values(C, 'b'), [C]) });
}

// A bias [512] over [300, 512]: one block of 300 copies, its columns split between the threads (the second's first is 256).
byColumns['expand [512] to [300, 512]'] = (t) => expand.apply({ x: t('x', values(512, 'x'), [512]) }, { shape: [300, 512] });

const allCases: [string, Case][] = [...Object.entries(cases).map(([name, apply]): [string, Case] => [`${name} on x [${X.join(', ')}]`, apply]), ...Object.entries(byColumns)];

for (const [name, apply] of allCases) {
  test(`${name}: 1 and 2 threads agree with the reference, forward and every gradient`, () => {
    const ref = run('reference', apply);
    for (const threads of [1, 2]) {
      g.setSimdThreads(threads);
      const gpu = run('gpu', apply);
      assert.is(g.gpuInfo().simdThreads, threads);
      assert.equal(Object.keys(gpu).sort(), Object.keys(ref).sort());
      for (const part of Object.keys(ref)) close(`${threads} thread(s) ${part}`, gpu[part], ref[part], 2e-4);
    }
  });
}

test.run();
