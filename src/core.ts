/**
 * The names every entry of gradlab exports, whatever the platform: tensors, autograd, nn, optim,
 * models, the registry. The Node entry (src/index.ts) and the browser entry (src/browser/index.ts)
 * each add `data` (the core's data plus their platform's files and downloads) and install their
 * platform's pieces of the gpu backend; test/browser-entry.test.ts checks that both export the same
 * names. Add a new public name here, not to an entry.
 */
export { Tensor, tidy, keep, type TensorLike } from './tensor/tensor.js';
export { tensor, zeros, ones, full, rand, randn, fromTyped, toBackend, type TensorOptions, type RandomOptions } from './tensor/create.js';
export type { DType, TypedArray } from './tensor/dtype.js';
export type { Shape } from './tensor/shape.js';
export { randomStream, manualSeed, type RandomStream, type RandomState } from './tensor/random.js';
export type { BackendName } from './tensor/backends/backend.js';
export { setBackend, currentBackend } from './tensor/backends/index.js';
export { gpuInfo, setGpuMode, setSimdFma, setSimdKernels, setSimdThreads, type GpuInfo, type GpuMode } from './tensor/backends/gpu.js';

export { add, sub, mul, div, neg, exp, log, sqrt, pow, matmul, sum, mean, max, reshape, transpose, permute, flatten, detach, broadcastTo, type ReduceOptions } from './autograd/math.js';
export { min, argmax, sigmoid, tanh, abs, clamp, cat, slice, type ReduceArg, type ClampOptions } from './autograd/math.js';
export { customGrad, type CustomGradResult } from './autograd/custom-grad.js';
export { toDot, type ToDotOptions } from './autograd/dot.js';
export { accuracy } from './nn/functional.js';
export { backward, type BackwardOptions } from './autograd/engine.js';
export { noGrad, isGradEnabled, setCheckFinite } from './autograd/grad-mode.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult, type GradcheckFailure, type GradcheckKink } from './autograd/gradcheck.js';
export { defineOp, type Op, type AnyOp } from './autograd/op.js';
export type { OpDef, AnyOpDef, OpContext, GradName, Flat, Thread, KernelFn, GpuKit, DeviceArray, DeviceTexture, CpuKernels, OnDevice } from './tensor/op-def.js';

export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export { ALL_OPS } from './ops.js';
export * as models from './nn/models/index.js';
// Weights as bytes (safetensors); the Node entry's `io` adds saveSafetensors/loadSafetensors by path.
export * as io from './io/index.js';
