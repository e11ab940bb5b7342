/**
 * The logic of the lab's autograd view, without the DOM (so Node tests it too): a few small
 * expressions to pick from, the graph behind one (the walk g.toDot makes, ../../autograd/dot.ts),
 * and a backward pass that runs one node at a time, in the order backward() itself uses
 * (../../autograd/engine.ts: topologicalOrder, then inputGradients per node), keeping every
 * gradient that arrives so the page can show it arriving and accumulating.
 *
 *   const s = new BackwardStepper(PRESETS[0], PRESETS[0].leaves.map((l) => l.values));
 *   s.step();          // the root's node sends its gradient to its inputs
 *   s.runToEnd();
 *   s.leafGrads();     // { a: [7], b: [-4], … }: what backward() puts in each leaf's .grad
 *
 * Everything runs in float64 on the reference backend, where g.gradcheck can check it.
 */
import { tensor, type Tensor } from '../../core.js';
import * as g from '../../core.js';
import { graphTensors } from '../../autograd/dot.js';
import { inputGradients, topologicalOrder } from '../../autograd/engine.js';
import { sizeOf } from '../../tensor/shape.js';

// ── 1. The expressions ──

/** One input of an expression. */
export interface LeafSpec {
  name: string;
  shape: number[];
  /** The values it starts with (row-major); the page lets the user change them. */
  values: number[];
  /** false: data held fixed (it gets no gradient). */
  requiresGrad: boolean;
}

export interface Preset {
  id: string;
  title: string;
  /** The expression as a student would write it. */
  formula: string;
  leaves: LeafSpec[];
  /** Builds the expression from its leaves (in `leaves` order); returns a scalar. */
  build(...leaves: Tensor[]): Tensor;
}

const square = (t: Tensor): Tensor => g.mul(t, t); // t used twice: two gradients meet at t

export const PRESETS: readonly Preset[] = [
  {
    id: 'scalar',
    title: 'Scalars (micrograd-style)',
    formula: 'L = relu(a·b + c)·f + a',
    leaves: [
      { name: 'a', shape: [], values: [2], requiresGrad: true },
      { name: 'b', shape: [], values: [-3], requiresGrad: true },
      { name: 'c', shape: [], values: [10], requiresGrad: true },
      { name: 'f', shape: [], values: [-2], requiresGrad: true },
    ],
    build: (a, b, c, f) => g.add(g.mul(g.nn.functional.relu(g.add(g.mul(a, b), c)), f), a),
  },
  {
    id: 'mlp',
    title: '2-layer MLP, MSE loss on 2 inputs',
    formula: 'L = mean((relu(x·W1 + b1)·W2 + b2 − y)²)',
    leaves: [
      { name: 'x', shape: [2, 2], values: [1, -1, 0.5, 2], requiresGrad: false },
      { name: 'W1', shape: [2, 3], values: [0.5, -0.3, 0.8, 0.2, 0.4, -0.6], requiresGrad: true },
      { name: 'b1', shape: [3], values: [0.1, 0, -0.2], requiresGrad: true },
      { name: 'W2', shape: [3, 1], values: [0.7, -0.5, 0.3], requiresGrad: true },
      { name: 'b2', shape: [1], values: [0.05], requiresGrad: true },
      { name: 'y', shape: [2, 1], values: [1, -0.5], requiresGrad: false },
    ],
    build: (x, W1, b1, W2, b2, y) => {
      const h = g.nn.functional.relu(g.add(g.matmul(x, W1), b1));
      return g.mean(square(g.sub(g.add(g.matmul(h, W2), b2), y)));
    },
  },
  {
    id: 'broadcast',
    title: 'Broadcasting and a sum',
    formula: 'L = Σ tanh(W ⊙ x)⊙x    (x: [3], broadcast over W’s 2 rows)',
    leaves: [
      { name: 'W', shape: [2, 3], values: [0.5, -1, 2, 1.5, 0.3, -0.7], requiresGrad: true },
      { name: 'x', shape: [3], values: [1, 0.5, -2], requiresGrad: true },
    ],
    build: (W, x) => g.sum(g.mul(g.tanh(g.mul(W, x)), x)),
  },
];

export function presetById(id: string): Preset {
  const p = PRESETS.find((q) => q.id === id);
  if (p === undefined) throw new Error(`autograd view: no expression '${id}'; choose one of ${PRESETS.map((q) => `'${q.id}'`).join(', ')}`);
  return p;
}

