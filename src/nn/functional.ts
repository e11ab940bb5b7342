/**
 * g.nn.functional: the network ops with friendly signatures (NCHW). Each function checks and
 * shapes its arguments, then applies a primitive of ./ops (or composes primitives).
 *
 * @module
 */
import { Tensor, tidy } from '../tensor/tensor.js';
import * as P from './ops/index.js';
import { defaultStream, randomStream, type RandomStream } from '../tensor/random.js';
import { noGrad } from '../autograd/grad-mode.js';
import { expectRows } from './ops/rows.js';
import { fromTyped, full, tensor } from '../tensor/create.js';
import { toTyped, type TypedArray } from '../tensor/dtype.js';
import { add, argmax, mul, permute, reshape, sum } from '../autograd/math.js';
import { matmul as matmulOp } from '../autograd/ops/matmul.js';
import { expectRank, normalizeAxis, sameShape, shapeToString, sizeOf } from '../tensor/shape.js';
import { checkKeys } from '../util/options.js';
import { shown } from '../util/format.js';

// ── convolution and pooling (ops/conv2d.ts, ops/max-pool2d.ts, ops/avg-pool2d.ts) ──

/** A window size, stride or padding: one number for both axes, or a [y, x] pair. */
export type Size2 = number | readonly [number, number];

/** `value` as a [y, x] pair of integers ≥ `min`, or an error naming the op, the option and what came. */
function pairOf(op: string, option: string, value: Size2, min: number): readonly [number, number] {
  const pair = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((v) => Number.isInteger(v) && v >= min)) {
    throw new Error(`${op}: ${option} must be an integer ≥ ${min} or a pair [y, x] of them; got ${shown(value)}`);
  }
  return [pair[0], pair[1]];
}

/** Options of conv2d. */
export interface Conv2dOptions {
  /** Step of the window, default 1. */
  stride?: Size2;
  /** Zeros added on each side of the input, default 0. */
  padding?: Size2;
}

/**
 * 2-D convolution, NCHW: x [N, C, H, W], w [outChannels, C, KH, KW], optional bias b [outChannels].
 * Output [N, outChannels, ⌊(H + 2·padding − KH) / stride⌋ + 1, ⌊(W + 2·padding − KW) / stride⌋ + 1].
 * The bias is a composite: y + b reshaped to [1, outChannels, 1, 1] (broadcast over n, y, x).
 *
 *   conv2d(x [2, 3, 32, 32], w [16, 3, 3, 3], b [16], { stride: 2, padding: 1 })  // → [2, 16, 16, 16]
 */
export function conv2d(x: Tensor, w: Tensor, b?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  checkKeys('conv2d', options, ['stride', 'padding']);
  const stride = pairOf('conv2d', 'stride', options.stride ?? 1, 1);
  const padding = pairOf('conv2d', 'padding', options.padding ?? 0, 0);
  const y = P.conv2d.apply({ x, w }, { stride, padding });
  if (b === undefined || b === null) return y;
  if (!(b instanceof Tensor) || !sameShape(b.shape, [w.shape[0]])) {
    throw new Error(
      `conv2d: b must have shape [${w.shape[0]}] (one bias per output channel of w ${shapeToString(w.shape)}); ` +
        `got ${b instanceof Tensor ? shapeToString(b.shape) : typeof b}`,
    );
  }
  return add(y, reshape(b, [1, w.shape[0], 1, 1]));
}

/** Options of maxPool2d and avgPool2d: kernelSize is required. */
export interface Pool2dOptions {
  /** The window's size. */
  kernelSize: Size2;
  /** Step of the window, default kernelSize (windows side by side). */
  stride?: Size2;
  /** Padding on each side, default 0; at most half of kernelSize. */
  padding?: Size2;
}

function poolAttrs(op: string, options: Pool2dOptions) {
  if (typeof options !== 'object' || options === null) throw new Error(`${op}: options { kernelSize, stride?, padding? } are required; got ${shown(options)}`);
  checkKeys(op, options, ['kernelSize', 'stride', 'padding']);
  const kernelSize = pairOf(op, 'kernelSize', options.kernelSize, 1);
  return {
    kernelSize,
    stride: pairOf(op, 'stride', options.stride ?? kernelSize, 1),
    padding: pairOf(op, 'padding', options.padding ?? 0, 0),
  };
}

