/** Every row of the op-test table: analytical gradient equals numerical (float64, reference backend). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import { COMPOSITE_ROWS, OP_ROWS } from './op-table/index.js';
import { rowInputs, rowLabel } from './op-table/row.js';

for (const c of [...OP_ROWS, ...COMPOSITE_ROWS]) {
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
