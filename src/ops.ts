/**
 * The registry: every primitive op, as data (no registration by side effect) — the ops the two
 * barrels export (src/autograd/ops/index.ts, src/nn/ops/index.ts), so an op exported there cannot be
 * missing here. The op-test table (test/op-table/) must have rows for each, and each op's name,
 * identifier and file must agree: test/op-coverage.test.ts checks both.
 */
import { isOp, type AnyOp } from './autograd/op.js';
import * as mathOps from './autograd/ops/index.js';
import * as nnOps from './nn/ops/index.js';

const exported: unknown[] = [...Object.values(mathOps), ...Object.values(nnOps)];
/** Every primitive op (the op-test table has rows for each). */
export const ALL_OPS: readonly AnyOp[] = exported.filter(isOp);
