/**
 * `toDot(t)`: the graph behind a tensor as Graphviz DOT text, to see what backward() will walk.
 * Tensors are boxes (shape, dtype; leaves that require grad filled blue, other leaves — constants,
 * data — grey, computed tensors white, t itself bold); each op application is an ellipse named
 * after the op, with an edge from every input (labelled with the input's name) and one to its
 * output. Render with `dot -Tsvg graph.dot > graph.svg`, or paste into an online Graphviz viewer.
 *
 *   const x = g.tensor([1, 2], { requiresGrad: true });
 *   g.toDot(g.sum(g.mul(x, x)))   // 'digraph gradlab { … "mul" … "sum" … }'
 */
import type { Tensor } from '../tensor/tensor.js';
import { shapeToString } from '../tensor/shape.js';
import { checkKeys } from '../util/options.js';
import { shown } from '../util/format.js';

/** Options of g.toDot. */
export interface ToDotOptions {
  /** Show up to this many of each tensor's values in its box (default 0: none; reads them from the device). */
  values?: number;
}

/** The graph behind `t` as Graphviz DOT text (see the module comment): `g.toDot(loss)`. */
export function toDot(t: Tensor, options: ToDotOptions = {}): string {
  checkKeys('toDot', options, ['values']);
  const valueCount = options.values ?? 0;
  if (!Number.isInteger(valueCount) || valueCount < 0) throw new Error(`toDot: values must be an integer ≥ 0 (how many values to show); got ${shown(options.values)}`);
  const lines: string[] = ['digraph gradlab {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=11];'];
  for (const u of graphTensors(t)) {
    lines.push(`  t${u.id} [${tensorAttrs(u, u === t, valueCount)}];`);
    if (u.node === null) continue;
    lines.push(`  op${u.id} [shape=ellipse, label="${u.node.op.name}"];`);
    lines.push(`  op${u.id} -> t${u.id};`);
    for (const [name, input] of Object.entries(u.node.inputs)) lines.push(`  t${input.id} -> op${u.id} [label="${name}"];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

/**
 * The graph walk behind toDot: every tensor `t` was computed from, t first, each once — leaves
 * (with or without requiresGrad) included. An op application is `u.node` (its inputs by name).
 * The lab's autograd view draws this same graph.
 */
export function graphTensors(t: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: Tensor[] = [t];
  while (stack.length > 0) {
    const u = stack.pop()!;
    if (seen.has(u)) continue;
    seen.add(u);
    order.push(u);
    if (u.node !== null) stack.push(...Object.values(u.node.inputs));
  }
  return order;
}

function tensorAttrs(t: Tensor, root: boolean, valueCount: number): string {
  const kind = t.node === null ? (t.requiresGrad ? 'leaf, requiresGrad' : 'leaf') : t.requiresGrad ? 'requiresGrad' : 'no grad';
  const label = [`#${t.id} ${shapeToString(t.shape)} ${t.dtype}`, kind];
  if (valueCount > 0 && !t.isDisposed) {
    const values = Array.from(t.toArray().subarray(0, valueCount), (v) => +v.toPrecision(4));
    label.push(`[${values.join(', ')}${t.size > valueCount ? ', …' : ''}]`);
  }
  const fill = t.node !== null ? 'white' : t.requiresGrad ? 'lightblue' : 'lightgrey';
  return `shape=box, style="filled${root ? ',bold' : ''}", fillcolor=${fill}, label="${label.join('\\n')}"`;
}
