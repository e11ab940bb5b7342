/**
 * The autograd view's graph drawing: plain SVG and a layered layout, no library. The graphs here
 * have at most ~20 nodes, and a layered layout of that size is forty lines; dagre or elkjs would add
 * 100–400 KiB to the page for crossings we do not have.
 *
 * Layout. Leaves at the top, the loss at the bottom; each node sits one row above the highest of its
 * users (its row, counted from the bottom, is the longest path down to the loss), so every edge
 * points down and a leaf is drawn just above the first op that uses it. Within a row, nodes are ordered by the mean position of their inputs
 * and users (a few barycentre sweeps), which keeps these small graphs free of most crossings.
 */
import type { NodeView } from '../stepper.js';

export const BOX_W = 150;
export const BOX_H = 56;
const GAP_X = 24;
const GAP_Y = 40;
const MARGIN = 8;

export interface Placed {
  node: NodeView;
  /** Top-left corner. */
  x: number;
  y: number;
}

export interface Layout {
  placed: Map<number, Placed>;
  width: number;
  height: number;
}

/** Rows and positions for `nodes` (one of them the root; inputs by id). */
export function layOut(nodes: readonly NodeView[]): Layout {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const users = new Map<number, number[]>(nodes.map((n) => [n.id, []]));
  for (const n of nodes) for (const { from } of n.inputs) users.get(from)!.push(n.id);

  // Row counted from the bottom: the root 0, every other node one more than its lowest user.
  const fromBottom = new Map<number, number>();
  const below = (id: number): number => {
    const known = fromBottom.get(id);
    if (known !== undefined) return known;
    const us = users.get(id)!;
    const r = us.length === 0 ? 0 : 1 + Math.max(...us.map(below)); // above every user: edges point down
    fromBottom.set(id, r);
    return r;
  };
  const rowCount = 1 + Math.max(...nodes.map((n) => below(n.id)));
  const rows: number[][] = Array.from({ length: rowCount }, () => []);
  for (const n of nodes) rows[rowCount - 1 - below(n.id)].push(n.id); // walk order to start with

  // Barycentre sweeps: order each row by the mean slot of its neighbours.
  const slot = new Map<number, number>();
  const number = (): void => rows.forEach((row) => row.forEach((id, i) => slot.set(id, i - (row.length - 1) / 2)));
  number();
  const mean = (ids: number[]): number | null => (ids.length === 0 ? null : ids.reduce((s, id) => s + slot.get(id)!, 0) / ids.length);
  for (let sweep = 0; sweep < 4; sweep++) {
    const down = sweep % 2 === 0;
    const order = down ? rows.map((_, i) => i) : rows.map((_, i) => rows.length - 1 - i);
    for (const r of order) {
      const key = new Map(rows[r].map((id) => [id, mean(down ? byId.get(id)!.inputs.map((e) => e.from) : users.get(id)!) ?? slot.get(id)!]));
      rows[r].sort((a, b) => key.get(a)! - key.get(b)!);
      number();
    }
  }

  const widest = Math.max(...rows.map((r) => r.length));
  const width = 2 * MARGIN + widest * BOX_W + (widest - 1) * GAP_X;
  const placed = new Map<number, Placed>();
  rows.forEach((row, r) => {
    row.forEach((id) => {
      const x = width / 2 + slot.get(id)! * (BOX_W + GAP_X) - BOX_W / 2;
      placed.set(id, { node: byId.get(id)!, x, y: MARGIN + r * (BOX_H + GAP_Y) });
    });
  });
  return { placed, width, height: 2 * MARGIN + rowCount * BOX_H + (rowCount - 1) * GAP_Y };
}

/** A number for a small box: 4 significant digits, no trailing noise. */
export function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : String(+v.toPrecision(4));
}

/** Up to `max` values, then '…'. */
export function fmtValues(values: readonly number[], max = 3): string {
  const shown = values.slice(0, max).map(fmt).join(', ');
  return values.length === 1 ? shown : `[${shown}${values.length > max ? ', …' : ''}]`;
}

/** What to draw for each node at this moment of backward. */
export interface NodeState {
  grad: number[] | undefined;
  arrivals: number;
  /** The node processed by the last step. */
  current: boolean;
  /** A node that got a gradient in the last step. */
  receiving: boolean;
}

const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, parent: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent.appendChild(e);
  return e;
}

function text(parent: Element, x: number, y: number, content: string, cls: string): void {
  el('text', { x, y, class: cls }, parent).textContent = content;
}

/** The graph as an SVG element; edges that carried a gradient in the last step are highlighted. */
export function drawGraph(layout: Layout, state: (id: number) => NodeState, hotEdges: ReadonlySet<string>): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${layout.width} ${layout.height}`);
  svg.setAttribute('width', String(layout.width));
  svg.setAttribute('height', String(layout.height));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'the computation graph: leaves at the top, the loss at the bottom');
  const defs = el('defs', {}, svg);
  const marker = el('marker', { id: 'ag-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
  el('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#888' }, marker);

  for (const { node, x, y } of layout.placed.values()) {
    node.inputs.forEach(({ name, from }, i) => {
      const src = layout.placed.get(from)!;
      // Two edges between the same pair (t·t) are drawn side by side.
      const twins = node.inputs.filter((e) => e.from === from);
      const k = twins.length === 1 ? 0 : twins.indexOf(node.inputs[i]) - (twins.length - 1) / 2;
      const x1 = src.x + BOX_W / 2 + k * 24, y1 = src.y + BOX_H;
      const x2 = x + BOX_W / 2 + k * 24 + (i - (node.inputs.length - 1) / 2) * 20, y2 = y;
      const hot = hotEdges.has(`${node.id}:${name}`);
      const my = (y1 + y2) / 2;
      el('path', { d: `M${x1},${y1} C${x1},${my} ${x2},${my} ${x2},${y2}`, class: hot ? 'ag-edge ag-hot' : 'ag-edge', 'marker-end': 'url(#ag-arrow)' }, svg);
      text(svg, (x1 + x2) / 2 + 4, my + 4, name, hot ? 'ag-edge-label ag-hot' : 'ag-edge-label');
    });
  }
  for (const { node, x, y } of layout.placed.values()) {
    const s = state(node.id);
    const kind = node.op !== null ? 'ag-op' : node.requiresGrad ? 'ag-leaf' : 'ag-const';
    const cls = ['ag-node', kind, node.root ? 'ag-root' : '', s.current ? 'ag-current' : '', s.receiving ? 'ag-receiving' : ''].filter(Boolean).join(' ');
    const g = el('g', { class: cls, 'data-node': node.id }, svg);
    el('rect', { x, y, width: BOX_W, height: BOX_H, rx: node.op === null ? 2 : 10 }, g);
    const title = node.op !== null ? `${node.op} #${node.seq}` : node.name ?? 'constant';
    text(g, x + 6, y + 15, node.shape.length === 0 ? title : `${title} [${node.shape.join('×')}]`, 'ag-title');
    text(g, x + 6, y + 31, fmtValues(node.values), 'ag-value');
    if (s.grad !== undefined) text(g, x + 6, y + 48, `∂L ${fmtValues(s.grad)}${s.arrivals > 1 ? ` (${s.arrivals} parts)` : ''}`, 'ag-grad');
    else if (!node.requiresGrad) text(g, x + 6, y + 48, 'no grad (data)', 'ag-nograd');
  }
  return svg;
}
