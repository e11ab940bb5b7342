/**
 * The network primitives (NCHW): each has a reference kernel, a gpu kernel and a backward.
 * src/nn/functional.ts wraps them in friendly signatures (g.nn.functional). Every op exported
 * here is in the registry (src/ops.ts), which reads this module's exports.
 */
export { conv2d } from './conv2d.js';
export { maxPool2d } from './max-pool2d.js';
export { avgPool2d } from './avg-pool2d.js';
export { batchNorm, type BatchNormAttrs } from './batch-norm.js';
export { batchStats } from './batch-stats.js';
export { dropout, dropoutMask, checkDropoutP, type DropoutAttrs } from './dropout.js';
export { relu } from './relu.js';
export { leakyRelu } from './leaky-relu.js';
export { prelu } from './prelu.js';
export { elu } from './elu.js';
export { frelu } from './frelu.js';
export { logSoftmax } from './log-softmax.js';
export { softmax } from './softmax.js';
export { crossEntropy } from './cross-entropy.js';

