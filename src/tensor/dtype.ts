/**
 * Data types. gradlab stores numbers in flat typed arrays: float32 (the default, what the gpu
 * backend runs) and float64 (the reference backend only; what the gradient checker needs).
 */
export type DType = 'float32' | 'float64';
import { shown } from '../util/format.js';
/** The host array of a tensor's values: Float32Array for float32, Float64Array for float64. */
export type TypedArray = Float32Array | Float64Array;

export const DTYPES: readonly DType[] = ['float32', 'float64'];

/**
 * A new zero-filled array of `size` elements of `dtype`. `what` names it for the error a too-big
 * array gets (e.g. 'matmul: y [100000, 100000]') instead of JavaScript's bare RangeError.
 */
export function allocate(dtype: DType, size: number, what?: () => string): TypedArray {
  try {
    return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
  } catch (err) {
    if (!(err instanceof RangeError) || what === undefined) throw err;
    const gib = (size * (dtype === 'float64' ? 8 : 4)) / 2 ** 30;
    throw new Error(`${what()}: cannot allocate ${size.toLocaleString('en-US')} ${dtype} values (${gib.toFixed(1)} GiB): ${err.message}`);
  }
}

/** A copy of `values` in `dtype` (rounds to float32 when asked). */
export function toTyped(values: ArrayLike<number>, dtype: DType): TypedArray {
  return dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values);
}

export function checkDType(op: string, dtype: unknown): DType {
  if (dtype === 'float32' || dtype === 'float64') return dtype;
  throw new Error(`${op}: dtype must be 'float32' or 'float64'; got ${shown(dtype)}`);
}
