/**
 * The TensorFlow.js target of `npm run bench`: the workloads of bench/workloads.ts that TF.js has
 * ops for — GEMM 256/512/1024 (forward; backward at 512), conv2d forward and backward at every layer
 * shape, the SmallNet (BN) training step — run on TF.js's wasm backend in this process, timed with
 * the same harness (bench/harness.ts) and reported in the same shape (SuiteResult) under the same
 * workload ids, so bench/run.ts can print gradlab's figures beside figures measured in the same run.
 *
 *   npx tsx bench/tfjs.ts [--only conv,step] [--batch 128] [--quick] [--json FILE]
 *
 * Dev dependencies (package.json), and why each:
 *   @tensorflow/tfjs-core 4.22.0          tensors, ops, autograd, optimisers;
 *   @tensorflow/tfjs-backend-wasm 4.22.0  the wasm backend (XNNPACK kernels). It depends on
 *                                         @tensorflow/tfjs-backend-cpu for shared kernel code, which
 *                                         npm installs with it; nothing here registers or runs the cpu
 *                                         backend, so it is not a dev dependency of its own;
 *   esbuild 0.28.2 (the copy tsx uses)    tfjs-core's Node bundle registers no gradient functions (the
 *                                         umbrella package @tensorflow/tfjs does, but it brings layers,
 *                                         converter, data and webgl: ~300 MB against ~65 MB). Its
 *                                         dist/register_all_gradients.js does it, but as ES modules with
 *                                         extensionless imports Node cannot load; registerGradients()
 *                                         bundles that file with esbuild and runs it, as the umbrella's
 *                                         bundle does. The gradient registry is global (shared by every
 *                                         copy of tfjs-core in the process).
 *
 * How TF.js runs here (printed at the start of a run and kept as the result's notes):
 *   - One thread, SIMD. TF.js 4.22 turns its threaded wasm build off under Node
 *     (WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE, tfjs issue 3830), so setThreadsCount has no
 *     effect and the SIMD build (WASM_HAS_SIMD_SUPPORT) runs on one thread; both flags and
 *     getThreadsCount() are read back and reported, not assumed.
 *   - NHWC. TF.js's wasm conv2d takes x [N, H, W, C] and filters [KH, KW, C, O]; gradlab's inputs
 *     (the same seeded values as bench/workloads.ts) are transposed once, outside the timed region.
 *   - Conv2DBackpropFilter (dW) is missing from tfjs-backend-wasm 4.22, so no conv net trains on it as
 *     shipped. The workaround is the peers' (../shared/peers/tfjs_setup.js): a kernel that runs the
 *     backend's own Conv3DBackpropFilterV2 (a plain C++ loop, not XNNPACK) on depth-1 views of the
 *     same buffers — with two fixes, so that it gives gradlab's numbers at padding 1 and at stride 2
 *     (see registerConv2DBackpropFilterShim; test/bench-tfjs.test.ts checks dx and dW against
 *     gradlab's reference backend). It is slow; conv.bwd and the training step time it.
 *   - GEMM backward is what TF.js's MatMul gradient runs: tf.matMul with the transpose flags.
 *   - The wasm backend runs each kernel when its op is called, so a returned tensor is computed and
 *     nothing needs reading back to time it. Every call runs inside tf.tidy, and the run checks that
 *     the number of live TF.js tensors is the same after every call (a leak stops the run).
 */
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as g from '../src/index.js';
import type { Module } from '../src/nn/module.js';
import { Conv2d, Linear } from '../src/nn/layers/linear.js';
import { BatchNorm1d, BatchNorm2d } from '../src/nn/layers/normalization.js';
import { ReLU } from '../src/nn/layers/activations.js';
import { MaxPool2d } from '../src/nn/layers/pooling.js';
import { Dropout } from '../src/nn/layers/dropout.js';
import { Flatten } from '../src/nn/layers/containers.js';
import { machineInfo } from './harness.js';
import { buildModel, workloads, type Prepared } from './workloads.js';
import { TFJS_TARGET, formatResult, measure, selected, writeResult, type SuiteResult, type WorkloadResult } from './suite.js';

