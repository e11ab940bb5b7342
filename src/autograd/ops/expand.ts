/**
 * expand: broadcasts x to a larger shape (NumPy rules: x's shape is aligned at the right, and each
 * of its axes is either equal to the target's or 1, which is repeated).
 *
 *   y[i] = x[the element i lands on when x's size-1 axes are stretched]
 *   dx   = Σ of dy over the stretched axes       (broadcast's backward is sum — and sum's
 *                                                  backward is broadcast: an adjoint pair)
 *
 * In webasm mode (k.simd(loopKernels), src/tensor/backends/wasm/loops.ts) the copies are memcpy
 * and memset in the SIMD kernels' memory when each innermost run is long (a mask [1, k, 1]
 * stretched over [N, k, L]; x [N, 1, L] repeated k times: ResNet's option-A shortcut), and the
 * backward of x [A, 1, B] → [A, R, B] (B a multiple of 4: a bias [C] over [N, C], the shortcut
 * again) sums the R copies four floats a step, in the reference's order.
 */
import { defineOp } from '../op.js';
import { broadcastShapes, sameShape, shapeToString, sizeOf, type Shape } from '../../tensor/shape.js';
import { loopKernels, type BroadcastGroup } from '../../tensor/backends/wasm/loops.js';
import { expandGpu, expandInto } from './gather.js';
import { sumGpu, sumInto } from './reduce.js';

export const expand = defineOp({
  name: 'expand',
  inputs: ['x'],
  saves: [],
  outputShape: ({ x }, { shape }: { shape: Shape }) => {
    if (!sameShape(broadcastShapes('expand', x, shape), shape)) {
      throw new Error(`expand: x ${shapeToString(x)} cannot be broadcast to ${shapeToString(shape)}`);
    }
    return shape;
  },

  reference: {
    forward({ x }, y, { shapes, outShape }) {
      expandInto(x, shapes.x, outShape, y);
    },
    backward(_, dy, { dx }, { shapes, outShape }) {
      sumInto(dy, outShape, stretchedAxes(shapes.x, outShape), dx);
    },
  },

  // In webasm mode a one-element x (an optimiser's scalar stretched over a parameter) is a fill (k.simd(loopKernels));
  // see the header for the other SIMD routes.
  gpu: {
    forward: (k, { x }, { shapes, outShape }) => {
      const loops = k.simd(loopKernels);
      if (loops && sizeOf(shapes.x) === 1) return loops.fill(x, sizeOf(outShape));
      const groups = broadcastGroups(shapes.x, outShape);
      if (loops && groups.length > 0 && groups[groups.length - 1].size >= MIN_RUN) return loops.broadcast(x, groups);
      return expandGpu(k, x, shapes.x, outShape);
    },
    backward: (k, _, dy, { shapes, outShape }) => {
      const loops = k.simd(loopKernels);
      const copies = copiesOf(broadcastGroups(shapes.x, outShape));
      if (loops && copies) return { dx: loops.sumCopies(dy, copies.A, copies.R, copies.B) };
      return { dx: sumGpu(k, dy, outShape, stretchedAxes(shapes.x, outShape)) };
    },
  },
});

/** The shortest innermost run (floats) the SIMD route copies with one call: shorter runs stay one gpu.js kernel. */
const MIN_RUN = 16;

/**
 * y's axes as alternating groups along x and repeated (size-1 axes of y dropped, neighbours of one
 * kind merged): [128, 1, 4096] → [128, 2, 4096] is [128 along, 2 repeated, 4096 along].
 */
function broadcastGroups(from: Shape, to: Shape): BroadcastGroup[] {
  const pad = to.length - from.length;
  const groups: BroadcastGroup[] = [];
  to.forEach((size, i) => {
    if (size === 1) return;
    const stretched = i < pad || from[i - pad] === 1;
    const last = groups.at(-1);
    if (last?.stretched === stretched) groups[groups.length - 1] = { size: last.size * size, stretched };
    else groups.push({ size, stretched });
  });
  return groups;
}

/** x [A, 1, B] → [A, R, B] with B a multiple of 4 (A may be 1): the form the backward's SIMD kernel sums; else null. */
function copiesOf(groups: readonly BroadcastGroup[]): { A: number; R: number; B: number } | null {
  const kinds = groups.map((g) => (g.stretched ? 'R' : 'B')).join('');
  const B = groups.at(-1)?.size ?? 0;
  if (B % 4 !== 0) return null;
  if (kinds === 'RB') return { A: 1, R: groups[0].size, B };
  if (kinds === 'BRB') return { A: groups[0].size, R: groups[1].size, B };
  return null;
}

/** The axes of `to` along which `from` (right-aligned) has size 1 or does not exist. */
function stretchedAxes(from: Shape, to: Shape): number[] {
  const pad = to.length - from.length;
  return to.map((_, i) => i).filter((i) => i < pad || (from[i - pad] === 1 && to[i] !== 1));
}
