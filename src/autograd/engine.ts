/**
 * Reverse-mode autodiff: `backward(loss)` walks the graph from the loss back to the leaves in
 * reverse topological order, so a node runs only after every use of its output has sent back its
 * gradient. Gradients that reach a tensor along several paths are summed (y = x·x + x gives
 * dy/dx = 2x + 1). The walk is iterative, so a 10,000-op chain does not overflow the stack.
 */
import { Tensor, keepFromScopes } from '../tensor/tensor.js';
import { sameShape, shapeToString, sizeOf } from '../tensor/shape.js';
import type { Storage } from '../tensor/backends/backend.js';
import type { GraphNode } from './graph.js';
import { getBackend } from '../tensor/backends/index.js';
import { fromTyped } from '../tensor/create.js';
import { allocate } from '../tensor/dtype.js';
import { noGrad } from './grad-mode.js';
import { checkKeys } from '../util/options.js';
import { add } from './ops/add.js';

/** Options of backward(). */
export interface BackwardOptions {
  /** Keep what backward needs so the graph can be backpropagated again (default false). */
  retainGraph?: boolean;
}

/** Reverse-mode autodiff from `root`: fills `.grad` of every leaf that requires grad (and of tensors that called retainGrad). A non-scalar root needs a seed gradient of its shape. */
export function backward(root: Tensor, seed?: Tensor, options: BackwardOptions = {}): void {
  if (!(root instanceof Tensor)) throw new Error('backward: expected a Tensor');
  checkKeys('backward', options, ['retainGraph']);
  if (!root.requiresGrad) {
    throw new Error('backward: this tensor does not require grad (no input had requiresGrad: true, or it was computed under noGrad)');
  }
  let dRoot: Tensor;
  if (seed === undefined) {
    if (root.size !== 1) {
      throw new Error(
        `backward: the tensor is not a scalar (shape ${shapeToString(root.shape)}), so it needs a seed gradient of that shape: y.backward(seed)`,
      );
    }
    const one = allocate(root.dtype, 1);
    one[0] = 1;
    dRoot = fromTyped(one, root.shape, { dtype: root.dtype, backend: root.backend });
  } else {
    if (!(seed instanceof Tensor) || seed.size !== root.size || seed.dtype !== root.dtype || seed.backend !== root.backend) {
      throw new Error(
        `backward: the seed gradient must match the tensor (${shapeToString(root.shape)} ${root.dtype} on '${root.backend}')` +
          (seed instanceof Tensor ? `; got ${shapeToString(seed.shape)} ${seed.dtype} on '${seed.backend}'` : ''),
      );
    }
    dRoot = seed;
  }

  const order = topologicalOrder(root);
  const grads = new Map<Tensor, Tensor>([[root, dRoot]]);
  const owned = new Set<Tensor>(seed === undefined ? [dRoot] : []); // gradient tensors the engine made

  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const dy = grads.get(t);
    if (dy === undefined) continue;
    grads.delete(t);
    const node = t.node;
    if (node === null) {
      accumulateLeaf(t, dy, owned.has(dy));
      continue;
    }
    const inputs = inputGradients(t, dy);
    if (t.retainsGrad) accumulateLeaf(t, dy, false); // retainGrad(): a copy of dy stays in t.grad
    if (!options.retainGraph) node.saved = null;
    if (owned.has(dy)) dy.dispose();

    for (const { input, grad } of inputs) {
      owned.add(grad);
      const before = grads.get(input);
      if (before === undefined) {
        grads.set(input, grad);
      } else {
        const sum = noGrad(() => add.apply({ a: before, b: grad }));
        owned.add(sum);
        before.dispose();
        grad.dispose();
        grads.set(input, sum);
      }
    }
  }
}

/** One input's share of a node's backward: ∂loss/∂input along this one edge. */
export interface InputGradient {
  /** The input's name in the op (e.g. 'a', 'b', 'x'). */
  name: string;
  input: Tensor;
  /** A new tensor the caller owns. */
  grad: Tensor;
}

/**
 * One node's backward: from dy, the gradient of the computed tensor `t`, the gradient sent back
 * to each of its inputs that needs one (requiresGrad, not declared non-differentiable). backward()
 * runs this for every node in reverse topological order and sums what reaches each tensor; the lab
 * calls it one node at a time to show each gradient arriving.
 */
