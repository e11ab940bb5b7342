/**
 * The math primitives: each has a reference kernel, a gpu kernel and a backward. Everything else
 * in src/autograd/math.ts is built from these. Every op exported here is in the registry
 * (src/ops.ts), which reads this module's exports.
 */
export { add, type AddAttrs } from './add.js';
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
export { min } from './min.js';
export { argmax } from './argmax.js';
export { expand } from './expand.js';
export { reshape } from './reshape.js';
export { permute } from './permute.js';
export { cat, type CatAttrs } from './cat.js';
export { slice, type SliceAttrs } from './slice.js';
export { sigmoid } from './sigmoid.js';
export { tanh } from './tanh.js';
export { abs } from './abs.js';
export { clamp, type ClampAttrs } from './clamp.js';

