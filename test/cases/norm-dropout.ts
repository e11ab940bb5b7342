/**
 * Rows for batch normalisation and dropout (src/nn/ops/batch-norm.ts, dropout.ts). The running
 * statistics and the dropout masks are fixed inputs: the checker does not perturb them.
 */
import type { OpCase, InputGen } from '../op-case.js';
import type { AnyOp } from '../../src/autograd/op.js';
import * as P from '../../src/nn/ops/index.js';

const op = (o: { name: string }): AnyOp => o as AnyOp;

/** Running statistics: a mean near 0 and a variance in [0.5, 2]. */
const running: Readonly<Record<string, InputGen>> = {
  runningMean: { fixed: (shape, rng) => Array.from({ length: shape[0] }, () => 0.5 * rng.normal()) },
  runningVar: { fixed: (shape, rng) => Array.from({ length: shape[0] }, () => 0.5 + 1.5 * rng.uniform()) },
};

/** The shapes of a batchNorm row: x and four per-channel inputs. */
function bnShapes(x: number[]): Record<string, number[]> {
  const C = [x[1]];
  return { x, gamma: C, beta: C, runningMean: C, runningVar: C };
}

/** A 0/1 mask keeping each element with probability 1 − p (the functional wrapper's own draw). */
const mask = (p: number): InputGen => ({ fixed: (shape, rng) => P.dropoutMask(shape, p, rng) });

// Batch statistics sum over every element of a channel, so float32 gpu sums differ from the
// reference's in the last digits; 1e-4 covers it.
const bnGpuTol = { atol: 1e-4, rtol: 1e-4 };

export const NORM_DROPOUT_CASES: OpCase[] = [
  { op: op(P.batchNorm), name: 'training [4, 3, 2, 2]', shapes: bnShapes([4, 3, 2, 2]), attrs: { training: true, eps: 1e-5 }, gen: running, gpuTol: bnGpuTol },
  { op: op(P.batchNorm), name: 'training 2-D [6, 4]', shapes: bnShapes([6, 4]), attrs: { training: true, eps: 1e-5 }, gen: running, gpuTol: bnGpuTol },
  { op: op(P.batchNorm), name: 'training batch of 1, 3x3 image', shapes: bnShapes([1, 2, 3, 3]), attrs: { training: true, eps: 1e-5 }, gen: running, gpuTol: bnGpuTol },
  { op: op(P.batchNorm), name: 'evaluation [2, 3, 2, 2]', shapes: bnShapes([2, 3, 2, 2]), attrs: { training: false, eps: 1e-5 }, gen: running, gpuTol: bnGpuTol },
  { op: op(P.batchNorm), name: 'evaluation 2-D [5, 4]', shapes: bnShapes([5, 4]), attrs: { training: false, eps: 1e-5 }, gen: running, gpuTol: bnGpuTol },
  { op: op(P.dropout), name: 'p=0.3 [3, 5]', shapes: { x: [3, 5], mask: [3, 5] }, attrs: { p: 0.3 }, gen: { mask: mask(0.3) } },
  { op: op(P.dropout), name: 'p=0.5 [2, 3, 4, 4]', shapes: { x: [2, 3, 4, 4], mask: [2, 3, 4, 4] }, attrs: { p: 0.5 }, gen: { mask: mask(0.5) } },
  { op: op(P.dropout), name: 'p=0.9 [4, 10]', shapes: { x: [4, 10], mask: [4, 10] }, attrs: { p: 0.9 }, gen: { mask: mask(0.9) } },
];