// ── setting TF.js up ──

export interface TfjsInfo {
  version: string;
  backend: string;
  simd: boolean;
  multithread: boolean;
  threads: number;
  /** Whether this process registered the Conv2DBackpropFilter shim (false: the backend has the kernel). */
  dwShim: boolean;
}

/** Registers tfjs-core's gradient functions (see the file comment); a no-op once they are there. */
async function registerGradients(): Promise<void> {
  if (tf.getGradient(tf.Conv2D) !== undefined) return;
  const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  const bundle = await build({ entryPoints: [entry], bundle: true, write: false, format: 'esm', platform: 'node', logLevel: 'error' });
  await import(`data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString('base64')}`);
  if (tf.getGradient(tf.Conv2D) === undefined) throw new Error(`tfjs-wasm: running ${entry} registered no gradient for Conv2D`);
}

const numbers = (name: string, value: unknown): number[] => {
  const list = typeof value === 'number' ? [value] : value;
  if (!Array.isArray(list) || !list.every((v): v is number => typeof v === 'number')) {
    throw new Error(`Conv2DBackpropFilter shim: attribute ${name} must be a number or numbers; got ${JSON.stringify(value)}`);
  }
  return list;
};

/**
 * The peers' workaround for the wasm backend's missing Conv2DBackpropFilter: dW of a 2-D conv is dW
 * of a 3-D conv whose depth is 1, so x [N, H, W, C] and dy [N, OH, OW, O] go, as views
 * [N, 1, H, W, C] and [N, 1, OH, OW, O] of their buffers, to the backend's own (native)
 * Conv3DBackpropFilterV2, and its dW [1, KH, KW, C, O] is read as [KH, KW, C, O]. Two changes to
 * the peers' version, both to get gradlab's numbers (test/bench-tfjs.test.ts checks them):
 *
 *   - Padding by a number: the 3-D kernel would pad the depth too, which breaks the depth-1 view, so
 *     x is padded here (PadV2) and the 3-D kernel runs 'valid'.
 *   - Stride > 1: that kernel's loop over output rows starts at ⌈(padTop − kh) / stride⌉, and its
 *     ceiling division is only right for non-negative numbers (C++ division truncates: ⌈−1/2⌉ comes
 *     out 1, not 0), so it skips the first output row when kh − padTop is odd — the peers' "wrong
 *     at stride 2" (tfjs-backend-wasm src/cc/conv3d_impl.h, DivCeil). Written with
 *     dy dilated (stride − 1 zeros after each value), dW is a stride-1 backprop-filter, which is
 *     exact:  dW[kh, kw] = Σ x_pad[s·i + kh, s·j + kw] · dy[i, j] = Σ x_pad[u + kh, v + kw] · dy_dilated[u, v].
 *     It does stride² as many multiply-adds (most by zero), so a stride-2 dW costs about 4× the
 *     backend's kernel on the shapes it gets right.
 *
 * NHWC, dilation 1, padding a number or 'valid' (and 'same' at stride 1, as the peers ran it).
 * Returns false when the backend has the kernel already (a later TF.js).
 */
