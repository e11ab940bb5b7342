/**
 * The op-test table's row type, the typed way to write a row, and the input generator. One row per
 * op configuration worth checking; the same rows drive the float64 gradient check
 * (gradcheck-ops.test.ts) and the gpu-vs-reference comparison (gpu-vs-reference.test.ts).
 *
 * Rows are written with `row(op, { … })`, which checks the row against the op's own types: the
 * keys of `shapes` must be exactly the op's inputs, those of `gen` some of them, and `attrs` the
 * op's attribute type (required when the op has attributes, refused when it has none) — so a
 * misspelled input or attribute name fails the typecheck, not a test run.
 */
import * as g from '../../src/index.js';
import type { AnyOp, Op } from '../../src/autograd/op.js';
import { randomStream, type RandomStream } from '../../src/tensor/random.js';
import { sizeOf, type Shape } from '../../src/tensor/shape.js';

/** How an input's values are drawn. */
export type InputGen =
  | 'normal' // N(0, 1)
  | 'positive' // uniform in [0.5, 2] (log, sqrt, divisors)
  | 'awayFromZero' // N(0, 1) pushed at least 0.1 from 0 (relu-like kinks; finite differences must not straddle 0)
  | 'distinct' // a shuffled grid of values at least 0.05 apart (max pooling, max: no ties)
  | { normalAround: number } // N(0, 1) + the given offset (variances of data far from 0: cancellation)
  | { fixed: (shape: Shape, rng: RandomStream) => ArrayLike<number> } // not differentiated (labels, masks)
  | { nonFinite: InputGen }; // those values with NaN, +Infinity and −Infinity put in (./non-finite.ts)

/** Gradient-check tolerances (float64). */
export interface CheckTolerances {
  eps?: number;
  atol?: number;
  rtol?: number;
}

/** gpu-vs-reference tolerances (float32). */
export interface GpuTolerances {
  atol: number;
  rtol: number;
}

/** A row as the tests read it. */
export interface OpRow {
  /** The primitive under test; for a composite row, a pseudo-op naming the composite. */
  readonly op: AnyOp;
  /** Says what the row checks, e.g. 'stride 2 pad 1'. */
  readonly name: string;
  readonly shapes: Readonly<Record<string, Shape>>;
  readonly attrs?: object;
  /** Per input; 'normal' when absent. */
  readonly gen?: Readonly<Partial<Record<string, InputGen>>>;
  /** Gradient-check tolerances for this row (float64). */
  readonly check?: CheckTolerances;
  /** gpu-vs-reference tolerances for this row (float32); default atol 1e-5, rtol 1e-4. */
  readonly gpuTol?: GpuTolerances;
}

/** What `row` takes for an op with inputs I and attributes A. */
export type RowSpec<I extends string, A extends object> = {
  name: string;
  shapes: Readonly<Record<I, Shape>>;
  gen?: Readonly<Partial<Record<I, InputGen>>>;
  check?: CheckTolerances;
  gpuTol?: GpuTolerances;
} & ([keyof A] extends [never] ? { attrs?: undefined } : {} extends A ? { attrs?: A } : { attrs: A });

/** A row of the table for `op`, checked against the op's input names and attribute type. */
export function row<I extends string, A extends object>(op: Op<I, A>, spec: RowSpec<NoInfer<I>, NoInfer<A>>): OpRow {
  return { op, name: spec.name, shapes: spec.shapes, attrs: spec.attrs, gen: spec.gen, check: spec.check, gpuTol: spec.gpuTol };
}

/**
 * A row for a composite function (broadcasting, diamond graphs, linear…): same generator and
 * checks as an op row, but `fn` builds the output from several ops.
 */
export interface CompositeSpec {
  name: string;
  shapes: Readonly<Record<string, Shape>>;
  gen?: Readonly<Partial<Record<string, InputGen>>>;
  fn: (inputs: Readonly<Record<string, g.Tensor>>) => g.Tensor;
  check?: CheckTolerances;
  gpuTol?: GpuTolerances;
}

/** A composite row seen as an op row, so one generator and one set of tests serve both. */
export function composite(c: CompositeSpec): OpRow {
  const names = Object.keys(c.shapes);
  const op: AnyOp = {
    name: 'composite',
    def: { name: 'composite', inputs: names, saves: [], outputShape: () => [], reference: { forward() {}, backward() {} } },
    apply: (inputs) => c.fn(inputs),
  };
  return { op, name: c.name, shapes: c.shapes, gen: c.gen, check: c.check, gpuTol: c.gpuTol };
}

function seedOf(r: OpRow): string {
  return `${r.op.name}/${r.name}`;
}

/** The row's input values (same numbers whatever the dtype/backend), fixed inputs flagged. */
export function rowValues(r: OpRow): { name: string; values: Float64Array; fixed: boolean; shape: Shape }[] {
  const rng = randomStream(seedOf(r));
  return r.op.def.inputs.map((name) => {
    const shape = r.shapes[name];
    if (shape === undefined) throw new Error(`op row ${seedOf(r)}: no shape for input '${name}'`);
    const gen = r.gen?.[name] ?? 'normal';
    const fixed = typeof gen === 'object' && 'fixed' in gen;
    const values = drawValues(gen, shape, rng);
    return { name, values, fixed, shape };
  });
}

/** NaN at the first element, +Infinity a third in, −Infinity two thirds in (as many as fit). */
function putNonFinite(values: Float64Array): Float64Array {
  const n = values.length;
  const at = [0, Math.floor(n / 3), Math.floor((2 * n) / 3)];
  [NaN, Infinity, -Infinity].forEach((v, k) => {
    if (n > 0 && (k === 0 || at[k] !== at[k - 1])) values[at[k]] = v;
  });
  return values;
}

function drawValues(gen: InputGen, shape: Shape, rng: RandomStream): Float64Array {
  const n = sizeOf(shape);
  let values: Float64Array;
  if (typeof gen === 'object' && 'nonFinite' in gen) {
    values = putNonFinite(drawValues(gen.nonFinite, shape, rng));
  } else if (typeof gen === 'object') {
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
  return values;
}

/** The row's inputs as tensors of `dtype` on `backend` (differentiable ones require grad). */
export function rowInputs(r: OpRow, dtype: g.DType, backend: g.BackendName): Record<string, g.Tensor> {
  const out: Record<string, g.Tensor> = {};
  for (const v of rowValues(r)) {
    out[v.name] = g.tensor(v.values, { shape: v.shape, dtype, backend, requiresGrad: !v.fixed });
  }
  return out;
}

export function rowLabel(r: OpRow): string {
  return `${r.op.name} '${r.name}'`;
}
