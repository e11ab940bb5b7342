/**
 * A SmallNet training step (conv–BN–FReLU–pool–dropout ×3, linear–BN–FReLU–dropout, linear,
 * cross-entropy, Nesterov SGD update) runs end to end on the gpu backend and matches the same step
 * on the reference backend — same seed, so the same initial weights and the same dropout masks —
 * for 3 steps, to float32 tolerance.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import { SGD } from '../src/optim/sgd.js';
import { randomStream } from '../src/tensor/random.js';

const N = 4;
const rng = randomStream('gpu-training-step data');
const images = Float32Array.from({ length: N * 3 * 32 * 32 }, () => rng.normal());
const labels = [3, 1, 4, 1];

function run(backend: g.BackendName): { losses: number[]; params: Map<string, Float32Array | Float64Array> } {
  const model = g.models.smallNet({ activation: 'frelu', batchNorm: true, classes: 10, seed: 7, backend });
  model.train();
  const optimizer = new SGD(model.namedParameters(), { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
  const losses: number[] = [];
  for (let step = 0; step < 3; step++) {
    const loss = g.tidy(() => {
      optimizer.zeroGrad();
      const x = g.tensor(images, { shape: [N, 3, 32, 32], backend });
      const l = g.nn.functional.crossEntropy(model.forward(x), labels);
      l.backward();
      optimizer.step();
      return l.item();
    });
    losses.push(loss);
  }
  return { losses, params: new Map(model.namedParameters().map(([name, p]) => [name, p.toArray()])) };
}

test('SmallNet step on gpu matches reference for 3 steps (loss and every parameter, float32)', () => {
  const ref = run('reference');
  const gpu = run('gpu');
  for (let i = 0; i < 3; i++) {
    assert.ok(Number.isFinite(ref.losses[i]), `reference loss ${i} finite`);
    assert.ok(Math.abs(gpu.losses[i] - ref.losses[i]) <= 1e-4 * Math.abs(ref.losses[i]) + 1e-5, `step ${i + 1} loss: gpu ${gpu.losses[i]}, reference ${ref.losses[i]}`);
  }
  assert.ok(ref.losses[2] !== ref.losses[0], 'the parameters moved');
  for (const [name, want] of ref.params) {
    const got = gpu.params.get(name)!;
    let worst = 0;
    let scale = 0;
    for (let j = 0; j < want.length; j++) {
      worst = Math.max(worst, Math.abs(got[j] - want[j]));
      scale = Math.max(scale, Math.abs(want[j]));
    }
    assert.ok(worst <= 1e-4 * scale + 1e-6, `${name}: max |gpu − reference| ${worst.toPrecision(3)} (max |value| ${scale.toPrecision(3)})`);
  }
});

test.run();
