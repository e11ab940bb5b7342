/**
 * pow: y = xᵖ for a number exponent p (an attribute, not a tensor).
 *
 *   dx = dy · p · xᵖ⁻¹
 *
 * Negative x: defined for integer p (the sign follows p's parity), NaN otherwise — as in JS, whose
 * `**` is IEEE 754's pow, with one more special case: (−∞)ᵖ = |−∞|ᵖ (+∞ for p > 0, 0 for p < 0)
 * for a p that is not an odd integer. GLSL's pow() is NaN for any negative base, so the gpu kernels
 * take |x|ᵖ and restore the sign (or the NaN) themselves. (They read −0 as +0: 1/(−0) is +∞ there.)
 */
import { defineOp } from '../op.js';
import type { Flat, Thread } from '../../tensor/op-def.js';
import { shown } from '../../util/format.js';

export const pow = defineOp({
  name: 'pow',
  inputs: ['x'],
  saves: ['x'],
  outputShape: ({ x }, { exponent }: { exponent: number }) => {
    if (typeof exponent !== 'number' || !Number.isFinite(exponent)) {
      throw new Error(`pow: exponent must be a finite number; got ${shown(exponent)}`);
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
          if (v !== v) return v; // NaN: GL's pow() of a NaN is not reliably NaN (llvmpipe gives 0)
          const m = Math.pow(Math.abs(v), this.constants.P - 1); // xᵖ⁻¹ for x ≥ 0; p − 1 is odd when p is even
          let power = m;
          if (v < 0) {
            if (this.constants.INTEGER === 1) power = this.constants.ODD === 1 ? m : -m;
            else if (v >= -3.4028234e38) power = Math.sqrt(-1); // a finite negative base: NaN, as JS gives
          }
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
  if (v !== v) return v; // NaN, tested as relu.ts does: GL's pow() of a NaN is not reliably NaN (llvmpipe gives 0)
  const m = Math.pow(Math.abs(v), this.constants.P);
  if (v < 0) {
    if (this.constants.INTEGER === 1) return this.constants.ODD === 1 ? -m : m;
    // Not an integer p: NaN for a finite negative base, as JS gives for (−2) ** 0.5; |x|ᵖ for −∞
    // (below the largest float32 lies only −∞).
    if (v >= -3.4028234e38) return Math.sqrt(-1);
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
