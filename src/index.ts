/**
 * gradlab — a from-scratch tensor and reverse-mode autograd library.
 *
 *   import * as g from 'gradlab';
 *   const x = g.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
 *   const y = g.sum(g.mul(x, x));   // y = Σ x²
 *   y.backward();                    // x.grad = 2x = [2, 4, 6]
 */
export { Tensor, tidy, keep, type TensorLike } from './tensor/tensor.js';
export { tensor, zeros, ones, full, rand, randn, fromTyped, toBackend, type TensorOptions, type RandomOptions } from './tensor/create.js';
export type { DType, TypedArray } from './tensor/dtype.js';
export type { Shape } from './tensor/shape.js';
export { randomStream, manualSeed, type RandomStream, type RandomState } from './tensor/random.js';
export type { BackendName } from './tensor/backends/backend.js';
export { setBackend, currentBackend } from './tensor/backends/index.js';
export { gpuInfo, setGpuMode, setSimdKernels, setSimdThreads, type GpuInfo, type GpuMode } from './tensor/backends/gpu.js';

export { add, sub, mul, div, neg, exp, log, sqrt, pow, matmul, sum, mean, max, reshape, transpose, permute, flatten, detach, broadcastTo, type ReduceOptions } from './autograd/math.js';
export { backward, type BackwardOptions } from './autograd/engine.js';
export { noGrad, isGradEnabled, setCheckFinite } from './autograd/grad-mode.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult, type GradcheckFailure } from './autograd/gradcheck.js';
export { defineOp, type Op, type AnyOp } from './autograd/op.js';

export * as nn from './nn/index.js';
export * as data from './node/data.js';
export * as optim from './optim/index.js';
export { ALL_OPS } from './ops.js';
export * as models from './nn/models/index.js';

// Node's pieces of the gpu backend: gpu.js through require, worker threads for its SIMD kernels,
// and the GRADLAB_GPU_MODE / GRADLAB_SIMD / GRADLAB_THREADS settings (src/node/gpu-settings.ts).
import { useNodeGpu } from './node/gpu-settings.js';
useNodeGpu();
