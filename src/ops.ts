/**
 * The registry: every primitive op, as data (no registration by side effect). The op-test table
 * (test/op-cases.ts) must have rows for each; test/op-coverage.test.ts checks that it does.
 */
import type { AnyOp } from './autograd/op.js';
import { MATH_OPS } from './autograd/ops/index.js';
import { NN_OPS } from './nn/ops/index.js';

export const ALL_OPS: readonly AnyOp[] = [...MATH_OPS, ...NN_OPS];
