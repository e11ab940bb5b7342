/**
 * bench/torch.ts and bench/pytorch.py time PyTorch on the same work as gradlab. Without timing
 * anything, these tests check that the comparison is like with like:
 *   - run.ts's plan runs webasm and PyTorch at 1 thread and at all cores, back to back, and its
 *     ratios divide figures of the same thread count only;
 *   - (where a Python has torch) every PyTorch workload is a gradlab workload of the same id and work;
 *   - (likewise) PyTorch's SmallNet (ReLU, FReLU) and ResNet-20 take gradlab's state dict as it is
 *     (load_state_dict strict: the same layers, names and shapes), and on gradlab's weights and
 *     images give gradlab's parameter count, logits, loss, every gradient and the loss after one
 *     SGD step with the benchmark's settings (STEP_SGD) — batch norm in training mode, dropout off.
 * Without a Python that has torch the last two groups are not registered; one line says so.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as g from '../src/index.js';
import { encodeSafetensors, rawTensorsOf, isIntegerStateKey, type RawTensor } from '../src/io/safetensors.js';
import { Dropout } from '../src/nn/layers/dropout.js';
import { SGD } from '../src/optim/index.js';
import { crossEntropy } from '../src/nn/functional.js';
import { plan, ratios } from '../bench/run.js';
import { findTorchPython, PYTORCH_SCRIPT } from '../bench/torch.js';
import { STEP_SGD, buildModel, workloads, type ModelName } from '../bench/workloads.js';
import type { SuiteResult, WorkloadResult } from '../bench/suite.js';

// ── the run's plan and ratios (no Python needed) ──

test('plan: with torch, webasm and PyTorch run at 1 thread and at all cores, each pair back to back', () => {
  const runs = plan(['reference', 'webasm', 'headlessgl', 'torch'], 2).map((r) => `${r.target}${r.threads === undefined ? '' : `@${r.threads}`}`);
  assert.equal(runs, ['reference', 'webasm@1', 'torch@1', 'webasm@2', 'torch@2', 'headlessgl']);
  assert.equal(plan(['webasm', 'torch'], 1), [{ target: 'webasm', threads: 1 }, { target: 'torch', threads: 1 }], 'one core: one count');
  assert.equal(plan(['reference', 'torch'], 4), [{ target: 'reference' }, { target: 'torch', threads: 1 }, { target: 'torch', threads: 4 }]);
  assert.equal(plan(['reference', 'webasm'], 2), [{ target: 'reference' }, { target: 'webasm' }], 'without torch: as before, webasm once');
});

function fakeRun(target: SuiteResult['target'], threads: number | undefined, rates: Record<string, number>): SuiteResult {
  const results = Object.entries(rates).map(([id, wall]): WorkloadResult => ({
    id, group: 'step', what: id, unit: 'images', work: 128,
    timing: { firstMs: 0, wallMs: 0, wallMedianMs: 0, rmePercent: 0, cpuMs: 0, samples: 2, calls: 2 },
    rate: { wall, cpu: wall },
  }));
  return {
    target, backend: 'gpu', gpu: null, threads, machine: { node: '', cpu: '', cores: 2, memoryGiB: 1, loadAverage: 0 },
    loadAverageAfter: 0, batch: 128, quick: true, startedAt: '', seconds: 0, results, memory: null,
  };
}

test('ratios: gradlab over PyTorch at the same thread count only; over the recorded figure where PyTorch did not run', () => {
  const all = ratios([
    fakeRun('webasm', 1, { 'step smallnet': 100, 'step resnet20': 30 }),
    fakeRun('torch', 1, { 'step smallnet': 400, 'step resnet20': 300 }),
    fakeRun('webasm', 2, { 'step smallnet': 150 }),
    fakeRun('torch', 2, { 'step smallnet': 600 }),
    fakeRun('headlessgl', undefined, { 'step smallnet': 62 }),
  ]);
  const torch = all.filter((r) => r.against.startsWith('torch'));
  assert.equal(
    torch.map((r) => [r.gradlab, r.workload, r.against, r.mark, r.ratio]),
    [
      ['webasm @1T', 'step smallnet', 'torch @1T', 'run', 0.25],
      ['webasm @1T', 'step resnet20', 'torch @1T', 'run', 0.1],
      ['webasm @2T', 'step smallnet', 'torch @2T', 'run', 0.25],
      // headlessgl has no thread count: against the recorded 1-thread PyTorch figure (bench/peers.ts: 621 img/s)
      ['headlessgl', 'step smallnet', 'torch-1T', 'rec', 62 / 621],
    ],
  );
});

// ── against PyTorch itself ──

const torch = findTorchPython();
if (torch.python === null) {
  console.log(`bench-torch: ${torch.reason}; the PyTorch comparisons are not registered`);
} else {
  const python = torch.python;

  test(`every PyTorch workload (${python}, torch ${torch.version}) is a gradlab workload of the same id and work, and every gradlab workload has one`, () => {
    const listed = spawnSync(python, [PYTORCH_SCRIPT, 'list', '--batch', '128'], { encoding: 'utf8' });
    assert.is(listed.status, 0, listed.stderr);
    const theirs = JSON.parse(listed.stdout) as { id: string; work: number }[];
    const ours = new Map(workloads(128).map((w) => [w.id, w.work]));
    for (const w of theirs) assert.is(w.work, ours.get(w.id), w.id);
    assert.equal(theirs.map((w) => w.id).sort(), [...ours.keys()].sort());
  });

  /** Parameters by the models' comments (src/nn/models): FReLU adds one b per activation layer (4). */
  const PARAMETERS: Record<ModelName, number> = { 'smallnet-frelu': 1_194_888, smallnet: 1_194_884, resnet20: 269_722 };

  for (const name of ['smallnet', 'smallnet-frelu', 'resnet20'] as const) {
    test(`${name}: PyTorch's network on gradlab's weights — same parameters, logits, loss, gradients and loss after one SGD step (batch 4)`, () => {
      const { model, classes } = buildModel(name, 'reference');
      model.train();
      for (const [, m] of model.namedModules()) if (m instanceof Dropout) m.eval(); // dropout off, batch norm on batch statistics
      const images = g.randn([4, 3, 32, 32], { seed: 'bench-torch images', backend: 'reference' });
      const labels = [3, 7, 1, 9].map((l) => l % classes);

      const state = rawTensorsOf(model.stateDict(), isIntegerStateKey);
      const file: Record<string, RawTensor> = { images: { dtype: 'F32', shape: [4, 3, 32, 32], data: Float32Array.from(images.toArray()) }, labels: { dtype: 'I64', shape: [4], data: Float64Array.from(labels) } };
      for (const [k, t] of Object.entries(state)) file[`state.${k}`] = t;
      const dir = mkdtempSync(join(tmpdir(), 'bench-torch-'));
      try {
        writeFileSync(join(dir, 'in.safetensors'), encodeSafetensors(file));
        // gradlab: the same forward, backward and step as the PyTorch side.
        const optimizer = new SGD(model.namedParameters(), { ...STEP_SGD });
        const logits = model.forward(images);
        const loss = crossEntropy(logits, g.tensor(Float32Array.from(labels), { backend: 'reference' }));
        loss.backward();
        const grads = model.namedParameters().map(([k, p]) => [k, p.grad === null ? null : Float32Array.from(p.grad.toArray())] as const);
        optimizer.step();
        optimizer.zeroGrad();
        const lossAfter = g.noGrad(() => crossEntropy(model.forward(images), g.tensor(Float32Array.from(labels), { backend: 'reference' })).item());

        const run = spawnSync(python, [PYTORCH_SCRIPT, 'check', '--model', name, '--data', join(dir, 'in.safetensors'), '--lr', String(STEP_SGD.lr), '--momentum', String(STEP_SGD.momentum), '--json', join(dir, 'out.json')], { encoding: 'utf8' });
        assert.is(run.status, 0, run.stderr);
        const theirs = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as {
          parameters: number; loss: number; lossAfterStep: number; logits: number[]; logitsShape: number[]; grads: Record<string, number[]>;
        };
        assert.is(theirs.parameters, PARAMETERS[name], 'PyTorch parameter count');
        assert.is(model.parameters().reduce((n, p) => n + p.size, 0), PARAMETERS[name], 'gradlab parameter count');
        assert.equal(theirs.logitsShape, [4, classes]);
        near(theirs.logits, logits.toArray(), 1e-4, 'logits');
        near([theirs.loss], [loss.item()], 1e-5, 'loss');
        assert.equal(Object.keys(theirs.grads).sort(), grads.map(([k]) => k).sort(), 'the same parameter names');
        for (const [k, grad] of grads) {
          if (grad === null) throw new Error(`gradlab computed no gradient for ${k}`);
          near(theirs.grads[k], grad, 1e-3, `∂loss/∂${k}`);
        }
        near([theirs.lossAfterStep], [lossAfter], 1e-4, 'loss after one SGD step');
        assert.ok(Math.abs(lossAfter - loss.item()) > 1e-3, 'the step changed the loss (so the comparison after it means something)');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}

/** |got − want| ≤ tol·max(1, max|want|) elementwise: float32 sums in different orders. */
function near(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  let scale = 1;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol * scale)) assert.unreachable(`${what}[${i}]: PyTorch ${got[i]}, gradlab ${want[i]} (tolerance ${tol * scale})`);
  }
}

test.run();
