/**
 * Non-finite rows (issue 15): every row of the op table again, with NaN, +Infinity and −Infinity
 * put into each differentiable input (row.ts: `{ nonFinite: gen }`). They run only in the
 * gpu-vs-reference comparison — a numerical gradient through NaN means nothing — where the
 * backends must agree element by element: NaN where the reference has NaN, the same infinity where
 * it has one. That is how an op that hides a NaN on one backend only (relu's `x > 0 ? x : 0`, a max
 * pool skipping NaN, conv2d's reference skipping the 0·∞ of zero padding) is caught.
 */
import { OP_ROWS } from './index.js';
import type { InputGen, OpRow } from './row.js';

/**
 * Inputs kept finite, and why. conv2d's w: the gpu backends compute dx as a correlation of dy
 * padded with zeros (gpu.js) or a GEMM over the padded columns (the SIMD kernels), so an infinite
 * weight meets those zeros and makes dx NaN where the reference (and PyTorch's col2im) sums only
 * real products and stays finite. x with NaN/±∞ is covered, and y agrees for infinite weights too.
 */
const KEEP_FINITE: Readonly<Record<string, readonly string[]>> = { conv2d: ['w'] };

function withNonFinite(r: OpRow): OpRow {
  const gen: Partial<Record<string, InputGen>> = {};
  for (const name of r.op.def.inputs) {
    const base = r.gen?.[name] ?? 'normal';
    const fixed = (typeof base === 'object' && 'fixed' in base) || (KEEP_FINITE[r.op.name] ?? []).includes(name);
    gen[name] = fixed ? base : { nonFinite: base };
  }
  return { ...r, name: `${r.name}, with NaN/±Infinity`, gen };
}

export const NON_FINITE_ROWS: readonly OpRow[] = OP_ROWS.map(withNonFinite);
