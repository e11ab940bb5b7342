/**
 * `customGrad(f)`: a function with a gradient you write in ops, as TensorFlow.js's tf.customGrad.
 * `f(...inputs)` returns `{ value, gradFunc }`; `gradFunc(dy)` returns one gradient per input, each
 * shaped like its input and built from gradlab ops. The forward ops inside `f` are not recorded:
 * the graph gets one node whose backward is `gradFunc`. Works on both backends (it is only ops),
 * and g.gradcheck checks it like any op.
 *
 *   // y = x², with its gradient 2x·dy written by hand
 *   const square = g.customGrad((x) => ({ value: g.mul(x, x), gradFunc: (dy) => [g.mul(dy, g.mul(x, 2))] }));
 *   square(g.tensor([3], { requiresGrad: true }))   // 9; backward gives 6
 *
 * defineOp (./op.ts) is the other way to add an op: kernels for each backend and a backward
 * kernel, for speed or for what ops cannot express; customGrad is the quick one.
 */
import { Tensor } from '../tensor/tensor.js';
import type { AnyOpDef, OpContext } from '../tensor/op-def.js';
import { shapeToString } from '../tensor/shape.js';
import { isGradEnabled, noGrad } from './grad-mode.js';
import type { GraphNode } from './graph.js';
import { reshape as reshapeOp } from './ops/reshape.js';

/** What the function given to customGrad returns. */
export interface CustomGradResult {
  /** The function's value. */
  value: Tensor;
  /** dy (shaped like value) → one gradient per input, each shaped like its input. */
  gradFunc: (dy: Tensor) => readonly Tensor[];
}

/** Wraps `f` so its result is differentiable through `gradFunc`. See the module comment. */
export function customGrad(f: (...inputs: Tensor[]) => CustomGradResult): (...inputs: Tensor[]) => Tensor {
  if (typeof f !== 'function') throw new Error(`customGrad: f must be a function (...inputs) => { value, gradFunc }; got ${typeof f}`);
  return (...inputs: Tensor[]): Tensor => {
    inputs.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw new Error(`customGrad: input ${i} must be a Tensor; got ${typeof t}`);
    });
    const result = noGrad(() => f(...inputs));
    if (typeof result !== 'object' || result === null || !(result.value instanceof Tensor) || typeof result.gradFunc !== 'function') {
      throw new Error('customGrad: f must return { value: Tensor, gradFunc: (dy) => Tensor[] }');
    }
    const { value, gradFunc } = result;
    const anyGrad = inputs.some((t) => t.requiresGrad);
    if (!anyGrad || !isGradEnabled()) return value;
    const names = inputs.map((_, i) => `x${i}`);
    const op: AnyOpDef = {
      name: 'customGrad',
      inputs: names,
      saves: [],
      outputShape: () => value.shape,
      reference: {
        forward() {
          throw new Error('customGrad: a customGrad node runs no kernel');
        },
        backward() {
          throw new Error('customGrad: a customGrad node runs no kernel');
        },
      },
    };
    const needsGrad: Record<string, boolean> = {};
    const savedVersions: Record<string, number> = {};
    const byName: Record<string, Tensor> = {};
    names.forEach((n, i) => {
      byName[n] = inputs[i];
      needsGrad[n] = inputs[i].requiresGrad;
      savedVersions[n] = inputs[i].version; // gradFunc may read any input
    });
    const ctx: OpContext<string, object> = { attrs: {}, shapes: Object.fromEntries(names.map((n, i) => [n, inputs[i].shape])), outShape: value.shape, dtype: value.dtype, needsGrad };
    const node: GraphNode = {
      op,
      inputs: byName,
      ctx,
      saved: {},
      savedVersions,
      gradFunc: (dy) => {
        const grads = gradFunc(dy);
        if (!Array.isArray(grads)) throw new Error(`customGrad: gradFunc must return an array of ${inputs.length} gradients; got ${typeof grads} (for value ${shapeToString(value.shape)})`);
        return grads;
      },
    };
    // The result owns a copy of value's numbers, so gradFunc may still read value itself.
    const copy = noGrad(() => reshapeOp.apply({ x: value }, { shape: value.shape }));
    return Tensor.adopt(copy, node);
  };
}