export function inputGradients(t: Tensor, dy: Tensor): InputGradient[] {
  const node = t.node;
  if (node === null) throw new Error(`backward: tensor #${t.id} is a leaf; it has no node to backpropagate through`);
  if (node.saved === null) {
    throw new Error(
      `backward: the graph through '${node.op.name}' was freed by an earlier backward(); ` +
        'pass { retainGraph: true } to the first backward() to backpropagate through it twice',
    );
  }
  checkVersions(t, node);
  const needsGrad: Record<string, boolean> = {};
  const nonDiff = new Set<string>(node.op.nonDifferentiable ?? []);
  for (const name of node.op.inputs) needsGrad[name] = !nonDiff.has(name) && node.inputs[name].requiresGrad;
  const ctx = { ...node.ctx, needsGrad };
  const out = node.gradFunc ? customGradients(node, dy, needsGrad) : getBackend(t.backend).backward(node.op, node.saved, dy.storage, ctx);
  const result: InputGradient[] = [];
  for (const name of node.op.inputs) {
    if (!needsGrad[name]) continue;
    const input = node.inputs[name];
    const g = out['d' + name];
    const gSize = g === undefined ? -1 : storageSize(g);
    if (g === undefined || (gSize !== -1 && gSize !== input.size)) {
      throw new Error(
        `backward of '${node.op.name}': the gradient for input '${name}' must have ${input.size} elements ` +
          `(shape ${shapeToString(input.shape)}); got ${g === undefined ? 'none' : gSize}`,
      );
    }
    result.push({ name, input, grad: new Tensor(g, input.shape, input.dtype, input.backend) });
  }
  return result;
}

/**
 * backward() reads what an op saved; a saved input changed in place since (assign) would give
 * gradients of values the forward pass never saw. PyTorch's version counter, on every backend.
 */
function checkVersions(t: Tensor, node: GraphNode): void {
  const changed = (what: string, tensor: Tensor, then: number): Error =>
    new Error(
      `backward: '${node.op.name}' saved ${what} (tensor #${tensor.id} ${shapeToString(tensor.shape)}) for its backward, and it was ` +
        `changed in place afterwards (assign; version ${tensor.version}, saved at version ${then}). ` +
        'Change it only after backward(), or compute with a copy (detach()).',
    );
  for (const [name, then] of Object.entries(node.savedVersions)) {
    const input = node.inputs[name];
    if (input.version !== then) throw changed(`its input '${name}'`, input, then);
  }
  if (node.op.saves.includes('y') && t.version !== 0) throw changed('its output y', t, 0);
}

/** A customGrad node's backward: its gradFunc, run on tensors without recording, checked per input. */
function customGradients(node: GraphNode, dy: Tensor, needsGrad: Readonly<Record<string, boolean>>): Record<string, Storage> {
  const grads = noGrad(() => node.gradFunc!(dy));
  const names = node.op.inputs;
  if (!Array.isArray(grads) || grads.length !== names.length) {
    throw new Error(`customGrad: gradFunc must return an array of ${names.length} gradients, one per input; got ${Array.isArray(grads) ? `${grads.length}` : typeof grads}`);
  }
  const out: Record<string, Storage> = {};
  names.forEach((name, i) => {
    const g: unknown = grads[i];
    const input = node.inputs[name];
    if (!needsGrad[name]) return;
    if (!(g instanceof Tensor) || !sameShape(g.shape, input.shape) || g.dtype !== input.dtype || g.backend !== input.backend) {
      throw new Error(
        `customGrad: gradFunc's gradient ${i} (for input ${i}) must be a Tensor of the input's shape ${shapeToString(input.shape)}, ` +
          `${input.dtype} on '${input.backend}'; got ${g instanceof Tensor ? `${shapeToString(g.shape)} ${g.dtype} on '${g.backend}'` : typeof g}`,
      );
    }
    // A copy no tensor owns yet (gradFunc may return an input, dy itself, or a tensor a tidy scope will free).
    out['d' + name] = getBackend(g.backend).upload(g.toArray(), g.dtype);
  });
  return out;
}

/** A leaf keeps its gradient in `.grad`, summed over backward() calls (zero it between steps). */
function accumulateLeaf(leaf: Tensor, g: Tensor, owned: boolean): void {
  if (!leaf.requiresGrad) return;
  const mine = owned ? g : copyOf(g); // never alias a tensor the caller owns
  if (leaf.grad === null || leaf.grad.isDisposed) {
    leaf.grad = mine;
  } else {
    const old = leaf.grad;
    leaf.grad.assign(noGrad(() => add.apply({ a: old, b: mine })));
    mine.dispose();
  }
  keepFromScopes(leaf.grad);
}

function copyOf(t: Tensor): Tensor {
  return fromTyped(t.toArray(), t.shape, { dtype: t.dtype, backend: t.backend });
}

/** Tensors reachable from `root` through graph nodes that require grad, each after all of its inputs: backward() walks it from the end. */
export function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: { t: Tensor; expanded: boolean }[] = [{ t: root, expanded: false }];
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (top.expanded) {
      order.push(top.t);
      continue;
    }
    if (visited.has(top.t)) continue;
    visited.add(top.t);
    stack.push({ t: top.t, expanded: true });
    if (top.t.node) {
      for (const input of Object.values(top.t.node.inputs)) {
        if (input.requiresGrad && !visited.has(input)) stack.push({ t: input, expanded: false });
      }
    }
  }
  return order;
}

function storageSize(s: unknown): number {
  if (s instanceof Float32Array || s instanceof Float64Array) return s.length;
  const output = (s as { output?: readonly number[] }).output;
  return output ? sizeOf(output) : -1;
}