/** The leaves as float64 tensors on the reference backend, after checking each has the right number of values. */
export function makeLeaves(preset: Preset, values: readonly (readonly number[])[]): Tensor[] {
  if (values.length !== preset.leaves.length) {
    throw new Error(`${preset.id}: ${preset.leaves.length} inputs (${preset.leaves.map((l) => l.name).join(', ')}); got ${values.length} value lists`);
  }
  return preset.leaves.map((leaf, i) => {
    const v = values[i];
    const need = sizeOf(leaf.shape);
    if (v.length !== need) throw new Error(`${leaf.name} has shape [${leaf.shape.join(', ')}], so it needs ${need} value${need === 1 ? '' : 's'}; got ${v.length}`);
    const bad = v.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new Error(`${leaf.name}: value ${bad + 1} is not a finite number (${v[bad]})`);
    return tensor(v, { shape: leaf.shape, dtype: 'float64', backend: 'reference', requiresGrad: leaf.requiresGrad });
  });
}

// ── 2. The graph ──

/** One node as the page draws it: an op application (with its output) or a leaf. */
export interface NodeView {
  /** The tensor's id (unique in the page). */
  id: number;
  /** The op's name, or null for a leaf. */
  op: string | null;
  /** The leaf's name in the expression (null for computed tensors). */
  name: string | null;
  shape: number[];
  values: number[];
  /** The op's inputs by the op's own names (a, b, x…), as node ids. */
  inputs: { name: string; from: number }[];
  requiresGrad: boolean;
  /** The expression's output. */
  root: boolean;
  /** The longest path from a leaf (leaves 0). */
  depth: number;
  /** Ops numbered 1, 2, … in an order the forward pass could run them (by depth); 0 for leaves. Shown as #seq. */
  seq: number;
}

/** The graph behind `root`, walked as g.toDot walks it; `names` names the leaves. */
export function graphOf(root: Tensor, names: ReadonlyMap<Tensor, string>): NodeView[] {
  const tensors = graphTensors(root);
  const depth = new Map<Tensor, number>();
  const depthOf = (t: Tensor): number => {
    // Inputs come later in the walk than their first user, so resolve from the end.
    const known = depth.get(t);
    if (known !== undefined) return known;
    const d = t.node === null ? 0 : 1 + Math.max(...Object.values(t.node.inputs).map(depthOf));
    depth.set(t, d);
    return d;
  };
  for (let i = tensors.length - 1; i >= 0; i--) depthOf(tensors[i]);
  const ops = tensors.filter((t) => t.node !== null).reverse();
  ops.sort((a, b) => depth.get(a)! - depth.get(b)!); // stable: ties keep the reversed walk's order
  const seq = new Map(ops.map((t, i) => [t, i + 1]));
  return tensors.map((t) => ({
    id: t.id,
    op: t.node === null ? null : t.node.op.name,
    name: names.get(t) ?? null,
    shape: [...t.shape],
    values: Array.from(t.toArray()),
    inputs: t.node === null ? [] : Object.entries(t.node.inputs).map(([name, input]) => ({ name, from: input.id })),
    requiresGrad: t.requiresGrad,
    root: t === root,
    depth: depth.get(t)!,
    seq: seq.get(t) ?? 0,
  }));
}

// ── 3. Backward, one node at a time ──

/** A gradient sent along one edge: from a node's output back to one of its inputs. */
export interface Contribution {
  /** The node whose backward sent it. */
  from: number;
  /** The input's name in that op. */
  edge: string;
  values: number[];
}

/** What one step did. */
export interface StepEvent {
  /** The node processed. */
  node: number;
  /** 'op': its backward ran and sent gradients to its inputs; 'leaf': its gradient is final (what .grad gets). */
  kind: 'op' | 'leaf';
  sent: { to: number; edge: string; values: number[] }[];
}

export class BackwardStepper {
  readonly preset: Preset;
  readonly leaves: readonly Tensor[];
  readonly root: Tensor;
  readonly nodes: readonly NodeView[];
  /** Node ids in the order backward() visits them: the root first, each node after every user of its output. */
  readonly order: readonly number[];
  /** How many entries of `order` have been processed. */
  position = 0;
  /** Every gradient that has arrived at each node, in arrival order (the root's seed: from itself). */
  readonly arrived = new Map<number, Contribution[]>();
  /** The running sum of what has arrived at each node. */
  readonly total = new Map<number, number[]>();
  /** The last step's event (null before the first). */
  last: StepEvent | null = null;
  private readonly byId: Map<number, Tensor>;

