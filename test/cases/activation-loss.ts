import type { OpCase } from '../op-case.js';

export const ACTIVATION_LOSS_CASES: OpCase[] = [];
