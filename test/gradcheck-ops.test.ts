/** Every row of the op-test table: analytical gradient equals numerical (float64, reference backend). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import { COMPOSITE_ROWS, OP_ROWS } from './op-table/index.js';
import { rowInputs, rowLabel } from './op-table/row.js';

for (const c of [...OP_ROWS, ...COMPOSITE_ROWS]) {
  const nonDiff = c.op.def.nonDifferentiable ?? [];
  if (c.op.def.inputs.every((n) => nonDiff.includes(n))) {
    // argmax: no input is differentiable, so there is no gradient to check — only that none is recorded.
    test(`${rowLabel(c)}: not differentiable, so its output does not require grad and records no graph`, () => {
      const y = c.op.apply(rowInputs(c, 'float64', 'reference'), c.attrs);
      assert.is(y.requiresGrad, false);
      assert.is(y.node, null);
    });
    continue;
  }
  test(`${rowLabel(c)}: analytical gradient equals numerical (float64)`, () => {
    const inputs = rowInputs(c, 'float64', 'reference');
    const names = c.op.def.inputs;
    const result = g.gradcheck(
      (...xs) => c.op.apply(Object.fromEntries(names.map((n, i) => [n, xs[i]])), c.attrs),
      names.map((n) => inputs[n]),
      { ...c.check, names },
    );
    assert.ok(result.ok, `${rowLabel(c)}:\n${result.summary}`);
  });
}

test.run();