  constructor(preset: Preset, values: readonly (readonly number[])[]) {
    this.preset = preset;
    this.leaves = makeLeaves(preset, values);
    this.root = preset.build(...this.leaves);
    if (this.root.size !== 1) throw new Error(`${preset.id}: the expression must give a scalar; got shape [${this.root.shape.join(', ')}]`);
    const names = new Map(this.leaves.map((t, i) => [t, preset.leaves[i].name]));
    this.nodes = graphOf(this.root, names);
    this.byId = new Map(graphTensors(this.root).map((t) => [t.id, t]));
    this.order = topologicalOrder(this.root).reverse().map((t) => t.id);
    this.reset();
  }

  node(id: number): NodeView {
    const n = this.nodes.find((m) => m.id === id);
    if (n === undefined) throw new Error(`autograd view: no node #${id} in this graph`);
    return n;
  }

  get done(): boolean {
    return this.position >= this.order.length;
  }

  /** Back to before the first step: only the root has a gradient, dL/dL = 1. */
  reset(): void {
    this.position = 0;
    this.arrived.clear();
    this.total.clear();
    this.last = null;
    this.arrived.set(this.root.id, [{ from: this.root.id, edge: 'seed', values: [1] }]);
    this.total.set(this.root.id, [1]);
  }

  /** Processes the next node of `order`; null when backward is complete. */
  step(): StepEvent | null {
    while (!this.done) {
      const id = this.order[this.position++];
      const dy = this.total.get(id);
      if (dy === undefined) continue; // reached only through inputs that take no gradient (as backward() skips it)
      const t = this.byId.get(id)!;
      if (t.node === null) {
        this.last = { node: id, kind: 'leaf', sent: [] };
        return this.last;
      }
      const dyTensor = tensor(dy, { shape: t.shape, dtype: t.dtype, backend: t.backend });
      const sent = inputGradients(t, dyTensor).map(({ name, input, grad }) => {
        const values = Array.from(grad.toArray());
        grad.dispose();
        this.receive(input.id, { from: id, edge: name, values });
        return { to: input.id, edge: name, values };
      });
      dyTensor.dispose();
      this.last = { node: id, kind: 'op', sent };
      return this.last;
    }
    return null;
  }

  /** Steps until backward is complete; returns how many steps that took. */
  runToEnd(): number {
    let n = 0;
    while (this.step() !== null) n++;
    return n;
  }

  /** Each leaf that requires grad with the gradient it has so far (complete once `done`). */
  leafGrads(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    this.leaves.forEach((t, i) => {
      if (t.requiresGrad) out[this.preset.leaves[i].name] = this.total.get(t.id)?.slice() ?? new Array<number>(t.size).fill(0);
    });
    return out;
  }

  private receive(to: number, c: Contribution): void {
    const before = this.total.get(to);
    // backward() sums with the add op in the same order; float64 addition here gives the same bits.
    this.total.set(to, before === undefined ? c.values.slice() : before.map((v, i) => v + c.values[i]));
    const list = this.arrived.get(to) ?? [];
    list.push(c);
    this.arrived.set(to, list);
  }
}

/** The leaves' gradients as `L.backward()` computes them, on a fresh copy of the expression. */
export function backwardGrads(preset: Preset, values: readonly (readonly number[])[]): Record<string, number[]> {
  const leaves = makeLeaves(preset, values);
  preset.build(...leaves).backward();
  const out: Record<string, number[]> = {};
  leaves.forEach((t, i) => {
    if (t.requiresGrad) out[preset.leaves[i].name] = t.grad === null ? new Array<number>(t.size).fill(0) : Array.from(t.grad.toArray());
  });
  return out;
}

/** g.gradcheck (float64 central differences) on the expression, every leaf that requires grad checked. */
export function gradcheckPreset(preset: Preset, values: readonly (readonly number[])[]): g.GradcheckResult {
  const leaves = makeLeaves(preset, values);
  return g.gradcheck((...xs) => preset.build(...xs), leaves, { names: preset.leaves.map((l) => l.name) });
}
