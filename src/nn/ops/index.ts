/**
 * The network primitives (NCHW): each has a reference kernel, a gpu kernel and a backward.
 * src/nn/functional.ts wraps them in friendly signatures (g.nn.functional).
 */
import type { AnyOp } from '../../autograd/op.js';

export const NN_OPS: readonly AnyOp[] = [] as readonly AnyOp[];