/**
 * Max pooling, NCHW: the maximum of each window, per channel. Padding cells never win. At a tie the
 * first maximal element in scan order (row by row) gets the whole gradient, as in PyTorch's CPU kernel.
 *
 *   maxPool2d(x [2, 16, 32, 32], { kernelSize: 2 })                         // → [2, 16, 16, 16]
 *   maxPool2d(x [2, 16, 32, 32], { kernelSize: 3, stride: 2, padding: 1 })  // → [2, 16, 16, 16]
 */
export function maxPool2d(x: Tensor, options: Pool2dOptions): Tensor {
  return P.maxPool2d.apply({ x }, poolAttrs('maxPool2d', options));
}

/**
 * Average pooling, NCHW: the mean of each window, per channel, always divided by the full window
 * area (padding counts as zeros, PyTorch's count_include_pad = true).
 *
 *   avgPool2d(x [2, 64, 8, 8], { kernelSize: 8 })   // → [2, 64, 1, 1], the ResNets' global pool
 */
export function avgPool2d(x: Tensor, options: Pool2dOptions): Tensor {
  return P.avgPool2d.apply({ x }, poolAttrs('avgPool2d', options));
}

// ── linear ──

/**
 * Fully connected layer, PyTorch layout: x [N, in] (or [..., in]), w [out, in], optional b [out].
 * A composite, no kernel of its own:  y = x @ wᵀ + b  → [N, out] (b broadcast over the rows), the
 * product one matmul that reads w transposed (its transposeB). Its gradients come from matmul and
 * add: dx = dy @ w, dw = dyᵀ @ x, db = Σ_n dy.
 *
 *   linear(x [2, 2048], w [512, 2048], b [512])   // → [2, 512]
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  if (!(x instanceof Tensor) || !(w instanceof Tensor)) throw new Error('linear: x and w must be Tensors');
  if (w.rank !== 2) throw new Error(`linear: w must be 2-D [out, in]; got ${shapeToString(w.shape)}`);
  const [out, inFeatures] = w.shape;
  if (x.rank < 2 || x.shape[x.rank - 1] !== inFeatures) {
    throw new Error(`linear: x must be [N, ${inFeatures}] (its last axis matching w ${shapeToString(w.shape)}); got ${shapeToString(x.shape)}`);
  }
  const rows = x.shape.slice(0, -1); // [N], or the leading axes of x [..., in]
  const flat = reshape(x, [sizeOf(rows), inFeatures]);
  const y = reshape(matmulOp.apply({ a: flat, b: w }, { transposeB: true }), [...rows, out]);
  if (b === undefined || b === null) return y;
  if (!(b instanceof Tensor) || !sameShape(b.shape, [out])) {
    throw new Error(`linear: b must have shape [${out}] (one bias per output of w ${shapeToString(w.shape)}); got ${b instanceof Tensor ? shapeToString(b.shape) : typeof b}`);
  }
  return add(y, b);
}

// ── normalisation and dropout (ops/batch-norm.ts, ops/dropout.ts) ──

/** Options of batchNorm (all optional; evaluation needs runningMean and runningVar). */
export interface BatchNormOptions {
  /** γ [C], the learnable per-channel scale; default 1. */
  weight?: Tensor | null;
  /** β [C], the learnable per-channel shift; default 0. */
  bias?: Tensor | null;
  /** Shape [C]: read in evaluation, updated in place while training. Required when training is false. */
  runningMean?: Tensor | null;
  /** Shape [C]: read in evaluation, updated in place (with the unbiased variance) while training. */
  runningVar?: Tensor | null;
  /** true: normalise with the batch's statistics; false (the default, as PyTorch's F.batch_norm): the running ones. */
  training?: boolean;
  /** Weight of the new batch statistic in the running averages; default 0.1. */
  momentum?: number;
  /** Added to the variance under the square root; default 1e-5. */
  eps?: number;
}

