/**
 * `defineOp` turns an op definition (name, shape rule, kernels — see src/tensor/op-def.ts) into an
 * op you can apply to tensors. Applying it
 *   1. checks the inputs (tensors, one backend, one dtype) and the shapes (the op's own rule),
 *   2. runs the forward kernel on the tensors' backend,
 *   3. records a graph node when gradients are wanted, keeping what backward needs (`saves`).
 */
import type { AnyOpDef, OpContext, OpDef } from '../tensor/op-def.js';
import { sizeOf, type Shape } from '../tensor/shape.js';
import type { Storage } from '../tensor/backends/backend.js';
import { getBackend } from '../tensor/backends/index.js';
import type { GraphNode } from './graph.js';
import { isCheckFiniteOn, isGradEnabled } from './grad-mode.js';
import { checkKeys } from '../util/options.js';
// Last: tensor.ts imports the math ops (t.add() …), which call defineOp as they load, so what
// defineOp uses must be loaded before this import starts that chain (when op.ts is loaded first).
import { Tensor } from '../tensor/tensor.js';

/** An op made by defineOp, with its input names I and attributes A. */
export interface Op<I extends string, A extends object> {
  readonly name: string;
  readonly def: OpDef<I, string, A>;
  /** Runs the op on named input tensors (and its attributes), recording the graph when gradients are wanted. */
  apply(inputs: Readonly<Record<I, Tensor>>, ...attrs: {} extends A ? [attrs?: A] : [attrs: A]): Tensor;
}

/** An op of any input names and attributes (what the registry and the op-test table hold); every Op is one. */
export interface AnyOp {
  readonly name: string;
  readonly def: AnyOpDef;
  /** Runs the op on named input tensors. */
  apply(inputs: Readonly<Record<string, Tensor>>, attrs?: object): Tensor;
}

/**
 * Every op defineOp has made: what `isOp` asks. A `var`, set on first use: this module sits in an
 * import cycle (tensor → engine → ops/add.ts → here), so defineOp can run before this module's
 * body has, when a `const` would still be uninitialised.
 */
var defined: WeakSet<object> | undefined;

/** Whether `value` is an op made by defineOp (how the registry, src/ops.ts, finds ops in a module). */
export function isOp(value: unknown): value is AnyOp {
  return typeof value === 'object' && value !== null && defined !== undefined && defined.has(value);
}

/** Turns an op definition (name, inputs, saves, shape rule, reference and gpu kernels: OpDef) into an op you apply to tensors; see src/nn/ops/frelu.ts for a model. */
export function defineOp<I extends string, S extends I | 'y', A extends object = {}>(def: OpDef<I, S, A>): Op<I, A> {
  checkDefinition(def);
  const nonDiff = new Set<string>(def.nonDifferentiable ?? []);
  const op = {
    name: def.name,
    def: def as OpDef<I, string, A>,
    apply(inputs: Readonly<Record<I, Tensor>>, ...rest: [attrs?: A]): Tensor {
      const attrs = (rest[0] ?? {}) as A;
      const first = checkInputs(def, inputs);
      const shapes = {} as Record<I, Shape>;
      const storages: Record<string, Storage> = {};
      for (const name of def.inputs) {
        shapes[name] = inputs[name].shape;
        storages[name] = inputs[name].storage;
      }
      const outShape = def.outputShape(shapes, attrs);
      const needsGrad = {} as Record<I, boolean>;
      let anyGrad = false;
      for (const name of def.inputs) {
        needsGrad[name] = !nonDiff.has(name) && inputs[name].requiresGrad;
        anyGrad ||= needsGrad[name];
      }
      const ctx: OpContext<I, A> = { attrs, shapes, outShape, dtype: first.dtype, needsGrad };
      const backend = getBackend(first.backend);
      const y = backend.forward(def as AnyOpDef, storages, ctx as OpContext<string, object>);
      checkForwardSize(def, y, outShape);
      if (isCheckFiniteOn() && (y instanceof Float32Array || y instanceof Float64Array)) reportNonFinite(def.name, y, outShape);

      let node: GraphNode | null = null;
      if (anyGrad && isGradEnabled()) {
        const saved: Record<string, Storage> = {};
        const savedVersions: Record<string, number> = {};
        for (const name of def.saves) {
          saved[name] = name === 'y' ? y : storages[name];
          if (name !== 'y') savedVersions[name] = inputs[name as I].version;
        }
        node = { op: def as AnyOpDef, inputs: { ...inputs }, ctx: ctx as OpContext<string, object>, saved, savedVersions };
      }
      return new Tensor(y, outShape, first.dtype, first.backend, node !== null, node);
    },
  } as Op<I, A>;
  (defined ??= new WeakSet()).add(op);
  return op;
}

