/**
 * The math primitives: each has a reference kernel, a gpu kernel and a backward. Everything else
 * in src/autograd/math.ts is built from these.
 */
export { add } from './add.js';
export { sub } from './sub.js';
export { mul } from './mul.js';
export { div } from './div.js';
export { neg } from './neg.js';
export { exp } from './exp.js';
export { log } from './log.js';
export { sqrt } from './sqrt.js';
export { pow } from './pow.js';
export { matmul } from './matmul.js';
export { sum } from './sum.js';
export { max } from './max.js';
export { expand } from './expand.js';
export { reshape } from './reshape.js';
export { permute } from './permute.js';

import type { AnyOp } from '../op.js';
import { add } from './add.js';
import { sub } from './sub.js';
import { mul } from './mul.js';
import { div } from './div.js';
import { neg } from './neg.js';
import { exp } from './exp.js';
import { log } from './log.js';
import { sqrt } from './sqrt.js';
import { pow } from './pow.js';
import { matmul } from './matmul.js';
import { sum } from './sum.js';
import { max } from './max.js';
import { expand } from './expand.js';
import { reshape } from './reshape.js';
import { permute } from './permute.js';

export const MATH_OPS: readonly AnyOp[] = [add, sub, mul, div, neg, exp, log, sqrt, pow, matmul, sum, max, expand, reshape, permute] as readonly AnyOp[];
