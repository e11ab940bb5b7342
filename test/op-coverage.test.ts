/** The registry and the op-test table agree: every primitive op has rows, and names match files. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ALL_OPS } from '../src/ops.js';
import { OP_CASES } from './op-cases.js';

test('every primitive op in ALL_OPS has at least one op-test row', () => {
  const covered = new Set(OP_CASES.map((c) => c.op));
  const missing = ALL_OPS.filter((op) => !covered.has(op)).map((op) => op.name);
  assert.equal(missing, [], `ops without a row in test/op-cases.ts: ${missing.join(', ')}`);
});

test('every op-test row names an op of the registry', () => {
  const registered = new Set(ALL_OPS);
  const strays = OP_CASES.filter((c) => !registered.has(c.op)).map((c) => c.op.name);
  assert.equal(strays, []);
});

test('op names are unique', () => {
  const names = ALL_OPS.map((op) => op.name);
  assert.equal(new Set(names).size, names.length);
});

test('every op has a gpu kernel, forward and backward', () => {
  const without = ALL_OPS.filter((op) => !op.def.gpu).map((op) => op.name);
  assert.equal(without, []);
});

test.run();