/**
 * Batch normalisation per channel (axis 1) of x [N, C] or [N, C, H, W]; the math is in
 * ops/batch-norm.ts. Training normalises with the batch mean and biased variance and, when
 * runningMean/runningVar are given, updates them in place outside the graph, the variance with the
 * unbiased batch variance (m = N·H·W values per channel):
 *   runningMean ← (1 − momentum)·runningMean + momentum·μ_B
 *   runningVar  ← (1 − momentum)·runningVar  + momentum·σ²_B·m/(m − 1)
 * Evaluation (training: false) normalises with runningMean and runningVar, so it needs both.
 *
 *   batchNorm(x [8, 16, 32, 32], { weight, bias, runningMean, runningVar, training: true })  // → [8, 16, 32, 32]
 */
export function batchNorm(x: Tensor, options: BatchNormOptions = {}): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`batchNorm: x must be a Tensor [N, C] or [N, C, H, W]; got ${typeof x}`);
  if (typeof options !== 'object' || options === null) {
    throw new Error(`batchNorm: options must be an object like { weight, bias, runningMean, runningVar, training }; got ${shown(options)}`);
  }
  checkKeys('batchNorm', options, ['weight', 'bias', 'runningMean', 'runningVar', 'training', 'momentum', 'eps']);
  expectRank('batchNorm', 'x', x.shape, [2, 4], '(N, C) or (N, C, H, W)');
  const { training = false, momentum = 0.1, eps = 1e-5, runningMean, runningVar } = options;
  if (typeof training !== 'boolean') throw new Error(`batchNorm: training must be true or false; got ${shown(training)}`);
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) {
    throw new Error(`batchNorm: momentum must be a number in [0, 1] (the weight of the new batch statistic); got ${shown(momentum)}`);
  }
  const hasRunningStats = runningMean !== undefined && runningMean !== null;
  if (hasRunningStats !== (runningVar !== undefined && runningVar !== null)) {
    throw new Error('batchNorm: give runningMean and runningVar together, or neither');
  }
  if (!training && !hasRunningStats) {
    throw new Error('batchNorm: evaluation mode (training: false) normalises with runningMean and runningVar; give both, or pass training: true to use the batch statistics');
  }
  const C = x.shape[1];
  const constant = (value: number): Tensor => full([C], value, { dtype: x.dtype, backend: x.backend });
  const perChannel = (name: string, t: Tensor | null | undefined): Tensor | null => {
    if (t === undefined || t === null) return null;
    if (!(t instanceof Tensor) || !sameShape(t.shape, [C])) {
      throw new Error(
        `batchNorm: ${name} must have shape [${C}] (one value per channel of x ${shapeToString(x.shape)}); ` +
          `got ${t instanceof Tensor ? shapeToString(t.shape) : typeof t}`,
      );
    }
    return t;
  };
  const weight = perChannel('weight', options.weight) ?? constant(1);
  const bias = perChannel('bias', options.bias) ?? constant(0);
  const givenMean = perChannel('runningMean', runningMean);
  const givenVar = perChannel('runningVar', runningVar);
  // Training does not read the running statistics, so the op gets constants in their place, never
  // the tensors updated in place below: assign frees their old storage, which the graph would keep.
  const y = P.batchNorm.apply(
    {
      x,
      gamma: weight,
      beta: bias,
      runningMean: training || givenMean === null ? constant(0) : givenMean,
      runningVar: training || givenVar === null ? constant(1) : givenVar,
    },
    { training, eps },
  );
  if (training && givenMean !== null && givenVar !== null) updateRunningStats(x, givenMean, givenVar, momentum);
  return y;
}

/**
 * The running averages' in-place update, outside the graph. The batch statistics come from the
 * batchStats primitive ([2, C]: μ and the biased σ², two passes as in batchNorm's own kernel); the
 * rest is [C]-sized. Each average's batch term is a weighted sum of the two rows of stats.
 */
