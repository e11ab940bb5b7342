/**
 * The op-test table: every primitive op (src/ops.ts ALL_OPS) has rows here, split by topic
 * (./math.ts, ./conv-pool.ts, ./norm-dropout.ts, ./activation-loss.ts; the row type and the input
 * generator in ./row.ts). op-coverage.test.ts fails when an op has none.
 */
import type { OpRow } from './row.js';
import { MATH_ROWS, MATH_COMPOSITE_ROWS } from './math.js';
import { CONV_POOL_ROWS } from './conv-pool.js';
import { NORM_DROPOUT_ROWS } from './norm-dropout.js';
import { ACTIVATION_LOSS_ROWS } from './activation-loss.js';

export const OP_ROWS: readonly OpRow[] = [...MATH_ROWS, ...CONV_POOL_ROWS, ...NORM_DROPOUT_ROWS, ...ACTIVATION_LOSS_ROWS];

/** Composite functions, checked by the same tests (not counted for op coverage). */
export const COMPOSITE_ROWS: readonly OpRow[] = MATH_COMPOSITE_ROWS;
