/**
 * The op-test table: every primitive op (src/ops.ts ALL_OPS) has rows here, split by topic.
 * op-coverage.test.ts fails when an op has none.
 */
import { compositeAsCase, type OpCase } from './op-case.js';
import { MATH_CASES, MATH_COMPOSITE_CASES } from './cases/math.js';
import { CONV_POOL_CASES } from './cases/conv-pool.js';
import { NORM_DROPOUT_CASES } from './cases/norm-dropout.js';
import { ACTIVATION_LOSS_CASES } from './cases/activation-loss.js';

export const OP_CASES: readonly OpCase[] = [...MATH_CASES, ...CONV_POOL_CASES, ...NORM_DROPOUT_CASES, ...ACTIVATION_LOSS_CASES];

/** Composite functions, checked by the same tests (not counted for op coverage). */
export const COMPOSITE_CASES: readonly OpCase[] = [...MATH_COMPOSITE_CASES].map(compositeAsCase);