function updateRunningStats(x: Tensor, runningMean: Tensor, runningVar: Tensor, momentum: number): void {
  tidy(() =>
    noGrad(() => {
      const m = x.size / x.shape[1];
      const stats = P.batchStats.apply({ x });
      const batchTerm = (wMean: number, wVar: number): Tensor =>
        sum(mul(stats, tensor([[wMean], [wVar]], { dtype: x.dtype, backend: x.backend })), { axis: 0 }); // [C]
      runningMean.assign(add(mul(runningMean, 1 - momentum), batchTerm(momentum, 0)));
      runningVar.assign(add(mul(runningVar, 1 - momentum), batchTerm(0, (momentum * m) / (m - 1)))); // σ²·m/(m − 1): unbiased
    }),
  );
}

export { dropoutMask } from './ops/dropout.js';

/** Options of dropout. */
export interface DropoutOptions {
  /** The probability of dropping each element, in [0, 1); default 0.5. */
  p?: number;
  /** Drop only while training (default true); with false, x is returned as it is. */
  training?: boolean;
  /** The mask's random stream, or a seed for a new one; default the shared defaultStream() (see manualSeed). */
  seed?: number | RandomStream;
  /** A mask to use instead of drawing one: x.size values, 0 (drop) or 1 (keep), e.g. from dropoutMask. */
  mask?: ArrayLike<number>;
}

/**
 * Inverted dropout: each element of x is zeroed with probability p and the kept ones are scaled by
 * 1/(1 − p), so E[y] = x and evaluation (training: false) is the identity. With p = 0 or in
 * evaluation x itself is returned (nothing recorded). The 0/1 mask is drawn on the host from a
 * seeded stream and uploaded, so one seed gives one mask on every backend.
 *
 *   dropout(g.ones([2, 4]), { p: 0.5, seed: 1 })   // [[0, 2, 2, 0], [2, 2, 2, 2]]
 */
export function dropout(x: Tensor, options: DropoutOptions = {}): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`dropout: x must be a Tensor; got ${typeof x}`);
  if (typeof options !== 'object' || options === null) {
    throw new Error(`dropout: options must be an object like { p: 0.5, training: true }; got ${shown(options)}`);
  }
  checkKeys('dropout', options, ['p', 'training', 'seed', 'mask']);
  const { p = 0.5, training = true, seed, mask } = options;
  P.checkDropoutP('dropout', p);
  if (typeof training !== 'boolean') throw new Error(`dropout: training must be true or false; got ${shown(training)}`);
  if (!training || p === 0) return x;
  let values: TypedArray;
  if (mask !== undefined) {
    if (seed !== undefined) throw new Error('dropout: give seed or mask, not both (a given mask is used as it is)');
    if (mask === null || typeof mask !== 'object' || mask.length !== x.size) {
      throw new Error(`dropout: mask must hold x.size = ${x.size} values (x ${shapeToString(x.shape)}); got ${mask === null || typeof mask !== 'object' ? typeof mask : mask.length}`);
    }
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] !== 0 && mask[i] !== 1) throw new Error(`dropout: mask values must be 0 (drop) or 1 (keep); got ${mask[i]} at index ${i}`);
    }
    values = toTyped(mask, x.dtype);
  } else {
    let stream: RandomStream;
    if (seed === undefined) stream = defaultStream();
    else if (typeof seed === 'number') stream = randomStream(seed);
    else if (typeof seed === 'object' && seed !== null && typeof seed.uniform === 'function') stream = seed;
    else throw new Error(`dropout: seed must be a number or a RandomStream; got ${shown(seed)}`);
    values = P.dropoutMask(x.shape, p, stream, x.dtype);
  }
  return P.dropout.apply({ x, mask: fromTyped(values, x.shape, { dtype: x.dtype, backend: x.backend }) }, { p });
}

// ── activations (ops/relu.ts, leaky-relu.ts, prelu.ts, elu.ts, frelu.ts) ──

/**
 * Throws unless `options` is an options object with only `accepted` keys (catches
 * `leakyRelu(x, 0.2)` for `{ negativeSlope: 0.2 }`, and misspelled keys).
 */
function checkOptions(op: string, options: unknown, example: string, accepted: readonly string[]): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new Error(`${op}: options must be an object like ${example}; got ${shown(options)}`);
  }
  checkKeys(op, options, accepted);
}

