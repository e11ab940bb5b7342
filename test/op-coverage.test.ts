/** The registry and the op-test table agree: every primitive op has rows, and names match files. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { ALL_OPS } from '../src/ops.js';
import type { AnyOp } from '../src/autograd/op.js';
import { OP_ROWS } from './op-table/index.js';

test('every primitive op in ALL_OPS has at least one op-test row', () => {
  const covered = new Set(OP_ROWS.map((c) => c.op));
  const missing = ALL_OPS.filter((op) => !covered.has(op)).map((op) => op.name);
  assert.equal(missing, [], `ops without a row in test/op-table/: ${missing.join(', ')}`);
});

test('every op-test row names an op of the registry', () => {
  const registered = new Set(ALL_OPS);
  const strays = OP_ROWS.filter((c) => !registered.has(c.op)).map((c) => c.op.name);
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

/** maxPool2d → max-pool2d: the file name an op's identifier asks for. */
const kebab = (identifier: string): string => identifier.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

test("one op per file: its name, its exported identifier and its file name agree (max-pool2d.ts exports maxPool2d named 'maxPool2d'), and it is in the registry", async () => {
  // The op files are loaded with import() by their paths, and the registry and isOp the same way,
  // so all three come from one module graph (this file's static imports may be another: uvu loads
  // test files through require).
  const { ALL_OPS } = await import('../src/ops.js');
  const { isOp } = await import('../src/autograd/op.js');
  const mismatches: string[] = [];
  const found = new Set<AnyOp>();
  for (const dir of ['src/autograd/ops', 'src/nn/ops']) {
    const files = readdirSync(new URL(`../${dir}/`, import.meta.url)).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
    for (const file of files) {
      const module: Readonly<Record<string, unknown>> = await import(new URL(`../${dir}/${file}`, import.meta.url).href);
      const ops = Object.entries(module).filter((entry): entry is [string, AnyOp] => isOp(entry[1]));
      if (ops.length > 1) mismatches.push(`${dir}/${file} defines ${ops.length} ops (${ops.map(([id]) => id).join(', ')}); one op, one file`);
      for (const [identifier, op] of ops) {
        found.add(op);
        if (op.name !== identifier) mismatches.push(`${dir}/${file}: export ${identifier} has name '${op.name}'`);
        if (`${kebab(identifier)}.ts` !== file) mismatches.push(`${dir}/${file}: export ${identifier} belongs in ${kebab(identifier)}.ts`);
      }
    }
  }
  assert.equal(mismatches, []);
  assert.equal(ALL_OPS.filter((op) => !found.has(op)).map((op) => op.name), [], 'ops of the registry found in no op file');
  assert.equal([...found].filter((op) => !ALL_OPS.includes(op)).map((op) => op.name), [], 'ops in an op file but not in the registry (not exported by its barrel?)');
});

test.run();
