import type { OpCase } from '../op-case.js';

export const CONV_POOL_CASES: OpCase[] = [];
