/** Rows for the activation and loss primitives (src/nn/ops: relu … frelu, logSoftmax, crossEntropy). */
import { row, type OpRow } from './row.js';
import * as P from '../../src/nn/ops/index.js';
import { sizeOf, type Shape } from '../../src/tensor/shape.js';
import type { RandomStream } from '../../src/tensor/random.js';

/** Class labels: integers drawn uniformly from [0, 5), held fixed by the checks. */
const labelsIn5 = { fixed: (shape: Shape, rng: RandomStream) => Array.from({ length: sizeOf(shape) }, () => rng.int(5)) };

export const ACTIVATION_LOSS_ROWS: OpRow[] = [
  row(P.relu, { name: '[2, 3, 4]', shapes: { x: [2, 3, 4] }, gen: { x: 'awayFromZero' } }),
  row(P.relu, { name: 'NCHW [2, 3, 4, 4]', shapes: { x: [2, 3, 4, 4] }, gen: { x: 'awayFromZero' } }),

  row(P.leakyRelu, { name: 'slope 0.01', shapes: { x: [3, 5] }, attrs: { negativeSlope: 0.01 }, gen: { x: 'awayFromZero' } }),
  row(P.leakyRelu, { name: 'slope 0.3 NCHW', shapes: { x: [2, 2, 3, 3] }, attrs: { negativeSlope: 0.3 }, gen: { x: 'awayFromZero' } }),

  row(P.prelu, { name: 'shared a [1]', shapes: { x: [2, 3, 2, 2], a: [1] }, gen: { x: 'awayFromZero' } }),
  row(P.prelu, { name: 'per-channel a [3]', shapes: { x: [2, 3, 2, 2], a: [3] }, gen: { x: 'awayFromZero' } }),
  row(P.prelu, { name: 'per-channel a [4] on [3, 4]', shapes: { x: [3, 4], a: [4] }, gen: { x: 'awayFromZero' } }),

  row(P.elu, { name: 'alpha 1', shapes: { x: [3, 5] }, attrs: { alpha: 1 }, gen: { x: 'awayFromZero' } }),
  row(P.elu, { name: 'alpha 0.5 NCHW', shapes: { x: [2, 3, 2, 2] }, attrs: { alpha: 0.5 }, gen: { x: 'awayFromZero' } }),

  row(P.frelu, { name: 'scalar b', shapes: { x: [2, 3, 4, 4], b: [] }, gen: { x: 'awayFromZero' } }),
  row(P.frelu, { name: 'per-channel b [3]', shapes: { x: [2, 3, 4, 4], b: [3] }, gen: { x: 'awayFromZero' } }),
  row(P.frelu, { name: 'scalar b on [4, 6]', shapes: { x: [4, 6], b: [] }, gen: { x: 'awayFromZero' } }),
  row(P.frelu, { name: 'per-channel b [4] on [3, 4]', shapes: { x: [3, 4], b: [4] }, gen: { x: 'awayFromZero' } }), // webasm: the SIMD kernels' walk by columns

  row(P.logSoftmax, { name: '[3, 5]', shapes: { x: [3, 5] } }),
  row(P.logSoftmax, { name: 'one row [1, 7]', shapes: { x: [1, 7] } }),
  row(P.softmax, { name: '[3, 5]', shapes: { x: [3, 5] } }),
  row(P.softmax, { name: 'one row [1, 7], logits far from 0', shapes: { x: [1, 7] }, gen: { x: { normalAround: 40 } } }),

  row(P.crossEntropy, { name: '[4, 5]', shapes: { logits: [4, 5], labels: [4] }, gen: { labels: labelsIn5 } }),
  row(P.crossEntropy, { name: '[7, 5]', shapes: { logits: [7, 5], labels: [7] }, gen: { labels: labelsIn5 } }),
];
