/**
 * A training loop on the gpu backend holds memory flat and compiles nothing after its first step.
 * The loop: a small MLP written in math ops (matmul, broadcast add, softplus = log(1 + eˣ), squared
 * error, mean), backward, and a plain SGD update with `assign`, each step inside `tidy`.
 * Runs in the mode GRADLAB_GPU_MODE selects (`npm test`: webasm, then headlessgl under xvfb-run).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as g from '../src/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../src/experiments/train/index.js';
import { smallNet } from '../src/nn/models/index.js';

const mode = process.env.GRADLAB_GPU_MODE ?? 'webasm';
g.setGpuMode(mode === 'headlessgl' || mode === 'cpu' ? mode : 'webasm');

// A real garbage collection before each RSS reading, so the readings compare live memory.
setFlagsFromString('--expose-gc');
const collect: unknown = runInNewContext('gc');
function rssMiB(): number {
  if (typeof collect === 'function') collect();
  return process.memoryUsage().rss / 2 ** 20;
}

interface Mlp {
  w1: g.Tensor;
  b1: g.Tensor;
  w2: g.Tensor;
  b2: g.Tensor;
}

function makeMlp(backend: g.BackendName): Mlp {
  return {
    w1: g.randn([8, 32], { seed: 1, std: 0.3, backend, requiresGrad: true }),
    b1: g.zeros([32], { backend, requiresGrad: true }),
    w2: g.randn([32, 4], { seed: 2, std: 0.3, backend, requiresGrad: true }),
    b2: g.zeros([4], { backend, requiresGrad: true }),
  };
}

/** One step: forward, backward, p ← p − lr·∂loss/∂p, gradients freed. Returns the loss tensor. */
function step(p: Mlp, x: g.Tensor, y: g.Tensor, lr: number): g.Tensor {
  return g.tidy(() => {
    const h = g.add(g.matmul(x, p.w1), p.b1);
    const a = g.log(g.add(g.exp(h), 1));
    const out = g.add(g.matmul(a, p.w2), p.b2);
    const d = g.sub(out, y);
    const loss = g.mean(g.mul(d, d));
    loss.backward();
    g.noGrad(() => {
      for (const t of Object.values(p)) {
        t.assign(g.sub(t, g.mul(t.grad!, lr)));
        t.grad!.dispose();
        t.grad = null;
      }
    });
    return loss;
  });
}

function data(backend: g.BackendName): { x: g.Tensor; y: g.Tensor } {
  return { x: g.randn([16, 8], { seed: 3, backend }), y: g.randn([16, 4], { seed: 4, backend }) };
}

test('the first steps on gpu equal the same steps on reference (float32)', () => {
  const losses = (['reference', 'gpu'] as const).map((backend) => {
    const p = makeMlp(backend);
    const { x, y } = data(backend);
    const out: number[] = [];
    for (let i = 0; i < 3; i++) {
      const loss = step(p, x, y, 0.1);
      out.push(loss.item());
      loss.dispose();
    }
    out.push(...p.w2.toArray().slice(0, 4));
    for (const t of [...Object.values(p), x, y]) t.dispose();
    return out;
  });
  losses[0].forEach((want, i) => assert.ok(Math.abs(losses[1][i] - want) <= 1e-5 * (1 + Math.abs(want)), `value ${i}: gpu ${losses[1][i]}, reference ${want}`));
});

test('300 steps: nothing compiles after step 1, live textures stay at the tensors kept, RSS stays flat, the loss falls', () => {
  const base = g.gpuInfo().liveTextures; // textures other tests in this process still hold
  const p = makeMlp('gpu');
  const { x, y } = data('gpu');
  const kept = g.gpuInfo().liveTextures;
  assert.is(kept, base + (mode === 'headlessgl' ? 6 : 0), 'the 4 parameters, x and y'); // the CPU modes have no textures

  const first = step(p, x, y, 0.05);
  const firstLoss = first.item();
  first.dispose();
  const afterFirst = g.gpuInfo();
  assert.is(afterFirst.liveTextures, kept, 'live textures after step 1');

  let rssAt100 = 0;
  let lastLoss = NaN;
  for (let i = 2; i <= 300; i++) {
    const loss = step(p, x, y, 0.05);
    if (i === 300) lastLoss = loss.item();
    loss.dispose();
    if (i === 100) rssAt100 = rssMiB(); // after warm-up (JIT, heap sizing)
    if (i % 50 === 0) assert.is(g.gpuInfo().liveTextures, kept, `live textures after step ${i}`);
  }
  const rssAt300 = rssMiB();
  const end = g.gpuInfo();

  assert.is(end.compiledKernels, afterFirst.compiledKernels, 'kernels compiled after step 1');
  assert.ok(end.kernelCalls >= afterFirst.kernelCalls + 299 * 20, `kernel calls: ${afterFirst.kernelCalls} → ${end.kernelCalls}`);
  assert.is(end.liveTextures, kept);
  // Measured here over 2,000 steps: RSS moves within ±3 MiB after step 100 in webasm and in
  // headlessgl. Each step makes about 60 device arrays (up to 512 floats); 200 steps leaking them
  // would cost well over this bound, and in GL mode every leaked texture shows in liveTextures.
  const growth = rssAt300 - rssAt100;
  assert.ok(growth < 10, `RSS grew ${growth.toFixed(1)} MiB from step 100 (${rssAt100.toFixed(0)} MiB) to step 300`);
  assert.ok(lastLoss < 0.9 * firstLoss, `loss ${firstLoss} → ${lastLoss}: training did not reduce it`);
  for (const t of [...Object.values(p), x, y]) t.dispose();
  assert.is(g.gpuInfo().liveTextures, base);
});

test('train() frees its model and momentum buffers when it returns: the textures alive are as before', async () => {
  const outDir = mkdtempSync(join(tmpdir(), 'gradlab-free-'));
  try {
    const before = g.gpuInfo().liveTextures;
    const summary = await train({ dataset: 'synthetic', backend: 'gpu', limitTrain: 4, limitTest: 4, batchSize: 4, epochs: 1, lr: 0.02, outDir });
    const model = smallNet({ activation: 'frelu', batchNorm: true, classes: 10, backend: 'reference' });
    // At the end of the run the model and one momentum buffer per parameter were alive (GL mode
    // counts them; the CPU modes have no textures) …
    assert.is(summary.gpu!.liveTextures - before, mode === 'headlessgl' ? 2 * model.parameters().length + model.buffers().length : 0);
    // … and train() freed them before returning.
    assert.is(g.gpuInfo().liveTextures, before);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});

test.run();
