/** Every row of the op-test table: analytical gradient equals numerical (float64, reference backend). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import { COMPOSITE_CASES, OP_CASES } from './op-cases.js';
import { caseInputs, caseLabel } from './op-case.js';

for (const c of [...OP_CASES, ...COMPOSITE_CASES]) {
  test(`${caseLabel(c)}: analytical gradient equals numerical (float64)`, () => {
    const inputs = caseInputs(c, 'float64', 'reference');
    const names = c.op.def.inputs;
    const result = g.gradcheck(
      (...xs) => c.op.apply(Object.fromEntries(names.map((n, i) => [n, xs[i]])), c.attrs),
      names.map((n) => inputs[n]),
      { ...c.check, names },
    );
    assert.ok(result.ok, `${caseLabel(c)}:\n${result.summary}`);
  });
}

test.run();