/** A definition's mistakes that can be seen before it runs: `saves` naming no input. */
function checkDefinition<I extends string, S extends string, A>(def: OpDef<I, S, A>): void {
  if (typeof def !== 'object' || def === null || typeof def.name !== 'string' || def.name === '') throw new Error('defineOp: the definition needs a name');
  checkKeys(`defineOp '${def.name}'`, def, ['name', 'inputs', 'nonDifferentiable', 'saves', 'outputShape', 'reference', 'gpu']);
  if (!Array.isArray(def.inputs) || def.inputs.length === 0) throw new Error(`defineOp '${def.name}': inputs must list at least one input name`);
  for (const name of def.saves) {
    if (name !== 'y' && !(def.inputs as readonly string[]).includes(name)) {
      throw new Error(`defineOp '${def.name}': saves names '${name}', which is not an input (inputs: ${def.inputs.join(', ')}; 'y' is the output)`);
    }
  }
  for (const name of def.nonDifferentiable ?? []) {
    if (!def.inputs.includes(name)) throw new Error(`defineOp '${def.name}': nonDifferentiable names '${name}', which is not an input (inputs: ${def.inputs.join(', ')})`);
  }
}

/** The forward kernel's output must have the size outputShape promised (a gpu kernel returns its own array). */
function checkForwardSize(def: { name: string }, y: Storage, shape: Shape): void {
  const want = sizeOf(shape);
  const got = storageSize(y);
  if (got !== -1 && got !== want) {
    throw new Error(`${def.name}: the forward kernel produced ${got} elements, but outputShape says [${shape.join(', ')}] (${want} elements)`);
  }
}

/** Elements in a storage: a typed array's length, a texture's output size; -1 when unknown. */
export function storageSize(s: unknown): number {
  if (s instanceof Float32Array || s instanceof Float64Array) return s.length;
  if (typeof s !== 'object' || s === null || !('output' in s)) return -1;
  const output: unknown = s.output;
  return Array.isArray(output) ? output.reduce((n: number, d: number) => n * d, 1) : -1;
}

function checkInputs<I extends string>(def: OpDef<I, string, object>, inputs: Readonly<Record<I, Tensor>>): Tensor {
  if (typeof inputs !== 'object' || inputs === null) throw new Error(`${def.name}: inputs must be an object { ${def.inputs.join(', ')} }`);
  let first: Tensor | undefined;
  for (const name of def.inputs) {
    const t: unknown = inputs[name];
    if (!(t instanceof Tensor)) {
      throw new Error(`${def.name}: input '${name}' must be a Tensor; got ${t === undefined ? 'nothing' : typeof t}`);
    }
    if (first === undefined) {
      first = t;
    } else if (t.backend !== first.backend) {
      throw new Error(`${def.name}: all inputs must be on one backend; '${def.inputs[0]}' is on '${first.backend}', '${name}' on '${t.backend}'`);
    } else if (t.dtype !== first.dtype) {
      throw new Error(`${def.name}: all inputs must have one dtype; '${def.inputs[0]}' is ${first.dtype}, '${name}' is ${t.dtype}`);
    }
  }
  if (first === undefined) throw new Error(`${def.name}: an op needs at least one input`);
  return first;
}

function reportNonFinite(op: string, y: Float32Array | Float64Array, shape: Shape): void {
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i])) {
      throw new Error(`${op}: produced a non-finite value (${y[i]}) at flat index ${i} of its output [${shape.join(', ')}] — the first op to do so`);
    }
  }
}
