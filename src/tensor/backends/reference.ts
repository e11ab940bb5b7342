/**
 * The reference backend: every op's `reference` kernels, run on plain typed arrays, one thread,
 * float32 or float64. It is the definition the gpu kernels are checked against.
 */
import { allocate, type DType, type TypedArray } from '../dtype.js';
import { shapeToString, sizeOf } from '../shape.js';
import type { AnyOpDef, OpContext } from '../op-def.js';
import type { Backend, Storage } from './backend.js';

function host(op: string, data: Storage): TypedArray {
  if (data instanceof Float32Array || data instanceof Float64Array) return data;
  throw new Error(`${op}: the reference backend was given device memory; move the tensor to 'reference' first`);
}

export const referenceBackend: Backend = {
  name: 'reference',
  upload: (values) => values,
  download: (data, size, dtype: DType) => {
    const out = allocate(dtype, size);
    out.set(host('toArray', data).subarray(0, size));
    return out;
  },
  dispose: () => {},

  forward(op: AnyOpDef, inputs, ctx: OpContext<string, object>) {
    const arrays: Record<string, TypedArray> = {};
    for (const name of op.inputs) arrays[name] = host(op.name, inputs[name]);
    const y = allocate(ctx.dtype, sizeOf(ctx.outShape), () => `${op.name}: output ${shapeToString(ctx.outShape)}`);
    const returned: unknown = op.reference.forward(arrays, y, ctx);
    if (returned !== undefined) {
      // A common slip, since gpu kernels return their output: a reference kernel fills y instead.
      const got = ArrayBuffer.isView(returned) && 'length' in returned ? `an array of ${String(returned.length)} elements` : typeof returned;
      throw new Error(`${op.name}: the reference forward must fill y (${y.length} elements, from outputShape) in place and return nothing; it returned ${got}`);
    }
    return y;
  },

  backward(op: AnyOpDef, saved, dy, ctx) {
    const savedArrays: Record<string, TypedArray> = {};
    for (const name of op.saves) savedArrays[name] = host(op.name, saved[name]);
    // Gradients the engine wants start as zeros of the input's size; the rest are empty arrays
    // so a kernel that writes them anyway does no harm.
    const grads: Record<string, TypedArray> = {};
    for (const name of op.inputs) {
      grads['d' + name] = allocate(ctx.dtype, ctx.needsGrad[name] ? sizeOf(ctx.shapes[name]) : 0, () => `${op.name} backward: d${name} ${shapeToString(ctx.shapes[name])}`);
    }
    op.reference.backward(savedArrays, host(op.name, dy), grads, ctx);
    const out: Record<string, Storage> = {};
    for (const name of op.inputs) if (ctx.needsGrad[name]) out['d' + name] = grads['d' + name];
    return out;
  },
};
