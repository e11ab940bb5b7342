/**
 * The lab's autograd stepper (src/browser/lab/stepper.ts) in Node: backward one node at a time
 * visits nodes in a valid reverse topological order, shows each gradient arriving, and ends with
 * the leaf gradients backward() computes — bit for bit, and equal to hand-derived values.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import { BackwardStepper, PRESETS, backwardGrads, gradcheckPreset, makeLeaves, presetById } from '../src/browser/lab/stepper.js';

const start = (id: string): BackwardStepper => {
  const p = presetById(id);
  return new BackwardStepper(p, p.leaves.map((l) => l.values));
};

test('scalar expression by hand: L = relu(a·b + c)·f + a at a=2, b=−3, c=10, f=−2', () => {
  const s = start('scalar');
  assert.is(s.root.item(), 4 * -2 + 2);
  assert.is(s.order.length, 9, '5 ops and 4 leaves');
  s.runToEnd();
  // ∂L/∂a = f·b·[a·b + c > 0] + 1 (two paths), ∂L/∂b = f·a, ∂L/∂c = f, ∂L/∂f = relu(a·b + c).
  assert.equal(s.leafGrads(), { a: [7], b: [-4], c: [-2], f: [4] });
  // a is used twice: the final add sends 1 first, then a·b's mul sends f·b = 6; the sum grows 1 → 7.
  const a = s.leaves[0].id;
  assert.equal(s.arrived.get(a)!.map((c) => c.values), [[1], [6]]);
});

test('each step is one node; the first step sends the root gradient along both edges of the last add', () => {
  const s = start('scalar');
  assert.equal(s.total.get(s.root.id), [1], 'before any step only ∂L/∂L = 1');
  const e = s.step()!;
  assert.is(e.node, s.root.id);
  assert.is(e.kind, 'op');
  assert.equal(e.sent.map((x) => [x.edge, x.values]), [['a', [1]], ['b', [1]]]);
  assert.is(s.position, 1);
  s.reset();
  assert.is(s.position, 0);
  assert.is(s.arrived.size, 1);
});

test('the order is reverse topological: every node comes after all the nodes that use its output', () => {
  for (const p of PRESETS) {
    const s = start(p.id);
    const at = new Map(s.order.map((id, i) => [id, i]));
    for (const n of s.nodes) {
      for (const { from } of n.inputs) {
        if (at.has(from) && at.has(n.id)) assert.ok(at.get(n.id)! < at.get(from)!, `${p.id}: #${n.id} (${n.op}) before its input #${from}`);
      }
    }
  }
});

test('for every expression the stepped leaf gradients are backward()’s, bit for bit, and every leaf is reached', () => {
  for (const p of PRESETS) {
    const s = start(p.id);
    const steps = s.runToEnd();
    assert.is(steps, s.order.length, `${p.id}: every node visited once`);
    assert.ok(s.done);
    assert.is(s.step(), null);
    const leaves = s.nodes.filter((n) => n.op === null && n.requiresGrad).map((n) => n.id);
    for (const id of leaves) assert.ok(s.order.includes(id), `${p.id}: leaf #${id} is visited`);
    const mine = s.leafGrads();
    const theirs = backwardGrads(p, p.leaves.map((l) => l.values));
    for (const k of Object.keys(theirs)) theirs[k].forEach((v, i) => assert.ok(Object.is(mine[k][i], v), `${p.id} ${k}[${i}]: ${mine[k][i]} vs ${v}`));
  }
});

test('broadcast: x’s gradient sums over the rows it was broadcast to (hand formula)', () => {
  const p = presetById('broadcast');
  const [W, x] = p.leaves.map((l) => l.values);
  const s = start('broadcast');
  s.runToEnd();
  const got = s.leafGrads().x;
  // L = Σ_ij tanh(W_ij x_j)·x_j  ⇒  ∂L/∂x_j = Σ_i (1 − tanh²(W_ij x_j))·W_ij·x_j + tanh(W_ij x_j)
  for (let j = 0; j < 3; j++) {
    let want = 0;
    for (let i = 0; i < 2; i++) {
      const t = Math.tanh(W[i * 3 + j] * x[j]);
      want += (1 - t * t) * W[i * 3 + j] * x[j] + t;
    }
    assert.ok(Math.abs(got[j] - want) <= 1e-14 * Math.max(1, Math.abs(want)), `x[${j}]: ${got[j]} vs ${want}`);
  }
  // x reaches the sum through two expand nodes: two contributions arrive.
  assert.is(s.arrived.get(s.leaves[1].id)!.length, 2);
});

test('the drawn graph is the one g.toDot walks: same tensors, leaves at depth 0, ops numbered forward', () => {
  for (const p of PRESETS) {
    const s = start(p.id);
    const dotTensors = g.toDot(s.root).match(/^ {2}t\d+ \[/gm)!.length;
    assert.is(s.nodes.length, dotTensors, p.id);
    for (const n of s.nodes) {
      if (n.op === null) assert.is(n.depth, 0);
      else for (const { from } of n.inputs) assert.ok(s.node(from).depth < n.depth && s.node(from).seq < n.seq, `${p.id}: #${n.seq} after its inputs`);
    }
    assert.equal(s.nodes.filter((n) => n.op !== null).map((n) => n.seq).sort((a, b) => a - b), Array.from({ length: s.nodes.filter((n) => n.op !== null).length }, (_, i) => i + 1));
  }
});

test('gradcheck on every expression: ok, one element per leaf value, analytical = r × backward()’s', () => {
  for (const p of PRESETS) {
    const values = p.leaves.map((l) => l.values);
    const r = gradcheckPreset(p, values);
    assert.ok(r.ok, `${p.id}: ${r.summary}`);
    const want = p.leaves.filter((l) => l.requiresGrad).reduce((n, l) => n + l.values.length, 0);
    assert.is(r.elements.length, want);
    assert.ok(r.elements.every((e) => e.verdict === 'ok'));
    const flat = Object.values(backwardGrads(p, values)).flat();
    const ratio = r.elements[0].analytical / flat[0];
    r.elements.forEach((e, i) => assert.ok(Math.abs(e.analytical - ratio * flat[i]) <= 1e-12, `${p.id} element ${i}`));
  }
});

test('bad input values are refused with a message naming the input and the count', () => {
  const p = presetById('mlp');
  const values = p.leaves.map((l) => l.values);
  assert.throws(() => makeLeaves(p, values.map((v, i) => (i === 1 ? v.slice(1) : v))), /W1 has shape \[2, 3\], so it needs 6 values; got 5/);
  assert.throws(() => makeLeaves(p, values.map((v, i) => (i === 2 ? [0.1, NaN, 0] : v))), /b1: value 2 is not a finite number/);
  assert.throws(() => presetById('nope'), /no expression 'nope'; choose one of 'scalar', 'mlp', 'broadcast'/);
});

test.run();