/**
 * ReLU: max(x, 0) elementwise; the gradient at 0 is taken as 0.
 *
 *   relu(g.tensor([-1, 0, 2]))   // [0, 0, 2]
 */
export function relu(x: Tensor): Tensor {
  return P.relu.apply({ x });
}

/**
 * Leaky ReLU: x for x > 0, negativeSlope·x otherwise (negativeSlope defaults to 0.01).
 *
 *   leakyRelu(g.tensor([-2, 3]), { negativeSlope: 0.1 })   // [-0.2, 3]
 */
export function leakyRelu(x: Tensor, options: { negativeSlope?: number } = {}): Tensor {
  checkOptions('leakyRelu', options, '{ negativeSlope: 0.01 }', ['negativeSlope']);
  return P.leakyRelu.apply({ x }, { negativeSlope: options.negativeSlope ?? 0.01 });
}

/**
 * PReLU: x for x > 0, a·x otherwise, with a learnable slope `a` of shape [1] (shared) or [C]
 * (one per channel, channel axis 1).
 *
 *   prelu(g.tensor([-2, 3]), g.tensor([0.25]))   // [-0.5, 3]
 */
export function prelu(x: Tensor, a: Tensor): Tensor {
  return P.prelu.apply({ x, a });
}

/**
 * ELU: x for x > 0, alpha·(eˣ − 1) otherwise (alpha defaults to 1).
 *
 *   elu(g.tensor([-1, 2]))   // [-0.632…, 2]
 */
export function elu(x: Tensor, options: { alpha?: number } = {}): Tensor {
  checkOptions('elu', options, '{ alpha: 1 }', ['alpha']);
  return P.elu.apply({ x }, { alpha: options.alpha ?? 1 });
}

/**
 * FReLU (Qiu & Cai 2017, eq. 2): max(x, 0) + b, with a learnable `b` of shape [] (one scalar per
 * layer, the paper's b_l) or [C] (one per channel, channel axis 1). With b = 0 it is ReLU.
 *
 *   frelu(g.tensor([-2, 0.5]), g.tensor(0.25))   // [0.25, 0.75]
 *
 * `bGradScale` (post-paper, the authors' later code) scales b's gradient: db = bGradScale · Σ dy.
 */
export function frelu(x: Tensor, b: Tensor, options: { bGradScale?: number } = {}): Tensor {
  checkOptions('frelu', options, '{ bGradScale: 1 }', ['bGradScale']);
  return P.frelu.apply({ x, b }, { bGradScale: options.bGradScale ?? 1 });
}

// ── losses (ops/log-softmax.ts, ops/cross-entropy.ts) ──

/** Which axis softmax and logSoftmax normalise over: `{ axis }` or a bare axis number. */
export type SoftmaxAxis = number | { axis?: number };

/**
 * Applies a rows primitive ([N, C] → [N, C], over axis 1) along any axis of x: that axis is moved
 * last and the rest flattened into rows, then everything is put back (permute and reshape are
 * their own adjoints, so the gradient comes back the same way).
 */
