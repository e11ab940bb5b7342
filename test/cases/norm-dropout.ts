import type { OpCase } from '../op-case.js';

export const NORM_DROPOUT_CASES: OpCase[] = [];
