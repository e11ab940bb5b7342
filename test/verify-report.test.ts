/**
 * `gradlab verify` end to end on a tiny plan: check 1 passes on both backends, and the report,
 * figures and JSON are written with what they should contain (the JSON in the shape, its
 * numbers the measured ones).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as g from '../src/index.js';
import { checkFrelu, runVerify, type VerifyPlan } from '../src/experiments/verify/index.js';
import { bareJsonFlag, command } from '../src/cli/verify.js';

// Same mode as gpu-vs-reference.test.ts, which may share this process (a mode is chosen once).
g.setGpuMode((process.env.GRADLAB_GPU_MODE ?? 'webasm') as g.GpuMode);

test('check 1 on both backends: eqs. (2)–(3) within rounding; at the kink y = b and ∂y/∂x = 0 exactly', () => {
  for (const backend of ['reference', 'gpu'] as const) {
    const c = checkFrelu(backend, 100, 3);
    assert.ok(c.ok, `${backend}: ${JSON.stringify(c)}`);
    assert.is(c.dtype, backend === 'gpu' ? 'float32' : 'float64');
    assert.is(c.points, 100 * c.bValues.length);
    assert.is(c.dxClosed.maxError, 0, `${backend}: ∂y/∂x is r or 0 exactly`);
    if (backend === 'reference') assert.is(c.forward.maxError, 0, 'float64: x + b is the closed form itself');
    for (const k of c.kink) {
      assert.is(k.y, k.b);
      assert.is(k.dydx, 0);
      assert.is(k.dydb, 1);
      assert.ok(Math.abs(k.rightSlope - 1) < 1e-4 && Math.abs(k.leftSlope) < 1e-4, `${backend}: slopes ${k.rightSlope}, ${k.leftSlope}`);
    }
  }
});

/** The JSON fields this test reads (the shape). */
interface JsonLayer {
  l: number;
  measuredVar: number;
  paperEq6Var: number;
  paperEq9Var: number;
  derivedVar: number;
  measuredGradVar: number;
  paperEq4GradVar: number;
  [key: string]: unknown;
}
interface JsonConfig {
  name: string;
  net: string;
  widths: number[];
  kernel: number;
  activation: string;
  b: number;
  samples: number;
  layers: JsonLayer[];
  paperEq9Var: number;
  agrees: Record<string, unknown>;
}

const tinyPlan: VerifyPlan = {
  pointsPerB: 50,
  configs: [
    { cfg: { name: 'fc-relu', net: 'fc', widths: [16, 16, 16, 16], kernel: 1, activation: 'relu', b: 0 }, networks: 4, batch: 4 },
    { cfg: { name: 'fc-frelu-bm1', net: 'fc', widths: [16, 16, 16, 16], kernel: 1, activation: 'frelu', b: -1 }, networks: 4, batch: 4 },
    { cfg: { name: 'conv-frelu-bm1', net: 'conv', widths: [2, 3, 3], kernel: 3, spatial: 7, activation: 'frelu', b: -1 }, networks: 4, batch: 2 },
  ],
};

test('runVerify writes the report, one figure per config and per family, and JSON in the issue\'s shape', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradlab-verify-'));
  try {
    const jsonPath = join(dir, 'out.json');
    const { result, outputs } = runVerify({ plan: tinyPlan, seed: 11, outDir: dir, jsonPath, log: null });
    assert.is(outputs.report, join(dir, 'verify.md'));
    assert.is(result.check1.length, 2);
    assert.ok(result.check1.every((c) => c.ok));

    // Figures: forward per config, backward per family (fc, conv); each an SVG document.
    assert.is(outputs.figures.length, 3 + 2);
    for (const f of outputs.figures) assert.ok(readFileSync(f, 'utf8').startsWith('<svg'), f);

    const md = readFileSync(outputs.report, 'utf8');
    for (const heading of ['## Summary', '## Setup', '## Derivations', '## Check 1: eqs. (2) and (3)', '## Check 2: backward variance, eqs. (4)–(5)', '## Check 3: forward variance, eqs. (6)–(9)']) {
      assert.ok(md.includes(heading), `report has '${heading}'`);
    }
    for (const c of tinyPlan.configs) assert.ok(md.includes(`### \`${c.cfg.name}\``), `a section for ${c.cfg.name}`);
    assert.ok(md.includes('| l | measured Var[x_l] ± SE | eq. (6) | eqs. (7)–(8) | eq. (9) | derived |'));
    assert.ok(md.includes('| l | measured Var[∂Cost/∂x̃_l] ± SE | eq. (4) from measured l = L | eqs. (4)–(5) from the readout |'));
    assert.ok(md.includes('E[x̃_l²] = ½Var[x_{l−1}] + 2b·E[relu(x_{l−1})] + b²'), 'the derivation of the cross term');
    for (const link of md.matchAll(/\]\((figures\/[^)]+\.svg)\)/g)) assert.ok(existsSync(join(dir, link[1])), `linked figure ${link[1]} exists`);
    // The report's table rows carry the measured numbers: layer 1 of fc-relu, anchored.
    const relu = result.configs[0];
    assert.ok(md.includes(`(anchor)`));
    assert.ok(md.includes(`| ${relu.layers[0].l} | `));

    const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as { configs: JsonConfig[]; eq2eq3: unknown[] };
    assert.is(json.configs.length, 3);
    json.configs.forEach((c, i) => {
      const r = result.configs[i];
      assert.is(c.net, tinyPlan.configs[i].cfg.net);
      assert.equal(c.widths, tinyPlan.configs[i].cfg.widths);
      assert.is(c.kernel, tinyPlan.configs[i].cfg.kernel);
      assert.is(c.activation, tinyPlan.configs[i].cfg.activation);
      assert.is(c.b, tinyPlan.configs[i].cfg.b);
      assert.is(c.samples, tinyPlan.configs[i].networks * tinyPlan.configs[i].batch);
      assert.is(c.layers.length, tinyPlan.configs[i].cfg.widths.length - 1);
      c.layers.forEach((layer, j) => {
        assert.is(layer.l, j + 1);
        for (const key of ['measuredVar', 'paperEq6Var', 'derivedVar', 'measuredGradVar', 'paperEq4GradVar']) {
          assert.type(layer[key], 'number', `${c.name} l = ${j + 1}: ${key}`);
        }
        assert.is(layer.measuredVar, r.layers[j].measuredVar);
        assert.is(layer.derivedVar, r.layers[j].derived.predicted);
      });
      assert.is(c.layers[0].paperEq6Var, c.layers[0].measuredVar, 'eq. (6) runs from the measured first layer');
      assert.is(c.paperEq9Var, c.layers[c.layers.length - 1].paperEq9Var, 'paperEq9Var: eq. (9) for the last layer');
      for (const key of ['eq4', 'eq6', 'eq9']) assert.type(c.agrees[key], 'boolean');
    });
    assert.is(json.eq2eq3.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('gradlab verify: a bare --json means verify.json beside the report; --help exits 0; unknown options are named', async () => {
  assert.equal(bareJsonFlag(['--json']), ['--json=']);
  assert.equal(bareJsonFlag(['--json', '--quick']), ['--json=', '--quick']);
  assert.equal(bareJsonFlag(['--json', 'x.json']), ['--json', 'x.json']);
  const log = console.log;
  console.log = () => {};
  try {
    assert.is(await command.run(['--help']), 0);
  } finally {
    console.log = log;
  }
  try {
    await command.run(['--fast']);
    assert.unreachable('an unknown option must fail');
  } catch (err) {
    assert.match(String(err), /verify: .*--fast/);
  }
});

test.run();
