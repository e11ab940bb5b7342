/**
 * Rows of class scores, shared by logSoftmax and crossEntropy: x [N, C] holds one row of C scores
 * per example, and both ops need each row's log-sum-exp
 *
 *   lse_n = log Σ_c exp(x[n, c]) = m_n + log Σ_c exp(x[n, c] − m_n),   m_n = max_c x[n, c]
 *
 * taken through the row max m_n, so every exp has an argument ≤ 0 and cannot overflow (logits of
 * ±1000 are fine).
 */
import { expectRank, shapeToString } from '../../tensor/shape.js';
import type { TypedArray } from '../../tensor/dtype.js';
import type { DeviceArray, Flat, GpuKit, Thread } from '../../tensor/op-def.js';

/** Throws unless x is [N, C] with N, C ≥ 1; `arg` names the argument in the message. */
export function expectRows(op: string, arg: string, x: readonly number[]): void {
  expectRank(op, arg, x, 2, '[N, C] (one row of class scores per example)');
  if (x[0] < 1 || x[1] < 1) throw new Error(`${op}: ${arg} needs at least one row and one class; got ${shapeToString(x)}`);
}

/** lse[n] = log Σ_c exp(x[n, c]) for x [N, C], through the row max (reference). */
export function rowLogSumExpInto(x: ArrayLike<number>, N: number, C: number, lse: TypedArray): void {
  for (let n = 0; n < N; n++) {
    const start = n * C;
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, x[start + c]);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(x[start + c] - m);
    lse[n] = m + Math.log(s);
  }
}

/** The same on the gpu: one thread per row. */
export function rowLogSumExpGpu(k: GpuKit, x: DeviceArray, N: number, C: number): DeviceArray {
  return k.run(
    function (this: Thread, x: Flat) {
      const start = this.thread.x * this.constants.C;
      let m = x[start];
      for (let c = 1; c < this.constants.C; c++) m = Math.max(m, x[start + c]);
      let s = 0;
      for (let c = 0; c < this.constants.C; c++) s += Math.exp(x[start + c] - m);
      return m + Math.log(s);
    },
    N,
    [x],
    { C },
  );
}
