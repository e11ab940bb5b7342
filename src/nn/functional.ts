/**
 * g.nn.functional: the network ops with friendly signatures (NCHW). Each function checks and
 * shapes its arguments, then applies a primitive of ./ops (or composes primitives).
 */
import { Tensor } from '../tensor/tensor.js';
import * as P from './ops/index.js';

// ── convolution and pooling (ops/conv2d.ts, ops/max-pool2d.ts, ops/avg-pool2d.ts) ──

// ── normalisation and dropout (ops/batch-norm.ts, ops/dropout.ts) ──

// ── activations (ops/relu.ts, leaky-relu.ts, prelu.ts, elu.ts, frelu.ts) ──

// ── losses (ops/log-softmax.ts, ops/cross-entropy.ts) ──

/** @internal keeps the imports used while sections are empty */
export const _ops = P;
export type _Tensor = Tensor;
