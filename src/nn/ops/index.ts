/**
 * The network primitives (NCHW): each has a reference kernel, a gpu kernel and a backward.
 * src/nn/functional.ts wraps them in friendly signatures (g.nn.functional).
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
export { crossEntropy } from './cross-entropy.js';

import type { AnyOp } from '../../autograd/op.js';
import { conv2d } from './conv2d.js';
import { maxPool2d } from './max-pool2d.js';
import { avgPool2d } from './avg-pool2d.js';
import { batchNorm } from './batch-norm.js';
import { batchStats } from './batch-stats.js';
import { dropout } from './dropout.js';
import { relu } from './relu.js';
import { leakyRelu } from './leaky-relu.js';
import { prelu } from './prelu.js';
import { elu } from './elu.js';
import { frelu } from './frelu.js';
import { logSoftmax } from './log-softmax.js';
import { crossEntropy } from './cross-entropy.js';

export const NN_OPS: readonly AnyOp[] = [conv2d, maxPool2d, avgPool2d, batchNorm, batchStats, dropout, relu, leakyRelu, prelu, elu, frelu, logSoftmax, crossEntropy] as readonly AnyOp[];
