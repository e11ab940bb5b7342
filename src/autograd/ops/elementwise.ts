/** Shape rules shared by the elementwise ops. */
import { sameShape, shapeToString, type Shape } from '../../tensor/shape.js';

/**
 * Binary elementwise primitives take two tensors of the same shape. Broadcasting happens before,
 * in the public functions (src/autograd/math.ts), through the `expand` primitive — so these
 * kernels stay one line and broadcasting's backward (a sum) is written once, in expand.ts.
 */
export function sameShapes(op: string, a: Shape, b: Shape): Shape {
  if (!sameShape(a, b)) {
    throw new Error(`${op}: a and b must have the same shape here (broadcast them first with g.${op}); got ${shapeToString(a)} and ${shapeToString(b)}`);
  }
  return a;
}
