/**
 * g.models: SmallNet (Table 3) and the CIFAR ResNets (Table 2, Fig. 4) — parameter counts worked out
 * by hand, structure of the block variants, the authors' initialisation, the type-A shortcut, and
 * forward/backward passes on the reference backend (batch 2, float32).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';

const { smallNet, resnet, ShortcutA } = g.models;
const nn = g.nn;
const ref = { backend: 'reference' as const };
const f64 = { dtype: 'float64' as const, backend: 'reference' as const };
const arr = (t: g.Tensor): number[] => Array.from(t.toArray());

function std(values: number[]): number {
  const m = values.reduce((s, v) => s + v, 0) / values.length;
  return Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / values.length);
}

// ── SmallNet ──

// One SmallNet (BN + FReLU) shared by the tests that only read its structure; building one draws
// about 1.2 M numbers, so the file builds as few as it can.
const sharedNet = smallNet({ activation: 'frelu', batchNorm: true, classes: 100, seed: 1, ...ref });

test('SmallNet parameter count, BN + FReLU, 100 classes: 1,194,888 (worked out by hand)', () => {
  // conv 3·32·9 = 864, 32·64·9 = 18,432, 64·128·9 = 73,728 (no bias)        →    93,024
  // BN2d 2·(32 + 64 + 128)                                                  →       448
  // Linear 2048·512 + 512 = 1,049,088; BN1d 2·512 = 1,024                  → 1,050,112
  // Linear 512·100 + 100 = 51,300; FReLU b: 4 layers × 1                    →    51,304
  const net = sharedNet;
  console.log(`      SmallNet (BN + FReLU, 100 classes): ${net.numParameters().toLocaleString('en-US')} parameters`);
  assert.is(net.numParameters(), 93_024 + 448 + 1_050_112 + 51_304);
  assert.is(net.numParameters(), 1_194_888);
  // Without BN, ReLU: the convs and the two Linear layers only.
  assert.is(smallNet({ activation: 'relu', seed: 1, ...ref }).numParameters(), 93_024 + 1_049_088 + 51_300);
  // ELU has no parameters (4 fewer than FReLU); 10 classes: 512·10 + 10 in the last layer.
  const elu = smallNet({ activation: 'elu', classes: 10, seed: 1, ...ref });
  assert.is(elu.numParameters(), 93_024 + 1_049_088 + 512 * 10 + 10);
  assert.equal(elu.classifier.layers.map((m) => m.constructor.name), ['Linear', 'ELU', 'Dropout', 'Linear']);
});

test('SmallNet layout follows Table 3: names, order, dropout rates, BN placement', () => {
  const net = sharedNet;
  const kinds = (s: g.nn.Sequential) => s.layers.map((m) => m.constructor.name);
  const block = ['Conv2d', 'BatchNorm2d', 'FReLU', 'MaxPool2d', 'Dropout'];
  assert.equal(kinds(net.features), [...block, ...block, ...block]);
  assert.equal(kinds(net.classifier), ['Linear', 'BatchNorm1d', 'FReLU', 'Dropout', 'Linear']);
  assert.equal(
    net.features.layers.filter((m) => m instanceof nn.Dropout).map((m) => (m as g.nn.Dropout).p),
    [0.2, 0.2, 0.2],
  );
  assert.is((net.classifier.at(3) as g.nn.Dropout).p, 0.5);
  assert.equal(net.namedParameters().slice(0, 4).map(([n]) => n), ['features.0.weight', 'features.1.weight', 'features.1.bias', 'features.2.b']);
});

test('SmallNet init: MSRA fan-out convs, Linear weights U(±1/√fanIn) with zero biases, b = −1, seeded', () => {
  const net = smallNet({ activation: 'frelu', batchNorm: true, seed: 3, ...ref });
  const p = Object.fromEntries(net.namedParameters());
  // conv3 has 73,728 weights: the sample std is within 1.5 % of √(2 / (9·128)) (about 6 standard errors).
  const want = Math.sqrt(2 / (9 * 128));
  const got = std(arr(p['features.10.weight']));
  assert.ok(Math.abs(got / want - 1) < 0.015, `conv3 std ${got}, want ${want}`);
  assert.ok(Math.abs(std(arr(p['features.5.weight'])) / Math.sqrt(2 / (9 * 64)) - 1) < 0.03, 'conv2: fan-out 9·64');
  for (const [name, fanIn] of [['classifier.0', 2048], ['classifier.4', 512]] as const) {
    const w = arr(p[`${name}.weight`]);
    assert.ok(w.every((v) => Math.abs(v) <= 1 / Math.sqrt(fanIn)), `${name}.weight inside ±1/√${fanIn}`);
    assert.ok(w.reduce((m, v) => Math.max(m, Math.abs(v)), 0) > 0.95 / Math.sqrt(fanIn), `${name}.weight fills its range`);
    assert.ok(arr(p[`${name}.bias`]).every((v) => v === 0), `${name}.bias is 0`);
  }
  assert.equal(net.namedParameters().filter(([n]) => n.endsWith('.b')).map(([, t]) => t.item()), [-1, -1, -1, -1]);
  const again = smallNet({ activation: 'frelu', batchNorm: true, seed: 3, ...ref });
  assert.equal(arr(again.parameters()[0]), arr(net.parameters()[0]), 'same seed, same weights');
  assert.not.equal(arr(sharedNet.parameters()[0]), arr(net.parameters()[0]), 'another seed, other weights');
});

test('SmallNet forward: [2, 3, 32, 32] → [2, 100]; eval deterministic, training changes with dropout', () => {
  const net = sharedNet;
  const x = g.randn([2, 3, 32, 32], { seed: 2, ...ref });
  const y1 = net.forward(x);
  assert.equal([...y1.shape], [2, 100]);
  assert.ok(arr(y1).every(Number.isFinite));
  const y2 = net.forward(x);
  assert.not.equal(arr(y2), arr(y1), 'a new dropout mask per training step');
  net.eval();
  const e1 = arr(net.forward(x));
  const e2 = arr(net.forward(x));
  assert.equal(e1, e2, 'evaluation is deterministic');
  assert.throws(() => net.forward(g.zeros([2, 3, 28, 28], ref)), /SmallNet: x must be a batch of 32×32 RGB images \[N, 3, 32, 32\]; got \[2, 3, 28, 28\]/);
});

test('SmallNet state dict round trip: a fresh model gives bit-identical evaluation outputs', () => {
  const x = g.randn([2, 3, 32, 32], { seed: 9, ...ref });
  const a = smallNet({ activation: 'prelu', batchNorm: true, seed: 1, ...ref });
  a.forward(x); // move the running statistics
  const b = smallNet({ activation: 'prelu', batchNorm: true, seed: 2, ...ref });
  b.loadStateDict(a.stateDict());
  assert.equal(arr(b.eval().forward(x)), arr(a.eval().forward(x)));
});

// ── ResNet ──

// Type-A ResNet-(6n+2), block (a), ReLU, 10 classes (see src/nn/models/resnet.ts for the sums):
//   464 (stem) + 4,672·n + (13,952 + 18,560·(n−1)) + (55,552 + 73,984·(n−1)) + 650 (head)
const resnetCount = (n: number) => 464 + 4_672 * n + 13_952 + 18_560 * (n - 1) + 55_552 + 73_984 * (n - 1) + 650;

test('ResNet-20 (CIFAR-10, block a, ReLU): 269,722 parameters (0.27 M)', () => {
  const net = resnet({ depth: 20, classes: 10, block: 'a', activation: 'relu', seed: 1, ...ref });
  console.log(`      ResNet-20 (block a, ReLU, 10 classes): ${net.numParameters().toLocaleString('en-US')} parameters`);
  assert.is(net.numParameters(), 269_722);
  assert.is(resnetCount(3), 269_722);
});

test('ResNet-32/44/56/110 parameter counts: 464,154 / 658,586 / 853,018 / 1,727,962', () => {
  const want: Record<number, number> = { 32: 464_154, 44: 658_586, 56: 853_018, 110: 1_727_962 };
  for (const [depth, count] of Object.entries(want)) {
    assert.is(resnetCount((Number(depth) - 2) / 6), count, `formula for ResNet-${depth}`);
    assert.is(resnet({ depth: Number(depth), activation: 'relu', seed: 1, ...ref }).numParameters(), count, `ResNet-${depth}`);
  }
});

test('ResNet-20 variants: (b) drops the stem BN, (c) also the first BN of every block; FReLU/PReLU add one per layer', () => {
  // 9 blocks; (a): stem ACT + 2 per block = 19 activation layers; (b) and (c): stem + 1 per block + head = 11.
  assert.is(resnet({ depth: 20, block: 'a', activation: 'frelu', seed: 1, ...ref }).numParameters(), 269_722 + 19);
  assert.is(resnet({ depth: 20, block: 'a', activation: 'prelu', seed: 1, ...ref }).numParameters(), 269_722 + 19);
  assert.is(resnet({ depth: 20, block: 'b', activation: 'frelu', seed: 1, ...ref }).numParameters(), 269_722 - 32 + 11);
  // (c): the first BN of each block goes: 3·32 + 3·64 + 3·128 = 672.
  assert.is(resnet({ depth: 20, block: 'c', activation: 'elu', seed: 1, ...ref }).numParameters(), 269_722 - 32 - 672);
  // CIFAR-100 head: 64·100 + 100 instead of 650.
  assert.is(resnet({ depth: 20, classes: 100, activation: 'relu', seed: 1, ...ref }).numParameters(), 269_722 - 650 + 6_500);
});

test('ResNet block variants have the layers of Fig. 4, stems and heads as RECIPE.md says', () => {
  const kinds = (s: g.nn.Sequential) => s.layers.map((m) => m.constructor.name);
  const names = (m: g.nn.Module) => m.namedChildren().map(([n]) => n);
  const a = resnet({ depth: 20, block: 'a', activation: 'relu', seed: 1, ...ref });
  assert.equal(kinds(a.stem), ['Conv2d', 'BatchNorm2d', 'ReLU']);
  assert.equal(kinds(a.head), ['AvgPool2d', 'Flatten', 'Linear']);
  assert.equal(names(a.stage1.at(0)), ['conv1', 'bn1', 'act1', 'conv2', 'bn2', 'act2']);
  assert.equal(names(a.stage2.at(0)), ['conv1', 'bn1', 'act1', 'conv2', 'bn2', 'shortcut', 'act2']);
  const b = resnet({ depth: 20, block: 'b', activation: 'frelu', seed: 1, ...ref });
  assert.equal(kinds(b.stem), ['Conv2d', 'FReLU']);
  assert.equal(kinds(b.head), ['FReLU', 'AvgPool2d', 'Flatten', 'Linear']);
  assert.equal(names(b.stage3.at(0)), ['conv1', 'bn1', 'act1', 'conv2', 'bn2', 'shortcut']);
  const c = resnet({ depth: 20, block: 'c', activation: 'elu', seed: 1, ...ref });
  assert.equal(kinds(c.stem), ['Conv2d', 'ELU']);
  assert.equal(names(c.stage1.at(1)), ['conv1', 'act1', 'conv2', 'bn2']);
  assert.equal(a.stage1.length, 3);
  assert.equal(resnet({ depth: 110, activation: 'relu', seed: 1, ...ref }).stage3.length, 18);
  const conv = a.stage2.at(0).namedChildren()[0][1] as g.nn.Conv2d;
  assert.equal([conv.stride, ...conv.weight.shape], [2, 32, 16, 3, 3]);
});

test('ResNet init: every conv N(0, 2/(9·C_out)), the Linear bias 0; b = −1', () => {
  const net = resnet({ depth: 20, block: 'b', activation: 'frelu', seed: 5, ...ref });
  const p = Object.fromEntries(net.namedParameters());
  // stage3's 3×3 64→64 convs: 36,864 weights each; pool two of them (73,728) for a 1.5 % tolerance.
  const w = [...arr(p['stage3.1.conv1.weight']), ...arr(p['stage3.1.conv2.weight'])];
  assert.ok(Math.abs(std(w) / Math.sqrt(2 / (9 * 64)) - 1) < 0.015, `std ${std(w)}`);
  assert.ok(arr(p['head.3.bias']).every((v) => v === 0));
  assert.ok(arr(p['head.3.weight']).every((v) => Math.abs(v) <= 1 / 8));
  assert.equal(arr(p['stem.1.b']), [-1]);
});

test('ShortcutA: every other pixel, then zero channels appended; gradient only to the sampled pixels', () => {
  const x = g.tensor(Array.from({ length: 32 }, (_, i) => i), { shape: [1, 2, 4, 4], ...f64 });
  const y = new ShortcutA(2, 4, 2).forward(x);
  assert.equal([...y.shape], [1, 4, 2, 2]);
  // channel 0 holds 0..15 as a 4×4 grid: rows 0 and 2, columns 0 and 2 → 0, 2, 8, 10; channel 1 adds 16.
  assert.equal(arr(y), [0, 2, 8, 10, 16, 18, 24, 26, 0, 0, 0, 0, 0, 0, 0, 0]);
  const xs = g.randn([2, 2, 4, 4], { seed: 1, ...f64, requiresGrad: true });
  const r = g.gradcheck((v) => new ShortcutA(2, 4, 2).forward(v), [xs]);
  assert.ok(r.ok, `ShortcutA gradcheck: max abs error ${r.maxAbsError}`);
  const v = g.ones([1, 1, 2, 2], { ...f64, requiresGrad: true });
  g.sum(new ShortcutA(1, 2, 2).forward(v)).backward();
  assert.equal(arr(v.grad!), [1, 0, 0, 0]);
  assert.throws(() => new ShortcutA(16, 24, 2), /ShortcutA: outChannels must be a multiple of inChannels.*16 → 24/);
});

test('ResNet-20 forward [2, 3, 32, 32] → [2, 10]; a backward reaches every parameter with a finite gradient', () => {
  // The backward through 19 reference convs is the slowest check of this file (about 2 s).
  const net = resnet({ depth: 20, classes: 10, block: 'b', activation: 'frelu', seed: 1, ...ref });
  const x = g.randn([2, 3, 32, 32], { seed: 3, ...ref });
  const logits = net.forward(x);
  assert.equal([...logits.shape], [2, 10]);
  g.nn.functional.crossEntropy(logits, [3, 7]).backward();
  for (const [name, p] of net.namedParameters()) {
    assert.ok(p.grad !== null, `${name} has a gradient`);
    assert.equal([...p.grad!.shape], [...p.shape], `${name}: gradient shaped like the parameter`);
    assert.ok(arr(p.grad!).every(Number.isFinite), `${name}: finite gradient`);
  }
  assert.ok(arr(net.namedParameters().find(([n]) => n === 'stem.1.b')![1].grad!)[0] !== 0, "the stem FReLU's b learns");
});

test('model option errors: activation, depth, block', () => {
  assert.throws(() => smallNet({ activation: 'gelu' as g.models.Activation }), /smallNet: activation must be one of 'relu', 'leakyRelu', 'prelu', 'elu', 'frelu'; got "gelu"/);
  assert.throws(() => resnet({ depth: 21, activation: 'relu' }), /resnet: depth must be 6n \+ 2 \(20, 32, 44, 56 or 110 in the paper\); got 21/);
  assert.throws(() => resnet({ depth: 20, activation: 'relu', block: 'd' as g.models.BlockVariant }), /resnet: block must be 'a', 'b' or 'c' \(Fig\. 4\); got "d"/);
});

test.run();
