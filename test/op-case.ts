/**
 * The op-test table's row type and the input generator. One row per op configuration worth
 * checking; the same rows drive the float64 gradient check (gradcheck-ops.test.ts) and the
 * gpu-vs-reference comparison (gpu-vs-reference.test.ts).
 */
import * as g from '../src/index.js';
import type { AnyOp } from '../src/autograd/op.js';
import { randomStream, type RandomStream } from '../src/tensor/random.js';
import { sizeOf, type Shape } from '../src/tensor/shape.js';

/** How an input's values are drawn. */
export type InputGen =
  | 'normal' // N(0, 1)
  | 'positive' // uniform in [0.5, 2] (log, sqrt, divisors)
  | 'awayFromZero' // N(0, 1) pushed at least 0.1 from 0 (relu-like kinks; finite differences must not straddle 0)
  | 'distinct' // a shuffled grid of values at least 0.05 apart (max pooling, max: no ties)
  | { normalAround: number } // N(0, 1) + the given offset (variances of data far from 0: cancellation)
  | { fixed: (shape: Shape, rng: RandomStream) => ArrayLike<number> }; // not differentiated (labels, masks)

export interface OpCase {
  /** The primitive under test; or, for a composite row, a pseudo-op naming the composite. */
  op: AnyOp;
  /** Says what the row checks, e.g. 'stride 2 pad 1'. */
  name: string;
  shapes: Readonly<Record<string, Shape>>;
  attrs?: object;
  /** Per input; 'normal' when absent. */
  gen?: Readonly<Record<string, InputGen>>;
  /** Gradient-check tolerances for this row (float64). */
  check?: { eps?: number; atol?: number; rtol?: number };
  /** gpu-vs-reference tolerances for this row (float32); default atol 1e-5, rtol 1e-4. */
  gpuTol?: { atol: number; rtol: number };
}

function seedOf(c: OpCase): string {
  return `${c.op.name}/${c.name}`;
}

/** The row's input values (same numbers whatever the dtype/backend), fixed inputs flagged. */
export function caseValues(c: OpCase): { name: string; values: Float64Array; fixed: boolean; shape: Shape }[] {
  const rng = randomStream(seedOf(c));
  return c.op.def.inputs.map((name) => {
    const shape = c.shapes[name];
    if (shape === undefined) throw new Error(`op case ${seedOf(c)}: no shape for input '${name}'`);
    const n = sizeOf(shape);
    const gen = c.gen?.[name] ?? 'normal';
    const fixed = typeof gen === 'object' && 'fixed' in gen;
    let values: Float64Array;
    if (typeof gen === 'object') {
      values = 'fixed' in gen ? Float64Array.from(gen.fixed(shape, rng)) : Float64Array.from({ length: n }, () => gen.normalAround + rng.normal());
    } else if (gen === 'positive') {
      values = Float64Array.from({ length: n }, () => 0.5 + 1.5 * rng.uniform());
    } else if (gen === 'awayFromZero') {
      values = Float64Array.from({ length: n }, () => {
        const v = rng.normal();
        return v >= 0 ? v + 0.1 : v - 0.1;
      });
    } else if (gen === 'distinct') {
      const order = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      values = Float64Array.from(order, (k) => (k - n / 2) * 0.05 + 0.01 * rng.uniform());
    } else {
      values = Float64Array.from({ length: n }, () => rng.normal());
    }
    return { name, values, fixed, shape };
  });
}

/** The row's inputs as tensors of `dtype` on `backend` (differentiable ones require grad). */
export function caseInputs(c: OpCase, dtype: g.DType, backend: g.BackendName): Record<string, g.Tensor> {
  const out: Record<string, g.Tensor> = {};
  for (const v of caseValues(c)) {
    out[v.name] = g.tensor(v.values, { shape: v.shape, dtype, backend, requiresGrad: !v.fixed });
  }
  return out;
}

export function caseLabel(c: OpCase): string {
  return `${c.op.name} '${c.name}'`;
}

/**
 * A row for a composite function (broadcasting, diamond graphs, linear…): same generator and
 * checks as an op row, but `fn` builds the output from several ops.
 */
export interface CompositeCase {
  name: string;
  shapes: Readonly<Record<string, Shape>>;
  gen?: Readonly<Record<string, InputGen>>;
  fn: (inputs: Readonly<Record<string, g.Tensor>>) => g.Tensor;
  check?: { eps?: number; atol?: number; rtol?: number };
  gpuTol?: { atol: number; rtol: number };
}

/** A composite row seen as an op row, so one generator and one set of tests serve both. */
export function compositeAsCase(c: CompositeCase): OpCase {
  const names = Object.keys(c.shapes);
  const op: AnyOp = {
    name: 'composite',
    def: { name: 'composite', inputs: names, saves: [], outputShape: () => [], reference: { forward() {}, backward() {} } },
    apply: (inputs) => c.fn(inputs),
  };
  return { op, name: c.name, shapes: c.shapes, gen: c.gen, check: c.check, gpuTol: c.gpuTol };
}