function registerConv2DBackpropFilterShim(): boolean {
  if (tf.getKernel(tf.Conv2DBackpropFilter, 'wasm') !== undefined) return false;
  const conv3d = tf.getKernel(tf.Conv3DBackpropFilterV2, 'wasm');
  const padKernel = tf.getKernel(tf.PadV2, 'wasm');
  if (conv3d === undefined || padKernel === undefined) throw new Error('tfjs-wasm: the wasm backend has neither Conv2DBackpropFilter nor Conv3DBackpropFilterV2 and PadV2');
  tf.registerKernel({
    kernelName: tf.Conv2DBackpropFilter,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs;
      if (x === undefined || dy === undefined || attrs === undefined) throw new Error('Conv2DBackpropFilter shim: needs inputs x and dy, and attributes');
      const { strides, pad, dataFormat, filterShape } = attrs;
      if (dataFormat !== undefined && dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter shim: NHWC only; got dataFormat ${String(dataFormat)}`);
      const [sh, sw = sh] = numbers('strides', strides);
      const shape = numbers('filterShape', filterShape);
      const [KH, KW] = shape;
      const [N, H, W, C] = x.shape;
      const [, OH, OW, O] = dy.shape;
      const view = (t: tf.TensorInfo, viewShape: number[]): tf.TensorInfo => ({ dataId: t.dataId, shape: viewShape, dtype: t.dtype });
      const made: tf.TensorInfo[] = []; // intermediates to free
      const padded = (t: tf.TensorInfo, paddings: [number, number][]): tf.TensorInfo => {
        if (paddings.every(([a, b]) => a === 0 && b === 0)) return t;
        const out = padKernel.kernelFunc({ inputs: { x: t }, backend, attrs: { paddings, constantValue: 0 } });
        if (Array.isArray(out)) throw new Error('Conv2DBackpropFilter shim: PadV2 returned several tensors');
        made.push(out);
        return out;
      };
      let xIn = x;
      let dyIn = dy;
      let conv3dPad: 'same' | 'valid' = 'valid';
      const p = typeof pad === 'number' ? pad : pad === 'valid' ? 0 : null;
      if (pad === 'same' && sh === 1 && sw === 1) {
        conv3dPad = 'same';
      } else if (p !== null) {
        // Extra zero rows (columns) at the end make x_pad's valid output exactly OH·sh (OW·sw) long.
        const extraH = OH * sh - (H + 2 * p - KH + 1);
        const extraW = OW * sw - (W + 2 * p - KW + 1);
        xIn = padded(x, [[0, 0], [p, p + extraH], [p, p + extraW], [0, 0]]);
        if (sh > 1 || sw > 1) {
          const spread = padded(view(dy, [N, OH, 1, OW, 1, O]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
          dyIn = view(spread, [N, OH * sh, OW * sw, O]);
        }
      } else {
        throw new Error(`Conv2DBackpropFilter shim: pad must be a number or 'valid' (or 'same' at stride 1); got ${JSON.stringify(pad)} at strides [${sh}, ${sw}]`);
      }
      const dw = conv3d.kernelFunc({
        inputs: { x: view(xIn, [N, 1, ...xIn.shape.slice(1)]), dy: view(dyIn, [N, 1, ...dyIn.shape.slice(1)]) },
        backend,
        attrs: { strides: [1, 1, 1], pad: conv3dPad, filterShape: [1, KH, KW, C, O] },
      });
      for (const t of made) tf.backend().disposeData(t.dataId);
      if (Array.isArray(dw)) throw new Error('Conv2DBackpropFilter shim: Conv3DBackpropFilterV2 returned several tensors');
      return view(dw, shape);
    },
  });
  return true;
}

let initialised: TfjsInfo | null = null;

/** Sets TF.js up on its wasm backend (once per process) and says how it runs; await it before any TF.js call. */
export async function initTfjs(): Promise<TfjsInfo> {
  if (initialised !== null) return initialised;
  await registerGradients();
  if (!(await tf.setBackend('wasm'))) throw new Error("tfjs-wasm: tf.setBackend('wasm') failed");
  await tf.ready();
  const dwShim = registerConv2DBackpropFilterShim();
  initialised = {
    version: tf.version_core,
    backend: tf.getBackend(),
    simd: (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true,
    multithread: (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true,
    threads: getThreadsCount(),
    dwShim,
  };
  return initialised;
}

/** What a reader of the figures must know, one line each. */
export function describe(info: TfjsInfo): string[] {
  return [
    `TensorFlow.js ${info.version}, backend ${info.backend}: SIMD ${info.simd ? 'on' : 'off'}, ${info.threads} thread${info.threads === 1 ? '' : 's'}` +
      (info.multithread ? '' : ' (TF.js turns its threaded wasm build off under Node)'),
    info.dwShim
      ? 'Conv2DBackpropFilter (dW) is missing from this wasm backend: it runs on Conv3DBackpropFilterV2 as the peers shimmed it, fixed for padding 1 and stride 2 (conv.bwd and the training step time that shim)'
      : 'Conv2DBackpropFilter is the backend\'s own kernel',
    'layout NHWC (transposed from gradlab\'s NCHW once, outside the timed region); gradients from tfjs-core\'s register_all_gradients',
  ];
}

// ── layouts: gradlab's NCHW and [O, C, KH, KW] beside TF.js's NHWC and [KH, KW, C, O] ──

const float32 = (t: g.Tensor): Float32Array => Float32Array.from(t.toArray());

function rank4(t: g.Tensor, what: string): [number, number, number, number] {
  if (t.rank !== 4) throw new Error(`tfjs-wasm: ${what} must be 4-D; got [${t.shape.join(', ')}]`);
  const [a, b, c, d] = t.shape;
  return [a, b, c, d];
}

/** A gradlab tensor as a TF.js tensor of the same shape and values. */
export function tfTensor(t: g.Tensor): tf.Tensor {
  return tf.tensor(float32(t), [...t.shape], 'float32');
}

/** Images [N, C, H, W] → [N, H, W, C]. */
export function toNHWC(x: g.Tensor): tf.Tensor4D {
  const shape = rank4(x, 'an image batch');
  return tf.tidy(() => tf.transpose(tf.tensor4d(float32(x), shape), [0, 2, 3, 1]));
}

/** Conv filters [O, C, KH, KW] → [KH, KW, C, O]. */
export function toHWIO(w: g.Tensor): tf.Tensor4D {
  const shape = rank4(w, 'a conv filter');
  return tf.tidy(() => tf.transpose(tf.tensor4d(float32(w), shape), [2, 3, 1, 0]));
}

/** TF.js images [N, H, W, C] → values in gradlab's order [N, C, H, W]. */
export function fromNHWC(x: tf.Tensor4D): Float32Array {
  return tf.tidy(() => Float32Array.from(tf.transpose(x, [0, 3, 1, 2]).dataSync()));
}

/** TF.js filters [KH, KW, C, O] → values in gradlab's order [O, C, KH, KW]. */
export function fromHWIO(w: tf.Tensor4D): Float32Array {
  return tf.tidy(() => Float32Array.from(tf.transpose(w, [3, 2, 0, 1]).dataSync()));
}

// ── the ops timed ──

/** Every conv of the workloads is 3×3 with padding 1 on each side (a number: TF.js pads symmetrically). */
const PAD = 1;

/** conv2d forward, NHWC: x [N, H, W, C], w [3, 3, C, O] → [N, OH, OW, O]. */
export function conv2dForward(x: tf.Tensor4D, w: tf.Tensor4D, stride: number): tf.Tensor4D {
  return tf.conv2d(x, w, stride, PAD);
}

/**
 * conv2d backward, NHWC, the two kernels TF.js's Conv2D gradient runs: dx = Conv2DBackpropInput
 * (public as conv2dTranspose) when the input needs one, dW = Conv2DBackpropFilter (the shim here).
 */
export function conv2dBackward(x: tf.Tensor4D, w: tf.Tensor4D, dy: tf.Tensor4D, stride: number, needDx: boolean): { dx: tf.Tensor4D | null; dw: tf.Tensor4D } {
  const dx = needDx ? tf.conv2dTranspose(dy, w, [x.shape[0], x.shape[1], x.shape[2], x.shape[3]], stride, PAD) : null;
  const dw = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { strides: stride, pad: PAD, dataFormat: 'NHWC', filterShape: w.shape });
  if (Array.isArray(dw) || dw.rank !== 4) throw new Error('tfjs-wasm: Conv2DBackpropFilter returned something other than one 4-D tensor');
  return { dx, dw: tf.reshape(dw, w.shape) };
}

// ── SmallNet, module by module ──

interface BatchNormState {
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
  eps: number;
  momentum: number;
}

/** One layer of the translated network: its forward, given training mode and the dropout seed of this call. */
type Layer = (x: tf.Tensor, training: boolean, seed: string) => tf.Tensor;

export interface TfNet {
  layers: Layer[];
  /** The learned variables (what the optimiser updates). */
  trainable: tf.Variable[];
  /** Every variable, running statistics included. */
  variables: tf.Variable[];
}

/** A TF.js variable holding `values` (made inside the tidy, which frees the tensor the variable copied). */
const variable = (values: () => tf.Tensor, trainable: boolean): tf.Variable => tf.tidy(() => tf.variable(values(), trainable));

/**
 * Batch norm on the batch's statistics (training) or the running ones (evaluation), over every axis
 * but the channels (last, in NHWC); in training the running averages move as gradlab's BatchNorm
 * layers move theirs (momentum, unbiased variance).
 */
function batchNorm(bn: BatchNormState, x: tf.Tensor, training: boolean): tf.Tensor {
  if (!training) return tf.batchNorm(x, bn.runningMean, bn.runningVar, bn.beta, bn.gamma, bn.eps);
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  const n = x.size / mean.size;
  bn.runningMean.assign(tf.add(tf.mul(bn.runningMean, 1 - bn.momentum), tf.mul(mean, bn.momentum)));
  bn.runningVar.assign(tf.add(tf.mul(bn.runningVar, 1 - bn.momentum), tf.mul(variance, (bn.momentum * n) / (n - 1))));
  return tf.batchNorm(x, mean, variance, bn.beta, bn.gamma, bn.eps);
}

const pair = (v: number | readonly [number, number]): readonly [number, number] => (typeof v === 'number' ? [v, v] : v);

/**
 * A TF.js copy of a gradlab feed-forward model built from Conv2d, BatchNorm2d/1d, ReLU, MaxPool2d,
 * Dropout, Flatten and Linear modules (SmallNet is): the same layers with the same initial values, in
 * the order namedModules() lists them — the order SmallNet's forward runs them. Images are NHWC; at the
 * Flatten the activations go back to NCHW order, so the Linear weights apply as they are.
 */
export function translate(model: Module): TfNet {
  const trainable: tf.Variable[] = [];
  const variables: tf.Variable[] = [];
  const keep = (v: tf.Variable): tf.Variable => {
    variables.push(v);
    if (v.trainable) trainable.push(v);
    return v;
  };
  const layers: Layer[] = [];
  let dropouts = 0;
  for (const [name, m] of model.namedModules()) {
    if (m.namedChildren().length > 0) continue; // a container: its children follow
    if (m instanceof Conv2d) {
      if (m.bias !== null) throw new Error(`tfjs-wasm: ${name}: convs with a bias are not translated`);
      const [sh, sw] = pair(m.stride);
      const [ph, pw] = pair(m.padding);
      if (ph !== pw) throw new Error(`tfjs-wasm: ${name}: padding must be the same on both axes; got [${ph}, ${pw}]`);
      const w = keep(variable(() => toHWIO(m.weight), true));
      layers.push((x) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, [sh, sw], ph));
    } else if (m instanceof BatchNorm2d || m instanceof BatchNorm1d) {
      const bn: BatchNormState = {
        gamma: keep(variable(() => tfTensor(m.weight), true)),
        beta: keep(variable(() => tfTensor(m.bias), true)),
        runningMean: keep(variable(() => tfTensor(m.runningMean), false)),
        runningVar: keep(variable(() => tfTensor(m.runningVar), false)),
        eps: m.eps,
        momentum: m.momentum,
      };
      layers.push((x, training) => batchNorm(bn, x, training));
    } else if (m instanceof ReLU) {
      layers.push((x) => tf.relu(x));
    } else if (m instanceof MaxPool2d) {
      const size = pair(m.kernelSize);
      const stride = pair(m.options.stride ?? m.kernelSize);
      const [ph, pw] = pair(m.options.padding ?? 0);
      if (ph !== 0 || pw !== 0) throw new Error(`tfjs-wasm: ${name}: padded max pooling is not translated`);
      layers.push((x) => tf.maxPool(x as tf.Tensor4D, [size[0], size[1]], [stride[0], stride[1]], 'valid'));
    } else if (m instanceof Dropout) {
      const rate = m.p;
      const index = dropouts++;
      layers.push((x, training, seed) => (training && rate > 0 ? tf.dropout(x, rate, undefined, `${seed}/${index}`) : x));
    } else if (m instanceof Flatten) {
      if (m.startAxis !== 1) throw new Error(`tfjs-wasm: ${name}: only Flatten(1) is translated; got startAxis ${m.startAxis}`);
      layers.push((x) => tf.reshape(x.rank === 4 ? tf.transpose(x, [0, 3, 1, 2]) : x, [x.shape[0], -1]));
    } else if (m instanceof Linear) {
      const w = keep(variable(() => tf.transpose(tfTensor(m.weight)), true)); // [out, in] → [in, out]
      const bias = m.bias;
      const b = bias === null ? null : keep(variable(() => tfTensor(bias), true));
      layers.push((x) => (b === null ? tf.matMul(x, w) : tf.add(tf.matMul(x, w), b)));
    } else {
      throw new Error(`tfjs-wasm: ${name}: no TF.js translation for a ${m.constructor.name}`);
    }
  }
  return { layers, trainable, variables };
}

/** The network's output for NHWC images; `seed` makes the dropout masks of this call (training only). */
export function forward(net: TfNet, x: tf.Tensor4D, training: boolean, seed = 'dropout'): tf.Tensor {
  return net.layers.reduce<tf.Tensor>((h, layer) => layer(h, training, seed), x);
}

/**
 * SmallNet's training step as bench/workloads.ts sets it up (same network and initial values, same
 * images and labels): forward in training mode, softmax cross-entropy (mean over the batch),
 * backward (tf.variableGrads inside minimize), SGD with momentum 0.9 and lr 0.01 (TF.js's momentum
 * update, accumulator = 0.9·accumulator + gradient, is PyTorch's and gradlab's). Each call draws new
 * dropout masks (seeded by the step number) and reads the loss back.
 */
export function smallNetStep(batch: number): { step: () => number; dispose: () => void } {
  const { model, classes } = buildModel('smallnet', 'reference');
  const net = translate(model);
  for (const t of [...model.parameters(), ...model.buffers()]) t.dispose();
  const images = g.randn([batch, 3, 32, 32], { seed: 'images', backend: 'reference' });
  const x = toNHWC(images);
  images.dispose();
  const labels = tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from({ length: batch }, (_, i) => (i * 37) % classes), 'int32'), classes));
  const optimizer = tf.train.momentum(0.01, 0.9);
  let steps = 0;
  return {
    step: () => {
      const seed = `dropout/${steps++}`;
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, forward(net, x, true, seed)), true, net.trainable);
      if (loss === null) throw new Error('tfjs-wasm: minimize returned no loss');
      const value = loss.dataSync()[0];
      loss.dispose();
      return value;
    },
    dispose: () => {
      // TF.js 4.22's MomentumOptimizer.dispose() misses one scalar of its own (SGD's −lr): the end-of-run
      // tensor count shows it after the step workload.
      optimizer.dispose();
      tf.dispose([x, labels, ...net.variables]);
    },
  };
}

// ── the workloads, under gradlab's ids ──

/** A TF.js workload: the id of the gradlab workload it pairs with, its work per call, and its setup. */
export interface TfjsWorkload {
  id: string;
  work: number;
  prepare: () => Prepared;
}

/** A gradlab seeded normal tensor (the values bench/workloads.ts draws for that seed). */
const randn = (shape: number[], seed: string): g.Tensor => g.randn(shape, { seed, backend: 'reference' });

function gemm(n: number): TfjsWorkload[] {
  const flop = 2 * n ** 3;
  const inputs = (...seeds: string[]): tf.Tensor[] =>
    seeds.map((seed) => {
      const t = randn([n, n], seed);
      const out = tfTensor(t);
      t.dispose();
      return out;
    });
  const forward: TfjsWorkload = {
    id: `gemm.fwd ${n}`,
    work: flop,
    prepare: () => {
      const [a, b] = inputs('a', 'b');
      return { run: () => tf.tidy(() => void tf.matMul(a, b)), dispose: () => tf.dispose([a, b]) };
    },
  };
  // Backward as TF.js's own MatMul gradient runs it: matMul with the transpose flags (on the wasm
  // backend those paths are much slower than the plain product).
  const backward: TfjsWorkload = {
    id: `gemm.bwd ${n}`,
    work: 2 * flop, // da = dy·bᵀ, db = aᵀ·dy
    prepare: () => {
      const [a, b, dy] = inputs('a', 'b', 'dy');
      return {
        run: () => tf.tidy(() => void [tf.matMul(dy, b, false, true), tf.matMul(a, dy, true, false)]),
        dispose: () => tf.dispose([a, b, dy]),
      };
    },
  };
  return n === 512 ? [forward, backward] : [forward];
}

/** The conv layers of bench/workloads.ts (x NCHW; 3×3 filters, padding 1); their FLOP are checked against gradlab's. */
interface ConvLayer {
  id: string;
  x: [number, number, number, number];
  out: number;
  stride: number;
  dx: boolean;
}

function conv({ id, x: xShape, out, stride, dx: needDx }: ConvLayer): TfjsWorkload[] {
  const [N, C, H, W] = xShape;
  const OH = Math.floor((H + 2 * PAD - 3) / stride) + 1;
  const OW = Math.floor((W + 2 * PAD - 3) / stride) + 1;
  const flop = 2 * N * out * OH * OW * C * 9;
  const convert = (shape: number[], seed: string, to: (t: g.Tensor) => tf.Tensor4D): tf.Tensor4D => {
    const t = randn(shape, seed);
    const result = to(t);
    t.dispose();
    return result;
  };
  const inputs = (): [tf.Tensor4D, tf.Tensor4D] => [convert([...xShape], 'x', toNHWC), convert([out, C, 3, 3], 'w', toHWIO)];
  return [
    {
      id: `conv.fwd ${id}`,
      work: flop,
      prepare: () => {
        const [x, w] = inputs();
        return { run: () => tf.tidy(() => void conv2dForward(x, w, stride)), dispose: () => tf.dispose([x, w]) };
      },
    },
    {
      id: `conv.bwd ${id}`,
      work: needDx ? 2 * flop : flop,
      prepare: () => {
        const [x, w] = inputs();
        const dy = convert([N, out, OH, OW], 'dy', toNHWC);
        return { run: () => tf.tidy(() => void conv2dBackward(x, w, dy, stride, needDx)), dispose: () => tf.dispose([x, w, dy]) };
      },
    },
  ];
}

/** The TF.js workloads at batch size `batch`, in gradlab's order. */
export function tfjsWorkloads(batch: number): TfjsWorkload[] {
  const B = batch;
  const layers: ConvLayer[] = [
    { id: 'smallnet.conv1', x: [B, 3, 32, 32], out: 32, stride: 1, dx: false },
    { id: 'smallnet.conv2', x: [B, 32, 16, 16], out: 64, stride: 1, dx: true },
    { id: 'smallnet.conv3', x: [B, 64, 8, 8], out: 128, stride: 1, dx: true },
    { id: 'resnet.stage1', x: [B, 16, 32, 32], out: 16, stride: 1, dx: true },
    { id: 'resnet.stage2.down', x: [B, 16, 32, 32], out: 32, stride: 2, dx: true },
    { id: 'resnet.stage2', x: [B, 32, 16, 16], out: 32, stride: 1, dx: true },
    { id: 'resnet.stage3', x: [B, 64, 8, 8], out: 64, stride: 1, dx: true },
    { id: 'peers', x: [64, 32, 16, 16], out: 64, stride: 1, dx: true },
  ];
  return [
    ...gemm(256),
    ...gemm(512),
    ...gemm(1024),
    ...layers.flatMap(conv),
    {
      id: 'step smallnet',
      work: B,
      prepare: () => {
        const { step, dispose } = smallNetStep(B);
        return { run: () => void step(), dispose };
      },
    },
  ];
}

// ── the run ──

export interface TfjsSuiteOptions {
  batch: number;
  quick: boolean;
  only: readonly string[];
  print: (line: string) => void;
}

/**
 * Runs the TF.js workloads gradlab has too (ids, FLOP and descriptions from bench/workloads.ts, in
 * its order), each timed as bench/suite.ts times gradlab's.
 */
export async function runTfjsSuite(options: TfjsSuiteOptions): Promise<SuiteResult> {
  const { print } = options;
  const info = await initTfjs();
  const notes = describe(info);
  const machine = machineInfo();
  const started = performance.now();
  const startedAt = new Date().toISOString();
  print(`# target ${TFJS_TARGET}: ${notes[0]}`);
  for (const line of notes.slice(1)) print(`# ${line}`);
  print(`# ${machine.cpu}, ${machine.cores} cores, node ${machine.node}; load average ${machine.loadAverage} at the start; batch ${options.batch}${options.quick ? ', quick' : ''}`);

  const ours = new Map(tfjsWorkloads(options.batch).map((w) => [w.id, w]));
  const theirs = workloads(options.batch);
  for (const id of ours.keys()) {
    if (!theirs.some((w) => w.id === id)) throw new Error(`tfjs-wasm: gradlab has no workload '${id}' (bench/workloads.ts changed? update bench/tfjs.ts)`);
  }
  const tensorsAtStart = tf.memory().numTensors;
  const results: WorkloadResult[] = [];
  const without: string[] = [];
  for (const w of theirs) {
    if (!selected(w, options.only)) continue;
    const mine = ours.get(w.id);
    if (mine === undefined) {
      without.push(w.id);
      continue;
    }
    if (mine.work !== w.work) throw new Error(`tfjs-wasm: '${w.id}' does ${mine.work} ${w.unit} per call here and ${w.work} in bench/workloads.ts; the shapes differ`);
    const prepared = mine.prepare();
    let alive: number | null = null;
    const run = (): void => {
      prepared.run();
      const now = tf.memory().numTensors;
      if (alive !== null && now !== alive) throw new Error(`tfjs-wasm: '${w.id}' leaves ${now - alive} more TF.js tensors alive after each call`);
      alive = now;
    };
    const result = measure(w, run, options.quick);
    prepared.dispose();
    results.push(result);
    print(formatResult(result));
  }
  if (without.length > 0) print(`# not run (no TF.js counterpart here): ${without.join(', ')}`);
  const tensorsAtEnd = tf.memory().numTensors;
  print(`# TF.js tensors alive: ${tensorsAtStart} at the start, ${tensorsAtEnd} at the end; wasm heap ${(tf.memory().numBytes / 2 ** 20).toFixed(1)} MiB in tensors`);
  const loadAverageAfter = machineInfo().loadAverage;
  print(`# load average ${loadAverageAfter} at the end`);
  return {
    target: TFJS_TARGET,
    backend: TFJS_TARGET,
    gpu: null,
    machine,
    loadAverageAfter,
    batch: options.batch,
    quick: options.quick,
    startedAt,
    seconds: (performance.now() - started) / 1000,
    results,
    memory: null,
    notes,
  };
}

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      batch: { type: 'string', default: '128' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string', default: '' },
      json: { type: 'string' },
    },
    strict: true,
  });
  const batch = Number(values.batch);
  if (!Number.isInteger(batch) || batch < 2) throw new Error(`bench: --batch must be an integer ≥ 2; got '${values.batch}'`);
  const result = await runTfjsSuite({
    batch,
    quick: values.quick,
    only: values.only.split(',').map((s) => s.trim()).filter((s) => s !== ''),
    print: (line) => console.log(line),
  });
  if (values.json !== undefined) writeResult(values.json, result);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
