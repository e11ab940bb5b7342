/**
 * pow: y = xᵖ for a number exponent p (an attribute, not a tensor).
 *
 *   dx = dy · p · xᵖ⁻¹
 *
 * Negative x: defined for integer p (the sign follows p's parity), NaN otherwise — as in JS.
 * GLSL's pow() is NaN for any negative base, so the gpu kernel takes |x|ᵖ and restores the sign.
 */
import { defineOp } from '../op.js';
import type { Flat, Thread } from '../../tensor/op-def.js';

export const pow = defineOp({
  name: 'pow',
  inputs: ['x'],
  saves: ['x'],
  outputShape: ({ x }, { exponent }: { exponent: number }) => {
    if (typeof exponent !== 'number' || !Number.isFinite(exponent)) {
      throw new Error(`pow: exponent must be a finite number; got ${JSON.stringify(exponent)}`);
    }
    return x;
  },

  reference: {
    forward({ x }, y, { attrs: { exponent: p } }) {
      for (let i = 0; i < y.length; i++) y[i] = x[i] ** p;
    },
    backward({ x }, dy, { dx }, { attrs: { exponent: p } }) {
      for (let i = 0; i < dx.length; i++) dx[i] = p === 0 ? 0 : dy[i] * p * x[i] ** (p - 1);
    },
  },

  gpu: {
    forward: (k, { x }, { outShape, attrs: { exponent: p } }) =>
      k.run(signedPower, sizeOfShape(outShape), [x], powerConstants(p)),
    backward: (k, { x }, dy, { outShape, attrs: { exponent: p } }) => ({
      dx: k.run(
        function (this: Thread, x: Flat, dy: Flat) {
          if (this.constants.P === 0) return 0;
          const v = x[this.thread.x];
          const m = Math.pow(Math.abs(v), this.constants.P - 1);
          const power = v < 0 && this.constants.INTEGER === 1 ? (this.constants.ODD === 1 ? m : -m) : m;
          return dy[this.thread.x] * this.constants.P * power;
        },
        sizeOfShape(outShape),
        [x, dy],
        powerConstants(p),
      ),
    }),
  },
});

function signedPower(this: Thread, x: Flat): number {
  if (this.constants.P === 0) return 1;
  const v = x[this.thread.x];
  const m = Math.pow(Math.abs(v), this.constants.P);
  if (v < 0) {
    if (this.constants.INTEGER === 0) return Math.sqrt(-1); // NaN, as JS gives for (−2) ** 0.5
    return this.constants.ODD === 1 ? -m : m;
  }
  return m;
}

/** P, and whether P is an integer and odd (the sign of a negative base raised to P). */
function powerConstants(p: number): Record<string, number> {
  const integer = Number.isInteger(p);
  return { P: p, INTEGER: integer ? 1 : 0, ODD: integer && Math.abs(p) % 2 === 1 ? 1 : 0 };
}

function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}