function alongAxis(op: string, x: Tensor, arg: SoftmaxAxis | undefined, rows: (x2: Tensor) => Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${op}: x must be a Tensor; got ${typeof x}`);
  let axisArg: number | undefined;
  if (typeof arg === 'number') axisArg = arg;
  else {
    checkOptions(op, arg ?? {}, '{ axis: -1 }', ['axis']);
    axisArg = arg?.axis;
  }
  if (x.rank === 0) throw new Error(`${op}: x must have at least one axis; got a scalar`);
  const axis = normalizeAxis(op, axisArg ?? -1, x.rank);
  if (x.rank === 2 && axis === 1) return rows(x);
  const order = [...x.shape.keys()].filter((a) => a !== axis).concat(axis);
  const moved = permute(x, order);
  const y = reshape(rows(reshape(moved, [-1, x.shape[axis]])), moved.shape);
  const back = order.map((_, i) => order.indexOf(i));
  return permute(y, back);
}

/**
 * softmax along an axis (default the last: the classes of x [N, C]), computed stably through the
 * maximum; each slice along the axis sums to 1.
 *
 *   softmax(g.tensor([[0, Math.log(3)]]))          // [[0.25, 0.75]]
 *   softmax(x [N, C, H, W], { axis: 1 })           // per pixel, over the channels
 */
export function softmax(x: Tensor, options?: SoftmaxAxis): Tensor {
  return alongAxis('softmax', x, options, (x2) => P.softmax.apply({ x: x2 }));
}

/**
 * log softmax along an axis (default the last: the classes of x [N, C]), computed stably through
 * the maximum.
 *
 *   logSoftmax(g.tensor([[0, 0]]))   // [[-0.693…, -0.693…]]  (log ½)
 */
export function logSoftmax(x: Tensor, options?: SoftmaxAxis): Tensor {
  return alongAxis('logSoftmax', x, options, (x2) => P.logSoftmax.apply({ x: x2 }));
}

/** Class labels for crossEntropy: a Tensor [N], or plain integer class indices. */
export type Labels = Tensor | readonly number[] | Int32Array | Uint8Array;

/**
 * Softmax cross-entropy, averaged over the batch: mean over n of −log softmax(logits)[n, labels[n]].
 * logits [N, C]; labels [N] hold integer classes in [0, C), as a Tensor or a plain array (made a
 * tensor of the logits' dtype and backend). Labels are checked on the host before anything runs.
 *
 *   crossEntropy(g.tensor([[1000, 0], [0, -1000]]), [0, 1])   // (0 + 1000) / 2 = 500
 */
export function crossEntropy(logits: Tensor, labels: Labels): Tensor {
  const { N, values } = checkLabels('crossEntropy', logits, labels);
  const ready = labels instanceof Tensor && labels.dtype === logits.dtype && labels.backend === logits.backend;
  const labelTensor = ready ? labels : fromTyped(toTyped(values, logits.dtype), [N], { dtype: logits.dtype, backend: logits.backend });
  return P.crossEntropy.apply({ logits, labels: labelTensor });
}

/**
 * The fraction of rows of logits [N, C] whose largest score is at the label (ties: the first
 * maximum, as argmax). A number in [0, 1]; no graph.
 *
 *   accuracy(g.tensor([[2, 1], [0, 3], [5, 4]]), [0, 1, 1])   // 2/3
 */
export function accuracy(logits: Tensor, labels: Labels): number {
  const { N, values } = checkLabels('accuracy', logits, labels);
  const predicted = noGrad(() => argmax(logits, { axis: 1 })).toArray();
  let right = 0;
  for (let n = 0; n < N; n++) if (predicted[n] === values[n]) right++;
  return right / N;
}

/** logits [N, C] and N integer labels in [0, C), checked on the host. */
function checkLabels(op: string, logits: Tensor, labels: Labels): { N: number; values: ArrayLike<number> } {
  if (!(logits instanceof Tensor)) throw new Error(`${op}: logits must be a Tensor [N, C]; got ${typeof logits}`);
  expectRows(op, 'logits', logits.shape);
  const [N, C] = logits.shape;
  const where = `logits ${shapeToString(logits.shape)}`;
  let values: ArrayLike<number>;
  if (labels instanceof Tensor) {
    if (labels.rank !== 1) throw new Error(`${op}: labels must be 1-D [N] = [${N}], one class per row of ${where}; got a tensor ${shapeToString(labels.shape)}`);
    values = labels.toArray();
  } else if (Array.isArray(labels) || labels instanceof Int32Array || labels instanceof Uint8Array) {
    values = labels;
  } else {
    throw new Error(`${op}: labels must be a Tensor, an array, an Int32Array or a Uint8Array of class indices; got ${typeof labels}`);
  }
  if (values.length !== N) throw new Error(`${op}: labels must have N = ${N} entries, one per row of ${where}; got ${values.length}`);
  for (let i = 0; i < N; i++) {
    const v: unknown = values[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= C) {
      throw new Error(`${op}: labels must be integers in [0, ${C}) for ${where}; label ${typeof v === 'number' ? v : JSON.stringify(v) ?? String(v)} at index ${i}`);
    }
  }
  return { N, values };
}

